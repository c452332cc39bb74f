"""Exercises of notebook 11 (federated learning): solutions pass, untouched templates are 'not attempted',
and the typical wrong answers are reported as incorrect with a message that names the mistake.

Every question asks for a function; its check compares the function with an independent NumPy
computation. Right answers written another way must pass too.
"""


import numpy as np
import pytest
from exercise_cells import answer_cells, cells, run_cell, setup_source

from sadlib.course.exercises import ____, nb11
from sadlib.environment import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402

NUMBERS = [1, 2, 3, 4, 5, 6]


def _result(number: int, *functions):
    q = getattr(nb11, f"q{number}")
    return q.result(**dict(zip(q.variables, functions)))


def _assert_incorrect(result, words):
    assert result.status == "incorrect", result.message
    if words:
        assert words in result.message, result.message


# --------------------------------------------------------------------------- the notebook and the templates
def test_every_question_has_an_answer_cell():
    assert sorted(answer_cells("nb11")) == NUMBERS


def test_setup_cell_is_the_module_setup_and_colab_installs_the_federated_extra():
    assert nb11.SETUP.rstrip("\n") in setup_source("nb11")
    assert any('sadlib[federated]' in c.source for c in cells("nb11") if c.cell_type == "code")


def test_template_cells_in_notebook_order_all_not_attempted():
    ns: dict = {}
    run_cell(setup_source("nb11"), ns)
    for number, source in sorted(answer_cells("nb11").items()):
        printed = run_cell(source, ns)
        assert "Not attempted" in printed and "Incorrect" not in printed, (number, printed)


@pytest.mark.parametrize("number", NUMBERS)
def test_every_solution_passes(number):
    result = getattr(nb11, f"q{number}").check_solution()
    assert result.passed, result.message


@pytest.mark.parametrize("number", NUMBERS)
def test_function_returning_placeholder_is_not_attempted(number):
    q = getattr(nb11, f"q{number}")
    result = q.result(**{name: (lambda *args, **kwargs: ____) for name in q.variables})
    assert result.status == "not attempted", result.message
    assert "____" in result.message


@pytest.mark.parametrize("number", NUMBERS)
def test_not_a_function_is_incorrect(number):
    q = getattr(nb11, f"q{number}")
    result = q.result(**{name: np.zeros(5) for name in q.variables})
    _assert_incorrect(result, "should be a function")


# --------------------------------------------------------------------------- Q1 FedAvg
def _fedavg_numpy(updates):
    counts = np.array([n for _, n in updates], dtype=float)
    return [np.average(np.stack([w[i] for w, _ in updates]), axis=0, weights=counts)
            for i in range(len(updates[0][0]))]


def _fedavg_zip(updates):
    total = sum(n for _, n in updates)
    return [sum(n / total * layer for layer, n in zip(layers, [n for _, n in updates]))
            for layers in zip(*[w for w, _ in updates])]


@pytest.mark.parametrize("fn", [_fedavg_numpy, _fedavg_zip], ids=["np.average", "zip over layers"])
def test_q1_right_answers_of_another_form_pass(fn):
    result = _result(1, fn)
    assert result.passed, result.message


def _unweighted(updates):
    return [np.mean([w[i] for w, _ in updates], axis=0) for i in range(len(updates[0][0]))]


def _divided_by_sites(updates):
    return [sum(w[i] * n for w, n in updates) / len(updates) for i in range(len(updates[0][0]))]


def _not_divided(updates):
    return [sum(w[i] * n for w, n in updates) for i in range(len(updates[0][0]))]


def _over_layers(updates):  # the axes mixed up: one mean per site, over its layers
    return list(np.average(np.stack([np.stack(w) for w, _ in updates]), axis=1))


def _stacked_layers(updates):  # right on equal shapes, fails on a real model
    stacked = np.stack([np.stack(w) for w, _ in updates])
    return list(np.average(stacked, axis=0, weights=[n for _, n in updates]))


def _in_place(updates):
    total = sum(n for _, n in updates)
    out = []
    for i in range(len(updates[0][0])):
        acc = updates[0][0][i]
        acc *= updates[0][1] / total  # changes site 0's array
        for w, n in updates[1:]:
            acc += w[i] * (n / total)
        out.append(acc)
    return out


