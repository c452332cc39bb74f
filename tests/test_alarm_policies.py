"""Named alarm policies: sadlib.alarms.POLICIES, make_policy and policy_label."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sadlib import alarms as al
from sadlib.thresholds import PercentileThreshold
from sadlib.validation import InvalidParameterError


def test_the_named_policies_and_what_they_build():
    assert {"none", "default", "skab_like"} <= set(al.POLICIES)
    assert al.POLICIES["none"] is None
    assert al.make_policy("none") is None and al.make_policy(None) is None
    for name, params in al.POLICIES.items():
        if params is None:
            continue
        policy = al.make_policy(name)
        assert isinstance(policy, al.AlarmPolicy) and not hasattr(policy, "threshold_")
        assert policy.get_params() == al.AlarmPolicy(**params).get_params()
    assert al.make_policy("  default ").get_params() == al.make_policy("default").get_params()


def test_unknown_name_lists_the_names_and_a_close_match():
    expected = r"unknown alarm policy 'defualt'\. Did you mean 'default'\?"
    with pytest.raises(InvalidParameterError, match=expected) as err:
        al.make_policy("defualt")
    msg = str(err.value)
    for name in al.POLICIES:
        assert name in msg
    assert "JSON object" in msg
    with pytest.raises(ValueError, match="unknown alarm policy 'zzz'") as err:  # no close match: no guess
        al.make_policy("zzz")
    assert "Did you mean" not in str(err.value)


@pytest.mark.parametrize("text", ['{"k": 3, n: 5}', "{'k': 3}", '{"k": 3,}'])
def test_bad_json_says_what_json_is_expected(text):
    with pytest.raises(InvalidParameterError, match="not valid JSON") as err:
        al.make_policy(text)
    msg = str(err.value)
    assert "double-quoted keys" in msg and '["percentile", {"q": 99}]' in msg
    json.loads(msg.split("e.g. ")[-1].rstrip(".").strip("'"))  # the example itself is valid JSON


def test_json_that_is_not_an_object_or_has_unknown_or_bad_parameters():
    with pytest.raises(InvalidParameterError, match="must be an object"):
        al.make_policy('["percentile", {"q": 99}]')
    with pytest.raises(InvalidParameterError, match=r"'treshold' \(did you mean 'threshold'\?\)") as err:
        al.make_policy('{"treshold": 3.0}')
    assert "hysteresis_off" in str(err.value)  # lists the valid parameters
    with pytest.raises(InvalidParameterError, match="k must be an integer in"):
        al.make_policy('{"k": 7, "n": 5}')
    with pytest.raises(InvalidParameterError, match="hold"):
        al.make_policy({"hold": "soon"})
    with pytest.raises(InvalidParameterError, match="threshold must be a threshold spec"):
        al.make_policy('{"threshold": ["percentile", {"p": 99}]}')
    with pytest.raises(InvalidParameterError, match="got int"):
        al.make_policy(3)


def test_json_threshold_lists_become_tuples_and_fit_like_the_python_spec():
    policy = al.make_policy('{"threshold": ["percentile", {"q": 90}], "hysteresis_off": ["percentile", {"q": 50}],'
                            ' "k": 2, "n": 3}')
    assert policy.threshold == ("percentile", {"q": 90}) and policy.hysteresis_off == ("percentile", {"q": 50})
    normal = np.random.default_rng(0).normal(size=500)
    same = al.AlarmPolicy(("percentile", {"q": 90}), hysteresis_off=("percentile", {"q": 50}), k=2, n=3)
    policy.fit(normal)
    same.fit(normal)
    assert policy.threshold_ == same.threshold_ == pytest.approx(np.percentile(normal, 90))
    assert policy.off_threshold_ == same.off_threshold_ < policy.threshold_
    test = np.random.default_rng(1).normal(size=300) * 1.5
    assert np.array_equal(policy.predict(test), same.predict(test))
    # a dict from Python gets the same conversion
    assert al.make_policy({"threshold": ["meanstd", {"k": 4}]}).threshold == ("meanstd", {"k": 4})


def test_json_durations_become_samples_at_fit():
    policy = al.make_policy('{"threshold": 2.0, "hold": "10s", "min_duration": "3s"}')
    idx = pd.date_range("2024-01-01", periods=50, freq="1s")
    policy.fit(np.zeros(50), index=idx)
    assert policy.hold_ == 10 and policy.min_duration_ == 3


def test_a_policy_is_cloned_unfitted():
    given = al.AlarmPolicy(("percentile", {"q": 95}), k=2, n=4).fit(np.arange(100.0))
    out = al.make_policy(given)
    assert out is not given and not hasattr(out, "threshold_")
    assert out.get_params() == given.get_params()


def test_policy_label_names_or_compact_json_that_reads_back():
    assert al.policy_label(None) == "none"
    for name in al.POLICIES:
        assert al.policy_label(name) == name
    label = al.policy_label({"n": 5, "k": 3, "threshold": ("percentile", {"q": 99.5, "margin": 1.5})})
    assert label == '{"k":3,"n":5,"threshold":["percentile",{"margin":1.5,"q":99.5}]}'
    assert al.policy_label(' {"threshold": ["percentile", {"q": 99.5, "margin": 1.5}], "k": 3, "n": 5} ') == label
    assert al.policy_label(al.AlarmPolicy()) == "{}"  # the class defaults: nothing differs
    specs = [
        '{"threshold": ["pot", {"risk": 0.01, "init_level": 0.9}], "dead_time": 4}',
        {"threshold": PercentileThreshold(q=97.0), "hold": pd.Timedelta("30s"), "rearm": "1h"},
        al.AlarmPolicy(2.5, hysteresis_off=1.0, min_duration=np.int64(3), sampling_period="1min"),
        al.POLICIES["default"],
    ]
    idx = pd.date_range("2024-01-01", periods=200, freq="1s")
    normal = np.random.default_rng(2).gamma(2.0, size=200)
    test = np.random.default_rng(3).gamma(2.0, size=400) * 1.3
    for spec in specs:
        label = al.policy_label(spec)
        assert " " not in label
        back = al.make_policy(label)
        original = al.make_policy(spec)
        # same decisions after fitting on the same normal scores
        assert np.array_equal(back.fit(normal, index=idx).predict(test), original.fit(normal, index=idx).predict(test))
        assert al.policy_label(back) == label
