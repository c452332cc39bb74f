"""sadlib.federated: sites, the shared scaler, update codecs, the guarded strategy, runs and local alarms.

The federated runs here use :class:`~sadlib.federated.run.InProcessGrid` (the real Flower
ClientApp/ServerApp and Messages, no Ray); the simulation engine and separate processes are
exercised in tests/test_federated_processes.py. Flower is required (``make test`` installs the
``federated`` extra), so a missing ``flwr`` fails here instead of skipping.
"""

import logging
import re
import threading
import tomllib
from pathlib import Path

import numpy as np
import pytest
from flwr.app import ArrayRecord

from sadlib.federated import (
    MalformedUpdate,
    decode_update,
    encode_update,
    evaluate_sites,
    make_site,
    make_sites,
    record_bytes,
    run_federated,
    site_table,
    train_centralised,
    train_local,
)
from sadlib.federated.apps import make_server_app, make_strategy, write_flower_app
from sadlib.federated.codecs import weights_to_record
from sadlib.federated.model import (
    MODELS,
    ModelCache,
    build_model,
    combine_moments,
    local_fit,
    make_windows,
    site_moments,
)
from sadlib.federated.privacy import flower_epsilon, gaussian_rdp_epsilon, site_influence
from sadlib.federated.run import PRIVATE_FLWR_IMPORTS, scoring_labels
from sadlib.validation import InvalidParameterError

# the shapes of the default model: 19 features x 6 steps -> 32 -> 4 -> 32 -> 114
SHAPES = [(114, 32), (32,), (32, 4), (4,), (4, 32), (32,), (32, 114), (114,)]
SMALL = {"window": 6, "batch_size": 64}  # 5-min rows: a 30-min window


@pytest.fixture(scope="module")
def sites():
    return make_sites(6, every="5min")