Q1_WRONG = {
    "unweighted mean": (_unweighted, "plain mean"),
    "divided by the number of sites": (_divided_by_sites, "number of sites"),
    "weighted sum": (_not_divided, "weighted sum"),
    "averaged over layers": (_over_layers, "averages over each site's layers"),
    "layers stacked": (_stacked_layers, "different shapes"),
    "inputs changed in place": (_in_place, "in place"),
    "one layer missing": (lambda u: _fedavg_numpy(u)[:-1], "layers"),
    "a dict": (lambda u: dict(enumerate(_fedavg_numpy(u))), "list of arrays"),
}


@pytest.mark.parametrize("name", list(Q1_WRONG))
def test_q1_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q1_WRONG[name]
    _assert_incorrect(_result(1, fn), words)


def test_q1_reference_on_a_hand_computed_case():
    updates = [([np.array([1.0, 2.0])], 3), ([np.array([5.0, 6.0])], 1)]
    np.testing.assert_allclose(nb11._fedavg_reference(updates)[0], [2.0, 3.0])


# --------------------------------------------------------------------------- Q2 8-bit quantisation
def _quantizer(*, levels=lambda bits: 2**bits - 1, rounding=np.rint, dtype=np.uint8, nan_check=True,
               constant=True, error=ValueError, offset_min=True):
    def quantize_update(delta, bits=8):
        if nan_check and np.isnan(delta).any():
            raise error("the update holds NaN")
        offset = float(delta.min()) if offset_min else -float(np.abs(delta).max())
        high = float(delta.max()) if offset_min else float(np.abs(delta).max())
        scale = (high - offset) / levels(bits)
        if constant and scale == 0:
            scale = 1.0
            return np.zeros(delta.shape, dtype), scale, offset
        return rounding((delta - offset) / scale).astype(dtype), scale, offset

    return quantize_update


def _dequantize(codes, scale, offset):
    return offset + scale * codes.astype(np.float64)


def test_q2_right_answer_of_another_form_passes():
    def quantize_update(delta, bits=8):  # np.round, scale as a NumPy float32, codes through np.clip
        if not np.isfinite(delta).all():
            raise ValueError("not finite")
        lo, hi = delta.min(), delta.max()
        scale = np.float32((hi - lo) / (2**bits - 1)) if hi > lo else np.float32(0.0)
        codes = np.zeros(delta.shape, np.uint8) if scale == 0 else np.clip(np.round((delta - lo) / scale), 0,
                                                                             2**bits - 1).astype(np.uint8)
        return codes, scale, lo

    result = _result(2, quantize_update, lambda c, s, o: o + s * c)
    assert result.passed, result.message


def _in_place_quantizer(delta, bits=8):
    offset = float(delta.min())
    scale = (float(delta.max()) - offset) / (2**bits - 1) or 1.0
    if np.isnan(delta).any():
        raise ValueError("NaN")
    delta -= offset
    return np.rint(delta / scale).astype(np.uint8), scale, offset


Q2_WRONG = {
    "truncated codes": (_quantizer(rounding=lambda x: x), "truncated"),
    "2**bits steps": (_quantizer(levels=lambda bits: 2**bits), "2**bits - 1"),
    "255 for any bits": (_quantizer(levels=lambda bits: 255), "not a fixed 255"),
    "int64 codes": (_quantizer(dtype=np.int64), "8 bytes per value"),
    "float32 codes": (_quantizer(dtype=np.float32), "np.uint8"),
    "no NaN check": (_quantizer(nan_check=False), "NaN was quantized"),
    "NaN raises TypeError": (_quantizer(error=TypeError), "raise `ValueError`"),
    "constant update divided by zero": (_quantizer(constant=False), "divides by it"),
    "symmetric range": (_quantizer(offset_min=False), "finest step"),
    "delta changed in place": (_in_place_quantizer, "in place"),
}


@pytest.mark.parametrize("name", list(Q2_WRONG))
def test_q2_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q2_WRONG[name]
    _assert_incorrect(_result(2, fn, _dequantize), words)


def test_q2_wrong_dequantize_is_named():
    right = _quantizer()
    _assert_incorrect(_result(2, right, lambda c, s, o: s * c), "half")  # forgets the offset
    _assert_incorrect(_result(2, right, lambda c, s, o: o + s * c.ravel()), "shape")
    result = _result(2, right, lambda c, s, o: ____)
    assert result.status == "not attempted", result.message


