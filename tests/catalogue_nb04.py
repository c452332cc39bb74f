"""Red-team catalogue of exercises 04 (issue 26 §4): named wrong answers, leaks and unconventional right answers.

The answers are written as a learner would write them in the exercise notebook: functions whose globals are the
notebook's namespace (the setup cell of :mod:`sadlib.course.exercises.nb04`, run once here), so they use its
``train_autoencoder`` (seeded and cached: the same rows give the same model at once) and ``errors``, and its
imports. Keras answers train tiny models for a few epochs on few rows: question 4's pipelines use
``fast_autoencoder`` (2 -> 8 -> latent -> 8 -> 2, Adam 0.02, 30 epochs of 8 batches, cached) instead
of the setup's slower ``train_autoencoder``, which the checker accepts as any trained Keras autoencoder. Their models
are shared between the entries (:data:`_FAST_MODELS`), so the pipelines trained on the same rows are trained once.
The whole catalogue of notebook 04 took 58 s of CPU on 7 December 2026, against 80 s before the models were shared
and before question 5's checker checked the seed on its small case
(``pytest tests/test_checker_catalogue.py -k nb04`` under ``/usr/bin/time``).

Question 5 (build and train the autoencoder) receives only the training rows, so no leak can be written for it;
its wrong answers break the constraints the task states (linear output and bottleneck, ReLU hidden layers, MSE,
the library, the seed, the epochs given, training).
"""

from __future__ import annotations

import functools

import numpy as np
from catalogue import Entry

from sadlib.course.exercises import nb04


@functools.lru_cache(maxsize=1)
def _ns() -> dict:
    """The exercise notebook's namespace after its setup cell."""
    return nb04._context()


#: the models of every answer's ``fast_autoencoder``, shared between the entries: a model is keyed by its
#: training rows, latent, epochs and seed and trained seeded, so an entry that trains on the same rows gets the
#: model it would have trained itself (as the setup's ``train_autoencoder`` caches within one notebook)
_FAST_MODELS: dict = {}


def _answer(code: str, name: str):
    """Define ``name`` from ``code`` in (a copy of) the notebook's namespace, as a learner's cell would."""
    ns = dict(_ns())
    ns["_FAST_MODELS"] = _FAST_MODELS
    exec(compile(code, f"<catalogue answer {name}>", "exec"), ns)
    return ns[name]


def _X():
    return nb04._toy()[0]


def _minmax(rows):
    from sklearn.preprocessing import MinMaxScaler

    return MinMaxScaler().fit(rows)


def _minmax_class():
    from sklearn.preprocessing import MinMaxScaler

    return MinMaxScaler


def _standard(rows):
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit(rows)


def _two_halves():
    from sklearn.preprocessing import MinMaxScaler

    scaler = MinMaxScaler()
    scaler.partial_fit(_X()[:200])
    return scaler.partial_fit(_X()[200:400])


def _frame_fit():
    import pandas as pd

    return _minmax(pd.DataFrame(_X()[:400], columns=["temperature", "vibration"]))


# --------------------------------------------------------------------------- question 3: validation threshold
def _threshold(body: str):
    code = "def validation_threshold(model, val_windows, test_windows, q=99.9):\n" + body
    return {"validation_threshold": _answer(code, "validation_threshold")}


_REBUILD_VAL = "    rebuilt = model.predict(val_windows, verbose=0)\n"

# --------------------------------------------------------------------------- question 4: the pipeline
_FAST = """\
_fast = _FAST_MODELS


def fast_autoencoder(scaled_train, latent, epochs=30, seed=0):
    rows = np.asarray(scaled_train, dtype="float32")
    key = (rows.shape, rows.tobytes(), latent, epochs, seed)
    if key not in _fast:
        keras.utils.set_random_seed(seed)
        width = rows.shape[1]
        model = keras.Sequential([keras.Input(shape=(width,)), layers.Dense(8, activation="relu"),
                                  layers.Dense(latent), layers.Dense(8, activation="relu"), layers.Dense(width)])
        model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
        model.fit(rows, rows, epochs=epochs, batch_size=max(50, len(rows) // 8), verbose=0)
        _fast[key] = model
    return _fast[key]
"""

