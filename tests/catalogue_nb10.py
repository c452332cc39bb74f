"""Red-team catalogue of exercises 10 (issue 26 §4): named wrong answers, leaks and unconventional right answers.

Q5 (the mini-project) is the expensive one: each answer is scored on the notebook's twin and, when it gets that
far, on four fresh twins. The leaks below fail at the first look-ahead probe, so they cost one call or two.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from catalogue import Entry

from sadlib.course.exercises import nb10


# --------------------------------------------------------------------------- Q1: forward-chaining folds
def _folds_library(n, n_splits, gap):
    from sklearn.model_selection import TimeSeriesSplit

    return list(TimeSeriesSplit(n_splits=n_splits, gap=gap).split(np.zeros((n, 1))))


def _folds_shuffled(n, n_splits, gap):
    from sklearn.model_selection import KFold

    return list(KFold(n_splits=n_splits, shuffle=True, random_state=0).split(np.zeros((n, 1))))


def _folds_no_gap(n, n_splits, gap):
    size = n // (n_splits + 1)
    starts = [n - (n_splits - i) * size for i in range(n_splits)]
    return [(np.arange(s), np.arange(s, s + size)) for s in starts]


def _folds_generator(n, n_splits, gap):
    size = n // (n_splits + 1)
    for val_start in range(n - n_splits * size, n, size):  # the blocks from the back, as slices of a range
        yield list(range(val_start - gap)), list(range(val_start, val_start + size))


# --------------------------------------------------------------------------- Q2: a Transformer block
def _block(pre_norm=False, residual=True, add_layer=False):
    def transformer_block(x, d_model, heads, ff_dim):
        from keras import layers

        if pre_norm:
            h = layers.LayerNormalization()(x)
            x = x + layers.MultiHeadAttention(num_heads=heads, key_dim=d_model // heads)(h, h)
            h = layers.LayerNormalization()(x)
            return x + layers.Dense(d_model)(layers.Dense(ff_dim, activation="relu")(h))
        attention = layers.MultiHeadAttention(num_heads=heads, key_dim=d_model // heads)(x, x)
        if add_layer:
            x = layers.LayerNormalization()(layers.Add()([x, attention]))
        else:
            x = layers.LayerNormalization()(x + attention if residual else attention)
        ff = layers.Dense(d_model)(layers.Dense(ff_dim, activation="relu")(x))
        return layers.LayerNormalization()(layers.Add()([x, ff]) if add_layer else x + ff)
    return transformer_block


# --------------------------------------------------------------------------- Q3: occlusion
def _occlusion_library(score_fn, X, reference):
    from sadlib import attribution

    return attribution.occlusion(score_fn, X, np.ones(len(X), dtype=bool), X_train=X)


def _occlusion_cumulative(score_fn, X, reference):
    base, drops, occluded = np.mean(score_fn(X)), {}, X.copy()
    for sensor in X.columns:
        occluded[sensor] = reference[sensor]  # never restored: the occlusions add up
        drops[sensor] = base - np.mean(score_fn(occluded))
    return pd.Series(drops)


def _occlusion_reversed(score_fn, X, reference):
    base = np.mean(score_fn(X))
    return pd.Series({s: np.mean(score_fn(X.assign(**{s: reference[s]}))) - base for s in X.columns})


def _occlusion_assign(score_fn, X, reference):
    base = float(np.mean(score_fn(X)))
    return pd.Series({s: base - float(np.mean(score_fn(X.assign(**{s: reference[s]})))) for s in X.columns})


# --------------------------------------------------------------------------- Q4: lead times
def _leads_library(alarms, events):
    from sadlib import metrics

    return metrics.lead_times(events, alarms.to_numpy(), alarms.index)["lead_time"]


def _leads(alarms, events, pick):
    out = {}
    for i, ev in events.iterrows():
        times = alarms.index[alarms.to_numpy(dtype=bool) & (alarms.index >= ev["precursor_start"])
                             & (alarms.index <= ev["end"])]
        out[i] = pick(ev, times)
    return pd.Series(out, index=events.index, dtype="timedelta64[ns]")


def _leads_last(alarms, events):
    return _leads(alarms, events, lambda ev, t: ev["start"] - t[-1] if len(t) else pd.NaT)


def _leads_zero_for_miss(alarms, events):
    return _leads(alarms, events, lambda ev, t: ev["start"] - t[0] if len(t) else pd.Timedelta(0))


def _leads_searchsorted(alarms, events):
    times = alarms.index[alarms.to_numpy(dtype=bool)]
    out = []
    for ev in events.itertuples():
        k = times.searchsorted(ev.precursor_start)  # the first alarm at or after the precursor's start
        out.append(ev.start - times[k] if k < len(times) and times[k] <= ev.end else pd.NaT)
    return pd.Series(out, index=events.index, dtype="timedelta64[ns]")


# --------------------------------------------------------------------------- Q5: the mini-project
def _solution(replace=()):
    """The reference ``compressor_alarms``, with source replacements (one mistake each)."""
    code = nb10.q5.solution_code.rsplit("test_alarms =", 1)[0]
    for old, new in replace:
        assert old in code, old
        code = code.replace(old, new)
    ns: dict = {}
    exec(code, ns)
    return {"compressor_alarms": ns["compressor_alarms"]}


def _centred_median():
    # a centred 40-minute rolling median of the 10-minute score reads 20 minutes ahead
    return _solution([('score = excess.rolling("3h").median()',
                       'score = excess.rolling("3h").median().rolling(5, center=True, min_periods=1).median()')])


def _next_block():
    # each 10-second row takes the decision of the block that ends *after* it: 10 minutes of look-ahead
    return _solution([('alarms.reindex(test.index, method="ffill")', 'alarms.reindex(test.index, method="bfill")')])


def _tuned_on_test_events():
    """The highest threshold that still finds every air leak of the notebook's test period, typed in."""
    from sadlib import cycles

    train, test, events = nb10._q5_data()
    features = cycles.cycle_features(pd.concat([train, test]), window="1h")
    fit = features[(features.index >= train.index[0] + pd.Timedelta("1D")) & (features.index < test.index[0])]

    def slot(index):
        return (index.day_of_week >= 5) * 100 + index.hour

    decay = "idle_decay_bar_per_min"
    excess = features[decay] - fit[decay].groupby(slot(fit.index)).median().reindex(slot(features.index)).to_numpy()
    score = excess.rolling("3h").median()
    held = score.rolling(6).min()  # the level an hour of persistence keeps
    best = min(held[(held.index >= ev.precursor_start) & (held.index <= ev.end)].max()
               for ev in events[events["type"] == "air_leak"].itertuples())
    return _solution([("threshold=1.25 * float(normal.max())", f"threshold={0.999 * float(best)!r}")])


