"""Exercises of notebook 08 (alarm management): solutions pass, untouched templates are 'not attempted', and the
typical wrong answers are reported as incorrect with a message that names the mistake.

Every question asks for a function; its check compares the function with :mod:`sadlib.alarms` or
:mod:`sadlib.thresholds` on many inputs. Right answers written another way must pass too.
"""


import numpy as np
import pandas as pd
import pytest
from exercise_cells import answer_cells, run_cell, setup_namespace, setup_source
from scipy import stats

from sadlib import alarms, metrics
from sadlib.course.exercises import ____, nb08


# --------------------------------------------------------------------------- the notebook and the templates
def test_every_question_has_an_answer_cell():
    assert sorted(answer_cells("nb08")) == [1, 2, 3, 4, 5, 6]


def test_setup_cell_is_the_module_setup():
    assert nb08.SETUP.rstrip("\n") in setup_source("nb08")


def test_template_cells_in_notebook_order_all_not_attempted():
    ns = setup_namespace("nb08")
    for number, source in sorted(answer_cells("nb08").items()):
        printed = run_cell(source, ns)
        assert "Not attempted" in printed and "Incorrect" not in printed, (number, printed)


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5, 6])
def test_every_solution_passes(number):
    result = getattr(nb08, f"q{number}").check_solution()
    assert result.passed, result.message


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5, 6])
def test_function_returning_placeholder_is_not_attempted(number):
    q = getattr(nb08, f"q{number}")
    result = q.result(**{q.variables[0]: lambda *args: ____})
    assert result.status == "not attempted", result.message
    assert "____" in result.message


def test_q3_half_written_pipeline_is_not_attempted():
    def alarm_pipeline(train_scores, test_scores, q, min_duration):
        threshold = np.percentile(train_scores, q)
        return ____, threshold

    assert nb08.q3.result(alarm_pipeline=alarm_pipeline).status == "not attempted"


def test_not_a_function_is_incorrect():
    result = nb08.q1.result(k_of_n=np.zeros(5, bool))
    assert result.status == "incorrect"
    assert "should be a function" in result.message


def test_checks_do_not_leave_scipy_patched():
    before = stats.genpareto.fit
    assert nb08.q4.check_solution().passed
    assert "fit" not in vars(stats.genpareto)
    assert stats.genpareto.fit == before


# --------------------------------------------------------------------------- Q1 k-of-n
def _k_of_n_cumsum(above, k, n):
    c = np.concatenate(([0], np.cumsum(np.asarray(above, dtype=int))))
    t = np.arange(1, len(above) + 1)
    return c[t] - c[np.maximum(t - n, 0)] >= k


def _k_of_n_rolling(above, k, n):
    return (pd.Series(np.asarray(above, dtype=float)).rolling(n, min_periods=1).sum() >= k).to_numpy()


@pytest.mark.parametrize("fn", [_k_of_n_cumsum, _k_of_n_rolling], ids=["cumsum", "pandas rolling"])
def test_q1_right_answers_of_another_form_pass(fn):
    result = nb08.q1.result(k_of_n=fn)
    assert result.passed, result.message


def _k_of_n_loop(window):
    def k_of_n(above, k, n):
        above = np.asarray(above, dtype=bool)
        return np.array([window(above, t, k, n) for t in range(above.size)], dtype=bool)

    return k_of_n


