"""Exercises of notebook 10 (the compressor capstone): solutions pass, untouched templates are 'not attempted',
and the typical wrong answers are reported as incorrect with a message that names the mistake.

Every question asks for a function; its check compares the function with an independent computation
(scikit-learn's TimeSeriesSplit, a NumPy forward pass, hand-made references). Right answers written
another way must pass too.
"""


import numpy as np
import pandas as pd
import pytest
from exercise_cells import answer_cells, run_cell, setup_source
from sklearn.model_selection import KFold, TimeSeriesSplit

from sadlib import cycles
from sadlib.alarms import AlarmPolicy, min_duration_alarms
from sadlib.course.exercises import ____, nb10
from sadlib.environment import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

NUMBERS = [1, 2, 3, 4, 5, 6]


# --------------------------------------------------------------------------- the notebook and the templates
def test_every_question_has_an_answer_cell():
    assert sorted(answer_cells("nb10")) == NUMBERS


def test_setup_cell_is_the_module_setup():
    assert nb10.SETUP.rstrip("\n") in setup_source("nb10")


def test_template_cells_in_notebook_order_all_not_attempted():
    ns: dict = {}
    run_cell(setup_source("nb10"), ns)
    for number, source in sorted(answer_cells("nb10").items()):
        printed = run_cell(source, ns)
        assert "Not attempted" in printed and "Incorrect" not in printed, (number, printed)


@pytest.mark.parametrize("number", NUMBERS)
def test_every_solution_passes(number):
    result = getattr(nb10, f"q{number}").check_solution()
    assert result.passed, result.message


@pytest.mark.parametrize("number", NUMBERS)
def test_function_returning_placeholder_is_not_attempted(number):
    q = getattr(nb10, f"q{number}")
    result = q.result(**{q.variables[0]: lambda *args: ____})
    assert result.status == "not attempted", result.message
    assert "____" in result.message


@pytest.mark.parametrize("number", NUMBERS)
def test_not_a_function_is_incorrect(number):
    q = getattr(nb10, f"q{number}")
    result = q.result(**{q.variables[0]: np.zeros(5)})
    assert result.status == "incorrect"
    assert "should be a function" in result.message


# --------------------------------------------------------------------------- Q1 forward chaining
def _sklearn_folds(n, n_splits, gap):
    return TimeSeriesSplit(n_splits=n_splits, gap=gap).split(np.arange(n))  # a generator


def _vectorised(n, n_splits, gap):
    size = n // (n_splits + 1)
    starts = n - size * np.arange(n_splits, 0, -1)
    return [(np.arange(s - gap), np.arange(s, s + size)) for s in starts]


def _generator(n, n_splits, gap):
    size = n // (n_splits + 1)
    for i in range(n_splits):
        s = n - (n_splits - i) * size
        yield np.arange(s - gap), np.arange(s, s + size)


@pytest.mark.parametrize("fn", [_generator, _vectorised], ids=["generator", "vectorised"])
def test_q1_right_answers_of_another_form_pass(fn):
    result = nb10.q1.result(forward_chaining=fn)
    assert result.passed, result.message


def test_q1_timeseriessplit_itself_is_rejected_write_it_yourself():
    result = nb10.q1.result(forward_chaining=_sklearn_folds)
    assert result.status == "incorrect" and "write it yourself" in result.message, result.message
    assert len(list(TimeSeriesSplit(n_splits=2).split(np.zeros((9, 1))))) == 2  # restored after the check


def _folds(make):
    def forward_chaining(n, n_splits, gap):
        size = n // (n_splits + 1)
        return [make(n, n_splits, gap, size, n - (n_splits - i) * size) for i in range(n_splits)]

    return forward_chaining


def _shuffled(n, n_splits, gap):
    rng = np.random.default_rng(0)
    return [(tr, te) for tr, te in KFold(n_splits, shuffle=True, random_state=0).split(rng.random(n))]


def _n_over_k_blocks(n, n_splits, gap):
    size = n // n_splits
    starts = [n - (n_splits - i) * size for i in range(n_splits)]
    return [(np.arange(max(s - gap, 0)), np.arange(s, s + size)) for s in starts]


def _kfold(n, n_splits, gap):
    return list(KFold(n_splits).split(np.zeros(n)))


