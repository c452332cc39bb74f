"""The SKAB authors' Conv-AE baseline, reproduced as published (their leaderboard's row F1 0.78).

The Skoltech Anomaly Benchmark (Katser and Kozitsin, 2020, https://github.com/waico/SKAB)
ranks outlier detectors; its "Conv-AE" row (F1 0.78, FAR 13.55 %, MAR 28.02 %) comes from
the notebook ``notebooks/Conv_AE.ipynb`` and ``core/Conv_AE.py`` of that repository, a
multivariate use of the Keras example "Timeseries anomaly detection using an
Autoencoder" (keras.io/examples/timeseries/timeseries_anomaly_detection).
:class:`SKABConvAE` is that protocol, step by step, so the row can be rerun here:

1. a ``StandardScaler`` fitted on all fitting rows;
2. windows of ``window`` (60) rows, stride 1;
3. ``Conv1D(32, 7, stride 2, relu) -> Dropout(0.2) -> Conv1D(16, 7, stride 2, relu) ->
   Conv1DTranspose(16, 7, stride 2, relu) -> Dropout(0.2) -> Conv1DTranspose(32, 7,
   stride 2, relu) -> Conv1DTranspose(1, 7)``, Adam (learning rate 1e-3), MSE loss;
4. ``model.fit(x, x, epochs=100, batch_size=32, validation_split=0.1)`` with early
   stopping on the validation loss, patience 5, and *without* restoring the best
   weights (the model keeps the weights of the last epoch run);
5. window score: the sum over sensors of the mean absolute residual over the window;
6. limit: 4/3 times the 0.999 quantile of the training windows' scores;
7. a row alarms only when the window scores before it are all above the limit
   (:func:`sadlib.alarms.all_windows_alarms` with ``convention="skab"``, which keeps
   the published loop's off-by-one and its end of file where no row can alarm).

The published decoder ends in **one** channel, a leftover of the univariate Keras
example: the MSE loss and the residual ``x - reconstruction`` broadcast that channel
against all sensors, so the model learns one curve per window that is closest to all
of them. ``decoder_channels="one"`` (default) keeps that quirk, ``"all"`` gives the
last layer one channel per sensor, everything else unchanged.

How this differs from the course's ``conv_ae``
(:class:`~sadlib.detectors.sequence_ae.ConvAutoencoder`), on purpose: the windows of
the whole fitting part go to Keras's ``validation_split``, which takes the *last* 10 %
of the windows, so the validation windows share rows with the training windows; the
best weights are not restored; the limit is computed on the same windows the model
was trained on (``calibration=0``); and alarms need a run of windows above it.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..alarms import all_windows_alarms
from ..environment import import_keras
from ..validation import InvalidParameterError, check_choice, check_int
from ..windows import fit_scaler, sliding_windows, windows_to_points
from .base import Detector, rows_before_first_window
from .keras_base import compile_model
from .training import predict_batches

__all__ = ["SKABConvAE", "build_skab_conv_ae", "PUBLISHED_LIMIT", "DECODER_CHANNELS"]

#: the published limit as a threshold spec: 4/3 x the 0.999 quantile (linear interpolation, as pandas'
#: ``Series.quantile``) of the training windows' scores
PUBLISHED_LIMIT = ("percentile", {"q": 99.9, "margin": 4 / 3})
DECODER_CHANNELS = ("one", "all")

# the published training settings (core/Conv_AE.py of the SKAB repository)
PUBLISHED_EPOCHS = 100  # the most epochs of the SKAB notebook (early stopping usually ends sooner)
BATCH_SIZE = 32
LEARNING_RATE = 1e-3
VALIDATION_SPLIT = 0.1
PATIENCE = 5
#: windows the fitting part must give at least, so that the 10 % validation split is not empty
MIN_WINDOWS = 10


def _check_window(window: Any) -> int:
    window = check_int("window", window, 4, hint="It is the number of rows per window, a multiple of 4.")
    if window % 4:
        raise InvalidParameterError(f"window={window} must be a multiple of 4 (two stride-2 layers halve it "
                                    f"twice); try window={window // 4 * 4}.")
    return window


def build_skab_conv_ae(window: int, n_features: int, decoder_channels: str = "one"):
    """The SKAB Conv-AE, compiled (Adam 1e-3, MSE): ``(batch, window, n_features)`` in.

    The output has ``(batch, window, 1)`` values with ``decoder_channels="one"`` (as
    published; the loss broadcasts the one channel against every sensor) and
    ``(batch, window, n_features)`` with ``"all"``. ``window`` must be a multiple of 4.
    """
    window = _check_window(window)
    n_features = check_int("n_features", n_features, 1)
    check_choice("decoder_channels", decoder_channels, DECODER_CHANNELS)
    keras = import_keras()
    layers = keras.layers
    model = keras.Sequential([
        layers.Input(shape=(window, n_features), name="window"),
        layers.Conv1D(32, 7, padding="same", strides=2, activation="relu", name="encoder_0"),
        layers.Dropout(0.2, name="encoder_dropout"),
        layers.Conv1D(16, 7, padding="same", strides=2, activation="relu", name="encoder_1"),
        layers.Conv1DTranspose(16, 7, padding="same", strides=2, activation="relu", name="decoder_0"),
        layers.Dropout(0.2, name="decoder_dropout"),
        layers.Conv1DTranspose(32, 7, padding="same", strides=2, activation="relu", name="decoder_1"),
        layers.Conv1DTranspose(1 if decoder_channels == "one" else n_features, 7, padding="same",
                               name="reconstruction"),
    ], name="skab_conv_ae")
    return compile_model(model, LEARNING_RATE)


class SKABConvAE(Detector):
    """The SKAB leaderboard's Conv-AE (see the module docstring), with its alarm rule.

    Parameters
    ----------
    window : int, multiple of 4
        Rows per window (stride 1); published: 60.
    decoder_channels : {"one", "all"}
        ``"one"``: the published decoder, whose single output channel is compared with
        every sensor; ``"all"``: one output channel per sensor (the quirk fixed).
    epochs : int or None
        The most epochs (early stopping usually ends sooner). ``None``: the published 100.
        A quick run passes fewer, e.g. ``epochs=choose(full=None, fast=2)`` in a notebook.
    random_state : int or None
        Seed of the weights, the dropout and the batch order
        (``keras.utils.set_random_seed``, which also seeds Python's and NumPy's global
        generators); the SKAB code seeds with 0. ``None`` leaves the generators alone.
    threshold : None or a threshold spec
        ``None``: the published limit, :data:`PUBLISHED_LIMIT` (4/3 x the 0.999 quantile).
        Anything :func:`sadlib.thresholds.make_threshold` accepts replaces it; it is fitted
        on the window scores of the calibration rows.
    calibration : float in [0, 1)
        ``0`` (published): the limit comes from the windows the model was fitted on. A
        positive fraction keeps the last rows of the fitting data apart for it instead
        (see :class:`~sadlib.detectors.base.Detector`).

    Fitted attributes
    -----------------
    model_ : keras.Model, the trained autoencoder
    scaler_ : sklearn StandardScaler, fitted on the fitting rows
    history_ : dict of lists, Keras's ``{"loss": [...], "val_loss": [...]}`` per epoch
    n_epochs_ : int, epochs run; the model holds the weights of the last one
    threshold_ : float, the limit on window scores
    and those of :class:`~sadlib.detectors.base.Detector`.

    Notes
    -----
    ``score(X)[t]`` is the score of the window that ends at row ``t``. The first
    ``window - 1`` rows have no window of their own and have no score (NaN), as in the
    course's other window detectors (:func:`sadlib.windows.windows_to_points` with
    ``how="last"``); they are left out of the limit's calibration and :meth:`predict`
    never flags them. ``fit`` needs ``window + 9`` rows (10 windows),
    ``score`` ``window`` rows.

    Training calls ``model.fit`` as the SKAB authors do, not the course's
    :func:`~sadlib.detectors.training.fit_model`: reproducing the row needs
    ``validation_split`` on the list of windows (``fit_model`` takes the chronological
    validation rows, windowed apart) and no best-weight restore. It is the slowest
    detector to fit on the SKAB protocol (measured: ``benchmarks/README.md``,
    "Training with model.fit").
    """

    def __init__(self, window: int = 60, *, decoder_channels: Literal["one", "all"] = "one",
                 epochs: int | None = None, random_state: int | None = 0, threshold: Any = None,
                 calibration: float = 0.0):
        super().__init__(threshold=threshold, calibration=calibration)
        self.window = window
        self.decoder_channels = decoder_channels
        self.epochs = epochs
        self.random_state = random_state

    @property
    def unscored_rows(self) -> int:  # type: ignore[override]
        """The first ``window - 1`` rows of a scored series have no window of their own: NaN (no score)."""
        return rows_before_first_window(self.window)

    @property
    def min_samples(self) -> int:
        try:
            return int(self.window) + MIN_WINDOWS - 1
        except (TypeError, ValueError):  # an invalid window is reported by _check_params
            return 2

    def _check_params(self) -> None:
        _check_window(self.window)
        check_choice("decoder_channels", self.decoder_channels, DECODER_CHANNELS)
        if self.epochs is not None:
            check_int("epochs", self.epochs, 1, hint="None means the published 100; pass fewer for a quick run.")
        if self.random_state is not None:
            check_int("random_state", self.random_state, 0)

    def _windows(self, X: np.ndarray) -> np.ndarray:
        if len(X) < self.window:
            raise ValueError(f"X has {len(X)} rows but this detector scores windows of {self.window} rows; pass at "
                             f"least {self.window} rows (e.g. prepend the last {self.window - 1} rows before it).")
        return sliding_windows(self.scaler_.transform(X), self.window).astype(np.float32)

    def _fit(self, X: np.ndarray) -> None:
        keras = import_keras()
        self.scaler_ = fit_scaler(X, kind="standard")
        x = self._windows(X)
        if self.random_state is not None:
            keras.utils.set_random_seed(int(self.random_state))
        self.model_ = build_skab_conv_ae(self.window, X.shape[1], self.decoder_channels)
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE, mode="min",
                                             restore_best_weights=False)
        epochs = PUBLISHED_EPOCHS if self.epochs is None else int(self.epochs)
        fitted = self.model_.fit(x, x, epochs=epochs, batch_size=BATCH_SIZE, validation_split=VALIDATION_SPLIT,
                                 shuffle=True, callbacks=[stop], verbose=0)
        self.history_ = {key: [float(v) for v in values] for key, values in fitted.history.items()}
        self.n_epochs_ = len(self.history_["loss"])

    def window_scores(self, X: Any) -> np.ndarray:
        """The published score of every window of ``X``, shape ``(n_samples - window + 1,)``.

        Entry ``i`` is the window of rows ``i .. i + window - 1``: the sum over sensors of
        the mean absolute difference between the scaled window and its reconstruction
        (with ``decoder_channels="one"`` the one reconstructed channel is subtracted from
        every sensor).
        """
        self._check_fitted()
        return self._window_scores(self._validate(X, fitting=False))

    def _window_scores(self, X: np.ndarray) -> np.ndarray:
        x = self._windows(X)
        reconstruction = predict_batches(self.model_, x, eager=True)  # (n, window, 1 or n_features)
        return np.abs(x - reconstruction).mean(axis=1).sum(axis=1)

    def _score(self, X: np.ndarray) -> np.ndarray:
        return windows_to_points(self._window_scores(X), len(X), self.window, how="last")

    def calibrate(self, normal_scores: Any = None, threshold: Any = None) -> "SKABConvAE":
        """Re-choose ``threshold_`` without refitting (see :meth:`Detector.calibrate
        <sadlib.detectors.base.Detector.calibrate>`).

        Two differences: ``threshold=None`` with ``self.threshold=None`` means
        :data:`PUBLISHED_LIMIT`; and by default, with ``calibration=0``, the first
        ``window - 1`` fitting rows (no score, NaN) are left out, so the limit is a
        quantile of the training *windows*, as published.
        """
        self._check_fitted()
        if normal_scores is None and not self.calibration:
            normal_scores = self.calibration_scores_[int(self.window) - 1:]
        if threshold is None:
            threshold = PUBLISHED_LIMIT if self.threshold is None else self.threshold
        return super().calibrate(normal_scores, threshold)

    def predict(self, X: Any) -> np.ndarray:
        """The published alarm rule: row ``t`` alarms when the windows starting at ``t - window + 1 .. t - 1``
        all score above ``threshold_``.

        :func:`sadlib.alarms.all_windows_alarms` with ``convention="skab"``: the first
        ``window - 1`` rows and the last ``2 * window - 2`` rows of ``X`` never alarm.
        Returns bool, shape ``(n_samples,)``.
        """
        return all_windows_alarms(self.score(X), self.threshold_, int(self.window), convention="skab")