def _weights(seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return [(scale * rng.normal(size=s)).astype(np.float32) for s in SHAPES]


# ----------------------------------------------------------------------------- sites
def test_sites_are_non_iid_with_clean_normal_parts(sites):
    table = site_table(sites)
    assert table["low"].nunique() == 6 and table["consumption"].nunique() == 6
    for site in sites:
        assert "anomaly" not in site.train.columns and "anomaly" not in site.val.columns
        assert site.train.index.max() < site.val.index.min() <= site.val.index.max() < site.test.index.min()
        assert site.features == list(site.test.columns.drop("anomaly"))
    assert [s.params["little_data"] for s in sites] == [False, False, False, True, True, False]
    assert max(len(sites[3].train), len(sites[4].train)) < min(len(s.train) for s in sites[:3]) / 3
    # failures at some sites only; an oil leak at one site alone
    assert len(sites[2].events) == 0 and not sites[2].test["anomaly"].any()
    with_oil = [s.name for s in sites if "oil_leak" in set(s.events["type"])]
    assert with_oil == ["site 5"]
    for site in sites:
        if len(site.events):
            assert 0 < site.test["anomaly"].mean() < 0.25


def test_make_site_is_seeded_and_alone_equals_the_federation(sites):
    alone = make_site(3, every="5min")
    assert alone.train.equals(sites[3].train) and alone.test.equals(sites[3].test)
    other = make_site(3, every="5min", seed=1)
    assert not other.train.equals(sites[3].train)
    assert len(make_site(3, every="5min", little_data=False).train) > 3 * len(sites[3].train)
    with pytest.raises(InvalidParameterError, match="little_data must be True or False"):
        make_site(3, little_data="no")
    with pytest.raises(InvalidParameterError, match="seed must be an integer"):
        make_site(3, seed="abc")
    with pytest.raises(InvalidParameterError, match="little_data must be True or False"):
        make_sites(3, little_data=1)


def test_rows_hold_channel_summaries_and_cycle_features_and_severity_scales_failures(sites):
    assert sites[0].features[:7] == ["TP2", "TP3", "H1", "DV_pressure", "Reservoirs", "Oil_temperature",
                                     "Motor_current"]
    assert "TP3_std" in sites[0].features and "idle_decay_floor" in sites[0].features
    assert len(sites[0].features) == 19
    assert make_site(0, every="5min", features="cycles").features == ["cycles_per_hour", "duty",
                                                                      "idle_decay_bar_per_min", "idle_decay_floor",
                                                                      "oil_temperature"]
    assert sites[0].test.index.to_series().diff().median() == np.timedelta64(5, "m")
    half = make_site(0, every="5min", severity=0.5)
    leaks = sites[0].events["type"] == "air_leak"
    np.testing.assert_allclose(half.events.loc[leaks, "magnitude"], 0.5 * sites[0].events.loc[leaks, "magnitude"])


def test_scoring_counts_the_precursor_and_skips_the_recovery_day(sites):
    site = sites[0]
    y, scored = scoring_labels(site)
    index = site.test.index
    for event in site.events.itertuples():
        assert y[(index >= event.precursor_start) & (index <= event.end)].all()
        after = (index > event.end) & (index <= event.end + np.timedelta64(24, "h"))
        assert not scored[after].any()
    assert y.sum() > site.test["anomaly"].sum()  # the air leaks' precursors count
    y_late, _ = scoring_labels(site, early=False)
    assert y_late.sum() <= site.test["anomaly"].sum() + len(site.events)


def test_make_sites_rejects_bad_input():
    with pytest.raises(InvalidParameterError, match="n_sites"):
        make_sites(1)
    with pytest.raises(ValueError, match="shorter than the sampling interval"):
        make_site(0, every="5s")
    with pytest.raises(InvalidParameterError, match="test_days"):
        make_site(0, test_days=2)
    with pytest.raises(InvalidParameterError, match="features"):
        make_site(0, features="raw")
    with pytest.raises(InvalidParameterError, match="severity"):
        make_site(0, severity=0)


# ----------------------------------------------------------------------------- scaler
def test_combined_moments_are_the_pooled_mean_and_std():
    rng = np.random.default_rng(0)
    parts = [rng.normal(loc=i, scale=i + 1, size=(50 * (i + 1), 3)) for i in range(3)]
    parts[0][:, 2] = 5.0  # constant at one site only
    mean, std = combine_moments([site_moments(p) for p in parts])
    pooled = np.concatenate(parts)
    np.testing.assert_allclose(mean, pooled.mean(axis=0))
    np.testing.assert_allclose(std, pooled.std(axis=0))
    _, std_const = combine_moments([site_moments(np.ones((4, 2)))])
    np.testing.assert_array_equal(std_const, [1.0, 1.0])
    with pytest.raises(ValueError, match="at least one site"):
        combine_moments([])


# ----------------------------------------------------------------------------- codecs
def test_q8_update_is_4x_smaller_and_within_half_a_step():
    old = _weights(0)
    new = [w + d for w, d in zip(old, _weights(1, scale=0.01))]
    plain, _ = encode_update(new, old, None)
    packed, residual = encode_update(new, old, "q8")
    assert record_bytes(plain) / record_bytes(packed) >= 4.0
    decoded = decode_update(packed, old, "q8")
    for w, d, g in zip(new, decoded, old):
        step = float((w - g).max() - (w - g).min()) / 255
        assert np.abs(d - w).max() <= step / 2 + 1e-6
    # what the server decodes plus what the client keeps is the full update
    for w, d, r in zip(new, decoded, residual):
        np.testing.assert_allclose(d + r, w, atol=1e-6)
    np.testing.assert_array_equal(decode_update(plain, old, None)[0], new[0])


def test_topk_sends_the_largest_values_and_keeps_the_rest_for_later():
    old = _weights(0)
    delta = _weights(2, scale=0.01)
    new = [w + d for w, d in zip(old, delta)]
    packed, residual = encode_update(new, old, "topk", topk=0.1)
    assert record_bytes(weights_to_record(new)) / record_bytes(packed) >= 8
    decoded = decode_update(packed, old, "topk")
    sent = [d - g for d, g in zip(decoded, old)]
    big = sent[0] != 0
    assert abs(big.mean() - 0.1) < 0.01
    assert np.abs(delta[0][big]).min() >= np.abs(delta[0][~big]).max() - 1e-4  # the largest ones
    for s, r, d in zip(sent, residual, delta):
        np.testing.assert_allclose(s + r, d, atol=1e-6)
    # error feedback: the kept residual goes out with the next update
    again, _ = encode_update(old, old, "topk", topk=0.1, residual=residual)
    resent = [d - g for d, g in zip(decode_update(again, old, "topk"), old)]
    assert np.count_nonzero(resent[0]) > 0 and np.count_nonzero(resent[0] * big) == 0


@pytest.mark.parametrize("compress", [None, "q8", "topk"])
def test_decode_rejects_nan_and_malformed_updates_naming_the_node(compress):
    old = _weights(0)
    new = [w + 0.01 for w in old]
    nan_weights = [w.copy() for w in new]
    nan_weights[3][0] = np.nan
    if compress is None:
        bad = weights_to_record(nan_weights)
    else:
        bad, _ = encode_update(new, old, compress)
        buffer = bad[compress].numpy().copy()
        buffer[:4] = np.frombuffer(np.float32(np.nan).tobytes(), np.uint8)  # the first range is NaN
        bad = ArrayRecord({compress: ArrayRecord([buffer])["0"]})
    with pytest.raises(MalformedUpdate, match=r"node 17 .*not finite"):
        decode_update(bad, old, compress, node=17)
    wrong_shape = weights_to_record([w[..., :1] if w.ndim == 2 else w for w in new])
    with pytest.raises(MalformedUpdate, match="node 17"):
        decode_update(wrong_shape, old, compress, node=17)
    if compress is not None:
        good, _ = encode_update(new, old, compress)
        short = ArrayRecord({compress: ArrayRecord([good[compress].numpy()[:-5]])["0"]})
        with pytest.raises(MalformedUpdate, match="node 17"):
            decode_update(short, old, compress, node=17)


def test_codecs_refuse_bad_arguments_clearly():
    old = _weights(0)
    new = [w + 0.01 for w in old]
    with pytest.raises(InvalidParameterError, match="residual must hold one array per variable"):
        encode_update(new, old, "topk", residual=[np.array([100.0])])
    with pytest.raises(InvalidParameterError, match="residual must hold one array per variable"):
        encode_update(new, old, "q8", residual=[np.array(100.0)] * len(old))
    for bad in (None, "weights", 3):
        with pytest.raises(InvalidParameterError, match="weights must be a list of NumPy arrays"):
            encode_update(bad, old, "q8")
        with pytest.raises(InvalidParameterError, match="global_weights must be a list"):
            decode_update(weights_to_record(new), bad, None)
    with pytest.raises(InvalidParameterError, match=r"weights\[0\] must be an array of numbers"):
        encode_update(["a"] + new[1:], old, "q8")
    nan = [w.copy() for w in new]
    nan[2][0] = np.nan
    with pytest.raises(InvalidParameterError, match=r"weights\[2\] holds NaN"):
        encode_update(nan, old, "q8")
    for bad in (None, "record"):
        with pytest.raises(MalformedUpdate, match="must be a Flower ArrayRecord"):
            decode_update(bad, old, "q8", node=4)
        with pytest.raises(InvalidParameterError, match="record must be a Flower ArrayRecord"):
            record_bytes(bad)


@pytest.mark.parametrize("compress", ["q8", "topk"])
def test_decode_refuses_globals_reordered_reshaped_or_not_finite(compress):
    old = _weights(0)
    new = [w + 0.01 for w in old]
    packed, _ = encode_update(new, old, compress)
    reordered = [old[1], old[0], *old[2:]]  # same number of values
    reshaped = [old[0].reshape(32, 114), *old[1:]]
    for globals_ in (reordered, reshaped):
        with pytest.raises(MalformedUpdate, match="node 3 was encoded for variables of other shapes"):
            decode_update(packed, globals_, compress, node=3)
    nan_global = [w.copy() for w in old]
    nan_global[1][0] = np.nan
    with pytest.raises(MalformedUpdate, match=r"global_weights\[1\] holds NaN"):
        decode_update(packed, nan_global, compress, node=3)
    huge = [np.full_like(w, 2.5e38) for w in old]
    big, _ = encode_update([np.full_like(w, 1e38) for w in old], [np.zeros_like(w) for w in old], compress)
    with pytest.raises(MalformedUpdate, match="decoded array .* not finite"):  # 2.5e38 + 1e38: beyond float32
        decode_update(big, huge, compress, node=3)
    with pytest.raises(InvalidParameterError, match="update of variable 0 reaches"):
        encode_update(huge, [-w for w in huge], compress)


def test_codecs_reject_unknown_compression():
    with pytest.raises(InvalidParameterError, match="compress must be one of"):
        encode_update(_weights(), _weights(), "gzip")
    with pytest.raises(InvalidParameterError, match="topk"):
        encode_update(_weights(), _weights(), "topk", topk=0)


# ----------------------------------------------------------------------------- model
def test_fedprox_term_keeps_local_weights_near_the_global_ones():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 30)).astype(np.float32)
    model = build_model(30, seed=0)
    start = model.get_weights()
    free, _ = local_fit(model, X, start, epochs=2, mu=0.0)
    pulled, _ = local_fit(model, X, start, epochs=2, mu=1.0)
    again, _ = local_fit(model, X, start, epochs=2, mu=0.0)

    def dist(ws):
        return sum(float(((a - b) ** 2).sum()) for a, b in zip(ws, start))

    assert dist(pulled) < 0.5 * dist(free)
    assert dist(free) > 0
    for a, b in zip(free, again):  # the optimizer state is reset: the same start gives the same result
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_model_cache_is_bounded_and_lends_a_model_to_one_thread_at_a_time():
    rng = np.random.default_rng(0)
    data = [rng.normal(size=(300, 24)).astype(np.float32) + i for i in range(4)]
    starts = [build_model(24, hidden=[8], seed=i).get_weights() for i in range(4)]
    cache = ModelCache(max_size=2)

    def fit(i):
        with cache.borrow(24, hidden=[8]) as model:
            return local_fit(model, data[i], starts[i], epochs=2, batch_size=32, seed=i)[0]

    alone = [fit(i) for i in range(4)]
    together: dict[int, list] = {}
    threads = [threading.Thread(target=lambda i=i: together.__setitem__(i, fit(i))) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):  # one model, four threads: each fit is exactly what it is alone
        for a, b in zip(alone[i], together[i]):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    for hidden in ([4], [5], [6]):
        with cache.borrow(24, hidden=hidden):
            pass
    assert len(cache) == 2
    with pytest.raises(InvalidParameterError, match="max_size"):
        ModelCache(max_size=0)
    assert MODELS.max_size >= 1


