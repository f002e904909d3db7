"""The per-step cost function: roofline arithmetic, collectives, pipeline, overheads."""

from __future__ import annotations

import numpy as np
import pytest

import perfmodel as pm
from perfmodel.cost import Batch, BatchStats, EngineProfile, Parallelism, step_cost
from perfmodel.cost.comm import all_to_all_s, allreduce_s, point_to_point_s, ring_allreduce_s
from perfmodel.specs import LinkSpec


def test_step_time_is_sum_of_rooflines(tiny_model, tiny_system, bf16, tp1, ideal) -> None:
    cost = step_cost(tiny_model, tiny_system, BatchStats.uniform(2, 1, 10), bf16, tp1, ideal)
    bd = cost.breakdown()
    assert float(cost.time_s) == pytest.approx(bd.time_s.sum())
    expected = np.maximum(bd.compute_s, bd.memory_s)
    assert np.allclose(bd.time_s[bd.kind != "overhead"], expected[bd.kind != "overhead"])
    # ideal: pure peak numbers
    row = bd.set_index("operator").loc["qkv_proj"]
    assert row.compute_s == pytest.approx(row.flops / 100e12)
    assert row.memory_s == pytest.approx(row.bytes / 1000e9)


def test_overheads_added(tiny_model, tiny_system, bf16, tp1) -> None:
    eng = EngineProfile(name="x", use_device_hints=False, step_overhead_s=1e-3, layer_overhead_s=1e-4,
                        sequence_overhead_s=1e-5)
    base = EngineProfile(name="y", use_device_hints=False)
    s = BatchStats.uniform(4, 1, 10)
    diff = step_cost(tiny_model, tiny_system, s, bf16, tp1, eng).time_s - step_cost(
        tiny_model, tiny_system, s, bf16, tp1, base).time_s
    assert float(diff) == pytest.approx(1e-3 + 2 * 1e-4 + 4 * 1e-5)


def test_ring_allreduce_formula() -> None:
    link = LinkSpec(bandwidth_gb_s=100, latency_us=2)
    t = ring_allreduce_s(1e6, 4, link)
    assert float(t) == pytest.approx(6 * 2e-6 + 1.5 * 1e6 / 100e9)
    assert float(ring_allreduce_s(1e6, 1, link)) == 0.0
    assert float(all_to_all_s(1e6, 4, link)) == pytest.approx(3 * 2e-6 + 0.75 * 1e6 / 100e9)
    assert float(point_to_point_s(1e6, link)) == pytest.approx(2e-6 + 1e-5)


def test_allreduce_picks_the_fastest_algorithm() -> None:
    link = LinkSpec(bandwidth_gb_s=100, latency_us=2)
    small, large = 1e3, 1e8
    # one-shot: α + 7·M/BW; two-shot: 2α + 2·7/8·M/BW; ring: 14α + 2·7/8·M/BW
    assert float(allreduce_s(small, 8, link)) == pytest.approx(2e-6 + 7 * 1e3 / 100e9)
    assert float(allreduce_s(large, 8, link)) == pytest.approx(4e-6 + 1.75 * 1e8 / 100e9)
    for m in (small, 1e5, 1e6, large):
        assert float(allreduce_s(m, 8, link)) <= float(ring_allreduce_s(m, 8, link))
    assert float(allreduce_s(1e6, 1, link)) == 0.0


def test_tp_adds_two_allreduces_per_layer(tiny_model, tiny_system, bf16, ideal) -> None:
    cost = step_cost(tiny_model, tiny_system, BatchStats.uniform(1, 1, 10), bf16, Parallelism(tp=2), ideal)
    comm = cost.breakdown().set_index("operator").loc["tp_allreduce", "time_s"]
    link = tiny_system.link_for(2)
    assert comm == pytest.approx(2 * 2 * float(allreduce_s(64 * 2, 2, link)))


def test_pipeline_single_microbatch_costs_like_one_device_plus_sends(tiny_model, tiny_system, bf16, ideal) -> None:
    s = BatchStats.uniform(4, 1, 100)
    one = step_cost(tiny_model, tiny_system, s, bf16, Parallelism(), ideal)
    two = step_cost(tiny_model, tiny_system, s, bf16, Parallelism(pp=2), ideal)
    send = float(point_to_point_s(4 * 64 * 2, tiny_system.link_for(2)))
    assert float(two.time_s) == pytest.approx(float(one.time_s) + 2 * send)
    assert float(two.time_s) == pytest.approx(two.breakdown().time_s.sum())


def test_pipeline_bubble_with_microbatches(tiny_model, tiny_system, bf16, ideal) -> None:
    s = BatchStats.uniform(64, 128, 0)
    cost = step_cost(tiny_model, tiny_system, s, bf16, Parallelism(pp=2, microbatches=4), ideal)
    bd = cost.breakdown().set_index("operator")
    assert bd.loc["pipeline_bubble", "time_s"] > 0
    assert float(cost.time_s) == pytest.approx(bd.time_s.sum())


def test_vectorized_equals_loop(tiny_model, tiny_system, bf16, tp1) -> None:
    eng = pm.load_engine("default")
    contexts = np.arange(50, 60)
    vec = step_cost(tiny_model, tiny_system, BatchStats.uniform(3, 1, contexts), bf16, tp1, eng).time_s
    loop = [float(step_cost(tiny_model, tiny_system, Batch.decode([c] * 3), bf16, tp1, eng).time_s)
            for c in contexts]
    assert np.allclose(vec, loop, rtol=1e-12)


def test_too_few_devices(tiny_model, tiny_device, bf16, ideal) -> None:
    with pytest.raises(pm.PerfModelError, match="devices"):
        step_cost(tiny_model, pm.System.single(tiny_device, 1), BatchStats.uniform(1, 1, 1), bf16,
                  Parallelism(tp=2), ideal)


def test_moe_expert_parallel_adds_all_to_all(bf16, ideal) -> None:
    m = pm.load_model("qwen3-30b-a3b")
    system = pm.resolve_system("h100-sxm-80gb", 4)
    cost = step_cost(m, system, BatchStats.uniform(32, 1, 500), bf16, Parallelism(tp=4, ep=4), ideal)
    assert "ep_all_to_all" in set(cost.breakdown().operator)


def test_breakdown_sums_over_swept_steps(tiny_model, tiny_system, bf16, tp1) -> None:
    """Ops that do not vary with context (weights) still count once per step in a swept breakdown."""
    eng = pm.load_engine("default")
    cost = step_cost(tiny_model, tiny_system, BatchStats.uniform(2, 1, np.arange(10, 30)), bf16, tp1, eng)
    bd = cost.breakdown(reduce="sum")
    assert bd.time_s.sum() == pytest.approx(float(np.sum(cost.time_s)))
    per_step = eng.step_overhead_s + 2 * eng.layer_overhead_s + 2 * eng.sequence_overhead_s
    assert bd.set_index("operator").loc["engine_overhead", "time_s"] == pytest.approx(20 * per_step)