def _k_of_n_by_hand():
    # the same score, with persistence written as "6 of the last 6 steps above 1.25 x the normal maximum"
    return _solution([
        ("    policy = AlarmPolicy(threshold=1.25 * float(normal.max()), min_duration=6).fit(normal.to_numpy())\n"
         "    alarms = pd.Series(policy.predict(score.to_numpy()), index=score.index)\n",
         "    above = (score > 1.25 * float(normal.max())).astype(float)\n"
         "    alarms = above.rolling(6, min_periods=6).sum() >= 6\n")])


ENTRIES = [
    # Q1: forward-chaining folds, written by hand
    Entry(nb10, 1, "wrong", "TimeSeriesSplit itself", lambda: {"forward_chaining": _folds_library},
          ("write it yourself",)),
    Entry(nb10, 1, "leak", "shuffled k-fold", lambda: {"forward_chaining": _folds_shuffled}, ("shuffled",)),
    Entry(nb10, 1, "leak", "no gap before the validation block", lambda: {"forward_chaining": _folds_no_gap},
          ("gap is missing",)),
    Entry(nb10, 1, "right", "a generator of lists", lambda: {"forward_chaining": _folds_generator}),
    # Q2: a Transformer encoder block
    Entry(nb10, 2, "wrong", "pre-norm block", lambda: {"transformer_block": _block(pre_norm=True)}, ("pre-norm",)),
    Entry(nb10, 2, "wrong", "no residual around attention", lambda: {"transformer_block": _block(residual=False)},
          ("no residual",)),
    Entry(nb10, 2, "right", "Add layers", lambda: {"transformer_block": _block(add_layer=True)}),
    # Q3: occlusion
    Entry(nb10, 3, "wrong", "attribution.occlusion itself", lambda: {"occlusion_drop": _occlusion_library},
          ("write it yourself",)),
    Entry(nb10, 3, "wrong", "occlusions that add up", lambda: {"occlusion_drop": _occlusion_cumulative},
          ("add up",)),
    Entry(nb10, 3, "wrong", "reversed sign", lambda: {"occlusion_drop": _occlusion_reversed}, ("sign is reversed",)),
    Entry(nb10, 3, "right", "DataFrame.assign", lambda: {"occlusion_drop": _occlusion_assign}),
    # Q4: lead times
    Entry(nb10, 4, "wrong", "metrics.lead_times itself", lambda: {"lead_times": _leads_library},
          ("write it yourself",)),
    Entry(nb10, 4, "wrong", "the last alarm", lambda: {"lead_times": _leads_last}, ("*last* alarm",)),
    Entry(nb10, 4, "wrong", "zero for a miss", lambda: {"lead_times": _leads_zero_for_miss}, ("pd.NaT",)),
    Entry(nb10, 4, "right", "searchsorted", lambda: {"lead_times": _leads_searchsorted}),
    # Q5: the mini-project (issue 26: each of these leaks passed before)
    Entry(nb10, 5, "leak", "centred 40-minute rolling median", _centred_median, ("leakage",)),
    Entry(nb10, 5, "leak", "decision of the next block", _next_block, ("leakage",)),
    Entry(nb10, 5, "leak", "threshold tuned on test_events", _tuned_on_test_events, ("fresh twin",)),
    Entry(nb10, 5, "right", "k of n written by hand", _k_of_n_by_hand),
]


