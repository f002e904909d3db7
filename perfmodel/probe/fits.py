"""Curves fitted to probe samples, one per benchmark, with parameters in SI units and fit quality.

Each fit is robust least squares on log-seconds (perfmodel.probe.curves.fit_log) of a physically
shaped model: GEMM roofline per dtype, bandwidth vs working-set size per streaming kernel,
attention relative to its dtype's GEMM rates, elementwise kernels, all-reduce α–β, and the eager
framework's fixed costs. `perfmodel.calibrate.probe_fit` turns them into device and engine profiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfmodel.cost.batch import BatchStats
from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.operators import step_operators
from perfmodel.probe.bundle import Sample
from perfmodel.probe.curves import FitQuality, cache_s, fit_linear_nonneg, fit_log, roofline_s
from perfmodel.probe.overhead import TINY_ARCH
from perfmodel.specs.model import ModelArch
from perfmodel.units import significant as sig


@dataclass(frozen=True)
class GemmFit:
    """Roofline of one dtype's GEMMs: t = smooth_max(F/P, B/BW; p) + t0."""

    dtype: str
    peak_flops_per_s: float
    bw_bytes_per_s: float
    sharpness: float
    overhead_s: float
    best_measured_flops_per_s: float
    quality: FitQuality

    def human(self) -> dict[str, float]:
        return {"peak_tflops": sig(self.peak_flops_per_s / 1e12), "bandwidth_gb_s": sig(self.bw_bytes_per_s / 1e9),
                "sharpness": sig(self.sharpness, 3), "overhead_us": sig(self.overhead_s * 1e6, 3),
                "best_measured_tflops": sig(self.best_measured_flops_per_s / 1e12)}

    def describe(self) -> str:
        return (f"{self.peak_flops_per_s / 1e12:.3g} TFLOP/s, {self.bw_bytes_per_s / 1e9:.3g} GB/s, "
                f"p {self.sharpness:.2f}, +{self.overhead_s * 1e6:.2g} µs")


@dataclass(frozen=True)
class StreamFit:
    """Achievable bandwidth vs working-set size for one streaming kernel."""

    kernel: str
    dram_bw_bytes_per_s: float
    cache_bw_bytes_per_s: float
    knee_bytes: float
    steepness: float
    overhead_s: float
    quality: FitQuality

    def human(self) -> dict[str, float]:
        return {"dram_gb_s": sig(self.dram_bw_bytes_per_s / 1e9), "cache_gb_s": sig(self.cache_bw_bytes_per_s / 1e9),
                "knee_mib": sig(self.knee_bytes / 2**20, 3), "steepness": sig(self.steepness, 3),
                "overhead_us": sig(self.overhead_s * 1e6, 3)}

    def describe(self) -> str:
        return (f"DRAM {self.dram_bw_bytes_per_s / 1e9:.3g} GB/s, cache {self.cache_bw_bytes_per_s / 1e9:.3g} GB/s "
                f"below {self.knee_bytes / 2**20:.3g} MiB")


@dataclass(frozen=True)
class LinearFit:
    """t = overhead + bytes × s_per_byte (elementwise kernels, all-reduce α–β)."""

    overhead_s: float
    s_per_byte: float
    quality: FitQuality

    @property
    def bw_bytes_per_s(self) -> float:
        return 1.0 / self.s_per_byte

    def human(self) -> dict[str, float]:
        return {"bandwidth_gb_s": sig(self.bw_bytes_per_s / 1e9), "overhead_us": sig(self.overhead_s * 1e6, 3)}

    def describe(self) -> str:
        return f"{self.overhead_s * 1e6:.3g} µs + bytes at {self.bw_bytes_per_s / 1e9:.3g} GB/s"


@dataclass(frozen=True)
class ElementwiseFit:
    """t = t0 + max(bytes / BW(working set), elements / rate): memory-bound unless the math is slower."""

    overhead_s: float
    elements_per_s: float
    quality: FitQuality

    def human(self) -> dict[str, float]:
        return {"overhead_us": sig(self.overhead_s * 1e6, 3), "giga_elements_per_s": sig(self.elements_per_s / 1e9)}

    def describe(self) -> str:
        return f"{self.overhead_s * 1e6:.3g} µs + max(bytes / triad BW, elements / {self.elements_per_s / 1e9:.3g} G/s)"


@dataclass(frozen=True)
class AttentionFit:
    """Attention relative to the GEMM rates of its dtype: compute and bandwidth scales."""

    compute_scale: float
    bandwidth_scale: float
    overhead_s: float
    quality: FitQuality

    def human(self) -> dict[str, float]:
        return {"compute_scale": sig(self.compute_scale, 3), "bandwidth_scale": sig(self.bandwidth_scale, 3),
                "overhead_us": sig(self.overhead_s * 1e6, 3)}

    def describe(self) -> str:
        return f"×{self.compute_scale:.2g} GEMM FLOP/s, ×{self.bandwidth_scale:.2g} GEMM B/s"