Q1_WRONG = {
    "shuffled k-fold": (_shuffled, "future"),
    "k-fold in order": (_kfold, "future"),
    "gap missing": (_folds(lambda n, k, g, size, s: (np.arange(s), np.arange(s, s + size))), "gap is missing"),
    "sliding window": (_folds(lambda n, k, g, size, s: (np.arange(max(s - g - size, 0), s - g),
                                                        np.arange(s, s + size))), "slides"),
    "train includes validation": (_folds(lambda n, k, g, size, s: (np.arange(s + size), np.arange(s, s + size))),
                                  "overlap"),
    "gap cut from the validation block": (_folds(lambda n, k, g, size, s: (np.arange(s - g),
                                                                           np.arange(s - g, s + size))),
                                          "gap belongs"),
    "n // n_splits blocks": (_n_over_k_blocks, "n // n_splits"),
    "boolean masks": (_folds(lambda n, k, g, size, s: (np.arange(n) < s - g,
                                                       (np.arange(n) >= s) & (np.arange(n) < s + size))),
                      "boolean mask"),
    "one fold too few": (lambda n, k, g: _vectorised(n, k, g)[1:], "folds"),
    "a dict": (lambda n, k, g: {i: f for i, f in enumerate(_vectorised(n, k, g))}, "list"),
}


def test_q1_course_splitter_with_its_default_block_size_is_named():
    from sadlib.model_selection import ForwardChainingSplit

    def forward_chaining(n, n_splits, gap):
        return list(ForwardChainingSplit(n_splits, gap=gap).split(np.zeros((n, 1))))

    result = nb10.q1.result(forward_chaining=forward_chaining)
    assert result.status == "incorrect" and "write it yourself" in result.message, result.message

    def default_block_by_hand(n, n_splits, gap):  # ForwardChainingSplit's default block, written out
        size = (n - gap) // (n_splits + 1)
        return [(np.arange(n - (n_splits - i) * size - gap), np.arange(n - (n_splits - i) * size,
                                                                        n - (n_splits - i - 1) * size))
                for i in range(n_splits)]

    result = nb10.q1.result(forward_chaining=default_block_by_hand)
    assert result.status == "incorrect" and "test_size=n // (n_splits + 1)" in result.message, result.message


@pytest.mark.parametrize("name", list(Q1_WRONG))
def test_q1_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q1_WRONG[name]
    result = nb10.q1.result(forward_chaining=fn)
    assert result.status == "incorrect", (name, result.message)
    if words:
        assert words in result.message, (name, result.message)


def test_q1_shuffled_validation_block_is_named():
    def forward_chaining(n, n_splits, gap):
        folds = _vectorised(n, n_splits, gap)
        return [(tr, np.random.default_rng(0).permutation(va)) for tr, va in folds]

    result = nb10.q1.result(forward_chaining=forward_chaining)
    assert result.passed or "consecutive" in result.message  # a permuted block holds the same samples
    sparse = nb10.q1.result(forward_chaining=lambda n, k, g: [(tr, va[::2]) for tr, va in _vectorised(n, k, g)])
    assert sparse.status == "incorrect" and "consecutive" in sparse.message, sparse.message


def test_q1_cases_are_valid_for_sklearn_and_cover_gaps_and_remainders():
    cases = nb10._q1_cases()
    for n, k, g in cases:
        assert len(list(TimeSeriesSplit(n_splits=k, gap=g).split(np.zeros(n)))) == k
    assert any(g == 0 for _, _, g in cases) and any(g > 0 for _, _, g in cases)
    assert any(n % (k + 1) for n, k, _ in cases)


# --------------------------------------------------------------------------- Q2 Transformer block
def _block(*, residual_attention=True, residual_ff=True, pre_norm=False, relu="relu", key_dim=None, heads=None,
           add_layer=False, sequential_ff=False, dropout=0.0, norm=layers.LayerNormalization, ff_units=None):
    """A transformer_block with one choice changed (all defaults: the right post-norm block)."""

    def transformer_block(x, d_model, n_heads, ff_dim):
        mha = layers.MultiHeadAttention(num_heads=heads or n_heads, key_dim=key_dim or d_model // n_heads,
                                        dropout=dropout)
        if pre_norm:
            a = norm()(x)
            h = x + mha(a, a)
            return h + layers.Dense(d_model)(layers.Dense(ff_dim, activation=relu)(norm()(h)))
        attention = mha(x, x)
        s = layers.Add()([x, attention]) if add_layer else (x + attention if residual_attention else attention)
        x = norm()(s)
        if sequential_ff:
            ff = keras.Sequential([layers.Dense(ff_dim, activation=relu), layers.Dropout(0.1),
                                   layers.Dense(d_model)])(x)
        else:
            ff = layers.Dense(ff_units or d_model)(layers.Dense(ff_dim, activation=relu)(x))
        return norm()(x + ff if residual_ff else ff)

    return transformer_block


