"""The scalar and choice checks of sadlib.validation, and that the public API uses them."""

import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sadlib import bench, clustering, metrics, plots, signals, thresholds, windows  # noqa: E402
from sadlib.detectors import (  # noqa: E402
    Ensemble,
    EWMAChart,
    IsolationForestDetector,
    MovingAverage,
    OneClassSVMDetector,
    PCADetector,
    RobustZScore,
    RollingZScore,
    SlowSensors,
    Smoothed,
)
from sadlib.detectors import base as detectors_base  # noqa: E402
from sadlib.detectors.postprocess import rolling_past  # noqa: E402
from sadlib.detectors.preprocess import autocorrelation, lagged_difference, moving_average  # noqa: E402
from sadlib.validation import (  # noqa: E402
    InvalidParameterError,
    check_bool,
    check_choice,
    check_int,
    check_number,
)


# --------------------------------------------------------------------------- #
# check_int
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint8(3)])
def test_check_int_accepts_python_and_numpy_integers(value):
    out = check_int("window", value, 1)
    assert out == 3 and type(out) is int


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 3.0, np.float64(3.0), "3", None, [3]])
def test_check_int_rejects_bools_floats_and_other_types(value):
    with pytest.raises(InvalidParameterError, match=f"^window must be an integer, got {re.escape(repr(value))}\\.$"):
        check_int("window", value)


def test_check_int_bounds_are_inclusive():
    assert check_int("k", 1, 1, 5) == 1 and check_int("k", 5, 1, 5) == 5
    with pytest.raises(InvalidParameterError, match=r"^k must be an integer in \[1, 5\], got 0\.$"):
        check_int("k", 0, 1, 5)
    with pytest.raises(InvalidParameterError, match=r"^k must be an integer in \[1, 5\], got 6\.$"):
        check_int("k", 6, 1, 5)
    with pytest.raises(InvalidParameterError, match=r"^window must be an integer >= 1, got 0\.$"):
        check_int("window", 0, 1)
    with pytest.raises(InvalidParameterError, match=r"^lag must be an integer <= 9, got 10\.$"):
        check_int("lag", 10, high=9)


# --------------------------------------------------------------------------- #
# check_number
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("value", [2, np.int64(2), 2.0, np.float32(2.0)])
def test_check_number_accepts_reals_and_returns_a_float(value):
    out = check_number("margin", value, 0, low_open=True)
    assert out == 2.0 and type(out) is float


@pytest.mark.parametrize("value", [True, np.bool_(False), float("nan"), np.inf, -np.inf, "1", None, 1 + 0j])
def test_check_number_rejects_bools_nan_inf_and_non_numbers(value):
    with pytest.raises(InvalidParameterError, match="^value must be a finite number, got "):
        check_number("value", value)


def test_check_number_open_and_closed_bounds():
    # q in (0, 100]: 0 is out, 100 is in
    assert check_number("q", 100, 0, 100, low_open=True) == 100.0
    with pytest.raises(InvalidParameterError, match=r"^q must be a number in \(0, 100\], got 0\.$"):
        check_number("q", 0, 0, 100, low_open=True)
    # [0, 1): 0 is in, 1 is out
    assert check_number("calibration", 0, 0, 1, high_open=True) == 0.0
    with pytest.raises(InvalidParameterError, match=r"^calibration must be a number in \[0, 1\), got 1\.$"):
        check_number("calibration", 1, 0, 1, high_open=True)
    # one-sided
    assert check_number("k", 0, 0) == 0.0
    with pytest.raises(InvalidParameterError, match=r"^eps must be a number > 0, got 0\.0\.$"):
        check_number("eps", 0.0, 0, low_open=True)
    with pytest.raises(InvalidParameterError, match=r"^x must be a number < 1, got 1\.$"):
        check_number("x", 1, high=1, high_open=True)


# --------------------------------------------------------------------------- #
# hint, check_choice, check_bool, the exception type
# --------------------------------------------------------------------------- #
def test_hint_is_appended_as_a_sentence():
    with pytest.raises(InvalidParameterError) as err:
        check_int("window", 0, 1, hint="It is the number of samples per window.")
    assert str(err.value) == "window must be an integer >= 1, got 0. It is the number of samples per window."
    with pytest.raises(InvalidParameterError) as err:
        check_number("q", 101, 0, 100, hint="E.g. 99.")
    assert str(err.value) == "q must be a number in [0, 100], got 101. E.g. 99."


def test_check_choice():
    assert check_choice("how", "max", ("max", "mean")) == "max"
    with pytest.raises(InvalidParameterError, match=r"^how must be one of 'max', 'mean'; got 'median'\.$"):
        check_choice("how", "median", ("max", "mean"))
    with pytest.raises(InvalidParameterError, match=r"^kind must be one of 'a', 'b'; got \['a'\]\.$"):
        check_choice("kind", ["a"], {"a": 1, "b": 2})  # unhashable value against a dict: a clear error, no TypeError


@pytest.mark.parametrize("value, expected", [(True, True), (False, False), (np.bool_(True), True)])
def test_check_bool_accepts_bools(value, expected):
    out = check_bool("center", value)
    assert out is expected