PUBLIC_FLWR = {"flwr", "flwr.app", "flwr.clientapp", "flwr.clientapp.mod", "flwr.serverapp",
               "flwr.serverapp.strategy", "flwr.simulation"}


def test_sadlib_imports_only_public_flower_modules():
    # public: documented in Flower's API reference (flower.ai/docs/framework/ref-api/flwr.html); run.py names the
    # one exception and why
    found = set()
    for path in Path(__file__).resolve().parents[1].joinpath("sadlib").rglob("*.py"):
        text = path.read_text()
        for match in re.finditer(r"^\s*(?:from|import)\s+(flwr(?:\.\w+)*)", text, re.M):
            found.add((match.group(1), path.name))
        for match in re.finditer(r"import_module\(\s*[\"'](flwr(?:\.\w+)*)", text):
            found.add((match.group(1), path.name))
        for match in re.finditer(r"^BLOCKED_PRIVATE_FLWR = [\"'](flwr(?:\.\w+)*)", text, re.M):
            found.add((match.group(1), path.name))
    assert found, "the scan found no flwr import at all: it is broken"
    private = {(module, name) for module, name in found if module not in PUBLIC_FLWR}
    # run.py's one import (documented there), and exercise 11's checker, which only blocks Flower's clipping
    from sadlib.course.exercises.nb11 import BLOCKED_PRIVATE_FLWR

    assert private == {(m, "run.py") for m in PRIVATE_FLWR_IMPORTS} | {(BLOCKED_PRIVATE_FLWR, "nb11.py")}


