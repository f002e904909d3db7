"""Seconds for one operator on one device: max(compute, memory) with shape-dependent efficiency."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfmodel.cost.batch import FloatArray
from perfmodel.cost.config import Precision
from perfmodel.cost.engine import EngineProfile
from perfmodel.cost.operators import ATTENTION, ELEMENTWISE, GEMM, Op
from perfmodel.specs.device import Device
from perfmodel.specs.dtypes import attention_compute_family, matmul_compute_family


def _calib_extra(device: Device, key: str) -> dict | None:
    calib = device.calibration
    return (getattr(calib, "model_extra", None) or {}).get(key) if calib else None


@dataclass(frozen=True)
class MeasuredGrid:
    """A rate measured on a grid of (a, b) points, bilinear in log(a), log(b) and log(rate), clamped."""

    log_a: np.ndarray
    log_b: np.ndarray
    log_rate: np.ndarray  # shape (len(log_a), len(log_b))

    @classmethod
    def of(cls, table: dict | None, scale: float) -> MeasuredGrid | None:
        """From {a: {b: rate}} (YAML keys may be strings or `k<N>`); None when empty or ragged."""
        if not table:
            return None
        keys = sorted(table, key=lambda key: float(str(key).lstrip("k")))
        bs = sorted({float(b) for k in keys for b in table[k]})
        try:
            rates = np.array([[float(table[k].get(int(b), table[k].get(str(int(b)), np.nan))) for b in bs]
                              for k in keys])
        except (TypeError, ValueError):
            return None
        if np.isnan(rates).any() or (rates <= 0).any():
            return None
        return cls(np.log([float(str(k).lstrip("k")) for k in keys]), np.log(bs), np.log(rates * scale))

    def rate(self, a: FloatArray, b: FloatArray) -> FloatArray:
        """Rate at (a, b) (arrays broadcast), clamped to the measured ranges."""
        a_arr, b_arr = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
        lb = np.log(np.clip(b_arr, np.exp(self.log_b[0]), np.exp(self.log_b[-1])))
        per_a = np.stack([np.interp(lb, self.log_b, row) for row in self.log_rate])  # (n_a, *shape)
        if len(self.log_a) == 1:
            return np.exp(per_a[0])
        la = np.log(np.clip(a_arr, np.exp(self.log_a[0]), np.exp(self.log_a[-1])))
        pos = np.interp(la, self.log_a, np.arange(len(self.log_a), dtype=np.float64))
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, len(self.log_a) - 1)
        lo_v = np.take_along_axis(per_a, lo[None], axis=0)[0]
        hi_v = np.take_along_axis(per_a, hi[None], axis=0)[0]
        return np.exp(lo_v + (pos - lo) * (hi_v - lo_v))


@dataclass(frozen=True)
class SkinnyGemmTable:
    """Measured weight-streaming rates of GEMMs (B/s) by input features and rows, from a probe.

    Small-M GEMMs on CPUs stream weights well below DRAM bandwidth, and at a rate that depends on
    the rows and the width; a calibrated device carries the measured table, and a GEMM with at most
    `max_rows` rows takes weight_bytes / rate, clamped below by the datasheet speed of light.
    `gemm_skinny_weight_gb_s` (the GEMM benchmark's DRAM-sized weights) applies up to 16 rows;
    `gemm_weight_gb_s` (the eager benchmark's `F.linear` over 1…2048 rows) applies to every row
    count, beyond its largest one at that row count's FLOP rate.
    """

    log_k: np.ndarray
    log_rows: np.ndarray
    rate_bytes_per_s: np.ndarray  # shape (len(log_k), len(log_rows))
    max_rows: float = 16.0
    extrapolate: bool = False

    @classmethod
    def from_device(cls, device: Device, family: str) -> SkinnyGemmTable | None:
        """The layers' table: the eager `gemm_weight_gb_s`, else the GEMM benchmark's skinny rows."""
        full = (_calib_extra(device, "gemm_weight_gb_s") or {}).get(family)
        by_k = full or (_calib_extra(device, "gemm_skinny_weight_gb_s") or {}).get(family)
        return cls.of(by_k, full=bool(full))

    @classmethod
    def lm_head_from_device(cls, device: Device, family: str) -> SkinnyGemmTable | None:
        """The output projection's own table (`lm_head_weight_gb_s`: vocabulary-wide weights), if measured."""
        return cls.of((_calib_extra(device, "lm_head_weight_gb_s") or {}).get(family), full=True)

    @classmethod
    def of(cls, by_k: dict | None, *, full: bool) -> SkinnyGemmTable | None:
        """A table from {"k<in>": {rows: GB/s}}; `full` tables apply to every row count."""
        if not by_k:
            return None
        ks = sorted(by_k, key=lambda key: float(str(key).lstrip("k")))
        rows = sorted({float(r) for k in ks for r in by_k[k]})
        if not full:
            rows = [r for r in rows if r <= cls.max_rows] or rows[:1]
        rates = np.array([[float(by_k[k].get(int(r), by_k[k].get(str(int(r)), np.nan))) for r in rows] for k in ks])
        if np.isnan(rates).any():
            return None
        max_rows = float(np.inf) if full else cls.max_rows
        return cls(np.log([float(str(k).lstrip("k")) for k in ks]), np.log(rows), rates * 1e9, max_rows, bool(full))

    def weight_seconds(self, weight_bytes: FloatArray, n_in: float, rows: FloatArray) -> FloatArray:
        """Weight-streaming time from the table, bilinear in log(width) and log(rows), clamped to the grid."""
        rows = np.asarray(rows, dtype=np.float64)
        r = np.log(np.clip(rows, np.exp(self.log_rows[0]), np.exp(self.log_rows[-1])))
        per_k = np.array([np.interp(r, self.log_rows, np.log(row)) for row in self.rate_bytes_per_s])
        if len(self.log_k) == 1:
            log_rate = per_k[0]
        else:
            k = np.clip(np.log(max(n_in, 1.0)), self.log_k[0], self.log_k[-1])
            weights = np.interp(k, self.log_k, np.arange(len(self.log_k)))
            lo = int(np.floor(weights))
            hi = min(lo + 1, len(self.log_k) - 1)
            log_rate = per_k[lo] + (weights - lo) * (per_k[hi] - per_k[lo])
        rate = np.exp(log_rate)
        if self.extrapolate:  # past the largest measured rows the FLOP rate stays that row count's
            rate = rate / np.maximum(1.0, rows / np.exp(self.log_rows[-1]))
        return weight_bytes / rate


@dataclass(frozen=True)
class EagerTables:
    """Measured eager-framework attention and elementwise costs from a probe (`calibration.eager`).

    prefill: attention FLOP/s by batch and per-sequence length; decode: KV bytes/s (cache append
    plus one-query attention) by batch and context; elementwise: seconds per element of the norm
    (with its residual add), rotary-embedding and activation glue between the GEMMs.
    """

    prefill: MeasuredGrid | None
    decode: MeasuredGrid | None
    elementwise_s: dict[str, float]
    fresh_s_per_byte: float = 0.0
    """Extra cost of writing freshly mapped memory (page faults), for tensors of `fresh_min_bytes` or more."""
    fresh_min_bytes: float = float("inf")

    @classmethod
    def from_device(cls, device: Device) -> EagerTables | None:
        eager = _calib_extra(device, "eager")
        if not eager:
            return None
        elem = {k: float(v) * 1e-9 for k, v in (eager.get("elementwise_ns_per_element") or {}).items()
                if isinstance(v, int | float) and v > 0}
        fresh = eager.get("fresh_allocation") or {}
        return cls(MeasuredGrid.of(eager.get("attention_prefill_gflops"), 1e9),
                   MeasuredGrid.of(eager.get("attention_decode_kv_gb_s"), 1e9), elem,
                   float(fresh.get("ns_per_byte", 0.0)) * 1e-9, float(fresh.get("min_bytes", float("inf"))))

    def fresh_s(self, op: Op) -> FloatArray | float:
        """Page-fault time of the large output tensors one invocation allocates (0 below the threshold)."""
        if self.fresh_s_per_byte <= 0.0 or not op.fresh_count:
            return 0.0
        size = np.asarray(op.fresh_bytes, dtype=np.float64)
        return np.where(size >= self.fresh_min_bytes, op.fresh_count * size * self.fresh_s_per_byte, 0.0)

    def attention_s(self, op: Op) -> FloatArray | None:
        """Measured seconds of one attention invocation (decode or prefill), or None without a table."""
        seqs = np.maximum(np.asarray(op.seqs, dtype=np.float64), 1.0)
        rows = np.asarray(op.rows, dtype=np.float64)
        decode = rows <= seqs
        out = np.full(np.broadcast(rows, seqs).shape, np.nan)
        if self.decode is not None:
            context = np.asarray(op.kv_tokens, dtype=np.float64) / seqs
            out = np.where(decode, op.kv_bytes / self.decode.rate(seqs, context), out)
        if self.prefill is not None:
            out = np.where(~decode, op.flops / self.prefill.rate(seqs, rows / seqs), out)
        return None if np.isnan(out).all() else out

    def elementwise_s_of(self, op: Op) -> FloatArray | None:
        """Measured seconds of one elementwise invocation, or None when its kind was not measured."""
        kind = ELEMENTWISE_KINDS.get(op.name)
        if kind is None or kind not in self.elementwise_s or not np.any(op.elements):
            return None
        return np.asarray(op.elements, dtype=np.float64) * self.elementwise_s[kind]


ELEMENTWISE_KINDS = {"attn_norm": "norm", "mlp_norm": "norm", "final_norm": "norm", "rope": "rope", "mlp_act": "act"}


@dataclass(frozen=True)
class DeviceRates:
    """Achievable rates of one device under one engine and precision (SI units)."""

    matmul_flops_per_s: float
    attention_flops_per_s: float
    vector_flops_per_s: float
    mem_bw_bytes_per_s: float
    attention_efficiency: float
    attention_bandwidth_scale: float
    gqa_kv_reread: float
    roofline_sharpness: float | None
    kernel_overhead_s: float
    skinny_gemm: SkinnyGemmTable | None = None
    lm_head_gemm: SkinnyGemmTable | None = None
    eager: EagerTables | None = None
    peak_matmul_flops_per_s: float = 0.0
    peak_mem_bw_bytes_per_s: float = 0.0
    moe_efficiency: float = 1.0

    @classmethod
    def of(cls, device: Device, engine: EngineProfile, precision: Precision) -> DeviceRates:
        gemm_eff = engine.gemm_efficiency(device)
        matmul_family = matmul_compute_family(precision.weight, precision.act)
        attention_family = attention_compute_family(precision.act, precision.kv)
        return cls(
            matmul_flops_per_s=device.peak_flops_per_s(matmul_family) * engine.gemm_efficiency(device, matmul_family),
            attention_flops_per_s=device.peak_flops_per_s(attention_family)
            * engine.gemm_efficiency(device, attention_family),
            vector_flops_per_s=device.peak_flops_per_s("fp32") * gemm_eff,
            mem_bw_bytes_per_s=device.mem_bw_bytes_per_s * engine.bandwidth_efficiency(device),
            attention_efficiency=engine.attention_efficiency,
            attention_bandwidth_scale=engine.attention_bandwidth_scale,
            gqa_kv_reread=engine.gqa_kv_reread,
            roofline_sharpness=engine.roofline_sharpness,
            kernel_overhead_s=engine.kernel_overhead_s,
            skinny_gemm=SkinnyGemmTable.from_device(device, matmul_family),
            lm_head_gemm=SkinnyGemmTable.lm_head_from_device(device, matmul_compute_family(precision.head,
                                                                                           precision.act)),
            eager=EagerTables.from_device(device) if engine.use_device_hints else None,
            peak_matmul_flops_per_s=device.peak_flops_per_s(matmul_family),
            peak_mem_bw_bytes_per_s=device.mem_bw_bytes_per_s,
            moe_efficiency=engine.moe_efficiency,
        )


@dataclass(frozen=True)
class OpTime:
    """Roofline time of one invocation of an op (arrays broadcast like the batch stats)."""

    compute_s: FloatArray
    memory_s: FloatArray
    time_s: FloatArray


def smooth_max(a: FloatArray, b: FloatArray, p: float | None) -> FloatArray:
    """(a^p + b^p)^(1/p): max(a, b) when p is None, up to 2^(1/p)·max where a = b."""
    if p is None:
        return np.maximum(a, b)
    top = np.maximum(a, b)
    ratio = np.minimum(a, b) / np.maximum(top, 1e-300)  # the larger term's ratio is exactly 1
    if np.ndim(ratio) == 0:
        return top * (1.0 + ratio ** p) ** (1.0 / p)
    np.power(ratio, p, out=ratio)  # in place: this runs on every op of every vectorized step sweep
    ratio += 1.0
    np.power(ratio, 1.0 / p, out=ratio)
    ratio *= top
    return ratio


def op_time(op: Op, rates: DeviceRates) -> OpTime:
    """Compute, memory and total time of one invocation of `op`."""
    if op.kind == GEMM:
        flops_rate = rates.matmul_flops_per_s
    elif op.kind == ATTENTION:
        flops_rate = rates.attention_flops_per_s * rates.attention_efficiency
    else:
        flops_rate = rates.vector_flops_per_s
    compute_s = op.flops / flops_rate
    if op.kind == ATTENTION:
        reread = op.kv_bytes * rates.gqa_kv_reread * (op.kv_group - 1.0)
        memory_s = (op.bytes + reread) / (rates.mem_bw_bytes_per_s * rates.attention_bandwidth_scale)
    else:
        memory_s = op.bytes / rates.mem_bw_bytes_per_s
    skinny_s = None
    table = rates.lm_head_gemm if op.name == "lm_head" and rates.lm_head_gemm is not None else rates.skinny_gemm
    if op.kind == GEMM and table is not None and np.any(op.weight_bytes):
        measured = table.weight_seconds(op.weight_bytes, op.n_in, op.rows)
        light = np.maximum(op.flops / rates.peak_matmul_flops_per_s, op.bytes / rates.peak_mem_bw_bytes_per_s)
        skinny_s = np.where(np.asarray(op.rows) <= table.max_rows, np.maximum(measured, light), np.nan)
    # Elementwise ops (norms, RoPE, activations) are fused into their neighbours by the engines we
    # model; GEMMs and attention are kernels of their own and pay the launch latency.
    launch_s = rates.kernel_overhead_s if op.kind in (GEMM, ATTENTION) else 0.0
    time_s = smooth_max(compute_s, memory_s, rates.roofline_sharpness)
    if skinny_s is not None:  # measured skinny-GEMM time replaces the roofline where the table applies
        memory_s = np.where(np.isnan(skinny_s), memory_s, skinny_s)
        time_s = np.where(np.isnan(skinny_s), time_s, skinny_s)
    if op.routed_experts and rates.moe_efficiency != 1.0:  # the engine's grouped-expert kernels, relative to GEMMs
        compute_s, memory_s, time_s = (x / rates.moe_efficiency for x in (compute_s, memory_s, time_s))
    if rates.eager is not None:  # measured eager attention and glue replace the roofline where they apply
        measured_s = rates.eager.attention_s(op) if op.kind == ATTENTION else (
            rates.eager.elementwise_s_of(op) if op.kind == ELEMENTWISE else None)
        if measured_s is not None:
            time_s = np.where(np.isnan(measured_s), time_s, np.maximum(measured_s, time_s if op.kind == ELEMENTWISE
                                                                        else 0.0))
        time_s = time_s + rates.eager.fresh_s(op)
    time_s = time_s + launch_s
    return OpTime(compute_s=compute_s, memory_s=memory_s, time_s=time_s)