_PIPELINE = _FAST.replace("{", "{{").replace("}", "}}") + """\
import pandas as pd
from sklearn.preprocessing import StandardScaler

latent = 1


def detect(X_train, X_val, X_test):
    scaler = {scaler}
    model = {model}
    threshold = {threshold}
    alarms = errors(model, scaler.transform(X_test)) > threshold
    return alarms, scaler, model, threshold
"""


def _detect(scaler="MinMaxScaler().fit(X_train)", model="fast_autoencoder(scaler.transform(X_train), latent)",
            threshold="errors(model, scaler.transform(X_val)).max()"):
    return {"detect": _answer(_PIPELINE.format(scaler=scaler, model=model, threshold=threshold), "detect")}


def _detect_code(code: str):
    return {"detect": _answer(_FAST + code, "detect")}


def _best_f1_typed_in():
    """The threshold with the best F1 against y_test, found once and typed into the function."""
    from sklearn.preprocessing import MinMaxScaler

    from sadlib.metrics import point_metrics

    X_train, X_val, X_test, y_test = nb04._parts()
    scaler = MinMaxScaler().fit(X_train)
    model = _answer(_FAST, "fast_autoencoder")(scaler.transform(X_train), 1)
    test_errors = _ns()["errors"](model, scaler.transform(X_test))
    best = max(np.unique(test_errors), key=lambda t: point_metrics(y_test, test_errors > t)["f1"])
    return _detect(threshold=repr(float(best) * 0.999999))


# --------------------------------------------------------------------------- question 5: build and train
_TRAIN = """\
def train_dense_autoencoder(scaled_train, latent, epochs=20, seed=0):
    {seed}
    n_inputs = scaled_train.shape[1]
    model = keras.Sequential([keras.Input(shape=(n_inputs,)), layers.Dense(8, activation={hidden}),
                              layers.Dense({latent}), layers.Dense(8, activation={hidden}),
                              layers.Dense(n_inputs{out})])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss={loss})
    {fit}
    return model
"""


def _train(seed="keras.utils.set_random_seed(seed)", latent="latent", out="", loss='"mse"', hidden='"relu"',
           fit="model.fit(scaled_train, scaled_train, epochs=epochs, batch_size=64, verbose=0)"):
    code = _TRAIN.format(seed=seed, latent=latent, out=out, loss=loss, hidden=hidden, fit=fit)
    return {"train_dense_autoencoder": _answer(code, "train_dense_autoencoder")}


_TRAIN_FUNCTIONAL = """\
def train_dense_autoencoder(scaled_train, latent, epochs=20, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(scaled_train.shape[1],))
    x = layers.Dense(12, activation="relu")(inputs)
    x = layers.Dense(6, activation="relu")(x)
    code = layers.Dense(latent, name="code")(x)
    x = layers.Dense(6, activation="relu")(code)
    x = layers.Dense(12, activation="relu")(x)
    model = keras.Model(inputs, layers.Dense(scaled_train.shape[1])(x))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2), loss=keras.losses.MeanSquaredError())
    model.fit(scaled_train, scaled_train, epochs=epochs, batch_size=64, shuffle=True, verbose=0)
    return model
"""

_TRAIN_LIBRARY = """\
from sadlib.detectors.dense_ae import build_dense_autoencoder


def train_dense_autoencoder(scaled_train, latent, epochs=20, seed=0):
    keras.utils.set_random_seed(seed)
    model = build_dense_autoencoder(scaled_train.shape[1], hidden=(8,), latent=latent)
    model.fit(scaled_train, scaled_train, epochs=epochs, batch_size=64, verbose=0)
    return model
"""

_TRAIN_HELPER = """\
def train_dense_autoencoder(scaled_train, latent, epochs=20, seed=0):
    return train_autoencoder(scaled_train, latent, epochs=epochs, seed=seed)
"""


# --------------------------------------------------------------------------- question 6: attribution
def _attribution(body: str):
    code = "def sensor_attribution(model, W_event, W_normal, n_sensors):\n" + body
    return {"sensor_attribution": _answer(code, "sensor_attribution")}


_SHARES = """\
    def shares(W):
        residual = (W - model.predict(W, verbose=0)).reshape({shape})
        per_sensor = {error}.sum(axis=(0, 1))
        return per_sensor / per_sensor.sum()

    return {ratio}
"""


def _shares(shape="len(W), -1, n_sensors", error="(residual ** 2)", ratio="shares(W_event) / shares(W_normal)"):
    return _attribution(_SHARES.format(shape=shape, error=error, ratio=ratio))