# ----------------------------------------------------------------------------- Flower runs (in process)
def _saboteur(msg, context, call_next):
    """Site 1 sends NaN weights, site 2 crashes; the others behave."""
    part = int(context.node_config["partition-id"])
    if part == 2 and msg.metadata.message_type == "train":
        raise RuntimeError("the site's disk is full")
    reply = call_next(msg, context)
    if part == 1 and msg.metadata.message_type == "train":
        arrays = reply.content["arrays"]
        reply.content["arrays"] = ArrayRecord([np.full_like(arrays[k].numpy(), np.nan) for k in arrays])
    return reply


def test_a_nan_update_is_rejected_with_the_node_named_and_the_round_goes_on(sites, caplog):
    with caplog.at_level(logging.WARNING, logger="sadlib.federated"):
        result = run_federated(sites[:4], rounds=2, backend="inprocess", mods=[_saboteur], **SMALL)
    rejected = [r for r in caplog.records if "rejected the update of node 2" in r.getMessage()]
    assert len(rejected) == 2 and "not finite" in rejected[0].getMessage()
    assert list(result.history["round"]) == [1, 2]
    assert result.history["rejected"].tolist() == [[2], [2]]
    assert [node for _, node, _ in result.rejected] == [2, 2]
    assert all(np.isfinite(w).all() for w in result.weights)
    # the good sites moved the model: the round was not skipped
    fresh = build_model(len(result.weights[-1]), seed=0).get_weights()
    assert sum(float(np.abs(a - b).sum()) for a, b in zip(result.weights, fresh)) > 0


