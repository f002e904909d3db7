"""Seconds for one operator on one device: max(compute, memory) with shape-dependent efficiency."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfmodel.cost.batch import FloatArray
from perfmodel.cost.config import Precision
from perfmodel.cost.engine import EngineProfile
from perfmodel.cost.operators import ATTENTION, GEMM, Op
from perfmodel.specs.device import Device
from perfmodel.specs.dtypes import matmul_compute_family


@dataclass(frozen=True)
class SkinnyGemmTable:
    """Measured weight-streaming rates of skinny GEMMs (B/s) by input features and rows, from a probe.

    Small-M GEMMs on CPUs stream weights well below DRAM bandwidth, and at a rate that depends on
    the rows and the width; a calibrated device carries the measured table, and a GEMM with at most
    `max_rows` rows takes weight_bytes / rate, clamped below by the datasheet speed of light.
    """

    log_k: np.ndarray
    log_rows: np.ndarray
    rate_bytes_per_s: np.ndarray  # shape (len(log_k), len(log_rows))
    max_rows: float = 16.0

    @classmethod
    def from_device(cls, device: Device, family: str) -> SkinnyGemmTable | None:
        calib = device.calibration
        table = (getattr(calib, "model_extra", None) or {}).get("gemm_skinny_weight_gb_s") if calib else None
        by_k = (table or {}).get(family)
        if not by_k:
            return None
        ks = sorted(by_k, key=lambda key: float(str(key).lstrip("k")))
        rows = sorted({float(r) for k in ks for r in by_k[k]})
        rows = [r for r in rows if r <= cls.max_rows] or rows[:1]
        rates = np.array([[float(by_k[k].get(int(r), by_k[k].get(str(int(r)), np.nan))) for r in rows] for k in ks])
        if np.isnan(rates).any():
            return None
        return cls(np.log([float(str(k).lstrip("k")) for k in ks]), np.log(rows), rates * 1e9)

    def weight_seconds(self, weight_bytes: FloatArray, n_in: float, rows: FloatArray) -> FloatArray:
        """Weight-streaming time from the table, bilinear in log(width) and log(rows), clamped to the grid."""
        r = np.log(np.clip(np.asarray(rows, dtype=np.float64), np.exp(self.log_rows[0]), np.exp(self.log_rows[-1])))
        per_k = np.array([np.interp(r, self.log_rows, np.log(row)) for row in self.rate_bytes_per_s])
        if len(self.log_k) == 1:
            log_rate = per_k[0]
        else:
            k = np.clip(np.log(max(n_in, 1.0)), self.log_k[0], self.log_k[-1])
            weights = np.interp(k, self.log_k, np.arange(len(self.log_k)))
            lo = int(np.floor(weights))
            hi = min(lo + 1, len(self.log_k) - 1)
            log_rate = per_k[lo] + (weights - lo) * (per_k[hi] - per_k[lo])
        return weight_bytes / np.exp(log_rate)


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
    peak_matmul_flops_per_s: float = 0.0
    peak_mem_bw_bytes_per_s: float = 0.0
    moe_efficiency: float = 1.0

    @classmethod
    def of(cls, device: Device, engine: EngineProfile, precision: Precision) -> DeviceRates:
        gemm_eff = engine.gemm_efficiency(device)
        return cls(
            matmul_flops_per_s=device.peak_flops_per_s(matmul_compute_family(precision.weight, precision.act))
            * gemm_eff,
            attention_flops_per_s=device.peak_flops_per_s(precision.act.compute) * gemm_eff,
            vector_flops_per_s=device.peak_flops_per_s("fp32") * gemm_eff,
            mem_bw_bytes_per_s=device.mem_bw_bytes_per_s * engine.bandwidth_efficiency(device),
            attention_efficiency=engine.attention_efficiency,
            attention_bandwidth_scale=engine.attention_bandwidth_scale,
            gqa_kv_reread=engine.gqa_kv_reread,
            roofline_sharpness=engine.roofline_sharpness,
            kernel_overhead_s=engine.kernel_overhead_s,
            skinny_gemm=SkinnyGemmTable.from_device(device, matmul_compute_family(precision.weight, precision.act)),
            peak_matmul_flops_per_s=device.peak_flops_per_s(matmul_compute_family(precision.weight, precision.act)),
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
    top = np.maximum(np.maximum(a, b), 1e-300)
    return top * np.power(np.power(a / top, p) + np.power(b / top, p), 1.0 / p)


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
    if op.kind == GEMM and rates.skinny_gemm is not None and np.any(op.weight_bytes):
        measured = rates.skinny_gemm.weight_seconds(op.weight_bytes, op.n_in, op.rows)
        light = np.maximum(op.flops / rates.peak_matmul_flops_per_s, op.bytes / rates.peak_mem_bw_bytes_per_s)
        skinny_s = np.where(np.asarray(op.rows) <= rates.skinny_gemm.max_rows, np.maximum(measured, light), np.nan)
    # Elementwise ops (norms, RoPE, activations) are fused into their neighbours by the engines we
    # model; GEMMs and attention are kernels of their own and pay the launch latency.
    launch_s = rates.kernel_overhead_s if op.kind in (GEMM, ATTENTION) else 0.0
    time_s = smooth_max(compute_s, memory_s, rates.roofline_sharpness)
    if skinny_s is not None:  # measured skinny-GEMM time replaces the roofline where the table applies
        memory_s = np.where(np.isnan(skinny_s), memory_s, skinny_s)
        time_s = np.where(np.isnan(skinny_s), time_s, skinny_s)
    if op.routed_experts and rates.moe_efficiency != 1.0:  # the engine's grouped-expert kernels, relative to GEMMs
        compute_s, memory_s, time_s = (x / rates.moe_efficiency for x in (compute_s, memory_s, time_s))
    time_s = time_s + launch_s
    return OpTime(compute_s=compute_s, memory_s=memory_s, time_s=time_s)