def test_q2_an_integer_division_by_zero_on_a_constant_update_is_named():
    def quantize_update(delta, bits=8):
        if np.isnan(delta).any():
            raise ValueError("NaN")
        offset, span = float(delta.min()), float(delta.max() - delta.min())
        levels = 2**bits - 1
        step = span / levels if span else 1 / 0  # a Python division raises
        return np.rint((delta - offset) / step).astype(np.uint8), step, offset

    _assert_incorrect(_result(2, quantize_update, _dequantize), "ZeroDivisionError")


# --------------------------------------------------------------------------- Q3 top-k
def _top_k(*, key=lambda flat: -np.abs(flat), values=lambda flat, idx: flat[idx], dtype=np.int32,
           k=lambda fraction, size: max(1, round(fraction * size))):
    def top_k_sparsify(delta, fraction):
        flat = delta.ravel()
        idx = np.argsort(key(flat))[:k(fraction, delta.size)].astype(dtype)
        return idx, values(flat, idx)

    return top_k_sparsify


def test_q3_right_answers_of_another_form_pass():
    def with_argpartition(delta, fraction):
        k = max(1, round(fraction * delta.size))
        flat = delta.ravel()
        idx = np.argpartition(np.abs(flat), flat.size - k)[flat.size - k:]
        return idx.astype(np.uint16), flat[idx]

    for fn in (with_argpartition, _top_k()):
        result = _result(3, fn)
        assert result.passed, result.message


Q3_WRONG = {
    "largest signed values": (_top_k(key=lambda flat: -flat), "*largest* values"),
    "smallest magnitudes": (_top_k(key=np.abs), "*smallest* magnitude"),
    "magnitudes sent": (_top_k(values=lambda flat, idx: np.abs(flat[idx])), "sign is lost"),
    "values out of order": (_top_k(values=lambda flat, idx: np.sort(flat[idx])), "order of `indices`"),
    "int64 positions": (_top_k(dtype=np.int64), "np.int32"),
    "k rounded down": (_top_k(k=lambda fraction, size: int(fraction * size)), "keep k ="),
    "a boolean mask": (lambda d, f: (np.abs(d.ravel()) >= np.sort(np.abs(d.ravel()))[-max(1, round(f * d.size))],
                                     d.ravel()), "boolean mask"),
    "2-d positions": (lambda d, f: (np.unravel_index(_top_k()(d, f)[0], d.shape), _top_k()(d, f)[1]), "flat"),
}


@pytest.mark.parametrize("name", list(Q3_WRONG))
def test_q3_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q3_WRONG[name]
    _assert_incorrect(_result(3, fn), words)


def test_q3_in_place_sort_is_named():
    def top_k_sparsify(delta, fraction):
        k = max(1, round(fraction * delta.size))
        flat = delta.reshape(-1)  # a view
        idx = np.argsort(np.abs(flat))[-k:].astype(np.int32)
        values = flat[idx].copy()
        flat.sort()  # sorts the caller's update
        return idx, values

    _assert_incorrect(_result(3, top_k_sparsify), "in place")


# --------------------------------------------------------------------------- Q4 local thresholds
def _thresholds(rule):
    def site_thresholds(val_scores, test_scores, q):
        return {site: float(rule(val_scores, test_scores, q, site)) for site in val_scores}

    return site_thresholds


def test_q4_right_answers_of_another_form_pass():
    import pandas as pd

    def as_series(val_scores, test_scores, q):
        return pd.Series({s: np.quantile(v, q / 100, method="higher") for s, v in val_scores.items()})

    result = _result(4, as_series)
    assert result.passed, result.message


Q4_WRONG = {
    "pooled over the sites": (_thresholds(lambda v, t, q, s: np.percentile(np.concatenate(list(v.values())), q)),
                              "not local"),
    "from the test scores": (_thresholds(lambda v, t, q, s: np.percentile(t[s], q)), "leakage"),
    "validation and test together": (_thresholds(lambda v, t, q, s: np.percentile(np.r_[v[s], t[s]], q)), "leakage"),
    "q as a fraction": (_thresholds(lambda v, t, q, s: np.percentile(v[s], q / 100)), "np.quantile takes q / 100"),
    "maximum": (_thresholds(lambda v, t, q, s: np.max(v[s])), "maximum"),
    "mean + 3 std": (_thresholds(lambda v, t, q, s: v[s].mean() + 3 * v[s].std()), "q-th percentile"),
    "a list": (lambda v, t, q: [np.percentile(x, q) for x in v.values()], "dict"),
}


