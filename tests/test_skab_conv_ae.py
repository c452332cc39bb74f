"""SKABConvAE: the SKAB authors' Conv-AE protocol (model, score, limit, alarm rule, training settings)."""

import importlib.util

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from sadlib import detectors
from sadlib.validation import InvalidParameterError

if importlib.util.find_spec("keras") is None:  # checked without importing it (that would load TensorFlow)
    pytest.skip("keras is not installed: pip install 'sadlib[deep]'", allow_module_level=True)

from sadlib.detectors import skab_conv_ae  # noqa: E402
from sadlib.detectors.skab_conv_ae import SKABConvAE, build_skab_conv_ae  # noqa: E402

W = 8  # a short window keeps the tests fast; the published one is 60


def frame(n, seed=0, n_features=3):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    X = np.column_stack([np.sin(t / (5 + 3 * j)) for j in range(n_features)]) + rng.normal(0, 0.1, (n, n_features))
    return pd.DataFrame(X, index=pd.date_range("2024-01-01", periods=n, freq="1s"),
                        columns=[f"s{j}" for j in range(n_features)])


@pytest.fixture(scope="module")
def fitted():
    """A detector fitted on 200 rows (193 windows) and test data with a level shift in rows 100..159."""
    train = frame(200)
    det = SKABConvAE(window=W, epochs=40).fit(train)
    test = frame(300, seed=1)
    test.iloc[100:160, 1] += 4.0
    return det, train, test


def skab_loop(window_scores, limit, w):
    """The alarm loop of the SKAB notebooks, transcribed: window scores indexed by their first row."""
    above = pd.Series(window_scores > limit)
    idx = [i for i in range(w - 1, len(window_scores) - w + 1) if np.all(above[i - w + 1 : i])]
    out = np.zeros(len(window_scores) + w - 1, dtype=bool)
    out[idx] = True
    return out


# --------------------------------------------------------------------------- model
def test_model_is_the_published_stack():
    model = build_skab_conv_ae(60, 8)
    convs = [layer for layer in model.layers if "Conv" in type(layer).__name__]
    assert [type(c).__name__ for c in convs] == ["Conv1D", "Conv1D", "Conv1DTranspose", "Conv1DTranspose",
                                                 "Conv1DTranspose"]
    assert [c.filters for c in convs] == [32, 16, 16, 32, 1]
    assert all(c.kernel_size == (7,) and c.padding == "same" for c in convs)
    assert [c.strides for c in convs] == [(2,), (2,), (2,), (2,), (1,)]
    assert [c.activation.__name__ for c in convs] == ["relu"] * 4 + ["linear"]
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv1D", "Dropout", "Conv1D", "Conv1DTranspose", "Dropout", "Conv1DTranspose",
                     "Conv1DTranspose"]
    assert [layer.rate for layer in model.layers if type(layer).__name__ == "Dropout"] == [0.2, 0.2]
    # weights + biases: 7*8*32+32, 7*32*16+16, 7*16*16+16, 7*16*32+32, 7*32*1+1
    assert model.count_params() == 1824 + 3600 + 1808 + 3616 + 225
    assert model.output_shape == (None, 60, 1)
    assert model.optimizer.learning_rate.numpy() == pytest.approx(1e-3)
    assert model.loss == "mse"


def test_decoder_all_outputs_every_sensor():
    model = build_skab_conv_ae(60, 8, "all")
    assert model.output_shape == (None, 60, 8)
    assert model.count_params() == 1824 + 3600 + 1808 + 3616 + 7 * 32 * 8 + 8


@pytest.mark.parametrize("window", [6, 61, 2, 0, 60.0, True])
def test_window_must_be_a_multiple_of_four(window):
    with pytest.raises(InvalidParameterError, match="window"):
        build_skab_conv_ae(window, 8)
    with pytest.raises(InvalidParameterError, match="window"):
        SKABConvAE(window=window).fit(frame(200))