def test_compressed_federation_sends_4x_fewer_bytes_and_learns_the_same(sites):
    plain = run_federated(sites[:3], rounds=2, backend="inprocess", **SMALL)
    q8 = run_federated(sites[:3], rounds=2, backend="inprocess", compress="q8", **SMALL)
    ratio = plain.history["uplink_bytes"] / q8.history["uplink_bytes"]
    assert (ratio >= 4).all()
    assert (plain.history["downlink_bytes"] == q8.history["downlink_bytes"]).all()  # the server sends float32
    assert abs(q8.history["val_loss"].iloc[-1] - plain.history["val_loss"].iloc[-1]) < 0.01
    assert plain.history["val_loss"].iloc[-1] < plain.history["val_loss"].iloc[0]


def test_fedprox_sends_its_mu_and_fedadam_runs(sites):
    seen = []

    def spy(msg, context, call_next):
        if msg.metadata.message_type == "train":
            seen.append(msg.content["config"]["proximal-mu"])
        return call_next(msg, context)

    prox = run_federated(sites[:2], "fedprox", rounds=1, backend="inprocess", mods=[spy], proximal_mu=0.5,
                         **SMALL)
    assert seen == [0.5, 0.5] and prox.settings["strategy"] == "fedprox"
    adam = run_federated(sites[:2], "fedadam", rounds=2, backend="inprocess", **SMALL)
    assert all(np.isfinite(w).all() for w in adam.weights) and len(adam.history) == 2


