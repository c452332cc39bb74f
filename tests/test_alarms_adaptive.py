"""Adaptive alarm layers (issue: when the plant changes): a moving robust baseline and an operator loop."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sadlib.alarms import RecentredThreshold, simulate_operator
from sadlib.validation import InvalidParameterError


def _series(seed, n=3000, nan_share=0.02):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=n)
    s[n // 3:] += rng.uniform(0.5, 3)  # a regime change
    s[2 * n // 3:2 * n // 3 + 40] += 6  # a burst
    s[rng.random(n) < nan_share] = np.nan
    return s


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("adapt", [True, False])
def test_batch_and_stream_make_the_same_decisions(seed, adapt):
    rng = np.random.default_rng(100 + seed)
    layer = RecentredThreshold(window=int(rng.integers(5, 200)), quantile=0.99, adapt=adapt,
                               relearn=int(rng.integers(3, 100))).fit(rng.normal(size=500))
    s = _series(seed)
    acks = sorted(rng.choice(len(s), size=3, replace=False).tolist())
    stream = layer.stream()
    streamed = []
    for t, x in enumerate(s):
        if t in acks:
            stream.acknowledge()
        streamed.append(stream.update(x))
    assert np.array_equal(layer.predict(s, acknowledge_at=acks), np.array(streamed))
    # a missing score is never an alarm
    assert not layer.predict(s)[np.isnan(s)].any()


def test_the_moving_baseline_absorbs_a_new_normal_that_a_static_threshold_floods_on():
    rng = np.random.default_rng(1)
    cal = rng.normal(size=2000)
    test = np.r_[rng.normal(size=2000), rng.normal(size=6000) + 1.5]  # the plant moves by 1.5 sigma
    adaptive = RecentredThreshold(window=300).fit(cal).predict(test)
    static = RecentredThreshold(window=300, adapt=False).fit(cal).predict(test)
    late = slice(4000, None)  # well after the change
    assert static[late].mean() > 0.1  # the static level raises an alarm on every tenth sample and more
    assert adaptive[late].mean() < 0.02  # the moving baseline is back near its calibrated alarm rate
    assert abs(adaptive[:2000].mean() - static[:2000].mean()) < 0.01  # before the change they agree


def test_the_cost_a_slow_fault_is_absorbed_as_a_new_normal():
    """What the layer cannot do, measured: a fault that rises slowly is learnt as the new normal."""
    rng = np.random.default_rng(2)
    cal = rng.normal(size=2000)
    ramp = np.linspace(0, 8, 4000)  # a slow fault: +8 sigma over 4,000 samples
    test = np.r_[rng.normal(size=1000), rng.normal(size=4000) + ramp]
    fault = slice(1000, None)
    adaptive = RecentredThreshold(window=300).fit(cal).predict(test)
    static = RecentredThreshold(window=300, adapt=False).fit(cal).predict(test)
    assert static[fault].mean() > 0.6
    assert adaptive[fault].mean() < 0.25  # most of the fault is absorbed


def test_a_jump_above_the_level_needs_an_operator():
    rng = np.random.default_rng(3)
    cal = rng.normal(size=2000)
    test = np.r_[rng.normal(size=1000), rng.normal(size=5000) + 10]  # every new score is an alarm
    layer = RecentredThreshold(window=300).fit(cal)
    assert layer.predict(test)[1000:].all()  # the layer alone never learns from alarms
    no_event = np.zeros(len(test), dtype=bool)
    alarms, looks = simulate_operator(test, layer, no_event, delay=50, looks_per_shift=2, shift=1000)
    assert looks["verdict"].eq("new normal").all() and len(looks) >= 1
    assert alarms[2000:].mean() < 0.02  # re-baselined after the look
    acks = looks.loc[looks["verdict"] == "new normal", "look"]
    assert np.array_equal(layer.predict(test, acknowledge_at=acks), alarms)


def test_the_operator_reads_labels_only_at_a_look():
    rng = np.random.default_rng(4)
    layer = RecentredThreshold(window=100, adapt=False).fit(rng.normal(size=1000))
    s = _series(4, nan_share=0.0)
    labels = np.zeros(len(s), dtype=bool)
    labels[2000:2040] = True  # the burst is a labelled event
    alarms, looks = simulate_operator(s, layer, labels, delay=30, looks_per_shift=3, shift=500)
    assert len(looks) and (looks.groupby(looks["look"] // 500).size() <= 3).all()
    first = int(looks["look"].min())
    assert np.array_equal(alarms[:first], layer.predict(s)[:first])  # nothing changes before the first look
    # labels outside every looked-at episode (onset .. look) change nothing
    seen = np.zeros(len(s), dtype=bool)
    for onset, look in zip(looks["onset"], looks["look"]):
        seen[onset:look + 1] = True
    other = labels.copy()
    other[~seen] = ~other[~seen]
    again, looks_again = simulate_operator(s, layer, other, delay=30, looks_per_shift=3, shift=500)
    assert np.array_equal(alarms, again) and looks.equals(looks_again)
    # a look at the labelled burst leaves it an event
    at_burst = looks[(looks["onset"] >= 2000) & (looks["onset"] < 2040)]
    assert (at_burst["verdict"] == "event").all()


def test_no_operator_is_the_layer_alone():
    layer = RecentredThreshold(window=50).fit(np.random.default_rng(5).normal(size=300))
    s = _series(5)
    alarms, looks = simulate_operator(s, layer, np.zeros(len(s)), delay=10, looks_per_shift=0, shift=100)
    assert looks.empty and np.array_equal(alarms, layer.predict(s))


def test_clone_and_params_follow_scikit_learn():
    layer = RecentredThreshold(window=40, quantile=0.9, margin=1.2, adapt=False, relearn=10)
    assert clone(layer).get_params() == layer.get_params()


@pytest.mark.parametrize("params, words", [
    ({"window": 2}, "window"), ({"quantile": 1.0}, "quantile"), ({"margin": 0}, "margin"),
    ({"adapt": "yes"}, "adapt"), ({"relearn": 1}, "relearn")])
def test_bad_parameters_are_refused_with_the_name(params, words):
    with pytest.raises(InvalidParameterError, match=words):
        RecentredThreshold(**params).fit(np.arange(10.0))


def test_bad_input_is_refused_with_the_fix():
    with pytest.raises(NotFittedError, match="fit"):
        RecentredThreshold().predict([1.0, 2.0])
    with pytest.raises(InvalidParameterError, match="at least 3"):
        RecentredThreshold().fit([1.0, np.nan])
    layer = RecentredThreshold(window=5).fit(np.arange(20.0))
    with pytest.raises(InvalidParameterError, match="one label per score"):
        simulate_operator([1.0, 2.0], layer, [0], delay=1, looks_per_shift=1, shift=10)
    with pytest.raises(InvalidParameterError, match="delay"):
        simulate_operator([1.0, 2.0], layer, [0, 0], delay=0, looks_per_shift=1, shift=10)
    with pytest.raises(InvalidParameterError, match="RecentredThreshold"):
        simulate_operator([1.0, 2.0], object(), [0, 0], delay=1, looks_per_shift=1, shift=10)
    with pytest.raises(InvalidParameterError, match="number"):
        layer.stream().update("high")


# --------------------------------------------------------------------------- the adaptive step 1 of AlarmPolicy
@pytest.mark.parametrize("name", ["adaptive", "adaptive_dspot"])
@pytest.mark.parametrize("seed", range(4))
def test_adaptive_policies_stream_as_they_predict(name, seed):
    from sadlib.alarms import make_policy

    rng = np.random.default_rng(seed)
    policy = make_policy(name).fit(rng.normal(size=1500))
    s = _series(seed)
    assert np.array_equal(policy.predict(s), policy.stream().run(s))


def test_the_adaptive_policy_keeps_the_default_level_and_learns_a_new_normal():
    from sadlib.alarms import make_policy

    rng = np.random.default_rng(7)
    cal = rng.normal(size=2000)
    test = np.r_[rng.normal(size=2000), rng.normal(size=6000) + 7.0]  # a new normal 7 sigma up
    static, adaptive = make_policy("default").fit(cal), make_policy("adaptive").fit(cal)
    # the same level before the change: the recentred level is the default's threshold as a robust z-score
    assert np.array_equal(static.predict(test[:2000]), adaptive.predict(test[:2000]))
    assert static.predict(test)[4000:].mean() > 0.05 > adaptive.predict(test)[4000:].mean()


def test_adaptive_policy_parameters_are_checked():
    from sadlib.alarms import AlarmPolicy, make_policy, policy_label

    with pytest.raises(InvalidParameterError, match="adapt must be one of"):
        AlarmPolicy(adapt="moving").fit(np.arange(10.0))
    with pytest.raises(InvalidParameterError, match="cannot be combined"):
        AlarmPolicy(adapt="recentre", hysteresis_off=("percentile", {"q": 90})).fit(np.arange(10.0))
    with pytest.raises(InvalidParameterError, match="streaming threshold"):
        AlarmPolicy("percentile", adapt="threshold").fit(np.arange(10.0))
    with pytest.raises(InvalidParameterError, match="adapt_window"):
        AlarmPolicy(adapt="recentre", adapt_window=2).fit(np.arange(10.0))
    spec = '{"threshold": ["meanstd", {"k": 6}], "adapt": "recentre", "adapt_window": "10min"}'
    policy = make_policy(spec)
    assert policy.adapt == "recentre" and "recentre" in policy_label(spec)
    index = __import__("pandas").date_range("2026-01-01", periods=2000, freq="1s")
    fitted = policy.fit(np.random.default_rng(0).normal(size=2000), index=index)
    assert fitted.level_layer_.window == 600


@pytest.mark.parametrize("adapt", ["recentre", "rebaseline"])
def test_an_operator_on_a_whole_policy_matches_its_batch_form(adapt):
    from sadlib.alarms import AlarmPolicy

    rng = np.random.default_rng(8)
    cal = rng.normal(size=200)
    test = np.r_[rng.normal(size=1000), rng.normal(size=3000) + 9.0]
    test[rng.random(len(test)) < 0.02] = np.nan
    policy = AlarmPolicy(("meanstd", {"k": 6.0}), min_duration=3, hold=5, adapt=adapt, adapt_window=300).fit(cal)
    if adapt == "rebaseline":  # frozen baseline = every calibration score: the fixed level until a look
        static = AlarmPolicy(("meanstd", {"k": 6.0}), min_duration=3, hold=5).fit(cal)
        assert np.array_equal(policy.predict(test), static.predict(test))
    alarms, looks = simulate_operator(test, policy, np.zeros(len(test)), delay=40, looks_per_shift=2, shift=1000)
    acks = looks.loc[looks["verdict"] == "new normal", "look"]
    assert len(acks) >= 1 and np.array_equal(policy.predict(test, acknowledge_at=acks), alarms)
    if adapt == "rebaseline":  # the fixed level floods on the new normal; the operator's look ends it
        assert alarms[2500:].mean() < 0.05 < policy.predict(test)[2500:].mean()


def test_acknowledging_a_fixed_level_is_refused():
    from sadlib.alarms import AlarmPolicy

    policy = AlarmPolicy().fit(np.arange(50.0))
    with pytest.raises(InvalidParameterError, match="adapt='recentre' or 'rebaseline'"):
        policy.stream().acknowledge()
    with pytest.raises(InvalidParameterError, match="acknowledge_at needs"):
        policy.predict(np.arange(5.0), acknowledge_at=[2])
    with pytest.raises(InvalidParameterError, match="AlarmPolicy fitted with"):
        simulate_operator(np.arange(5.0), policy, np.zeros(5), delay=1, looks_per_shift=1, shift=10)


def test_no_layer_reads_labels():
    """Labels given to fit (scikit-learn's y) change nothing; the adaptive policies take no labels at all."""
    from sadlib.alarms import make_policy

    rng = np.random.default_rng(9)
    cal, s = rng.normal(size=800), _series(9)
    labels = rng.random(len(cal)) < 0.5
    plain = RecentredThreshold(window=100).fit(cal)
    told = RecentredThreshold(window=100).fit(cal, y=labels)
    assert np.array_equal(plain.predict(s), told.predict(s))
    for name in ("adaptive", "adaptive_dspot"):
        policy = make_policy(name).fit(cal)
        assert "y" not in __import__("inspect").signature(policy.predict).parameters
        assert np.array_equal(policy.predict(s), make_policy(name).fit(cal).predict(s))