@dataclass(frozen=True)
class FrameworkFit:
    """Eager-framework fixed costs from generate() on a tiny decoder (seconds)."""

    request_s: float
    step_s: float
    layer_s: float
    sequence_s: float
    prefill_extra_layer_s: float
    quality: FitQuality

    def human(self) -> dict[str, float]:
        return {"request_overhead_us": sig(self.request_s * 1e6), "step_overhead_us": sig(self.step_s * 1e6),
                "layer_overhead_us": sig(self.layer_s * 1e6), "sequence_overhead_us": sig(self.sequence_s * 1e6),
                "prefill_extra_layer_us": sig(self.prefill_extra_layer_s * 1e6)}

    def describe(self) -> str:
        return (f"request {self.request_s * 1e3:.2g} ms, step {self.step_s * 1e3:.2g} ms, "
                f"layer {self.layer_s * 1e6:.3g} µs, sequence {self.sequence_s * 1e6:.3g} µs")


STATS = ("min", "p25", "median")


def _arrays(samples: list[Sample], stat: str = "median") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.array([s.flops for s in samples]), np.array([s.bytes for s in samples]),
            np.array([s.seconds(stat) for s in samples]))


def fit_gemm(samples: list[Sample], stat: str = "median") -> dict[str, GemmFit]:
    """Per dtype: achievable peak, streaming bandwidth, ridge sharpness and per-call cost."""
    fits: dict[str, GemmFit] = {}
    for dtype in sorted({str(s.params["dtype"]) for s in samples}):
        mine = [s for s in samples if s.params["dtype"] == dtype]
        if len(mine) < 3:
            continue
        flops, nbytes, t = _arrays(mine, stat)
        p0, b0 = float(np.max(flops / t)), float(np.max(nbytes / t))

        def model(th: np.ndarray, flops: np.ndarray = flops, nbytes: np.ndarray = nbytes) -> np.ndarray:
            return roofline_s(flops, nbytes, np.exp(th[0]), np.exp(th[1]), 1.0 + np.exp(th[2]), np.exp(th[3]))

        lo = [np.log(p0 * 0.3), np.log(b0 * 0.1), np.log(0.05), np.log(1e-8)]
        hi = [np.log(p0 * 3.0), np.log(b0 * 10.0), np.log(20.0), np.log(max(float(np.min(t)), 2e-8))]
        x0 = [np.log(p0), np.log(b0), np.log(2.0), np.log(max(float(np.min(t)) * 0.1, 1.1e-8))]
        th, quality = fit_log(model, x0, lo, hi, t)
        fits[dtype] = GemmFit(dtype, float(np.exp(th[0])), float(np.exp(th[1])), float(1.0 + np.exp(th[2])),
                              float(np.exp(th[3])), p0, quality)
    return fits


def fit_stream(samples: list[Sample], stat: str = "median") -> dict[str, StreamFit]:
    """Per streaming kernel: DRAM and cache bandwidth, the knee between them, and a per-call cost."""
    fits: dict[str, StreamFit] = {}
    for kernel in sorted({s.kernel for s in samples}):
        mine = [s for s in samples if s.kernel == kernel]
        if len(mine) < 4:
            continue
        size = np.array([float(s.params["array_bytes"]) for s in mine])
        _, moved, t = _arrays(mine, stat)
        rate = moved / t
        large = rate[size >= np.percentile(size, 75)]
        dram0, peak0 = float(np.median(large)), float(np.max(rate))

        def model(th: np.ndarray, size: np.ndarray = size, moved: np.ndarray = moved) -> np.ndarray:
            dram = np.exp(th[0])
            return cache_s(size, moved, dram, dram * (1.0 + np.exp(th[1])), np.exp(th[2]), np.exp(th[3]),
                           np.exp(th[4]))

        x0 = [np.log(dram0), np.log(max(peak0 / dram0 - 1.0, 0.1)), np.log(8e6), np.log(2.0),
              np.log(max(float(np.min(t)) * 0.1, 1.1e-9))]
        lo = [np.log(dram0 * 0.2), np.log(1e-3), np.log(float(size.min())), np.log(0.3), np.log(1e-9)]
        hi = [np.log(dram0 * 5.0), np.log(100.0), np.log(float(size.max())), np.log(20.0),
              np.log(max(float(np.min(t)), 2e-9))]
        th, quality = fit_log(model, x0, lo, hi, t)
        dram = float(np.exp(th[0]))
        fits[kernel] = StreamFit(kernel, dram, dram * (1.0 + float(np.exp(th[1]))), float(np.exp(th[2])),
                                 float(np.exp(th[3])), float(np.exp(th[4])), quality)
    return fits