def test_central_dp_clips_every_update_through_flowers_mod(sites):
    start = build_model(19 * SMALL["window"], seed=0).get_weights()
    clipped = run_federated(sites[:3], rounds=1, backend="inprocess", dp_clip=1e-3, dp_noise=0.0, **SMALL)
    norm = np.sqrt(sum(float(((a - b) ** 2).sum()) for a, b in zip(clipped.weights, start)))
    assert 0 < norm <= 1e-3 + 1e-6  # the mean of updates clipped to 1e-3
    free = run_federated(sites[:3], rounds=1, backend="inprocess", **SMALL)
    assert np.sqrt(sum(float(((a - b) ** 2).sum()) for a, b in zip(free.weights, start))) > 100 * norm
    noisy = run_federated(sites[:3], rounds=1, backend="inprocess", dp_clip=1e-3, dp_noise=1.0, **SMALL)
    assert not np.allclose(noisy.weights[0], clipped.weights[0])
    with pytest.raises(InvalidParameterError, match="compress=None"):
        run_federated(sites[:3], rounds=1, backend="inprocess", dp_clip=1.0, compress="q8", **SMALL)
    with pytest.raises(InvalidParameterError, match="fedavg' or 'fedprox"):
        run_federated(sites[:3], "fedadam", rounds=1, backend="inprocess", dp_clip=1.0, **SMALL)


def test_central_dp_averages_uniformly_and_reports_epsilon_from_flowers_accountant(sites):
    chosen = sites[:3]  # site 0 trains on far more windows than the others
    weights_seen = []

    def spy(msg, context, call_next):
        reply = call_next(msg, context)
        if msg.metadata.message_type == "train":
            weights_seen.append((reply.content["metrics"]["num-examples"], reply.content["metrics"]["unit-weight"]))
        return reply

    # noise 0: the released model is exactly the uniform mean of the three clipped updates
    start = build_model(19 * SMALL["window"], seed=0).get_weights()
    updates = []

    def keep(msg, context, call_next):
        reply = call_next(msg, context)
        if msg.metadata.message_type == "train":
            arrays = reply.content["arrays"]
            updates.append([arrays[k].numpy() - s for k, s in zip(sorted(arrays.keys(), key=int), start)])
        return reply

    plain = run_federated(chosen, rounds=1, backend="inprocess", dp_clip=1e-3, dp_noise=0.0, mods=[spy, keep],
                          **SMALL)
    assert len({n for n, _ in weights_seen}) == 3 and {w for _, w in weights_seen} == {1}
    for i, w in enumerate(plain.weights):
        uniform = start[i] + np.mean([u[i] for u in updates], axis=0)
        np.testing.assert_allclose(w, uniform, atol=1e-7)
    assert plain.privacy["epsilon"] == float("inf") and plain.privacy["site_weight"] == pytest.approx(1 / 3)
    noisy = run_federated(chosen, rounds=2, backend="inprocess", dp_clip=0.5, dp_noise=2.0, **SMALL)
    report = noisy.privacy
    assert report["site_influence"] == pytest.approx(0.5 / 3) and report["noise_std"] == pytest.approx(2.0 * 0.5 / 3)
    assert report["releases"] == 2 and report["delta"] == 1e-5 and "add or remove one site" in report["assumptions"]
    assert report["epsilon"] == pytest.approx(flower_epsilon(2.0, 2, 3))
    assert report["epsilon"] <= gaussian_rdp_epsilon(2.0, 2) and report["epsilon"] > 0.5 * gaussian_rdp_epsilon(2.0, 2)
    assert run_federated(chosen, rounds=1, backend="inprocess", **SMALL).privacy is None