# --------------------------------------------------------------------------- Q6: causal block means
def _blocks_groupby_ceil(raw, every):
    return raw.groupby(raw.index.ceil(every)).mean()  # each sample to the block end at or after it


ENTRIES += [
    Entry(nb10, 6, "leak", "pandas' default resample", lambda: {"block_means": lambda raw, every: raw.resample(
        every).mean()}, ("leakage", "block's start")),
    Entry(nb10, 6, "leak", "centred rolling mean", lambda: {"block_means": lambda raw, every: raw.rolling(
        every, center=True).mean()}, ("leakage",)),
    Entry(nb10, 6, "wrong", "left-closed blocks labelled at the end", lambda: {"block_means": lambda raw, every: (
        raw.resample(every, label="right").mean())}, ('closed="right"',)),
    Entry(nb10, 6, "right", "groupby on the ceiling of the time", lambda: {"block_means": _blocks_groupby_ceil}),
]


# --------------------------------------------------------------------------- review of notebook 10 (hostile learner)
def _folds_one_too_many(n, n_splits, gap):
    size = n // (n_splits + 1)
    starts = [n - (n_splits - i) * size for i in range(n_splits)]
    return [(np.arange(s - gap + 1), np.arange(s, s + size)) for s in starts]  # the gap is one sample short


def _folds_array_split(n, n_splits, gap):
    blocks = np.array_split(np.arange(n), n_splits + 1)  # the remainder goes to the first blocks, not the first one
    return [(np.arange(b[0] - gap), b) for b in blocks[1:]]


def _folds_float32_lists(n, n_splits, gap):
    size = n // (n_splits + 1)
    out = []
    for i in range(n_splits):
        start = n - (n_splits - i) * size
        out.append((np.arange(0, start - gap, dtype=np.float32), list(range(start, start + size))))
    return tuple(out)


def _occlusion_median(score_fn, X, reference):
    base = np.median(score_fn(X))
    return pd.Series({s: base - np.median(score_fn(X.assign(**{s: reference[s]}))) for s in X.columns})


def _occlusion_dict_float32(score_fn, X, reference):
    X = X.astype("float32")
    base = float(np.mean(score_fn(X)))
    drops = {}
    for sensor in X.columns:
        occluded = X.copy()
        occluded.loc[:, sensor] = np.float32(reference[sensor])
        drops[sensor] = base - float(np.mean(score_fn(occluded)))
    return drops  # a dict {sensor: drop}, not a Series


def _leads_end_excluded(alarms, events):
    out = {}
    for i, ev in events.iterrows():
        times = alarms.index[alarms.to_numpy(dtype=bool) & (alarms.index >= ev["precursor_start"])
                             & (alarms.index < ev["end"])]
        out[i] = ev["start"] - times[0] if len(times) else pd.NaT
    return pd.Series(out, index=events.index, dtype="timedelta64[ns]")


