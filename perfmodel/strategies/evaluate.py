"""Price compiled phases with the cost core: one vectorized `step_cost` call per deployment.

All phases that run on the same deployment (model, system, precision, parallelism, engine,
attention variant) — across many tasks when sweeping — are concatenated into one BatchStats and
priced in one call; block top-k selection work is a second call whose attention operators are
added to the step. Results are whole-system totals (per-device figures × devices).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from perfmodel.cost.batch import BatchStats, FloatArray
from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import EngineProfile
from perfmodel.cost.memory import kv_bytes, kv_write_bytes, model_weight_bytes
from perfmodel.cost.step import StepCost, step_cost
from perfmodel.specs.device import System
from perfmodel.specs.dtypes import matmul_compute_family
from perfmodel.specs.model import ModelArch
from perfmodel.strategies.attention import DENSE, AttentionSpec
from perfmodel.strategies.phases import Phase, phase_stats
from perfmodel.strategies.power import power_w, utilization


@dataclass(frozen=True, eq=False)
class Deployment:
    """One model served on one system: everything `step_cost` needs, plus the attention variant."""

    model: ModelArch
    system: System
    precision: Precision
    parallelism: Parallelism
    engine: EngineProfile
    attention: AttentionSpec = DENSE
    machine_balance: float | None = None
    """Kinetics' I in FLOP/byte when given (e.g. the paper's 562.5 on B200); None: from the device."""

    @property
    def devices(self) -> int:
        return self.parallelism.num_devices

    @property
    def compute_family(self) -> str:
        return matmul_compute_family(self.precision.weight, self.precision.act)

    @property
    def machine_balance_flop_per_byte(self) -> float:
        """Kinetics' I for this deployment: peak FLOP/s of its matmul dtype ÷ memory B/s, unless given."""
        if self.machine_balance is not None:
            return self.machine_balance
        return self.system.device.machine_balance_flop_per_byte(self.compute_family)

    def weight_bytes_total(self) -> float:
        """All of the model's weight bytes in their stored formats (over all its devices)."""
        return model_weight_bytes(self.model, self.precision)

    def kv_bytes_total(self, tokens: float) -> float:
        """KV cache of `tokens` resident tokens of the whole model."""
        return float(kv_bytes(self.model, self.precision, tokens))


@dataclass(frozen=True)
class PhaseCost:
    """Totals of one phase over all its steps and devices (SI units)."""

    name: str
    role: str
    steps: float
    time_s: float
    flops: float
    bytes: float
    weight_bytes: float
    kv_bytes: float
    kv_write_bytes: float
    attention_flops: float
    attention_bytes: float
    attention_time_s: float
    gemm_time_s: float
    other_time_s: float
    energy_j: float | None
    generated_tokens: float
    live_kv_tokens: float


def _concat(parts: Sequence[BatchStats]) -> BatchStats:
    return BatchStats(**{f.name: np.concatenate([np.asarray(getattr(p, f.name), dtype=np.float64) for p in parts])
                         for f in fields(BatchStats)})


def _op_sum(cost: StepCost, attr: str, size: int, kinds: tuple[str, ...] | None = None) -> FloatArray:
    total = np.zeros(size)
    for op in cost.ops:
        if kinds is None or op.kind in kinds:
            total = total + np.broadcast_to(np.asarray(getattr(op, attr), dtype=np.float64), (size,))
    return total


def _zero_selection(size: int) -> BatchStats:
    z = np.zeros(size)
    return BatchStats(num_seqs=z, new_tokens=z, sampled_tokens=z, attn_pairs=z, attn_pairs_window=z,
                      kv_read_tokens=z, kv_read_tokens_window=z, decode_only=z + 1.0)


def step_metrics(dep: Deployment, stats: BatchStats, selection: BatchStats | None) -> dict[str, FloatArray]:
    """Per-device metrics of each step (arrays): time, FLOPs, bytes and their attention/GEMM parts."""
    size = int(np.size(stats.new_tokens))
    cost = step_cost(dep.model, dep.system, stats, dep.precision, dep.parallelism, dep.engine)
    m = {
        "time_s": np.broadcast_to(cost.time_s, (size,)).astype(np.float64),
        "flops": _op_sum(cost, "flops", size),
        "bytes": _op_sum(cost, "bytes", size),
        "weight_bytes": _op_sum(cost, "weight_bytes", size),
        "kv_bytes": _op_sum(cost, "kv_bytes", size),
        "attention_flops": _op_sum(cost, "flops", size, ("attention",)),
        "attention_bytes": _op_sum(cost, "bytes", size, ("attention",)),
        "attention_time_s": _op_sum(cost, "time_s", size, ("attention",)),
        "gemm_time_s": _op_sum(cost, "time_s", size, ("gemm",)),
    }
    if selection is not None:
        sel = step_cost(dep.model, dep.system, selection, dep.precision, dep.parallelism, dep.engine)
        extra = {"time_s": np.broadcast_to(sel.attention_step_s, (size,)).astype(np.float64),
                 "flops": _op_sum(sel, "flops", size, ("attention",)),
                 "bytes": _op_sum(sel, "bytes", size, ("attention",)),
                 "kv_bytes": _op_sum(sel, "kv_bytes", size, ("attention",))}
        extra["attention_flops"], extra["attention_bytes"] = extra["flops"], extra["bytes"]
        extra["attention_time_s"] = extra["time_s"]
        for key, value in extra.items():
            m[key] = m[key] + value
    device = dep.system.device
    util = utilization(device, m["flops"], m["bytes"], m["time_s"], dep.compute_family)
    power = power_w(device, util)
    m["energy_j"] = dep.devices * power * m["time_s"] if power is not None else np.full(size, np.nan)
    m["kv_write_bytes"] = kv_write_bytes(dep.model, dep.precision, stats.new_tokens, dep.parallelism)
    return m


def price_phases(dep: Deployment, phases: Sequence[Phase]) -> list[PhaseCost]:
    """Cost of each phase on `dep`, all phases priced in one vectorized cost-core call."""
    if not phases:
        return []
    flat = [phase_stats(p, dep.model, dep.attention) for p in phases]
    sizes = [f.weight.size for f in flat]
    stats = _concat([f.stats for f in flat])
    selection = None
    if any(f.selection is not None for f in flat):
        selection = _concat([f.selection if f.selection is not None else _zero_selection(n)
                             for f, n in zip(flat, sizes, strict=True)])
    m = step_metrics(dep, stats, selection)
    weight = np.concatenate([f.weight for f in flat])
    bounds = np.cumsum([0, *sizes])
    scale = float(dep.devices)
    per_device = ("flops", "bytes", "weight_bytes", "kv_bytes", "kv_write_bytes", "attention_flops",
                  "attention_bytes")
    out = []
    for i, phase in enumerate(phases):
        sl = slice(bounds[i], bounds[i + 1])
        w = weight[sl]

        def total(key: str, sl: slice = sl, w: FloatArray = w) -> float:
            return float(np.dot(w, m[key][sl]))

        time_s, att_s, gemm_s = total("time_s"), total("attention_time_s"), total("gemm_time_s")
        energy = total("energy_j")
        out.append(PhaseCost(
            name=phase.name, role=phase.role, steps=float(w.sum()), time_s=time_s,
            **{key: scale * total(key) for key in per_device},
            attention_time_s=att_s, gemm_time_s=gemm_s, other_time_s=time_s - att_s - gemm_s,
            energy_j=None if np.isnan(energy) else energy, generated_tokens=phase.generated_tokens,
            live_kv_tokens=phase.live_kv_tokens))
    return out