def test_gaussian_rdp_epsilon_closed_form_is_the_minimum_over_orders():
    sigma, rounds, delta = 1.3, 7, 1e-6
    orders = np.linspace(1.001, 200, 200_000)
    grid = (rounds * orders / (2 * sigma**2) + np.log(1 / delta) / (orders - 1)).min()
    assert gaussian_rdp_epsilon(sigma, rounds, delta) == pytest.approx(grid, rel=1e-6)
    assert site_influence(2.0, 8) == 0.25
    with pytest.raises(InvalidParameterError, match="noise_multiplier"):
        gaussian_rdp_epsilon(0.0, 3)
    with pytest.raises(InvalidParameterError, match="n_sites"):
        site_influence(1.0, 0)


def test_site_scaling_shares_no_statistics(sites):
    seen = []

    def spy(msg, context, call_next):
        reply = call_next(msg, context)
        if msg.metadata.message_type == "query":
            seen.append(set(reply.content["moments"].keys()))
        return reply

    result = run_federated(sites[:2], rounds=1, backend="inprocess", scaling="site", mods=[spy], **SMALL)
    assert seen == [{"n-features", "site"}] * 2
    assert result.mean is None
    mean0, _ = result.scaler_for(sites[0])
    np.testing.assert_allclose(mean0, sites[0].train.mean().to_numpy())


def test_local_alarms_per_site_and_baselines(sites):
    chosen = [sites[0], sites[2], sites[3]]
    central = train_centralised(chosen, epochs=2, **SMALL)
    local = [train_local(s, epochs=2, **SMALL) for s in chosen]
    table = evaluate_sites(central, chosen)
    assert list(table.index) == ["site 0", "site 2", "site 3"]
    assert table["threshold"].nunique() == 3  # each site calibrates its own threshold
    assert np.isnan(table.loc["site 2", "event_f1"]) and np.isnan(table.loc["site 2", "pr_auc"])
    assert table.loc["site 0", "n_events"] == 3 and 0 <= table.loc["site 0", "pr_auc"] <= 1
    assert (table["false_alarms_per_day"] >= 0).all()
    local_table = evaluate_sites(local, chosen)
    assert not np.allclose(local_table["threshold"], table["threshold"])
    with pytest.raises(ValueError, match="one per site"):
        evaluate_sites(local[:2], chosen)


def test_baselines_train_on_the_shared_model_as_on_a_fresh_one(sites):
    """train_local/train_centralised borrow the traced model of MODELS; the weights are those of a fresh model."""
    from sadlib.federated.apps import DEFAULT_SETTINGS, scaled_rows

    site = sites[3]
    s = {**DEFAULT_SETTINGS, **SMALL}
    mean, std = combine_moments([site_moments(site.train.to_numpy(dtype=float))])
    X = make_windows(scaled_rows(site.train, mean, std), s["window"])
    fresh = build_model(X.shape[1], hidden=s["hidden"], latent=s["latent"], learning_rate=s["learning_rate"], seed=0)
    expected, _ = local_fit(fresh, X, fresh.get_weights(), epochs=3, batch_size=s["batch_size"], seed=0)
    with MODELS.borrow(X.shape[1], hidden=s["hidden"], latent=s["latent"], learning_rate=s["learning_rate"]) as m:
        m.set_weights([w + 1.0 for w in m.get_weights()])  # a previous user's weights, which must not leak in
    for _ in range(2):  # the second call reuses the model the first one trained
        got = train_local(site, epochs=3, **SMALL).weights
        assert all(np.array_equal(a, b) for a, b in zip(got, expected))


def test_runner_and_apps_reject_bad_input(sites, tmp_path):
    with pytest.raises(ValueError, match="at least 2 sites"):
        run_federated(sites[:1])
    with pytest.raises(InvalidParameterError, match="strategy"):
        run_federated(sites[:2], "fedsgd")
    with pytest.raises(InvalidParameterError, match="backend"):
        run_federated(sites[:2], backend="threads")
    with pytest.raises(InvalidParameterError, match="unknown setting"):
        make_server_app(windw=5)
    with pytest.raises(InvalidParameterError, match="strategy"):
        make_strategy("krum")
    with pytest.raises(InvalidParameterError, match="run config"):
        write_flower_app(tmp_path, hidden=[32, 8])