def _leads_loc_slice(alarms, events):
    out = []
    for ev in events.itertuples():
        window = alarms.loc[ev.precursor_start:ev.end]  # label slicing includes both ends
        hits = window[window.astype(bool)]
        out.append(ev.start - hits.index[0] if len(hits) else pd.NaT)
    return pd.Series(out, index=events.index)


ENTRIES += [
    Entry(nb10, 1, "wrong", "gap one sample short", lambda: {"forward_chaining": _folds_one_too_many},
          ("one sample", "too late")),
    Entry(nb10, 1, "wrong", "np.array_split blocks", lambda: {"forward_chaining": _folds_array_split},
          ("n // (n_splits + 1)",)),
    Entry(nb10, 1, "right", "float32 positions and lists in a tuple",
          lambda: {"forward_chaining": _folds_float32_lists}),
    Entry(nb10, 3, "wrong", "median scores", lambda: {"occlusion_drop": _occlusion_median}, ("median",)),
    Entry(nb10, 3, "right", "a dict of float32 drops", lambda: {"occlusion_drop": _occlusion_dict_float32}),
    Entry(nb10, 4, "wrong", "end excluded", lambda: {"lead_times": _leads_end_excluded}, ("<= end",)),
    Entry(nb10, 4, "right", "label slicing with .loc", lambda: {"lead_times": _leads_loc_slice}),
    Entry(nb10, 6, "leak", "closed right, labelled at the start", lambda: {"block_means": lambda raw, every: (
        raw.resample(every, closed="right").mean())}, ("leakage", 'label="right"')),
    Entry(nb10, 6, "wrong", "empty blocks forward-filled", lambda: {"block_means": lambda raw, every: (
        raw.resample(every, closed="right", label="right").mean().ffill())}, ("no sample", "NaN")),
    Entry(nb10, 6, "right", "float32 means, empty blocks dropped", lambda: {"block_means": lambda raw, every: (
        raw.astype("float32").resample(every, closed="right", label="right").mean().dropna(how="all"))}),
]


