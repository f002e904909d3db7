"""Kinetics mode of `task_cost`: the published law, reported with explicit units.

This is the one deliberate second cost model in the package: it reproduces the Kinetics paper's
eFLOPs law for comparison and does not go through :func:`perfmodel.cost.step_cost`. Its only
conversion to seconds is :func:`law_seconds`.

FLOPs and bytes follow :func:`~perfmodel.strategies.kinetics.kinetics_cost` (decode only, weight
reads dropped), averaged over the length distribution as the Kinetics scripts do (all N samples of
one draw share its length). I is the device's dense peak for the dtype the matmuls run in (weights
and activations; a narrower KV cache only shrinks β) ÷ its memory bandwidth (FLOP per byte), or the
`machine_balance` given (the paper uses 562.5 on B200). The law's own seconds are eFLOPs ÷ (peak ×
devices) — compute at peak plus bytes at full bandwidth, additively — so both use the same peak (the public scripts mix
a B200 constant with another peak, a 2× slip). The device is fully busy in that model, so energy is
TDP × seconds per device; dollars as in perfmodel mode.
"""

from __future__ import annotations

import numpy as np

from perfmodel.strategies.base import Strategy
from perfmodel.strategies.kinetics import KineticsModel, kinetics_cost
from perfmodel.strategies.power import dollars
from perfmodel.strategies.task import Setup, TaskCost, _inputs, _provenance, peak_memory


def law_seconds(eflops: float, peak_flops_per_s: float) -> float:
    """The Kinetics law's seconds: eFLOPs at the deployment's peak (all its devices)."""
    return eflops / peak_flops_per_s


def kinetics_task_cost(setup: Setup, strategy: Strategy) -> TaskCost:
    """The Kinetics law for a parallel-sampling strategy, as a :class:`TaskCost`."""
    n, lengths = strategy.kinetics_samples()
    t = setup.target
    km = KineticsModel.of(t.model, t.precision.kv.bytes)
    values, probs = lengths.pmf()
    law = kinetics_cost(km, float(n), float(setup.ctx.prompt_tokens), values, t.attention)

    def mean(x: np.ndarray) -> float:
        return float(np.dot(probs, np.broadcast_to(x, probs.shape)))

    # the matmuls (parameters and attention) run in the weight/activation dtype, whatever the KV format
    device = t.system.device
    balance = t.machine_balance_flop_per_byte
    rate = device.peak_flops_per_s(t.compute_family) * t.devices
    linear, attention, search = mean(law.linear_flops), mean(law.attention_flops), mean(law.search_flops)
    kv, search_bytes = mean(law.kv_bytes), mean(law.search_bytes)
    compute, memory = linear + attention + search, kv + search_bytes
    eflops = compute + balance * memory
    latency = law_seconds(eflops, rate)
    rows = [
        {"phase": "parameters", "flops": linear, "bytes": 0.0, "eflops": linear},
        {"phase": "attention", "flops": attention, "bytes": kv, "eflops": attention + balance * kv},
        {"phase": "search", "flops": search, "bytes": search_bytes, "eflops": search + balance * search_bytes},
    ]
    phases = tuple({**r, "time_s": law_seconds(r["eflops"], rate)} for r in rows
                   if r["eflops"] > 0 or r["phase"] != "search")
    plan = strategy.phases(setup.ctx)
    peak, fits = peak_memory(setup, plan)
    energy = t.devices * device.power.tdp_w * latency if device.power else None
    return TaskCost(
        flops=compute, bytes=memory, weight_read_bytes=0.0, kv_read_bytes=memory, kv_write_bytes=0.0,
        eflops=eflops, machine_balance_flop_per_byte=balance, latency_s=latency, energy_j=energy,
        cost_usd=dollars(device, t.devices, latency), peak_memory_bytes=peak, fits=fits,
        attention_share=(eflops - linear) / eflops if eflops > 0 else 0.0,
        generated_tokens=n * lengths.mean_tokens, attention_time_s=law_seconds(eflops - linear, rate),
        gemm_time_s=law_seconds(linear, rate), other_time_s=0.0, cost_model="kinetics",
        inputs=_inputs(setup, strategy, "kinetics"), provenance=_provenance(t), phase_rows=phases)