def test_flower_app_file_names_the_apps_and_the_run_config(tmp_path):
    path = write_flower_app(tmp_path / "app", n_sites=3, rounds=4, out_dir=tmp_path / "out", compress="q8",
                            every="5min")
    config = tomllib.loads(path.read_text())
    components = config["tool"]["flwr"]["app"]["components"]
    assert components == {"serverapp": "sadlib.federated.apps:app_server",
                          "clientapp": "sadlib.federated.apps:app_client"}
    run = config["tool"]["flwr"]["app"]["config"]
    assert run["n-sites"] == 3 and run["rounds"] == 4 and run["compress"] == "q8" and run["every"] == "5min"
    assert run["out-dir"] == str((tmp_path / "out").resolve())


def test_fedadam_sends_the_global_model_as_float32_like_fedavg(sites):
    # Flower's FedAdam steps in float64; the server must not double the bytes every site downloads
    adam = run_federated(sites[:3], "fedadam", rounds=2, backend="inprocess", **SMALL)
    avg = run_federated(sites[:3], "fedavg", rounds=2, backend="inprocess", **SMALL)
    assert all(w.dtype == np.float32 for w in adam.weights)
    assert adam.history["downlink_bytes"].tolist() == avg.history["downlink_bytes"].tolist()


class _Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_a_simulation_engine_that_cannot_start_raises_one_line_and_prints_no_traceback(sites, monkeypatch):
    import flwr.simulation

    def ray_times_out(**kwargs):  # what Flower's run_simulation does when Ray's start-up times out
        try:
            raise Exception("The current node timed out during startup. This could happen because ...")
        except Exception as ex:
            logging.getLogger("flwr").error("An exception occurred !! %s", ex)
            logging.getLogger("flwr").error("Traceback (most recent call last):\n  File ...")
            raise RuntimeError("An error was encountered. Ending simulation.") from ex

    monkeypatch.setattr(flwr.simulation, "run_simulation", ray_times_out)
    shown = _Recorder()
    logging.getLogger("flwr").addHandler(shown)
    try:
        with pytest.raises(RuntimeError, match="simulation engine stopped: The current node timed out") as err:
            run_federated(sites[:2], rounds=1, backend="simulation", **SMALL)
        assert shown.lines == []  # no traceback reached Flower's handlers (the notebook's stderr)
        assert "\n" not in str(err.value) and "verbose=True" in str(err.value)
        with pytest.raises(RuntimeError, match="An error was encountered"):  # verbose: Flower's own error
            run_federated(sites[:2], rounds=1, backend="simulation", verbose=True, **SMALL)
        assert any("timed out during startup" in line for line in shown.lines)
    finally:
        logging.getLogger("flwr").removeHandler(shown)
    assert shown not in logging.getLogger("flwr").handlers and len(logging.getLogger("flwr").handlers) >= 1


def test_flower_errors_held_during_a_simulation_that_runs_through_are_shown_after_it(sites, monkeypatch):
    import flwr.simulation
    from flwr.app import Context, RecordDict

    from sadlib.federated import InProcessGrid

    def runs_with_an_error_line(server_app, client_app, num_supernodes, **kwargs):
        logging.getLogger("flwr").error("a client was slow")
        assert shown.lines == []  # held while the engine runs
        server_app(InProcessGrid(client_app, num_supernodes),
                   Context(run_id=1, node_id=0, node_config={}, state=RecordDict(), run_config={}))

    monkeypatch.setattr(flwr.simulation, "run_simulation", runs_with_an_error_line)
    shown = _Recorder()
    logging.getLogger("flwr").addHandler(shown)
    try:
        result = run_federated(sites[:2], rounds=1, backend="simulation", **SMALL)
    finally:
        logging.getLogger("flwr").removeHandler(shown)
    assert shown.lines == ["a client was slow"] and len(result.history) == 1