_ATTRIBUTION_LIBRARY = """\
    from sadlib import attribution

    def shares(W):
        residual = (W - model.predict(W, verbose=0)).reshape(len(W), -1, n_sensors)
        per_row = (residual ** 2).mean(axis=1)
        return attribution.error_share(per_row, np.ones(len(W), bool)).iloc[0].to_numpy()

    return shares(W_event) / shares(W_normal)
"""

_SENSOR_MAJOR = """\
    def shares(W):
        residual = (W - model.predict(W, verbose=0)).reshape(len(W), n_sensors, -1)
        per_sensor = (residual ** 2).sum(axis=(0, 2))
        return per_sensor / per_sensor.sum()

    return shares(W_event) / shares(W_normal)
"""

_ATTRIBUTION_LOOP = """\
    ratio = []
    for j in range(n_sensors):
        columns = np.arange(j, W_event.shape[1], n_sensors)  # sensor j at every time step
        e_event = ((W_event - model.predict(W_event, verbose=0)) ** 2)
        e_normal = ((W_normal - model.predict(W_normal, verbose=0)) ** 2)
        ratio.append((e_event[:, columns].sum() / e_event.sum()) / (e_normal[:, columns].sum() / e_normal.sum()))
    return ratio
"""

_ATTRIBUTION_EINSUM = """\
    def shares(W):
        r = (W - model.predict(W, verbose=0)).reshape(len(W), -1, n_sensors)
        e = np.einsum("wts,wts->s", r, r)
        return e / e.sum()

    return pd.Series(shares(W_event) / shares(W_normal))
"""