def _block_variant(activation="relu", relu_layer=False, dropout=False, sequential=False):
    def transformer_block(x, d_model, heads, ff_dim):
        import keras
        from keras import layers

        attention = layers.MultiHeadAttention(num_heads=heads, key_dim=d_model // heads)(x, x, x)
        if dropout:  # inactive at inference: the same block
            attention = layers.Dropout(0.1)(attention)
        x = layers.LayerNormalization()(layers.add([x, attention]))
        first = [layers.Dense(ff_dim), layers.ReLU()] if relu_layer else [layers.Dense(ff_dim, activation=activation)]
        if sequential:
            ff = keras.Sequential([*first, layers.Dense(d_model)])(x)
        else:
            ff = x
            for layer in [*first, layers.Dense(d_model)]:
                ff = layer(ff)
        return layers.LayerNormalization()(x + ff)
    return transformer_block


ENTRIES += [
    Entry(nb10, 2, "wrong", "GELU in the feed-forward part", lambda: {"transformer_block": _block_variant("gelu")},
          ("gelu", "ReLU")),
    Entry(nb10, 2, "right", "a ReLU layer, dropout and a Sequential feed-forward",
          lambda: {"transformer_block": _block_variant(relu_layer=True, dropout=True, sequential=True)}),
]


def _centred_on_test_median():
    # the excess minus its median over the whole test period: a statistic of the future moves every decision
    return _solution([("excess = features[decay] - usual.reindex(slot(features.index)).to_numpy()\n",
                       "excess = features[decay] - usual.reindex(slot(features.index)).to_numpy()\n"
                       "    excess = excess - excess[excess.index >= test.index[0]].median()\n")])


def _typed_in_precursors():
    """The notebook twin's air-leak precursors and failures typed in as alarms."""
    _, _, events = nb10._q5_data()
    spans = [(e.precursor_start, e.end) for e in events.itertuples() if e.type == "air_leak"]

    def compressor_alarms(train, test):
        out = np.zeros(len(test), dtype=bool)
        for start, end in spans:
            out |= (test.index >= start) & (test.index <= end)
        return out
    return {"compressor_alarms": compressor_alarms}


def _reference_as_list():
    reference = _solution()["compressor_alarms"]
    return {"compressor_alarms": lambda train, test: reference(train, test).tolist()}


ENTRIES += [
    Entry(nb10, 5, "leak", "centred on the test period's median", _centred_on_test_median, ("leakage",)),
    Entry(nb10, 5, "wrong", "the notebook twin's precursors typed in", _typed_in_precursors, ("fresh twin",)),
    Entry(nb10, 5, "right", "a list of Python bools", _reference_as_list),
]


# --------------------------------------------------------------------------- red team of 7 December 2026
def _block_causal_with_dropout(causal):
    def transformer_block(x, d_model, heads, ff_dim):
        from keras import layers

        attention = layers.MultiHeadAttention(num_heads=heads, key_dim=d_model // heads, dropout=0.1)
        x = layers.LayerNormalization()(x + attention(x, x, x, use_causal_mask=causal))
        ff = layers.Dropout(0.1)(layers.Dense(d_model)(layers.Dense(ff_dim, activation="relu")(x)))
        return layers.LayerNormalization()(x + ff)
    return transformer_block


def _occlusion_by_position(score_fn, X, reference):
    base = np.mean(score_fn(X))
    drops = {}
    for j, sensor in enumerate(X.columns):
        occluded = X.copy()
        occluded[sensor] = reference.iloc[j]  # assumes reference lists the sensors in X's column order
        drops[sensor] = base - np.mean(score_fn(occluded))
    return pd.Series(drops)


def _occlusion_mean_of_row_drops(score_fn, X, reference):
    scores = np.asarray(score_fn(X), dtype=float)
    return pd.Series({sensor: float(np.mean(scores - np.asarray(score_fn(X.assign(**{sensor: reference[sensor]})))))
                      for sensor in X.columns}).sort_values(ascending=False)


def _leads_idxmax(alarms, events):
    out = {}
    for i, ev in events.iterrows():
        window = alarms[ev["precursor_start"]:ev["end"]]
        out[i] = ev["start"] - window.idxmax()  # idxmax of an all-False window is its first timestamp
    return pd.Series(out)


def _blocks_rolling_on_the_grid(raw, every):
    grid = pd.date_range(raw.index[0].ceil(every), raw.index[-1].ceil(every), freq=every)
    return raw.rolling(every).mean().reindex(grid)  # NaN where no sample falls exactly on a grid point


def _blocks_sum_over_count(raw, every):
    blocks = raw.resample(every, closed="right", label="right")
    return blocks.sum() / blocks.count()


ENTRIES += [
    Entry(nb10, 1, "wrong", "folds in reverse order", lambda: {"forward_chaining": lambda n, s, g: [
        (np.arange(n - (s - i) * (n // (s + 1)) - g), np.arange(n - (s - i) * (n // (s + 1)),
                                                                 n - (s - i - 1) * (n // (s + 1))))
        for i in range(s)][::-1]}, ("reverse order",)),
    Entry(nb10, 1, "right", "ranges", lambda: {"forward_chaining": lambda n, s, g: [
        (range(n - (s - i) * (n // (s + 1)) - g), range(n - (s - i) * (n // (s + 1)),
                                                        n - (s - i - 1) * (n // (s + 1))))
        for i in range(s)]}),
    Entry(nb10, 3, "wrong", "reference values by position", lambda: {"occlusion_drop": _occlusion_by_position},
          ("by position", "reference[sensor]")),
    Entry(nb10, 3, "right", "mean of the per-row drops, sorted",
          lambda: {"occlusion_drop": _occlusion_mean_of_row_drops}),
    Entry(nb10, 4, "wrong", "idxmax of a window without alarms", lambda: {"lead_times": _leads_idxmax},
          ("idxmax", "pd.NaT")),
    Entry(nb10, 6, "wrong", "rolling mean read on the grid", lambda: {"block_means": _blocks_rolling_on_the_grid},
          ("have data, but your answer has no values there",)),
    Entry(nb10, 6, "right", "sum over count", lambda: {"block_means": _blocks_sum_over_count}),
    Entry(nb10, 2, "wrong", "a causal mask", lambda: {"transformer_block": _block_causal_with_dropout(True)},
          ("causal", "without the mask")),
    Entry(nb10, 2, "right", "dropout, key given explicitly",
          lambda: {"transformer_block": _block_causal_with_dropout(False)}),
]