@pytest.mark.parametrize("params, match", [({"decoder_channels": "two"}, "decoder_channels"),
                                           ({"epochs": 0}, "epochs"), ({"random_state": -1}, "random_state"),
                                           ({"calibration": 1.0}, "calibration")])
def test_bad_parameters_are_named(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        SKABConvAE(window=W, **params).fit(frame(200))


def test_too_few_rows_for_ten_windows():
    with pytest.raises(ValueError, match="rows"):
        SKABConvAE(window=W, epochs=1).fit(frame(W + 8))


def test_registered_with_the_published_defaults():
    det = detectors.make("skab_conv_ae")
    assert isinstance(det, SKABConvAE)
    assert (det.window, det.decoder_channels, det.random_state, det.calibration) == (60, "one", 0, 0.0)


# --------------------------------------------------------------------------- score
def test_window_score_is_sum_over_sensors_of_mean_absolute_residual(fitted):
    det, train, test = fitted
    z = StandardScaler().fit(train).transform(test)  # the scaler is fitted on the fitting rows
    windows = np.lib.stride_tricks.sliding_window_view(z, W, axis=0).transpose(0, 2, 1)  # (n - W + 1, W, 3)
    recon = det.model_.predict(windows.astype(np.float32), verbose=0)
    assert recon.shape == (len(windows), W, 1)
    expected = np.array([sum(np.mean(np.abs(win[:, j] - rec[:, 0])) for j in range(3))
                         for win, rec in zip(windows, recon)])
    np.testing.assert_allclose(det.window_scores(test), expected, rtol=1e-5)


def test_one_channel_is_broadcast_against_every_sensor(fitted):
    """With the last layer's kernel zero and its bias c, the reconstruction is c everywhere."""
    det, _, test = fitted
    twin = SKABConvAE(window=W, epochs=1).fit(frame(200))
    last = twin.model_.layers[-1]
    last.set_weights([np.zeros_like(last.get_weights()[0]), np.array([0.5], dtype=np.float32)])
    z = twin.scaler_.transform(test.to_numpy())
    expected = [np.abs(z[i : i + W] - 0.5).mean(axis=0).sum() for i in range(len(z) - W + 1)]
    np.testing.assert_allclose(twin.window_scores(test), expected, rtol=1e-5)


def test_row_scores_are_window_scores_by_last_row_warm_up_has_no_score(fitted):
    det, _, test = fitted
    ws, s = det.window_scores(test), det.score(test)
    assert s.shape == (len(test),) and np.isfinite(s[W - 1:]).all()
    np.testing.assert_array_equal(s[W - 1:], ws)
    assert np.isnan(s[: W - 1]).all()  # no window ends there: no score
    assert s[110:160].min() > np.nanmax(s[:90])  # the level shift is seen


def test_score_needs_a_full_window(fitted):
    det, _, test = fitted
    with pytest.raises(ValueError, match=f"at least {W} rows"):
        det.score(test.iloc[: W - 1])


# --------------------------------------------------------------------------- limit and alarms
def test_limit_is_four_thirds_of_the_0999_quantile_of_the_training_windows(fitted):
    det, train, _ = fitted
    ws = pd.Series(det.window_scores(train))  # 193 windows, not 200 rows
    assert len(ws) == len(train) - W + 1
    assert det.threshold_ == pytest.approx(4 / 3 * ws.quantile(0.999), rel=1e-9)


def test_calibrate_and_a_fixed_threshold(fitted):
    det, train, _ = fitted
    first = det.threshold_
    det.set_threshold(123.0)
    assert det.threshold_ == 123.0
    det.calibrate()
    assert det.threshold_ == first
    fixed = SKABConvAE(window=W, epochs=40, threshold=5.0).fit(train)
    assert fixed.threshold_ == 5.0
    held = SKABConvAE(window=W, epochs=40, calibration=0.25).fit(train)  # the last 50 rows set the limit
    tail = held.score(train)[150:]
    assert held.threshold_ == pytest.approx(4 / 3 * np.percentile(tail, 99.9))


def test_predict_is_the_skab_loop(fitted):
    det, _, test = fitted
    alarms = det.predict(test)
    expected = skab_loop(det.window_scores(test), det.threshold_, W)
    assert alarms.dtype == bool and alarms.shape == (len(test),)
    assert expected.sum() > 20  # the shift is long enough for the rule to fire
    np.testing.assert_array_equal(alarms, expected)
    assert not alarms[: W - 1].any() and not alarms[-(2 * W - 2):].any()


def test_predict_follows_a_changed_threshold(fitted):
    det, _, test = fitted
    try:
        det.set_threshold(0.0)
        alarms = det.predict(test)
        np.testing.assert_array_equal(alarms, skab_loop(det.window_scores(test), 0.0, W))
        assert alarms[W - 1 : len(test) - 2 * W + 2].all()  # every decidable row alarms
    finally:
        det.calibrate()


# --------------------------------------------------------------------------- training
def test_keras_validation_split_early_stopping_without_restore(fitted):
    """Keras's last 10 % of the windows is the validation set, and the model keeps its last weights."""
    det, train, _ = fitted
    assert det.n_epochs_ < 40  # early stopping ended training
    val_loss = det.history_["val_loss"]
    best = int(np.argmin(val_loss))
    assert best == det.n_epochs_ - 1 - 5  # patience 5
    windows = np.lib.stride_tricks.sliding_window_view(det.scaler_.transform(train.to_numpy()), W, axis=0)
    windows = windows.transpose(0, 2, 1).astype(np.float32)
    val = windows[int(np.floor(len(windows) * 0.9)):]  # keras: the last 10 %, cut in the list of windows
    assert len(val) == 20
    recon = det.model_.predict(val, verbose=0)
    mse = float(np.mean((val - recon) ** 2))  # the one channel broadcast against every sensor, as the loss does
    assert mse == pytest.approx(val_loss[-1], rel=1e-4)
    assert mse > val_loss[best] * (1 + 1e-4)  # not the restored best weights


def test_epochs_none_is_the_published_100_in_either_mode(monkeypatch):
    """The detector does not read the course's fast-mode switch: the caller passes fewer epochs."""
    seen = []
    build = skab_conv_ae.build_skab_conv_ae

    def spy_build(*args, **kwargs):
        model = build(*args, **kwargs)
        fit = model.fit

        def spy_fit(*a, **kw):
            seen.append({k: kw[k] for k in ("epochs", "batch_size", "validation_split", "shuffle")})
            kw["epochs"] = 1
            return fit(*a, **kw)

        model.fit = spy_fit
        return model

    monkeypatch.setattr(skab_conv_ae, "build_skab_conv_ae", spy_build)
    for fast in ("0", "1"):
        monkeypatch.setenv("SADLIB_FAST", fast)
        SKABConvAE(window=W).fit(frame(100))
        assert seen[-1] == {"epochs": 100, "batch_size": 32, "validation_split": 0.1, "shuffle": True}
    SKABConvAE(window=W, epochs=7).fit(frame(100))
    assert seen[-1]["epochs"] == 7


def test_same_seed_same_scores_other_seed_other_scores(fitted):
    det, train, test = fitted
    again = SKABConvAE(window=W, epochs=40).fit(train)
    np.testing.assert_array_equal(again.score(test), det.score(test))
    other = SKABConvAE(window=W, epochs=40, random_state=1).fit(train)
    assert not np.allclose(other.score(test), det.score(test))


def test_decoder_all_fits_and_scores_every_sensor(fitted):
    _, train, test = fitted
    det = SKABConvAE(window=W, epochs=40, decoder_channels="all").fit(train)
    assert det.model_.output_shape == (None, W, 3)
    one = SKABConvAE(window=W, epochs=40).fit(train)
    # one output channel cannot follow three different sensors: its training windows are rebuilt worse
    assert det.window_scores(train).mean() < one.window_scores(train).mean()
    alarms = det.predict(test)
    assert alarms[100:160].any() and not alarms[:100].any()