ENTRIES = [
    # Q1: the scaler (the catalogue in test_checker_catalogue.py has all rows, train + validation and 399 rows)
    Entry(nb04, 1, "leak", "the validation rows only", lambda: {"scaler": _minmax(_X()[400:500])},
          ("validation rows only",)),
    Entry(nb04, 1, "leak", "400 rows reaching into validation", lambda: {"scaler": _minmax(_X()[100:500])},
          ("not the rows of `X_train`",)),
    Entry(nb04, 1, "wrong", "the array of fit_transform", lambda: {"scaler": _minmax(_X()[:400]).transform(_X()[:400])},
          ("fitted MinMaxScaler",)),
    Entry(nb04, 1, "right", "partial_fit in two halves", lambda: {"scaler": _two_halves()}),
    Entry(nb04, 1, "right", "fitted on a DataFrame", lambda: {"scaler": _frame_fit()}),
    # Q2: the bottleneck
    Entry(nb04, 2, "wrong", "as wide as the input", lambda: {"latent": 2}, ("no bottleneck",)),
    Entry(nb04, 2, "wrong", "zero units", lambda: {"latent": 0}, ("positive integer",)),
    Entry(nb04, 2, "wrong", "a fraction", lambda: {"latent": 0.5}, ("positive integer",)),
    Entry(nb04, 2, "right", "a NumPy integer", lambda: {"latent": np.int64(1)}),
    # Q3: the validation threshold, written with NumPy
    Entry(nb04, 3, "leak", "percentile of the test errors", lambda: _threshold(
        "    rebuilt = model.predict(test_windows, verbose=0)\n"
        "    return np.percentile(np.mean((test_windows - rebuilt) ** 2, axis=1), q)"), ("test rows", "leakage")),
    Entry(nb04, 3, "leak", "percentile of validation and test errors", lambda: _threshold(
        "    both = np.vstack([val_windows, test_windows])\n"
        "    return np.percentile(np.mean((both - model.predict(both, verbose=0)) ** 2, axis=1), q)"), ("leakage",)),
    Entry(nb04, 3, "leak", "validation threshold nudged by the test errors", lambda: _threshold(
        _REBUILD_VAL + "    val = np.mean((val_windows - rebuilt) ** 2, axis=1)\n"
        "    test = np.mean((test_windows - model.predict(test_windows, verbose=0)) ** 2, axis=1)\n"
        "    return np.percentile(val, q) + 1e-6 * test.mean()"), ("moved your threshold",)),
    Entry(nb04, 3, "wrong", "mean absolute error", lambda: _threshold(
        _REBUILD_VAL + "    return np.percentile(np.mean(np.abs(val_windows - rebuilt), axis=1), q)"), ("*absolute*",)),
    Entry(nb04, 3, "wrong", "every value's error, no mean per row", lambda: _threshold(
        _REBUILD_VAL + "    return np.percentile((val_windows - rebuilt) ** 2, q)"), ("one error per row",)),
    Entry(nb04, 3, "wrong", "the 99th percentile typed in", lambda: _threshold(
        _REBUILD_VAL + "    return np.percentile(np.mean((val_windows - rebuilt) ** 2, axis=1), 99)"), ("q-th",)),
    Entry(nb04, 3, "wrong", "the library's PercentileThreshold", lambda: _threshold(
        "    from sadlib.thresholds import PercentileThreshold\n\n" + _REBUILD_VAL +
        "    return PercentileThreshold(q=q).fit(np.mean((val_windows - rebuilt) ** 2, axis=1)).threshold_"),
        ("write it yourself",)),
    Entry(nb04, 3, "wrong", "the setup's errors helper", lambda: _threshold(
        "    return np.percentile(errors(model, val_windows), q)"), ("write it yourself",)),
    Entry(nb04, 3, "wrong", "the first validation row left out", lambda: _threshold(
        "    v = val_windows[1:]\n"
        "    return np.percentile(np.mean((v - model.predict(v, verbose=0)) ** 2, axis=1), q)"),
        ("rebuilt 399 of the 400 validation rows",)),
    Entry(nb04, 3, "wrong", "the largest validation error, q ignored", lambda: _threshold(
        _REBUILD_VAL + "    return np.mean((val_windows - rebuilt) ** 2, axis=1).max()"),
        ("largest validation error",)),
    Entry(nb04, 3, "right", "a pandas quantile", lambda: _threshold(
        "    import pandas as pd\n\n" + _REBUILD_VAL +
        "    return pd.Series(((val_windows - rebuilt) ** 2).mean(axis=1)).quantile(q / 100)"), ()),
    Entry(nb04, 3, "right", "np.quantile of q / 100", lambda: _threshold(
        _REBUILD_VAL + "    return float(np.quantile(((val_windows - rebuilt) ** 2).mean(axis=1), q / 100))"), ()),
    Entry(nb04, 3, "right", "calling the model, as a Keras tensor", lambda: _threshold(
        "    rebuilt = model(val_windows).numpy()\n"
        "    return np.percentile(np.square(val_windows - rebuilt).mean(axis=-1), q)"), ()),
    Entry(nb04, 3, "right", "order statistic", lambda: _threshold(
        _REBUILD_VAL + "    e = np.sort(((val_windows - rebuilt) ** 2).sum(axis=1) / val_windows.shape[1])\n"
        "    return e[int(q / 100 * len(e))]"), ()),
    # Q4: the end-to-end autoencoder pipeline
    Entry(nb04, 4, "wrong", "the z-score one-liner", lambda: _detect_code(
        "def detect(X_train, X_val, X_test):\n"
        "    mean, std = X_train.mean(axis=0), X_train.std(axis=0)\n"
        "    return np.abs((X_test - mean) / std).max(axis=1) > np.abs((X_val - mean) / std).max()"),
        ("four things", "z-score")),
    Entry(nb04, 4, "wrong", "z-score alarms beside an autoencoder", lambda: _detect_code(
        "latent = 1\n\n"
        "def detect(X_train, X_val, X_test):\n"
        "    scaler = MinMaxScaler().fit(X_train)\n"
        "    model = fast_autoencoder(scaler.transform(X_train), latent, epochs=5)\n"
        "    mean, std = X_train.mean(axis=0), X_train.std(axis=0)\n"
        "    threshold = np.abs((X_val - mean) / std).max()\n"
        "    return np.abs((X_test - mean) / std).max(axis=1) > threshold, scaler, model, threshold"),
        ("must come from the autoencoder",)),
    Entry(nb04, 4, "wrong", "an untrained autoencoder", lambda: _detect(
        model="keras.Sequential([keras.Input(shape=(2,)), layers.Dense(8, activation='relu'), layers.Dense(1), "
              "layers.Dense(2)])"), ("not been trained",)),
    Entry(nb04, 4, "leak", "scaler fitted on all rows",
          lambda: _detect(scaler="MinMaxScaler().fit(np.vstack([X_train, X_val, X_test]))",
                          model="fast_autoencoder(scaler.transform(X_train), latent)"), ("your scaler",)),
    Entry(nb04, 4, "leak", "model trained on training and validation rows", lambda: _detect(
        model="fast_autoencoder(scaler.transform(np.vstack([X_train, X_val])), latent)"),
        ("validation rows changed the model's weights",)),
    Entry(nb04, 4, "leak", "model trained on every row", lambda: _detect(
        model="fast_autoencoder(scaler.transform(np.vstack([X_train, X_val, X_test])), latent)"),
        ("test rows changed the model's weights", "leakage")),
    Entry(nb04, 4, "leak", "percentile of the test errors",
          lambda: _detect(threshold="np.percentile(errors(model, scaler.transform(X_test)), 95)"),
          ("percentile of the errors being judged",)),
    Entry(nb04, 4, "leak", "best-F1 test threshold typed in", _best_f1_typed_in, ("does not come from `X_val`",)),
    Entry(nb04, 4, "leak", "the notebook's labels typed in as alarms", lambda: _detect_code(
        "latent = 1\n\n"
        "def detect(X_train, X_val, X_test):\n"
        "    scaler = MinMaxScaler().fit(X_train)\n"
        "    model = fast_autoencoder(scaler.transform(X_train), latent)\n"
        "    return y_test.copy(), scaler, model, errors(model, scaler.transform(X_val)).max()"),
        ("must come from the autoencoder",)),
    Entry(nb04, 4, "wrong", "threshold from the training errors", lambda: _detect(
        threshold="errors(model, scaler.transform(X_train)).max()"), ("does not come from `X_val`",)),
    Entry(nb04, 4, "leak", "scaler fitted on training and validation rows", lambda: _detect(
        scaler="MinMaxScaler().fit(np.vstack([X_train, X_val]))"), ("your scaler",)),
    Entry(nb04, 4, "right", "pandas frames, a pandas quantile, a list of alarms", lambda: _detect_code(
        "import pandas as pd\n\nlatent = 1\n\n"
        "def detect(X_train, X_val, X_test):\n"
        "    tr, va, te = (pd.DataFrame(x, columns=['temperature', 'vibration']) for x in (X_train, X_val, X_test))\n"
        "    scaler = MinMaxScaler().fit(tr.to_numpy())\n"
        "    model = fast_autoencoder(scaler.transform(tr.to_numpy()), latent)\n"
        "    val_err = pd.Series(errors(model, scaler.transform(va.to_numpy())))\n"
        "    threshold = 1.2 * float(val_err.quantile(0.995))\n"
        "    return list(errors(model, scaler.transform(te.to_numpy())) > threshold), scaler, model, threshold")),
    Entry(nb04, 4, "right", "a scaler fitted on a DataFrame, 1.2 x the 99.5th percentile", lambda: _detect(
        scaler="MinMaxScaler().fit(pd.DataFrame(X_train))",
        threshold="1.2 * np.percentile(errors(model, scaler.transform(X_val)), 99.5)")),
    Entry(nb04, 4, "right", "a standard scaler and 1.2 x the 99.5th percentile", lambda: _detect(
        scaler="StandardScaler().fit(X_train)",
        threshold="1.2 * np.percentile(errors(model, scaler.transform(X_val)), 99.5)")),
    # Q5: build and train the autoencoder in Keras
    Entry(nb04, 5, "wrong", "a sigmoid output", lambda: _train(out=", activation='sigmoid'"),
          ("activation `sigmoid`",)),
    Entry(nb04, 5, "wrong", "the MAE loss", lambda: _train(loss='"mae"'), ("mean squared error",)),
    Entry(nb04, 5, "wrong", "the latent ignored", lambda: _train(latent="4"),
          ("bottleneck of size latent",)),
    Entry(nb04, 5, "wrong", "never fitted", lambda: _train(fit="pass"), ("has not learned",)),
    Entry(nb04, 5, "wrong", "no seed", lambda: _train(seed="pass"), ("set_random_seed",)),
    Entry(nb04, 5, "wrong", "the library's builder", lambda: {
        "train_dense_autoencoder": _answer(_TRAIN_LIBRARY, "train_dense_autoencoder")}, ("write it yourself",)),
    Entry(nb04, 5, "wrong", "the setup's train_autoencoder", lambda: {
        "train_dense_autoencoder": _answer(_TRAIN_HELPER, "train_dense_autoencoder")}, ("write it yourself",)),
    Entry(nb04, 5, "wrong", "a ReLU bottleneck", lambda: _train(latent="latent, activation='relu'"),
          ("linear bottleneck",)),
    Entry(nb04, 5, "wrong", "linear hidden layers", lambda: _train(hidden="None"), ("ReLU hidden",)),
    Entry(nb04, 5, "wrong", "the epochs typed in", lambda: _train(
        fit="model.fit(scaled_train, scaled_train, epochs=20, batch_size=64, verbose=0)"), ("epochs=epochs",)),
    Entry(nb04, 5, "right", "activation=None, a loss name, float32, fit in a loop", lambda: _train(
        latent="latent, activation=None", out=", activation='linear'", loss='"mean_squared_error"',
        fit="for _ in range(epochs):\n"
            "        model.fit(scaled_train.astype('float32'), scaled_train, epochs=1, batch_size=64, verbose=0)")),
    Entry(nb04, 5, "right", "functional API, two hidden layers, loss object", lambda: {
        "train_dense_autoencoder": _answer(_TRAIN_FUNCTIONAL, "train_dense_autoencoder")}),
    # Q6: per-sensor attribution against the normal share
    Entry(nb04, 6, "wrong", "the share in the event only", lambda: _shares(ratio="shares(W_event)"),
          ("divide by its share",)),
    Entry(nb04, 6, "wrong", "reshaped sensor by sensor", lambda: _attribution(_SENSOR_MAJOR),
          ("time step by time step",)),
    Entry(nb04, 6, "wrong", "absolute errors", lambda: _shares(error="np.abs(residual)"), ("*squared*",)),
    Entry(nb04, 6, "wrong", "upside down", lambda: _shares(ratio="shares(W_normal) / shares(W_event)"),
          ("upside down",)),
    Entry(nb04, 6, "wrong", "the library's error_share", lambda: _attribution(_ATTRIBUTION_LIBRARY),
          ("write it yourself",)),
    Entry(nb04, 6, "wrong", "the mean of each window's shares", lambda: _attribution(
        "    def shares(W):\n"
        "        r = (W - model.predict(W, verbose=0)).reshape(len(W), -1, n_sensors)\n"
        "        e = (r ** 2).sum(axis=1)\n"
        "        return (e / e.sum(axis=1, keepdims=True)).mean(axis=0)\n\n"
        "    return shares(W_event) / shares(W_normal)\n"), ("ratios differ",)),
    Entry(nb04, 6, "right", "pandas, sensors grouped by column", lambda: _attribution(
        "    import pandas as pd\n\n"
        "    def shares(W):\n"
        "        r = pd.DataFrame((W - model.predict(W, verbose=0)) ** 2)\n"
        "        s = r.T.groupby(np.arange(r.shape[1]) % n_sensors).sum().sum(axis=1)\n"
        "        return s / s.sum()\n\n"
        "    return (shares(W_event) / shares(W_normal)).to_numpy()\n")),
    Entry(nb04, 6, "right", "a loop over sensors", lambda: _attribution(_ATTRIBUTION_LOOP)),
    Entry(nb04, 6, "right", "einsum, as a Series", lambda: _attribution(
        "    import pandas as pd\n\n" + _ATTRIBUTION_EINSUM)),
    # red team of 7 December 2026 (issue 26 §4 follow-up)
    Entry(nb04, 1, "wrong", "a StandardScaler", lambda: {"scaler": _standard(_X()[:400])},
          ("StandardScaler", "`MinMaxScaler`")),
    Entry(nb04, 1, "wrong", "the class, not a fitted scaler", lambda: {"scaler": _minmax_class()}, ("the class",)),
    Entry(nb04, 1, "wrong", "never fitted", lambda: {"scaler": _minmax_class()()}, ("not been fitted",)),
    Entry(nb04, 3, "right", "float32 errors, nearest rank", lambda: _threshold(
        _REBUILD_VAL + "    e = ((val_windows.astype('float32') - rebuilt.astype('float32')) ** 2).mean(axis=1)\n"
        "    return np.percentile(e, q, method='nearest')"), ()),
    Entry(nb04, 3, "wrong", "validation rows rebuilt together with the test rows", lambda: _threshold(
        "    both = np.concatenate([val_windows, test_windows])\n"
        "    rebuilt = model.predict(both, verbose=0)[:len(val_windows)]\n"
        "    return np.percentile(((val_windows - rebuilt) ** 2).mean(axis=1), q)"), ("must not be used",)),
]