@pytest.mark.parametrize("name", list(Q4_WRONG))
def test_q4_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q4_WRONG[name]
    _assert_incorrect(_result(4, fn), words)


def test_q4_scores_changed_in_place_are_named():
    def site_thresholds(val_scores, test_scores, q):
        out = {}
        for site, v in val_scores.items():
            v.sort()  # sorts the caller's array
            out[site] = float(np.percentile(v, q))
        return out

    _assert_incorrect(_result(4, site_thresholds), "in place")


# --------------------------------------------------------------------------- Q5 FedProx
def _all_pairs(model, anchors):
    return zip(model.trainable_variables, anchors)


def _kernel_pairs(model, anchors):  # the biases left out
    return [(w, a) for w, a in zip(model.trainable_variables, anchors) if len(w.shape) > 1]


def _fedprox(*, half=0.5, squared=True, reduce=keras.ops.sum, pairs=_all_pairs, reconstruction=True,
             constant=False, per_sample=False):
    def fedprox_loss(model, global_weights, mu):
        anchors = [keras.ops.convert_to_tensor(np.asarray(g, "float32")) for g in global_weights]

        def distance():
            if constant:  # NumPy copies of the weights: a number without gradient
                return float(sum(np.sum((np.asarray(w) - np.asarray(a)) ** 2) for w, a in zip(model.get_weights(),
                                                                                               anchors)))
            terms = [reduce(keras.ops.square(w - a)) for w, a in pairs(model, anchors)]
            total = sum(terms)
            return total if squared else keras.ops.sqrt(total)

        def loss(y_true, y_pred):
            err = keras.ops.square(y_true - y_pred)
            rec = keras.ops.mean(err, axis=-1) if per_sample else keras.ops.mean(err)
            return (rec if reconstruction else 0.0) + half * mu * distance()

        return loss

    return fedprox_loss


def test_q5_right_answers_of_another_form_pass():
    def with_keras_loss(model, global_weights, mu):
        mse = keras.losses.MeanSquaredError()

        def loss(y_true, y_pred):
            prox = keras.ops.add_n([keras.ops.sum((w - g) ** 2) for w, g in zip(model.trainable_weights,
                                                                                global_weights)]) \
                if hasattr(keras.ops, "add_n") else sum(keras.ops.sum((w - g) ** 2)
                                                        for w, g in zip(model.trainable_weights, global_weights))
            return mse(y_true, y_pred) + 0.5 * mu * prox

        return loss

    for fn in (with_keras_loss, _fedprox(per_sample=True)):
        result = _result(5, fn)
        assert result.passed, result.message


Q5_WRONG = {
    "no 1/2": (_fedprox(half=1.0), "twice FedProx's"),
    "not squared": (_fedprox(squared=False), "not squared"),
    "mean of squares": (_fedprox(reduce=keras.ops.mean), "*mean*"),
    "kernels only": (_fedprox(pairs=_kernel_pairs), "only the kernels"),
    "no reconstruction error": (_fedprox(reconstruction=False), "reconstruction error is missing"),
    "no proximal term": (_fedprox(half=0.0), "proximal term is missing"),
    "constant proximal term": (_fedprox(constant=True), "no gradient"),
    "returns a number": (lambda model, g, mu: 0.5, "loss function"),
    "anchors out of order": (lambda model, g, mu: _fedprox()(model, g[1:] + g[:1], mu), "same position"),
}


@pytest.mark.parametrize("name", list(Q5_WRONG))
def test_q5_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q5_WRONG[name]
    _assert_incorrect(_result(5, fn), words)


def test_q5_loss_returning_placeholder_is_not_attempted():
    result = _result(5, lambda model, g, mu: (lambda y_true, y_pred: ____))
    assert result.status == "not attempted", result.message


def test_q5_numpy_reference_is_independent_of_keras_losses():
    model, global_weights, x = nb11._q5_model()
    value, grads = nb11._loss_and_gradients(_fedprox()(model, global_weights, 0.1), model, x)
    pred = np.asarray(model(x), dtype=np.float64)
    want = np.mean((x - pred) ** 2) + 0.05 * sum(np.sum((np.asarray(w, np.float64) - g) ** 2)
                                                 for w, g in zip(model.get_weights(), global_weights))
    assert value == pytest.approx(want, rel=1e-5)
    assert len(grads) == len(model.trainable_variables)
