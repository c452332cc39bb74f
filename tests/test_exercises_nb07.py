"""Exercises of notebook 07: the real template cells are 'not attempted', Q5's quantizer check fails wrong code.

Q5 asks for the quantizer's forward pass in ``keras.ops``; its check compares values with the course's
``VectorQuantizer`` layer and measures the gradient with a ``tf.GradientTape``. Every wrong answer below
must be reported as incorrect, right answers of another form must pass.
"""


import numpy as np
import pytest
from exercise_cells import answer_cells, run_cell, setup_namespace

from sadlib.course.exercises import nb07
from sadlib.course.exercises.checker import FunctionQuestion


def test_every_question_has_an_answer_cell():
    assert sorted(answer_cells("nb07")) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5])
def test_untouched_template_cell_prints_not_attempted(number):
    ns = setup_namespace("nb07")
    printed = run_cell(answer_cells("nb07")[number], ns)
    assert printed.startswith("Not attempted"), printed


def test_template_cells_in_notebook_order_all_not_attempted():
    ns = setup_namespace("nb07")
    for number, source in sorted(answer_cells("nb07").items()):
        assert run_cell(source, ns).startswith("Not attempted"), number


def test_q5_half_written_function_is_still_not_attempted():
    ns = setup_namespace("nb07")
    source = answer_cells("nb07")[5].replace(
        "d = ____", "d = ops.sum(z**2, axis=1, keepdims=True) - 2 * ops.matmul(z, ops.transpose(codebook))")
    assert "d = ____" not in source
    assert run_cell(source, ns).startswith("Not attempted")


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5])
def test_every_question_is_a_function_the_learner_writes(number):
    question = getattr(nb07, f"q{number}")
    assert isinstance(question, FunctionQuestion), question.label
    if number != 3:
        assert question.method, question.label


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5])
def test_reference_solution_passes(number):
    ns = nb07._context()
    question = getattr(nb07, f"q{number}")
    exec(question.solution_code, ns)
    result = question.result(**{name: ns[name] for name in question.variables})
    assert result.passed, result.message


def test_q2_prompt_allows_argmin_in_numpy_and_q5_gives_the_right_reason():
    # issue 26/21: "without argmin because an edge runtime may lack it" was wrong; LiteRT has a builtin ARG_MIN
    assert "argmin` is fine" in nb07.q2.prompt or "argmin` is " in nb07.q2.prompt
    assert "may lack" not in nb07.q5.prompt and "signbit" in nb07.q5.prompt
    assert "builtin ARG_MIN" in nb07.NO_ARGMIN


# --------------------------------------------------------------------------- Q5: right answers of other forms
RIGHT = {
    "solution": None,  # the module's own solution
    "expand_dims distances, one-hot": """
def my_quantizer(z, codebook):
    d = ops.sum((ops.expand_dims(z, 1) - ops.expand_dims(codebook, 0)) ** 2, axis=-1)
    one_hot = ops.cast(ops.equal(d, ops.min(d, axis=1, keepdims=True)), z.dtype)
    return z + ops.stop_gradient(ops.matmul(one_hot, codebook) - z)
""",
    "float32 one-hot, no keepdims": """
def my_quantizer(z, codebook):
    d = ops.sum(z**2, axis=1)[:, None] - 2 * ops.matmul(z, ops.transpose(codebook)) + ops.sum(codebook**2, axis=1)
    one_hot = ops.cast(d == ops.min(d, axis=1)[:, None], "float32")
    q = ops.matmul(one_hot, codebook)
    return z + ops.stop_gradient(q - z)
""",
}


ARGMIN = {
    "ops.argmin": "q = ops.take(codebook, ops.argmin(d, axis=1), axis=0)",
    "keras.ops.argmin imported": "from keras.ops import argmin\n    q = ops.take(codebook, argmin(d, axis=1), axis=0)",
}


@pytest.mark.parametrize("name", list(ARGMIN))
def test_q5_argmin_is_refused_with_the_right_reason(name):
    # issue 26: "without argmin" was not enforced, and the reason given (an edge runtime lacks it) was wrong
    ns = setup_namespace("nb07")
    exec("def my_quantizer(z, codebook):\n"
         "    d = ops.sum((ops.expand_dims(z, 1) - ops.expand_dims(codebook, 0)) ** 2, axis=-1)\n"
         f"    {ARGMIN[name]}\n"
         "    return z + ops.stop_gradient(q - z)\n", ns)
    result = nb07.q5.result(my_quantizer=ns["my_quantizer"])
    assert result.status == "incorrect" and "signbit" in result.message and "Flex" in result.message, result.message
    import keras

    assert keras.ops.argmin(np.array([[2.0, 1.0]]), axis=1).numpy().tolist() == [1]  # restored after the check


@pytest.mark.parametrize("name", list(RIGHT))
def test_q5_right_answers_pass(name):
    ns = setup_namespace("nb07")
    exec(RIGHT[name] or nb07.q5.solution_code, ns)
    result = nb07.q5.result(my_quantizer=ns["my_quantizer"])
    assert result.passed, result.message