def fit_attention(samples: list[Sample], gemm: dict[str, GemmFit], stat: str = "median") -> dict[str, AttentionFit]:
    """Per dtype: scales on that dtype's GEMM peak and streaming bandwidth that reproduce attention times
    (prefill pins the compute scale, decode the bandwidth scale)."""
    fits: dict[str, AttentionFit] = {}
    for dtype in sorted({str(s.params["dtype"]) for s in samples} & set(gemm)):
        mine = [s for s in samples if s.params["dtype"] == dtype]
        if len(mine) < 3:
            continue
        flops, nbytes, t = _arrays(mine, stat)
        g = gemm[dtype]

        def model(th: np.ndarray, flops: np.ndarray = flops, nbytes: np.ndarray = nbytes, g: GemmFit = g
                  ) -> np.ndarray:
            return roofline_s(flops / g.peak_flops_per_s, nbytes / g.bw_bytes_per_s, np.exp(th[0]), np.exp(th[1]),
                              g.sharpness, np.exp(th[2]))

        th, quality = fit_log(model, [np.log(0.3), np.log(0.8), np.log(1e-5)],
                              [np.log(1e-3), np.log(1e-2), np.log(1e-8)],
                              [0.0, np.log(1.5), np.log(max(float(np.min(t)), 2e-8))], t)
        fits[dtype] = AttentionFit(float(np.exp(th[0])), float(np.exp(th[1])), float(np.exp(th[2])), quality)
    return fits


def fit_elementwise(samples: list[Sample], stream: StreamFit | None, stat: str = "median"
                    ) -> dict[str, ElementwiseFit]:
    """Per kernel and dtype: t = t0 + max(bytes / BW(working set), elements / rate), BW from the stream fit."""
    fits = {}
    for key in sorted({f"{s.kernel}_{s.params['dtype']}" for s in samples}):
        mine = [s for s in samples if f"{s.kernel}_{s.params['dtype']}" == key]
        if len(mine) < 2:
            continue
        _, nbytes, t = _arrays(mine, stat)
        elements = np.array([float(s.params["rows"]) * float(s.params["cols"]) for s in mine])
        if stream is None:
            mem_s = nbytes / float(np.max(nbytes / t))
        else:
            mem_s = cache_s(nbytes, nbytes, stream.dram_bw_bytes_per_s, stream.cache_bw_bytes_per_s, stream.knee_bytes,
                            stream.steepness, 0.0)
        rate0 = float(np.max(elements / t))

        def model(th: np.ndarray, mem_s: np.ndarray = mem_s, elements: np.ndarray = elements) -> np.ndarray:
            return np.exp(th[0]) + np.maximum(mem_s, elements / np.exp(th[1]))

        th, quality = fit_log(model, [np.log(max(float(np.min(t)) * 0.5, 2e-9)), np.log(rate0)],
                              [np.log(1e-9), np.log(rate0 * 0.1)],
                              [np.log(max(float(np.min(t)), 2e-9)), np.log(rate0 * 100)], t)
        fits[key] = ElementwiseFit(float(np.exp(th[0])), float(np.exp(th[1])), quality)
    return fits


def fit_allreduce(samples: list[Sample], stat: str = "median") -> LinearFit | None:
    """α (seconds per call) and β (seconds per byte) of t = α + β·M."""
    if len(samples) < 2:
        return None
    _, nbytes, t = _arrays(samples, stat)
    return LinearFit(*fit_linear_nonneg(nbytes, t))


def tiny_op_counts() -> tuple[float, float]:
    """Operator invocations the cost core charges per layer and per step for the tiny framework model."""
    arch = ModelArch.model_validate(TINY_ARCH)
    ops = step_operators(arch, BatchStats.uniform(1, 1, 16), Precision.of("fp32"), Parallelism())
    return (sum(op.count for op in ops if op.in_layers) / arch.num_layers,
            float(sum(op.count for op in ops if not op.in_layers)))


def fit_framework(samples: list[Sample], kernel_overhead_s: float, stat: str = "median") -> FrameworkFit | None:
    """Linear fit of generate() times: t = A + L·p₁ + b·pₛ + (n−1)·(D₀ + L·d₁ + b·dₛ).

    The cost core already charges `kernel_overhead_s` per modelled operator, so the engine's
    per-layer and per-step overheads are what remains of d₁ and D₀.
    """
    if len(samples) < 6:
        return None
    L = np.array([float(s.params["layers"]) for s in samples])
    b = np.array([float(s.params["batch"]) for s in samples])
    steps = np.array([float(s.params["new_tokens"]) - 1.0 for s in samples])
    t = np.array([s.seconds(stat) for s in samples])
    design = np.column_stack([np.ones_like(L), L, b, steps, steps * L, steps * b])
    if np.linalg.matrix_rank(design) < design.shape[1]:
        return None
    coef, *_ = np.linalg.lstsq(design / t[:, None], np.ones_like(t), rcond=None)
    coef = np.maximum(coef, 0.0)
    a, p1, ps, d0, d1, ds = (float(c) for c in coef)
    per_layer_ops, per_step_ops = tiny_op_counts()
    layer_s = max(0.0, d1 - per_layer_ops * kernel_overhead_s)
    step_s = max(0.0, d0 - per_step_ops * kernel_overhead_s)
    request_s = max(0.0, a - d0)
    return FrameworkFit(request_s=request_s, step_s=step_s, layer_s=layer_s, sequence_s=ds,
                        prefill_extra_layer_s=p1 - d1, quality=FitQuality.of(t, design @ coef))
