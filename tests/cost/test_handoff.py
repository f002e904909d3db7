"""KV handoff between serving pools, the per-request overhead and the KV budget (hand-computed)."""

from __future__ import annotations

import pytest

from perfmodel.cost import EngineProfile, Parallelism, Precision
from perfmodel.cost.comm import kv_transfer_s
from perfmodel.cost.engine import request_overhead_s
from perfmodel.cost.memory import kv_budget, reserve_bytes, weight_bytes_per_device
from perfmodel.specs import Device, System
from perfmodel.specs.device import LinkSpec


def test_kv_transfer_is_bytes_over_effective_bandwidth_plus_latency() -> None:
    link = LinkSpec(bandwidth_gb_s=50, latency_us=20)
    busy_s, latency_s = kv_transfer_s(1e9, link, 0.5)
    assert busy_s == pytest.approx(1e9 / (50e9 * 0.5))  # 40 ms on the wire at half of 50 GB/s
    assert latency_s == pytest.approx(20e-6)
    assert kv_transfer_s(1e9, link)[0] == pytest.approx(0.02)


def test_link_between_replicas_prefers_scale_out_then_host_link(tiny_device: Device) -> None:
    host = LinkSpec(name="pcie", bandwidth_gb_s=64)
    net = LinkSpec(name="ib", bandwidth_gb_s=50)
    with_host = tiny_device.model_copy(update={"host_link": host})
    assert System.single(with_host, 8).link_for(8, between_replicas=True).name == "pcie"
    assert System.single(with_host, 8).link_for(8).bandwidth_gb_s == 100  # a collective stays on scale-up
    clustered = System(id="two-nodes", device=with_host, devices_per_node=8, nodes=2, scale_out=net)
    assert clustered.link_for(1, between_replicas=True).name == "ib"
    # no scale-out and no host link: what a group larger than a node would use (here the scale-up link)
    assert System.single(tiny_device, 8).link_for(1, between_replicas=True).bandwidth_gb_s == 100


def test_request_overhead_is_the_engine_field() -> None:
    assert request_overhead_s(EngineProfile(name="e", request_overhead_s=0.003)) == 0.003


def test_kv_budget_is_capacity_minus_weights_reserve_activations(tiny_model, tiny_system) -> None:
    engine = EngineProfile(name="e", memory_reserve_gb=1.0)
    prec, par = Precision.of("bf16"), Parallelism()
    budget = kv_budget(tiny_model, tiny_system, prec, par, engine, step_tokens=0, max_seqs=1)
    weights = weight_bytes_per_device(tiny_model, prec, par)
    assert budget.activation_bytes == 1 * 100 * 4.0  # no step tokens: only fp32 logits of one sampled token
    assert budget.reserve_bytes == reserve_bytes(tiny_system, engine) == 1e9
    assert budget.free_bytes == pytest.approx(10e9 - 1e9 - weights - 400.0)
    with_draft = kv_budget(tiny_model, tiny_system, prec, par, engine, step_tokens=0, max_seqs=1,
                           draft=(tiny_model, par))
    assert with_draft.weights_bytes == pytest.approx(2 * weights)
