"""The planner end to end: the chosen plan meets its SLOs in simulation, exports replay, monotonicity."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import perfmodel as pm
from perfmodel.plan.result import pareto_mask
from perfmodel.plan.verify import miss


@pytest.fixture(scope="module")
def small_plan(tmp_path_factory):
    from tests.plan.conftest import small_spec

    return pm.plan(small_spec(), backend="serial", cache_dir=tmp_path_factory.mktemp("cache"))


def test_chosen_configuration_meets_every_slo_at_the_planned_rate(small_plan):
    best = small_plan.best
    assert best is not None and best["verified"] == "simulated"
    res = pm.simulate(small_plan.scenario())
    s = res.summary
    assert s["ttft_s"]["p99"] <= 0.5
    assert s["tpot_s"]["p99"] <= 0.05
    assert s["slo_attainment"] >= 0.99
    assert s["completed"] == s["requests"]


def test_exported_scenario_replays_to_the_same_numbers(small_plan, tmp_path):
    paths = small_plan.export(tmp_path)
    names = {p.name for p in paths}
    assert {"plan.json", "table.csv", "scenario.yaml", "launch-vllm.sh", "launch-sglang.sh", "launch-trtllm.sh",
            "launch-llamacpp.sh"} <= names
    replay = pm.simulate(tmp_path / "scenario.yaml").summary
    best = small_plan.best
    assert replay["ttft_s"]["p99"] == pytest.approx(best["ttft_s_p99"], rel=1e-9)
    assert replay["tpot_s"]["p50"] == pytest.approx(best["tpot_s_p50"], rel=1e-9)
    assert yaml.safe_load((tmp_path / "scenario.yaml").read_text())["replicas"] == int(best["units"])


def test_cost_columns_follow_from_gpus_and_price(small_plan):
    t = small_plan.table
    np.testing.assert_allclose(t["cost_per_hour_usd"], t["total_gpus"] * t["price_per_gpu_hour_usd"])
    b = small_plan.best
    # hand: $/h over output tokens per hour, 4 req/s × 32 tokens
    assert b["usd_per_m_output_tokens"] == pytest.approx(b["cost_per_hour_usd"] / (4 * 32 * 3600) * 1e6)
    assert b["total_gpus"] == b["units"] * b["tp"] * b["pp"]


def test_every_rejected_row_has_a_reason(small_plan):
    t = small_plan.table
    assert (t.loc[~t["feasible"], "reason"].str.len() > 0).all()


def _screen_best(spec):
    p = pm.plan(spec, verify=False)
    ok = p.table[p.table["feasible"]]
    return None if ok.empty else ok.iloc[0]


@pytest.mark.parametrize("limits", [(2.0, 0.5, 0.1, 0.03)])
def test_stricter_slo_never_lowers_cost(spec_factory, limits):
    costs = []
    for ttft in limits:
        best = _screen_best(spec_factory(**{"slo.ttft_s": {"p99": ttft}, "traffic.rate_per_s": 40.0}))
        costs.append(np.inf if best is None else best["cost_per_hour_usd"])
    assert costs == sorted(costs)


def test_more_traffic_never_lowers_gpu_count(spec_factory):
    gpus = []
    for rate in (1.0, 20.0, 200.0, 800.0):
        best = _screen_best(spec_factory(**{"traffic.rate_per_s": rate, "objective": {"kind": "min-gpus"}}))
        gpus.append(np.inf if best is None else best["total_gpus"])
    assert gpus == sorted(gpus) and gpus[-1] > gpus[0]


def test_cheaper_device_is_never_removed(spec_factory):
    base = _screen_best(spec_factory())
    cheaper = _screen_best(spec_factory(**{"candidates.prices": {base["device"]: 0.01}}))
    assert cheaper["device"] == base["device"]


def test_no_feasible_plan_says_what_it_would_take(spec_factory):
    p = pm.plan(spec_factory(**{"slo.tpot_s": {"p99": 1e-5}}), verify=False)
    assert p.best is None
    advice = p.advice()
    assert any("tpot_s" in a for a in advice)
    assert any("lower precision" in a for a in advice)


def test_over_budget_rejections_and_more_gpus_advice(spec_factory):
    p = pm.plan(spec_factory(**{"traffic.rate_per_s": 2000.0, "candidates.gpu_budget": 1}), verify=False)
    assert p.best is None
    assert p.table["reason"].str.startswith("over the GPU budget").any()
    assert any(a.startswith("more GPUs") for a in p.advice())


def test_pareto_mask_by_hand():
    cost = np.array([1.0, 2.0, 3.0, 2.0])
    ttft = np.array([5.0, 1.0, 0.5, 3.0])
    assert pareto_mask(cost, ttft).tolist() == [True, True, True, False]


def test_miss_ratio_by_hand(spec_factory):
    spec = pm.PlanSpec.model_validate(spec_factory())
    m = {"ttft_s_p99": 1.0, "tpot_s_p99": 0.01, "slo_attainment": 1.0, "rejected": 0, "completed": 5,
         "requests": 5}
    worst, note = miss(spec, m)
    assert worst == pytest.approx(2.0) and "ttft_s p99" in note