# --------------------------------------------------------------------------- Q5: wrong answers
_D = ("    d = ops.sum(z**2, axis=1, keepdims=True) - 2 * ops.matmul(z, ops.transpose(codebook))"
      " + ops.sum(codebook**2, axis=1)\n")
_Q = ("    one_hot = ops.cast(ops.equal(d, ops.min(d, axis=1, keepdims=True)), 'float32')\n"
      "    q = ops.matmul(one_hot, codebook)\n")

WRONG = {
    "q without straight-through": _D + _Q + "    return q\n",
    "no stop_gradient (z cancels)": _D + _Q + "    return z + (q - z)\n",
    "value z (straight-through reversed)": _D + _Q + "    return q + ops.stop_gradient(z - q)\n",
    "no quantization": "    return z\n",
    "farthest code": _D + "    one_hot = ops.cast(ops.equal(d, ops.max(d, axis=1, keepdims=True)), 'float32')\n"
                          "    q = ops.matmul(one_hot, codebook)\n    return z + ops.stop_gradient(q - z)\n",
    "sign error in the distance": _D.replace("- 2 *", "+ 2 *") + _Q + "    return z + ops.stop_gradient(q - z)\n",
    "indices instead of vectors": _D + "    return ops.argmin(d, axis=1)\n",
    "the distances": _D + "    return d\n",
    "gradient twice the identity": _D + _Q + "    return 2 * z + ops.stop_gradient(q - 2 * z)\n",
    "stop_gradient on everything": _D + _Q + "    return ops.stop_gradient(z + q - z)\n",
    "first code for every row": "    return z + ops.stop_gradient(ops.ones_like(z) * codebook[0] - z)\n",
    "raises": "    raise ValueError('not yet')\n",
}


@pytest.mark.parametrize("name", list(WRONG))
def test_q5_wrong_answers_fail(name):
    ns = setup_namespace("nb07")
    exec("def my_quantizer(z, codebook):\n" + WRONG[name], ns)
    result = nb07.q5.result(my_quantizer=ns["my_quantizer"])
    assert result.status == "incorrect", (name, result.message)


def test_q5_not_a_function_fails():
    assert nb07.q5.result(my_quantizer=np.zeros((12, 3))).status == "incorrect"


def test_q5_inputs_have_no_near_ties():
    # float32 round-off (about 1e-6 on distances of about 10) must not decide which code is nearest,
    # whatever formula the learner uses
    for case, (n, k, dim) in enumerate(nb07.Q5_CASES):
        z, codebook, _ = nb07._q5_inputs(n, k, dim, case)
        d = np.sort(((z[:, None, :].astype(float) - codebook[None].astype(float)) ** 2).sum(-1), axis=1)
        if k > 1:
            assert (d[:, 1] - d[:, 0]).min() > 1e-4


def test_q5_reference_is_the_course_layer_and_numpy_agrees():
    for case, (n, k, dim) in enumerate(nb07.Q5_CASES):
        z, codebook, g = nb07._q5_inputs(n, k, dim, case)
        value, grad = nb07._q5_reference(z, codebook, g)
        d = ((z[:, None, :].astype(float) - codebook[None].astype(float)) ** 2).sum(-1)
        np.testing.assert_allclose(value, codebook[d.argmin(1)], atol=1e-6)
        np.testing.assert_allclose(grad, g, atol=1e-6)  # straight-through: the identity


# --------------------------------------------------------------------------- answers of the right kind
@pytest.mark.parametrize("kind", [float, np.float32, np.float64, lambda x: np.array(x)])
def test_q1_accepts_any_number_type(kind):
    def perplexity(counts):
        p = np.asarray(counts, float)
        p = p[p > 0] / p.sum()
        return kind(np.exp(-(p * np.log(p)).sum()))
    assert nb07.q1.result(perplexity=perplexity).passed


@pytest.mark.parametrize("kind", [list, tuple, set, lambda a: np.asarray(a, np.int64),
                                  lambda a: np.asarray(a, np.int32)])
def test_q3_accepts_any_collection_of_indices(kind):
    def dead_codes(batch_codes, n_codes):
        return kind(np.setdiff1d(np.arange(n_codes), np.unique(batch_codes)).tolist())
    assert nb07.q3.result(dead_codes=dead_codes).passed


def test_q2_q4_check_on_inputs_the_setup_does_not_hold():
    ns = nb07._context()
    z, codebook = nb07._q2_inputs(*nb07.Q2_CASES[1])
    assert z.shape != ns["z"].shape and codebook.shape != ns["codebook"].shape
    assert len(nb07.Q4_CASES) >= 2 and nb07.Q4_CASES[1][2] != ns["beta"]


def test_q2_library_function_is_refused_and_restored():
    from sadlib.detectors import vqvae

    def nearest_code(z, codebook):
        idx, _ = vqvae.nearest_codes(z, codebook)
        return idx, codebook[idx]
    result = nb07.q2.result(nearest_code=nearest_code)
    assert result.status == "incorrect" and "write it yourself" in result.message
    assert vqvae.nearest_codes(np.zeros((1, 2)), np.eye(2))[0].tolist() == [0]