Q1_WRONG = {
    "centred (non-causal)": (_k_of_n_loop(lambda a, t, k, n: a[max(t - n // 2, 0):t - n // 2 + n].sum() >= k),
                             "causal"),
    "looks ahead": (_k_of_n_loop(lambda a, t, k, n: a[t:t + n].sum() >= k), "ahead"),
    "silent at the start": (_k_of_n_loop(lambda a, t, k, n: t >= n - 1 and a[t - n + 1:t + 1].sum() >= k),
                            "first n - 1 samples"),
    "more than k": (_k_of_n_loop(lambda a, t, k, n: a[max(t - n + 1, 0):t + 1].sum() > k), ">= k"),
    "window of n + 1": (_k_of_n_loop(lambda a, t, k, n: a[max(t - n, 0):t + 1].sum() >= k), "n + 1"),
    "present sample left out": (_k_of_n_loop(lambda a, t, k, n: a[max(t - n, 0):t].sum() >= k), "first wrong"),
    "counts instead of decisions": (lambda above, k, n: pd.Series(np.asarray(above, float)).rolling(
        n, min_periods=1).sum().to_numpy(), "True/False"),
    "np.convolve full": (lambda above, k, n: np.convolve(np.asarray(above, int), np.ones(n, int)) >= k, "shape"),
}


@pytest.mark.parametrize("name", list(Q1_WRONG))
def test_q1_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q1_WRONG[name]
    result = nb08.q1.result(k_of_n=fn)
    assert result.status == "incorrect", (name, result.message)
    assert words in result.message, (name, result.message)


def test_q1_check_covers_k_equal_n_and_n_equal_1():
    pairs = {(k, n) for _, k, n in nb08._q1_cases()}
    assert any(k == n > 1 for k, n in pairs) and (1, 1) in pairs
    assert any(a.size < n for a, _, n in nb08._q1_cases())  # a series shorter than the window


# --------------------------------------------------------------------------- Q2 hysteresis
def _latch(switch_on, switch_off):
    def hysteresis(scores, on, off):
        out, state = np.zeros(len(scores), dtype=bool), False
        for t, s in enumerate(scores):
            if switch_on(s, on):
                state = True
            elif switch_off(s, off):
                state = False
            out[t] = state
        return out

    return hysteresis


def test_q2_right_answer_with_isnan_passes():
    fn = _latch(lambda s, on: s > on, lambda s, off: np.isnan(s) or s <= off)
    assert nb08.q2.result(hysteresis=fn).passed


def test_q2_library_function_is_refused():
    # the question asks the learner to write it; the library's version is for later notebooks
    result = nb08.q2.result(hysteresis=alarms.hysteresis_alarms)
    assert result.status == "incorrect" and "write it yourself" in result.message, result.message
    wrapped = nb08.q2.result(hysteresis=lambda s, on, off: alarms.hysteresis_alarms(s, on, off))
    assert wrapped.status == "incorrect" and "write it yourself" in wrapped.message, wrapped.message
    # and the library works again after the check
    assert alarms.hysteresis_alarms(np.array([2.0, 0.0]), 1.0, 0.5).tolist() == [True, False]


_RIGHT_LATCH = _latch(lambda s, on: s > on, lambda s, off: np.isnan(s) or s <= off)

Q2_WRONG = {
    ">= on": (_latch(lambda s, on: s >= on, lambda s, off: not s > off), "exactly equal to `on`"),
    "< off": (_latch(lambda s, on: s > on, lambda s, off: s < off or np.isnan(s)), "exactly equal to `off`"),
    "NaN keeps the alarm on": (_latch(lambda s, on: s > on, lambda s, off: s <= off), "NaN"),
    "no latch": (lambda scores, on, off: np.asarray(scores) > on, "no latch"),
    "starts on": (lambda scores, on, off: np.r_[True, _RIGHT_LATCH(scores, on, off)[1:]], "first wrong"),
}


@pytest.mark.parametrize("name", list(Q2_WRONG))
def test_q2_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q2_WRONG[name]
    result = nb08.q2.result(hysteresis=fn)
    assert result.status == "incorrect", (name, result.message)
    assert words in result.message, (name, result.message)


def test_q2_cases_hold_nan_and_scores_equal_to_a_level():
    cases = nb08._q2_cases()
    assert any(np.isnan(s).any() for s, _, _ in cases)
    assert any((s == on).any() for s, on, _ in cases) and any((s == off).any() for s, _, off in cases)


# --------------------------------------------------------------------------- Q3 leak-free pipeline
def _pipeline(threshold_of, alarms_of=None):
    def alarm_pipeline(train_scores, test_scores, q, min_duration):
        thr = threshold_of(train_scores, test_scores, q)
        rule = alarms_of or (lambda s, t, d: alarms.min_duration_alarms(s, t, d))
        return rule(test_scores, thr, min_duration), thr

    return alarm_pipeline


def _z_scored(train_scores, test_scores, q, min_duration):
    z = (test_scores - test_scores.mean()) / test_scores.std()
    thr = float(np.percentile((train_scores - train_scores.mean()) / train_scores.std(), q))
    return alarms.min_duration_alarms(z, thr, min_duration), thr


def _backdated(scores, thr, d):
    above, out, i = scores > thr, np.zeros(len(scores), dtype=bool), 0
    while i < len(above):
        j = i
        while j < len(above) and above[j]:
            j += 1
        if j - i >= d:
            out[i:j] = True
        i = max(j, i + 1)
    return out


def test_q3_right_answer_with_the_library_passes():
    result = nb08.q3.result(alarm_pipeline=_pipeline(lambda tr, te, q: np.percentile(tr, q)))
    assert result.passed, result.message


def test_q3_alarm_policy_passes():
    def alarm_pipeline(train_scores, test_scores, q, min_duration):
        policy = alarms.AlarmPolicy(threshold=("percentile", {"q": q}), min_duration=min_duration).fit(train_scores)
        return policy.predict(test_scores), policy.threshold_

    result = nb08.q3.result(alarm_pipeline=alarm_pipeline)
    assert result.passed, result.message


Q3_WRONG = {
    "threshold from the test scores": (_pipeline(lambda tr, te, q: np.percentile(te, q)), "leakage"),
    "threshold from train and test": (_pipeline(lambda tr, te, q: np.percentile(np.r_[tr, te], q)), "leakage"),
    "test scores z-scored with their own statistics": (_z_scored, "leakage"),
    "threshold from the test maximum": (_pipeline(lambda tr, te, q: 0.5 * te.max()), "leakage"),
    "non-causal: the whole run alarms": (_pipeline(lambda tr, te, q: np.percentile(tr, q), _backdated),
                                         "looks ahead"),
    "no minimum duration": (_pipeline(lambda tr, te, q: np.percentile(tr, q), lambda s, t, d: s > t), "plain"),
    ">= threshold": (_pipeline(lambda tr, te, q: np.percentile(tr, q), lambda s, t, d: alarms.min_duration_alarms(
        s, np.nextafter(t, -np.inf), d)), "strict"),
    "q taken as a fraction": (_pipeline(lambda tr, te, q: np.percentile(tr, q / 100)), "0-100"),
    "a fixed threshold": (_pipeline(lambda tr, te, q: 2.0), "np.percentile(train_scores, q)"),
    "one value only": (lambda tr, te, q, d: te > np.percentile(tr, q), "two values"),
}


@pytest.mark.parametrize("name", list(Q3_WRONG))
def test_q3_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q3_WRONG[name]
    result = nb08.q3.result(alarm_pipeline=fn)
    assert result.status == "incorrect", (name, result.message)
    if words:
        assert words in result.message, (name, result.message)


def test_q3_pipeline_that_changes_its_inputs_does_not_fool_the_check():
    def alarm_pipeline(train_scores, test_scores, q, min_duration):
        thr = float(np.percentile(train_scores, q))
        out = alarms.min_duration_alarms(test_scores, thr, min_duration)
        test_scores[:] = 0.0  # the check passes copies, so this cannot change what it compares
        train_scores[:] = 0.0
        return out, thr

    assert nb08.q3.result(alarm_pipeline=alarm_pipeline).passed


# --------------------------------------------------------------------------- Q4 POT / SPOT initial threshold
def _pot(formula, *, fit=lambda ex: stats.genpareto.fit(ex, floc=0), tq=lambda s, level: np.quantile(s, level),
         excess=lambda peaks, t: peaks - t):
    def pot_threshold(normal_scores, level, q):
        t = tq(normal_scores, level)
        peaks = normal_scores[normal_scores > t]
        gamma, _, sigma = fit(excess(peaks, t))
        return formula(t, float(gamma), float(sigma), q, normal_scores.size, peaks.size)

    return pot_threshold


def _right(t, g, s, q, n, n_t):
    r = q * n / n_t
    return t - s * np.log(r) if abs(g) < 1e-8 else t + s / g * (r ** -g - 1)


def test_q4_spot_threshold_is_refused():
    from sadlib.thresholds import SPOTThreshold

    # tail_quantile_ is the paper's z_q, but the question asks the learner to write it
    result = nb08.q4.result(
        pot_threshold=lambda s, level, q: SPOTThreshold(risk=q, init_level=level).fit(s).tail_quantile_)
    assert result.status == "incorrect" and "write it yourself" in result.message, result.message


def test_q4_right_answer_with_a_tolerance_for_gamma_passes():
    assert nb08.q4.result(pot_threshold=_pot(_right)).passed


def test_q4_reference_agrees_with_the_library():
    from sadlib.thresholds import POTThreshold

    for scores, level, q in nb08._q4_cases():
        want = POTThreshold(risk=q, init_level=level).fit(scores).tail_quantile_
        # the library solves the likelihood equations (Grimshaw), the reference uses scipy's optimiser, which
        # stops within its own tolerance (the checker allows rtol=1e-3)
        assert np.isclose(nb08._pot_reference(scores, level, q), want, rtol=1e-4)


def test_q4_cases_cover_both_signs_of_the_shape():
    shapes = [stats.genpareto.fit(s[s > np.quantile(s, lv)] - np.quantile(s, lv), floc=0)[0]
              for s, lv, _ in nb08._q4_cases()]
    assert min(shapes) < -0.05 and max(shapes) > 0.05


Q4_WRONG = {
    "returns t": (lambda s, level, q: float(np.quantile(s, level)), "initial threshold t"),
    "q without n / n_t": (_pot(lambda t, g, s, q, n, n_t: _right(t, g, s, q * n_t / n, n, n_t)), "among *all*"),
    "ratio upside down": (_pot(lambda t, g, s, q, n, n_t: _right(t, g, s, q * n_t / n * n_t / n, n, n_t)),
                          "upside down"),
    "exponent sign": (_pot(lambda t, g, s, q, n, n_t: t + s / g * ((q * n / n_t) ** g - 1)), "wrong sign"),
    "free location": (_pot(_right, fit=lambda ex: stats.genpareto.fit(ex)), "floc=0"),
    "fit to the peaks": (_pot(_right, excess=lambda peaks, t: peaks), "excesses"),
    "level as a percentile": (_pot(_right, tq=lambda s, level: np.percentile(s, level)), "percentile"),
    "no exponential limit": (_pot(lambda t, g, s, q, n, n_t: t + s / g * ((q * n / n_t) ** -g - 1)), "gamma = 0"),
    "gamma == 0 with Python floats": (_pot(lambda t, g, s, q, n, n_t: t + float(s) / float(g)
                                           * ((q * n / n_t) ** -g - 1)), "gamma = 0"),
    "log without the limit's sign": (_pot(lambda t, g, s, q, n, n_t: t + s * np.log(q * n / n_t)), None),
}


@pytest.mark.parametrize("name", list(Q4_WRONG))
def test_q4_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q4_WRONG[name]
    result = nb08.q4.result(pot_threshold=fn)
    assert result.status == "incorrect", (name, result.message)
    if words:
        assert words in result.message, (name, result.message)


def test_q4_threshold_that_falls_with_the_risk_is_caught():
    checked = {q for _, _, q in nb08._q4_cases()}

    def pot_threshold(normal_scores, level, q):  # right at the risks of the value cases, backwards in between
        right = nb08._pot_reference(normal_scores, level, q if q in checked else 1e-3)
        return right if q in checked else right * (q / 1e-3) ** 0.1

    result = nb08.q4.result(pot_threshold=pot_threshold)
    assert result.status == "incorrect"
    assert "smaller risk" in result.message, result.message


# --------------------------------------------------------------------------- Q5 announcements per shift
def _shifts(counted, origin="6h"):
    def alarms_per_shift(alarm_vector, index):
        rearm = int(round(pd.Timedelta("1h") / (index[1] - index[0])))
        marks = counted(np.asarray(alarm_vector, bool), rearm)
        return pd.Series(np.asarray(marks, int), index=index).resample("8h", offset=origin).sum()

    return alarms_per_shift


def _loop_shifts(alarm_vector, index):
    """A right answer without sadlib: walk the samples and book each announcement in its shift."""
    step = index[1] - index[0]
    rearm = int(pd.Timedelta("1h") / step)
    counts: dict = {}
    on_for = 0
    for on, time in zip(alarm_vector, index):
        on_for = on_for + 1 if on else 0
        if on and (on_for - 1) % rearm == 0:
            shift = (time - pd.Timedelta("6h")).floor("8h") + pd.Timedelta("6h")
            counts[shift] = counts.get(shift, 0) + 1
    shifts = pd.date_range((index[0] - pd.Timedelta("6h")).floor("8h") + pd.Timedelta("6h"), index[-1], freq="8h")
    return pd.Series([counts.get(s, 0) for s in shifts], index=shifts)


def test_q5_right_answer_without_the_library_passes():
    result = nb08.q5.result(alarms_per_shift=_loop_shifts)
    assert result.passed, result.message


def test_q5_reference_counts_a_standing_alarm_in_both_shifts():
    index = pd.date_range("2024-01-01 12:00", periods=5 * 60, freq="1min")  # 12:00-16:59, change of shift at 14:00
    a = np.zeros(len(index), dtype=bool)
    a[30:210] = True  # 12:30-15:29: announced at 12:30, 13:30, 14:30
    got = nb08._shift_reference(a, index)
    assert got.to_dict() == {pd.Timestamp("2024-01-01 06:00"): 2, pd.Timestamp("2024-01-01 14:00"): 1}


def _announce(a, rearm=None):
    """Announcements written with a loop (the checker makes alarms.announcements unavailable to the answer)."""
    marks, run = np.zeros(len(a), dtype=bool), 0
    for t, on in enumerate(np.asarray(a, dtype=bool)):
        run = run + 1 if on else 0
        marks[t] = on and (run == 1 or (rearm is not None and (run - 1) % rearm == 0))
    return marks


Q5_WRONG = {
    "onsets only": (_shifts(lambda a, rearm: _announce(a)), "every 10 s: you count onsets only"),
    "alarm samples": (_shifts(lambda a, rearm: a), "samples"),
    "shifts from midnight": (_shifts(lambda a, rearm: _announce(a, rearm=rearm), origin="0h"), "06:00"),
    "re-counts booked at the onset": (
        _shifts(lambda a, rearm: np.bincount(
            [s for s, _ in alarms.alarm_table(a)[["start", "end"]].itertuples(index=False)
             for _ in range(-(-(_ - s) // rearm))], minlength=a.size) if a.any() else np.zeros(a.size)),
        "shift in which it happens"),
    "re-armed every 10 samples": (_shifts(lambda a, rearm: _announce(a, rearm=10)), None),
    "per hour": (lambda a, index: pd.Series(_announce(a, rearm=60).astype(int), index=index)
                 .resample("1h").sum(), "entries"),
    "a list": (lambda a, index: [1, 2, 3], "pandas Series"),
}


def test_q5_library_function_is_refused():
    def with_library(a, index):
        rearm = int(round(pd.Timedelta("1h") / (index[1] - index[0])))
        marks = alarms.announcements(a, rearm=rearm).astype(int)
        return pd.Series(marks, index=index).resample("8h", offset="6h").sum()

    result = nb08.q5.result(alarms_per_shift=with_library)
    assert result.status == "incorrect" and "write it yourself" in result.message, result.message


@pytest.mark.parametrize("name", list(Q5_WRONG))
def test_q5_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q5_WRONG[name]
    result = nb08.q5.result(alarms_per_shift=fn)
    assert result.status == "incorrect", (name, result.message)
    if words:
        assert words in result.message, (name, result.message)


# --------------------------------------------------------------------------- Q6 end to end
def _rule(threshold_of, k_of, *, ahead=0):
    """An alarm rule built from a threshold (train, val, test) and a k (val, threshold), k of the last 10."""
    def alarm_rule(plant, val_start, test_start):
        train = plant[plant.index < val_start]
        val = plant[(plant.index >= val_start) & (plant.index < test_start)]
        test = plant[plant.index >= test_start]
        threshold = threshold_of(train, val, test)
        k = k_of(val, test, threshold)
        scores = test["score"].to_numpy()
        if ahead:  # each decision also reads the next `ahead` scores
            scores = pd.Series(scores).rolling(ahead + 1, min_periods=1).max().shift(-ahead).fillna(0).to_numpy()
        return alarms.k_of_n_alarms(scores, threshold, k, 10)

    return alarm_rule


def _best_k(part, threshold, budget=1.0):
    from sadlib import metrics

    best, recall = 10, -1.0
    for k in range(1, 11):
        ev = metrics.evaluate(part["anomaly"].to_numpy(), y_pred=alarms.k_of_n_alarms(
            part["score"].to_numpy(), threshold, k, 10), index=part.index)
        if ev["false_alarms_per_day"] <= budget and ev["event_recall"] > recall:
            best, recall = k, ev["event_recall"]
    return best


_P99 = lambda train, val, test: np.percentile(train["score"], 99)  # noqa: E731

Q6_WRONG = {
    "k chosen on the test labels": (_rule(_P99, lambda val, test, thr: _best_k(test, thr)), "test part's labels"),
    "threshold from all the scores": (_rule(lambda tr, val, test: np.percentile(pd.concat([tr, val, test])["score"],
                                                                                  99), lambda v, t, thr: 3),
                                      "looks ahead"),
    "reads one minute ahead": (_rule(_P99, lambda v, t, thr: 3, ahead=1), "looks ahead"),
    "raw threshold": (_rule(_P99, lambda v, t, thr: 1), "false alarms per day"),
    "never alarms": (lambda plant, v, t: np.zeros(int((plant.index >= t).sum()), bool), "random line"),
    "an alarm at noon every day": (lambda plant, v, t: (plant.index[plant.index >= t].hour == 12), "random line"),
    "one value per day": (lambda plant, v, t: np.ones(3, bool), "test decisions"),
}


@pytest.mark.parametrize("name", list(Q6_WRONG))
def test_q6_wrong_answers_fail_with_a_useful_message(name):
    fn, words = Q6_WRONG[name]
    result = nb08.q6.result(alarm_rule=fn)
    assert result.status == "incorrect", (name, result.message)
    assert words in result.message, (name, result.message)


def test_q6_a_minimum_duration_chosen_on_validation_passes():
    def alarm_rule(plant, val_start, test_start):
        train = plant[plant.index < val_start]
        val = plant[(plant.index >= val_start) & (plant.index < test_start)]
        test = plant[plant.index >= test_start]
        threshold = np.percentile(train["score"], 99)
        for d in range(1, 11):  # the shortest minimum duration within the budget on validation
            a = alarms.min_duration_alarms(val["score"].to_numpy(), threshold, d)
            if metrics.false_alarms_per_day(val["anomaly"].to_numpy(), a, index=val.index) <= 1:
                break
        return alarms.min_duration_alarms(test["score"].to_numpy(), threshold, d)

    result = nb08.q6.result(alarm_rule=alarm_rule)
    assert result.passed, result.message


def test_q6_plant_has_its_faults_after_the_training_days():
    plant = nb08.scored_plant(seed=3)
    third = len(plant) // 3
    assert not plant["anomaly"].iloc[:third].any()
    assert len(alarms.alarm_table(plant["anomaly"].to_numpy().astype(bool))) == 12