@pytest.mark.parametrize("kwargs", [{"add_layer": True}, {"sequential_ff": True}, {"dropout": 0.1}],
                         ids=["layers.Add", "Sequential feed-forward with Dropout", "attention dropout"])
def test_q2_right_answers_of_another_form_pass(kwargs):
    result = nb10.q2.result(transformer_block=_block(**kwargs))
    assert result.passed, result.message


def _residual_from_input(x, d_model, heads, ff_dim):
    h = layers.LayerNormalization()(x + layers.MultiHeadAttention(heads, d_model // heads)(x, x))
    ff = layers.Dense(d_model)(layers.Dense(ff_dim, activation="relu")(h))
    return layers.LayerNormalization()(x + ff)


def _norm_before_add(x, d_model, heads, ff_dim):
    h = x + layers.LayerNormalization()(layers.MultiHeadAttention(heads, d_model // heads)(x, x))
    return h + layers.LayerNormalization()(layers.Dense(d_model)(layers.Dense(ff_dim, activation="relu")(h)))


def _returns_a_model(x, d_model, heads, ff_dim):
    return keras.Model(x, _block()(x, d_model, heads, ff_dim))


def _cross_attention(x, d_model, heads, ff_dim):
    other = layers.Dense(d_model)(x)
    h = layers.LayerNormalization()(x + layers.MultiHeadAttention(heads, d_model // heads)(x, other))
    ff = layers.Dense(d_model)(layers.Dense(ff_dim, activation="relu")(h))
    return layers.LayerNormalization()(h + ff)


Q2_WRONG = {
    "no residual around the attention": (_block(residual_attention=False), "attention output has no residual"),
    "no residual around the feed-forward part": (_block(residual_ff=False), "feed-forward part has no residual"),
    "no residual at all": (_block(residual_attention=False, residual_ff=False), "no residual connection at all"),
    "pre-norm": (_block(pre_norm=True), "pre-norm"),
    "residual from the block's input": (_residual_from_input, "block's *input*"),
    "normalization before the sum": (_norm_before_add, "before the residual sum"),
    "no relu": (_block(relu=None), "ReLU"),
    "key_dim = d_model": (_block(key_dim=1000), "key_dim"),
    "fixed number of heads": (_block(heads=4), "num_heads"),
    "BatchNormalization": (_block(norm=layers.BatchNormalization), "BatchNormalization"),
    "last Dense of ff_dim units": (_block(ff_units=1), "shape"),
    "returns a model": (_returns_a_model, "KerasTensor"),
    "cross-attention with a projection": (_cross_attention, None),
}


@pytest.mark.parametrize("name", list(Q2_WRONG))
def test_q2_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q2_WRONG[name]
    result = nb10.q2.result(transformer_block=fn)
    assert result.status == "incorrect", (name, result.message)
    if words:
        assert words in result.message, (name, result.message)


def test_q2_numpy_reference_matches_keras_for_the_right_block():
    inputs = keras.Input(shape=(7, 12))
    model = keras.Model(inputs, _block()(inputs, 12, 3, 20))
    for layer in model.layers:  # weights away from their initial values (LayerNormalization starts at 1 and 0)
        layer.set_weights([w + np.random.default_rng(1).normal(0, 0.1, w.shape) for w in layer.get_weights()])
    flat = nb10._flat_layers(model)
    mha = next(ly for ly in flat if isinstance(ly, layers.MultiHeadAttention))
    norms = [ly for ly in flat if isinstance(ly, layers.LayerNormalization)]
    dense = [ly for ly in flat if isinstance(ly, layers.Dense)]
    x = np.random.default_rng(2).normal(size=(2, 7, 12))
    want = nb10._block_variants(x, mha, norms, dense)["right"]
    np.testing.assert_allclose(np.asarray(model(x.astype("float32"))), want, atol=1e-5)


# --------------------------------------------------------------------------- Q3 occlusion
def _occlusion_assign(score_fn, X, reference):
    base = score_fn(X).mean()
    return pd.Series({c: base - score_fn(X.assign(**{c: reference[c]})).mean() for c in X.columns})


def _occlusion_sorted(score_fn, X, reference):
    return nb10._occlusion_reference(score_fn, X, reference).sort_values(ascending=False)


@pytest.mark.parametrize("fn", [_occlusion_assign, _occlusion_sorted], ids=["DataFrame.assign", "sorted Series"])
def test_q3_right_answers_of_another_form_pass(fn):
    result = nb10.q3.result(occlusion_drop=fn)
    assert result.passed, result.message


def _occlusion(change):
    def occlusion_drop(score_fn, X, reference):
        base = np.mean(score_fn(X))
        out = {}
        for c in list(X.columns):
            out[c] = change(score_fn, X, reference, c, base)
        return pd.Series(out)

    return occlusion_drop


def _in_place(score_fn, X, reference, c, base):
    X[c] = reference[c]
    return base - np.mean(score_fn(X))


def _keep_only(score_fn, X, reference, c, base):
    Y = X.copy()
    for other in X.columns:
        if other != c:
            Y[other] = reference[other]
    return base - np.mean(score_fn(Y))


Q3_WRONG = {
    "sign reversed": (_occlusion(lambda f, X, r, c, b: np.mean(f(X.assign(**{c: r[c]}))) - b), "sign is reversed"),
    "occlusions add up": (_occlusion(_in_place), "add up"),
    "keeps only the sensor": (_occlusion(_keep_only), "*except*"),
    "set to zero": (_occlusion(lambda f, X, r, c, b: b - np.mean(f(X.assign(**{c: 0.0})))), "set the sensor to 0"),
    "own mean": (_occlusion(lambda f, X, r, c, b: b - np.mean(f(X.assign(**{c: X[c].mean()})))), "own mean"),
    "ratio": (_occlusion(lambda f, X, r, c, b: np.mean(f(X.assign(**{c: r[c]}))) / b), "ratio"),
    "largest scores": (_occlusion(lambda f, X, r, c, b: np.max(f(X)) - np.max(f(X.assign(**{c: r[c]})))), "*mean*"),
    "an array": (lambda f, X, r: _occlusion_assign(f, X, r).to_numpy(), "indexed by the sensor names"),
    "indexed by position": (lambda f, X, r: _occlusion_assign(f, X, r).reset_index(drop=True), "indexed by"),
}


@pytest.mark.parametrize("name", list(Q3_WRONG))
def test_q3_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q3_WRONG[name]
    result = nb10.q3.result(occlusion_drop=fn)
    assert result.status == "incorrect", (name, result.message)
    assert words in result.message, (name, result.message)


def test_q3_cases_point_at_the_faulty_sensor():
    for _, score_fn, X, reference, faulty in nb10._q3_cases():
        assert nb10._occlusion_reference(score_fn, X, reference).idxmax() == faulty


# --------------------------------------------------------------------------- Q4 lead times
def _leads_vectorised(alarms, events):
    times = alarms.index[alarms.to_numpy(dtype=bool)]
    k = times.searchsorted(events["precursor_start"])
    first = [times[i] if i < len(times) and times[i] <= end else pd.NaT for i, end in zip(k, events["end"])]
    return events["start"] - pd.DatetimeIndex(first).to_series(index=events.index)


def test_q4_right_answer_with_searchsorted_passes():
    result = nb10.q4.result(lead_times=_leads_vectorised)
    assert result.passed, result.message


def test_q4_course_function_is_rejected_write_it_yourself():
    from sadlib import metrics

    def lead_times(alarms, events):
        return metrics.lead_times(events, alarms.to_numpy(), alarms.index)["lead_time"]

    result = nb10.q4.result(lead_times=lead_times)
    assert result.status == "incorrect" and "write it yourself" in result.message, result.message
    assert callable(metrics.lead_times) and metrics.lead_times.__name__ == "lead_times"


def _leads(**kwargs):
    return lambda alarms, events: nb10._lead_reference(alarms, events, **kwargs)


def _leads_zero_for_missed(alarms, events):
    return nb10._lead_reference(alarms, events).fillna(pd.Timedelta(0))


Q4_WRONG = {
    "sign reversed": (_leads(sign=-1), "sign is reversed"),
    "from the precursor's start": (_leads(origin="precursor_start"), "from the precursor's start"),
    "alarms before the precursor": (_leads(lo=""), "before `precursor_start`"),
    "only inside the failure": (_leads(lo="start"), "inside the failure interval"),
    "end exclusive": (_leads(closed_end=False), "`<= end`"),
    "last alarm": (_leads(last=True), "*last*"),
    "0 for a miss": (_leads_zero_for_missed, "pd.NaT"),
    "hours as numbers": (lambda a, e: nb10._lead_reference(a, e) / pd.Timedelta(hours=1), "numbers"),
    "a list": (lambda a, e: nb10._lead_reference(a, e).tolist(), "pandas Series"),
    "precursor length": (lambda a, e: e["start"] - e["precursor_start"], "should be"),
    "indexed by position": (lambda a, e: nb10._lead_reference(a, e).reset_index(drop=True), "indexed like"),
}


@pytest.mark.parametrize("name", list(Q4_WRONG))
def test_q4_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q4_WRONG[name]
    result = nb10.q4.result(lead_times=fn)
    assert result.status == "incorrect", (name, result.message)
    assert words in result.message, (name, result.message)


def test_q4_reference_by_hand_on_the_constructed_day():
    alarms, events = nb10._q4_cases()[0]
    got = nb10._lead_reference(alarms, events)
    want = pd.Series([pd.Timedelta("4h"), pd.Timedelta("-30min"), pd.Timedelta("-2h"), pd.Timedelta("4h"),
                      pd.Timedelta("3h"), pd.NaT])
    assert nb10._same_leads(got, want), got


# --------------------------------------------------------------------------- Q5 the mini-project
def _project(*, threshold=None, center=False, backdate=False, zscore_test=False, margin=1.25):
    """The reference solution with one knob turned to a typical leak."""

    def compressor_alarms(train, test):
        features = cycles.cycle_features(pd.concat([train, test]), window="1h")
        warm = train.index[0] + pd.Timedelta("1D")
        fit = features[(features.index >= warm) & (features.index < test.index[0])]

        def slot(index):
            return (index.day_of_week >= 5) * 100 + index.hour

        decay = "idle_decay_bar_per_min"
        usual = fit[decay].groupby(slot(fit.index)).median()
        excess = features[decay] - usual.reindex(slot(features.index)).to_numpy()
        score = excess.rolling(19, center=True, min_periods=1).median() if center else excess.rolling("3h").median()
        normal = score[fit.index]
        on_test = score[score.index >= test.index[0]]
        if zscore_test:
            score = (score - on_test.mean()) / on_test.std()
            normal = score[fit.index]
        level = threshold(normal, on_test) if threshold else margin * float(normal.max())
        if backdate:
            alarms = min_duration_alarms(score.to_numpy(), level, 1)
            runs = pd.Series(alarms).ne(pd.Series(alarms).shift()).cumsum()
            long_enough = pd.Series(alarms).groupby(runs).transform("size") >= 6
            alarms = pd.Series((alarms & long_enough.to_numpy()), index=score.index)
        else:
            policy = AlarmPolicy(threshold=level, min_duration=6).fit(normal.to_numpy())
            alarms = pd.Series(policy.predict(score.to_numpy()), index=score.index)
        return alarms.reindex(test.index, method="ffill").fillna(False).to_numpy(dtype=bool)

    return compressor_alarms


def test_q5_reference_solution_passes_as_a_function():
    result = nb10.q5.result(compressor_alarms=_project())
    assert result.passed, result.message
    assert "air leaks found" in result.message


Q5_WRONG = {
    "threshold from the test maximum": (_project(threshold=lambda normal, test: 0.45 * float(test.max())),
                                        "leakage"),
    "centred smoothing": (_project(center=True), "leakage"),
    "alarm back-dated to the start of its run": (_project(backdate=True), "leakage"),
    "alarm on every sample": (lambda train, test: np.ones(len(test), dtype=bool), "false alarms per day"),
    "no alarm at all": (lambda train, test: np.zeros(len(test), dtype=bool), "recall"),
    "scores instead of decisions": (lambda train, test: np.linspace(0, 2, len(test)), "True/False"),
    "one decision per 10 minutes": (lambda train, test: np.zeros(len(test) // 60, dtype=bool), "one decision per row"),
}


@pytest.mark.parametrize("name", list(Q5_WRONG))
def test_q5_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q5_WRONG[name]
    result = nb10.q5.result(compressor_alarms=fn)
    assert result.status == "incorrect", (name, result.message)
    assert words in result.message, (name, result.message)


def test_q5_function_that_changes_its_inputs_does_not_fool_the_check():
    right = _project()

    def compressor_alarms(train, test):
        out = right(train, test)
        test.iloc[:, :] = 0.0  # the check passes copies, so this cannot change the data of the next call
        return out

    assert nb10.q5.result(compressor_alarms=compressor_alarms).passed


def test_q5_the_test_period_holds_air_leaks_and_a_clean_training_week():
    train, test, events = nb10._q5_data()
    assert (events["type"] == "air_leak").sum() >= 2
    assert events["precursor_start"].min() >= test.index[0]
    assert "anomaly" not in test.columns and "anomaly" not in train.columns
    assert train.index[-1] < test.index[0]