@pytest.mark.parametrize("value", [1, 0, "yes", None, 1.0])
def test_check_bool_rejects_everything_else(value):
    with pytest.raises(InvalidParameterError, match=f"^center must be True or False, got {re.escape(repr(value))}"):
        check_bool("center", value)


@pytest.mark.parametrize("caught", [ValueError, TypeError])
def test_both_except_clauses_catch_it(caught):
    try:
        check_int("window", "ten", 1)
    except caught as err:
        assert isinstance(err, InvalidParameterError)
    else:  # pragma: no cover - the check above must raise
        pytest.fail("check_int accepted a string")


def test_detectors_base_reexports_the_one_check_choice():
    assert detectors_base.check_choice is check_choice


# --------------------------------------------------------------------------- #
# the public API reports bad parameters with their name
# --------------------------------------------------------------------------- #
X = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 3)), columns=["a", "b", "c"])
S = np.linspace(0.0, 1.0, 50)

BAD_CALLS = {
    "window": lambda: windows.sliding_windows(S, 0),
    "stride": lambda: windows.window_starts(10, 3, stride=True),
    "how": lambda: windows.windows_to_points(np.ones(8), 10, 3, how="median"),
    "train": lambda: windows.chronological_split(S, train=1.2),
    "kind": lambda: windows.fit_scaler(X, "log"),
    "fraction": lambda: metrics.random_alarms(10, np.nan),
    "rearm_samples": lambda: metrics.false_alarm_count([0, 1], [0, 1], 1.5),
    "threshold": lambda: metrics.point_adjusted_f1([0, 1], [0.1, 0.2], np.inf),
    "alarm_rate": lambda: metrics.baselines([0, 1, 0], alarm_rate=2),
    "sampling_period": lambda: metrics.false_alarms_per_day([0, 1], [1, 0], sampling_period=True),
    "n_days": lambda: signals.make_normal(True),
    "clean_fraction": lambda: signals.generate(clean_fraction=1),
    "duration": lambda: signals.inject(signals.make_normal(1), "spike", start=0, duration=0, sensor="current"),
    "n": lambda: signals.make_tutorial_toy(99),
    "k": lambda: clustering.k_distance(S, 0),
    "method": lambda: clustering.suggest_eps(S, 2, method="elbow"),
    "eps": lambda: clustering.dbscan_outliers(S, -1.0),
    "q": lambda: thresholds.PercentileThreshold(q=0).fit(S),
    "min_peaks": lambda: thresholds.POTThreshold(min_peaks=2.5).fit(S),
    "probation": lambda: bench.nab_train_rows(100, 1.5),
    "bins": lambda: plots.plot_score_hist(S, bins=0),
    "log": lambda: plots.plot_scores(S, log="yes"),
    "calibration": lambda: RollingZScore(calibration=1).fit(X),
    "center": lambda: RollingZScore(center="no").fit(X),
    "min_scale": lambda: RobustZScore(min_scale=0).fit(X),
    "lam": lambda: EWMAChart(lam=0).fit(X),
    "max_samples": lambda: IsolationForestDetector(max_samples="all").fit(X),
    "gamma": lambda: OneClassSVMDetector(gamma="wide").fit(X),
    "n_components": lambda: PCADetector(n_components=1.0).fit(X),
    "statistic": lambda: rolling_past(S, 3, "mode"),
    "combine": lambda: Ensemble(combine="sum").fit(X),
    "max_autocorr": lambda: SlowSensors(max_autocorr=1).fit(X),
    "lag": lambda: lagged_difference(X.to_numpy(), 0),
}


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_public_functions_name_the_bad_parameter(name):
    with pytest.raises(InvalidParameterError, match=f"^{name} must be "):
        BAD_CALLS[name]()


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: autocorrelation(X.to_numpy(), lag=1.0), "lag"),
        (lambda: moving_average(X.to_numpy(), window=2.0), "window"),
        (lambda: Smoothed(window=0).fit(X), "window"),
        (lambda: MovingAverage(window=np.float64(3)).fit(X), "window"),
        (lambda: SlowSensors(lag=False).fit(X), "lag"),
    ],
)
def test_integer_parameters_reject_floats_and_bools(call, name):
    with pytest.raises(InvalidParameterError, match=f"^{name} must be an integer"):
        call()


def test_detectors_check_their_parameters_before_the_data():
    bad_data = [["not", "numbers"]] * 5
    for det, name in [(RollingZScore(window=0), "window"), (PCADetector(statistic="spe"), "statistic"),
                      (OneClassSVMDetector(nu=0), "nu"), (Smoothed(detector="zscore"), "detector")]:
        with pytest.raises(InvalidParameterError, match=f"^{name} must be"):
            det.fit(bad_data)


def test_set_threshold_checks_its_value():
    det = RollingZScore(window=None).fit(X)
    with pytest.raises(InvalidParameterError, match="^value must be a finite number, got nan"):
        det.set_threshold(np.nan)
    assert det.set_threshold(np.int64(4)).threshold_ == 4.0
