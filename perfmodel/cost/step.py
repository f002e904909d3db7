"""THE cost core: seconds (and where they go) for one engine step on one replica.

Every front end — static estimates, strategies, the simulator, the planner, the dashboard — asks
:func:`step_cost`. Nothing else turns work into time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from perfmodel.cost.batch import Batch, BatchStats, FloatArray
from perfmodel.cost.comm import all_to_all_s, allreduce_s, point_to_point_s
from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import EngineProfile
from perfmodel.cost.memory import activation_bytes, reserve_bytes, weight_bytes_per_device
from perfmodel.cost.operators import kv_elements_per_token_per_layer_per_device, step_operators
from perfmodel.cost.roofline import DeviceRates, op_time
from perfmodel.errors import PerfModelError
from perfmodel.specs.device import ASSUMED_HOST_LINK, ASSUMED_STORAGE, Device, System
from perfmodel.specs.model import ModelArch


@dataclass(frozen=True)
class OpCost:
    """One row of the breakdown: totals for the whole step on one device."""

    name: str
    kind: str  # gemm | attention | elementwise | comm | overhead
    flops: FloatArray
    bytes: FloatArray
    compute_s: FloatArray
    memory_s: FloatArray
    time_s: FloatArray
    weight_bytes: FloatArray | float = 0.0
    kv_bytes: FloatArray | float = 0.0
    count: float = 1.0
    """Invocations of the operator in the step on this device (layers × microbatches ÷ stages)."""


@dataclass(frozen=True)
class StepCost:
    """Seconds of one step (array over swept steps) and the per-operator breakdown on one device."""

    time_s: FloatArray
    ops: tuple[OpCost, ...]
    stages: int = 1
    """Pipeline stages the step runs through (the ops are one device's, i.e. one stage's, share)."""

    def _sum(self, predicate) -> FloatArray:
        total = np.zeros(np.shape(self.time_s))
        for op in self.ops:
            if predicate(op):
                total = total + op.time_s
        return total

    @property
    def flops(self) -> FloatArray:
        return sum((op.flops for op in self.ops), np.zeros(np.shape(self.time_s)))

    @property
    def bytes(self) -> FloatArray:
        return sum((op.bytes for op in self.ops), np.zeros(np.shape(self.time_s)))

    @property
    def weight_bytes(self) -> FloatArray:
        """Parameter bytes read by one device in the step."""
        return sum((op.weight_bytes for op in self.ops), np.zeros(np.shape(self.time_s)))

    @property
    def kv_bytes(self) -> FloatArray:
        """KV-cache bytes read and written by one device in the step."""
        return sum((op.kv_bytes for op in self.ops), np.zeros(np.shape(self.time_s)))

    @property
    def attention_step_s(self) -> FloatArray:
        """Seconds the attention operators add to the step: every stage runs its layers' attention in
        turn, so the per-device figure times the stages (one microbatch)."""
        return self.stages * self._sum(lambda op: op.kind == "attention")

    @property
    def comm_s(self) -> FloatArray:
        return self._sum(lambda op: op.kind == "comm")

    @property
    def weight_streaming_s(self) -> FloatArray:
        """Time reading weights that do not fit in device memory (from storage or the host)."""
        return self._sum(lambda op: op.name == "weight_streaming")

    @property
    def overhead_s(self) -> FloatArray:
        return self._sum(lambda op: op.kind == "overhead")

    @property
    def compute_bound_s(self) -> FloatArray:
        """Time in kernels limited by compute."""
        return sum((np.where(op.compute_s >= op.memory_s, op.time_s, 0.0) for op in self.ops
                    if op.kind not in ("comm", "overhead")), np.zeros(np.shape(self.time_s)))

    @property
    def memory_bound_s(self) -> FloatArray:
        """Time in kernels limited by device-memory bandwidth (weight streaming excluded)."""
        kernels = self._sum(lambda op: op.kind not in ("comm", "overhead"))
        return kernels - self.compute_bound_s - self.weight_streaming_s

    def breakdown(self, reduce: str = "sum") -> pd.DataFrame:
        """One row per operator: FLOPs, bytes, seconds and bound, reduced over swept steps."""
        shape = np.shape(self.time_s)

        def agg(x: FloatArray) -> float:
            full = np.broadcast_to(x, shape)  # ops that do not vary across swept steps are scalars
            return float(np.sum(full) if reduce == "sum" else np.mean(full))

        rows = []
        for op in self.ops:
            compute_s, memory_s = float(agg(op.compute_s)), float(agg(op.memory_s))
            kind_bound = op.kind if op.kind in ("comm", "overhead") else (
                "compute" if compute_s >= memory_s else "memory")
            rows.append({
                "operator": op.name, "kind": op.kind, "flops": float(agg(op.flops)),
                "bytes": float(agg(op.bytes)), "compute_s": compute_s, "memory_s": memory_s,
                "time_s": float(agg(op.time_s)), "bound": kind_bound,
            })
        return pd.DataFrame(rows)


def _zeros_like(x: FloatArray) -> FloatArray:
    return np.zeros(np.shape(x))


def step_cost(
    model: ModelArch,
    system: System,
    batch: Batch | BatchStats,
    precision: Precision,
    parallelism: Parallelism,
    engine: EngineProfile,
) -> StepCost:
    """Seconds and breakdown of one engine step of `batch` on one replica of `system`.

    Layers are split over `pp` stages; a step's batch flows through them in `microbatches`
    pieces, so the step takes (m + pp − 1) stage-times, the extra pp − 1 being the bubble.
    """
    par = parallelism
    if par.num_devices > system.num_devices:
        raise PerfModelError(f"tp×pp = {par.num_devices} devices but system '{system.id}' has "
                             f"{system.num_devices}; pick a larger system or lower tp/pp")
    window = model.sliding_window.size if model.sliding_window else None
    stats = batch.stats(window) if isinstance(batch, Batch) else batch
    m = par.microbatches
    mb = stats.scaled(m) if m > 1 else stats
    precision = engine.stored_precision(precision)
    rates = DeviceRates.of(system.device, engine, precision)

    op_costs: list[OpCost] = []
    stage_s = _zeros_like(mb.new_tokens)
    head_s = _zeros_like(mb.new_tokens)
    for op in step_operators(model, mb, precision, par, fused_epilogues=engine.fused_epilogues):
        t = op_time(op, rates)
        per_invocation = t.time_s
        if op.in_layers:
            stage_s = stage_s + op.count / par.pp * per_invocation
        else:
            head_s = head_s + op.count * per_invocation
        scale = op.count * m
        op_costs.append(OpCost(op.name, op.kind, scale * op.flops, scale * op.bytes, scale * t.compute_s,
                               scale * t.memory_s, scale * per_invocation, scale * op.weight_bytes,
                               scale * op.kv_bytes, scale))

    act_bytes = max(precision.act.bytes, 2.0)  # collectives run in 16-bit at least
    hidden_msg = mb.new_tokens * model.hidden_size * act_bytes
    eff, call_s = engine.link_efficiency, engine.collective_overhead_s
    comm_rows: list[tuple[str, FloatArray]] = []
    if par.tp > 1:
        per_layer = 1 if model.parallel_attention else 2
        ar = per_layer * model.num_layers / par.pp * (
            allreduce_s(hidden_msg, par.tp, system.link_for(par.tp), eff) + call_s)
        # the engine hides this fraction of the all-reduce behind the stage's compute, never more than it
        ar = ar - engine.tp_comm_overlap * np.minimum(ar, stage_s)
        comm_rows.append(("tp_allreduce", ar))
    if par.ep > 1 and model.moe:
        msg = mb.new_tokens * model.moe.experts_per_token * model.hidden_size * act_bytes
        a2a = 2.0 * model.num_moe_layers / par.pp * (
            all_to_all_s(msg, par.ep, system.link_for(par.tp), eff) + call_s)
        comm_rows.append(("ep_all_to_all", a2a))
    if par.pp > 1:
        send = point_to_point_s(hidden_msg, system.link_for(par.num_devices), eff) + call_s
        comm_rows.append(("pp_send", send))
    stage_comm_s = sum((c for _, c in comm_rows), _zeros_like(mb.new_tokens))

    pipeline_s = (m + par.pp - 1) * (stage_s + stage_comm_s) + m * head_s
    busy_s = m * (par.pp * stage_s + head_s + par.pp * stage_comm_s)
    for name, c in comm_rows:
        total = m * par.pp * c
        op_costs.append(OpCost(name, "comm", _zeros_like(c), _zeros_like(c), _zeros_like(c), total, total))
    if par.pp > 1:
        bubble = pipeline_s - busy_s / par.pp
        # stage work is spread over pp devices: attribute the per-device view, the rest is bubble
        op_costs = [OpCost(o.name, o.kind, o.flops / par.pp, o.bytes / par.pp, o.compute_s / par.pp,
                           o.memory_s / par.pp, o.time_s / par.pp, o.weight_bytes / par.pp, o.kv_bytes / par.pp,
                           o.count / par.pp)
                    for o in op_costs]
        op_costs.append(OpCost("pipeline_bubble", "overhead", *(_zeros_like(bubble),) * 4, bubble))
    overhead = (engine.step_overhead_s + engine.layer_overhead_s * model.num_layers
                + engine.moe_layer_overhead_s * model.num_moe_layers
                + engine.sequence_overhead_s * stats.num_seqs) + _zeros_like(stats.new_tokens)
    op_costs.append(OpCost("engine_overhead", "overhead", *(_zeros_like(overhead),) * 4, overhead))
    time_s = pipeline_s + overhead
    if engine.weight_offload != "none":
        missing = missing_weight_bytes(model, system, stats, precision, par, engine)
        # each stage streams its own missing part when the batch reaches it
        stream_s = par.pp * missing / weight_stream_bytes_per_s(system.device, engine.weight_offload)
        zero = _zeros_like(stream_s)
        op_costs.append(OpCost("weight_streaming", "memory", zero, par.pp * missing, zero, stream_s, stream_s))
        time_s = time_s + stream_s
    return StepCost(time_s=time_s, ops=tuple(op_costs), stages=par.pp)


def weight_stream_bytes_per_s(device: Device, offload: str) -> float:
    """Rate at which weights that do not fit reach the device: storage reads (mmap) or the host link."""
    if offload == "host" and device.host_link is not None:
        return device.host_link.bw_bytes_per_s
    if offload == "host":
        return ASSUMED_HOST_LINK.bw_bytes_per_s
    return (device.storage or ASSUMED_STORAGE).read_bytes_per_s


def missing_weight_bytes(model: ModelArch, system: System, stats: BatchStats, precision: Precision,
                         par: Parallelism, engine: EngineProfile) -> FloatArray:
    """Weight bytes per device that do not fit beside this step's KV cache, activations and reserve."""
    n_window = float(model.num_window_layers)
    per_layer = kv_elements_per_token_per_layer_per_device(model, par.tp) * precision.kv.bytes
    # the step reads every cached and new key once: those are the tokens resident in the cache
    resident_tokens = (model.num_layers - n_window) * stats.kv_read_tokens + n_window * stats.kv_read_tokens_window
    kv = per_layer * resident_tokens / par.pp
    act = activation_bytes(model, precision, par, stats.new_tokens, stats.sampled_tokens)
    room = system.device.capacity_bytes - reserve_bytes(system, engine) - kv - act
    return np.maximum(0.0, weight_bytes_per_device(model, precision, par) - np.maximum(room, 0.0))
