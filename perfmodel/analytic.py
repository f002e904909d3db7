"""Static-batch estimates: TTFT, TPOT, end-to-end latency, throughput and memory.

A static batch of `batch` identical requests is prefilled in one step, then decoded step by step
with the context growing by one token per step. Every step is priced by :func:`step_cost`; the
decode phase is one vectorized call over all its steps (an exact step sum, no averaging).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from perfmodel._version import __version__
from perfmodel.checks import tokens, whole
from perfmodel.cost.batch import BatchStats
from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import (
    EngineProfile,
    canonical_engine_name,
    device_efficiency_source,
    load_engine,
    request_overhead_s,
)
from perfmodel.cost.memory import MemoryReport, memory_report
from perfmodel.cost.step import StepCost, step_cost
from perfmodel.errors import DoesNotFitError, PerfModelError
from perfmodel.specs.catalog import load_model, resolve_system
from perfmodel.specs.device import Device, System
from perfmodel.specs.model import ModelArch


class FitWarning(UserWarning):
    """The configuration does not fit in device memory; numbers are still computed."""


@dataclass(frozen=True)
class Estimate:
    """A static-batch estimate. Times in seconds, rates per second, memory in bytes per device."""

    ttft_s: float
    tpot_s: float
    e2e_s: float
    output_tokens_per_s: float
    prefill_tokens_per_s: float
    decode_tokens_per_s: float | None
    memory: MemoryReport
    fits: bool
    bottleneck: str
    provenance: dict[str, Any]
    uncertainty: dict[str, Any]
    inputs: dict[str, Any]
    prefill: StepCost = field(repr=False)
    decode: StepCost | None = field(repr=False)

    @cached_property
    def breakdown(self) -> pd.DataFrame:
        """Per-operator FLOPs, bytes and seconds for the prefill step and the whole decode phase."""
        frames = [self.prefill.breakdown().assign(phase="prefill")]
        if self.decode is not None:
            frames.append(self.decode.breakdown(reduce="sum").assign(phase="decode"))
        df = pd.concat(frames, ignore_index=True)
        return df[["phase", "operator", "kind", "bound", "flops", "bytes", "compute_s", "memory_s", "time_s"]]

    def band(self, value: float | None) -> tuple[float | None, float | None]:
        """(low, high) of a time or rate under the estimate's relative uncertainty."""
        rel = self.uncertainty.get("rel")
        if value is None or rel is None:
            return None, None
        return value / (1.0 + rel), value * (1.0 + rel)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict in SI units (the keys `perfmodel estimate --json` prints)."""
        bands = {}
        for key in ("ttft_s", "tpot_s", "e2e_s", "output_tokens_per_s", "decode_tokens_per_s"):
            low, high = self.band(getattr(self, key))
            bands[f"{key}_low"], bands[f"{key}_high"] = low, high
        return {
            "ttft_s": self.ttft_s,
            "tpot_s": self.tpot_s,
            "e2e_s": self.e2e_s,
            "output_tokens_per_s": self.output_tokens_per_s,
            "prefill_tokens_per_s": self.prefill_tokens_per_s,
            "decode_tokens_per_s": self.decode_tokens_per_s,
            "memory": self.memory.to_dict(),
            "fits": self.fits,
            "bottleneck": self.bottleneck,
            **bands,
            "uncertainty": self.uncertainty,
            "inputs": self.inputs,
            "provenance": self.provenance,
        }


def classify_bottleneck(cost: StepCost, streaming_source: str = "storage") -> str:
    """What limits a phase: 'memory-bandwidth', 'compute', 'communication', 'overhead', or
    'weight streaming (storage|host)' when reading weights that do not fit dominates."""
    parts = {
        "compute": float(np.sum(cost.compute_bound_s)),
        "memory-bandwidth": float(np.sum(cost.memory_bound_s)),
        "communication": float(np.sum(cost.comm_s)),
        "overhead": float(np.sum(cost.overhead_s)),
        f"weight streaming ({streaming_source})": float(np.sum(cost.weight_streaming_s)),
    }
    return max(parts, key=parts.get)


UNFITTED_ENGINE_BAND = 0.5  # an engine profile never fitted to measurements: priors only
PROBE_ENGINE_BAND = 0.25  # median |error| of the end-to-end check after a probe fit was 9-26% (docs/probe.md)


def uncertainty(engine: EngineProfile, device: Device) -> dict[str, Any]:
    """Relative error band from the cross-validated error of the engine profile used.

    A device whose efficiencies were fitted (or probed) gets the band measured on held-out sources;
    a spec-only device gets the wider band measured on held-out devices.
    """
    if engine.name == "ideal":
        return {"rel": None, "basis": "ideal engine: a speed-of-light bound, not a prediction"}
    fit = engine.fit or {}
    bands = fit.get("uncertainty")
    if not bands and engine.calibrated and str(fit.get("source", "")).startswith("perfmodel probe"):
        return {"rel": PROBE_ENGINE_BAND, "basis": "engine fitted to a probe bundle; band from the end-to-end check"}
    if not bands:
        return {"rel": UNFITTED_ENGINE_BAND, "basis": f"engine '{engine.name}' not fitted to measurements"}
    if not engine.calibrated:
        return {"rel": float(bands["unseen_device_rel"]),
                "basis": f"engine '{engine.name}' not fitted: cross-validated error on held-out engines"}
    seen = device.calibration is not None or device.fitted_efficiency is not None
    key = "seen_device_rel" if seen else "unseen_device_rel"
    basis = ("cross-validated error on held-out sources, device fitted" if seen
             else "cross-validated error on held-out devices (device is spec-only)")
    return {"rel": float(bands[key]), "basis": basis}


def engine_for(device: Device, engine: str | EngineProfile | None) -> EngineProfile:
    """The engine profile to use on `device`: a probe-calibrated device carries its fitted engine.

    With no engine named, or the engine the calibration fitted (e.g. `hf-transformers`), the profile
    fitted with the device (`calibration.engine`) is used; any other engine named wins.
    """
    fitted = (getattr(device.calibration, "model_extra", None) or {}).get("engine") if device.calibration else None
    if isinstance(fitted, dict) and not isinstance(engine, EngineProfile):
        base = canonical_engine_name(str(fitted.get("fit", {}).get("base", "")))
        if engine is None or (base and canonical_engine_name(engine) == base):
            return EngineProfile.model_validate(fitted)
    return load_engine(engine)


def engine_provenance(engine: EngineProfile) -> str:
    """Where an engine profile's numbers come from."""
    if not engine.calibrated:
        return "prior (not fitted to measurements)"
    fit = engine.fit or {}
    if fit.get("source"):
        return f"fitted to {fit['source']}"
    return f"fitted to published measurements (data sha256 {str(fit.get('data_sha256', '?'))[:12]})"


def provenance(model: ModelArch, system: System, engine: EngineProfile, precision: Precision) -> dict[str, Any]:
    """Which specs and profiles produced a number, and whether the device is calibrated."""
    device: Device = system.device
    return {
        "model": model.id,
        "hardware": system.id,
        "device": device.id,
        "device_calibration": device_efficiency_source(device),
        "calibrated": device.is_calibrated,
        "engine": engine.name,
        "engine_profile": engine_provenance(engine),
        "precision": precision.label(),
        "perfmodel_version": __version__,
    }


DECODE_POINTS = 8192
"""Most decode steps evaluated one by one; longer outputs are sampled evenly (bounded memory)."""


def estimate(
    model: str | ModelArch,
    hardware: str | Device | System,
    *,
    batch: int = 1,
    input_len: int,
    output_len: int,
    tp: int = 1,
    pp: int = 1,
    ep: int = 1,
    weight_dtype: str = "bf16",
    kv_dtype: str | None = None,
    act_dtype: str | None = None,
    engine: str | EngineProfile | None = None,
    strict: bool = False,
) -> Estimate:
    """Estimate a static batch of `batch` requests of `input_len` prompt and `output_len` new tokens.

    `model` and `hardware` accept a catalog id, a path (YAML, or an HF config.json for models) or a
    spec object. `hardware` may name a system (e.g. `dgx-h100`) or a device, which is replicated
    tp×pp times. A configuration that does not fit still gets numbers with `fits=False` and a
    :class:`FitWarning`; `strict=True` raises :class:`DoesNotFitError` instead.
    """
    batch = whole(batch, "batch")
    input_len, output_len = tokens(input_len, "input_len"), tokens(output_len, "output_len")
    arch = load_model(model)
    par = Parallelism(tp=tp, pp=pp, ep=ep).check_for(arch)
    system = resolve_system(hardware, par.num_devices)
    prec = Precision.of(weight_dtype, act_dtype, kv_dtype)
    prof = engine_for(system.device, engine)
    window = arch.sliding_window.size if arch.sliding_window else None

    prefill_stats = BatchStats.uniform(batch, input_len, 0, window=window)
    prefill = step_cost(arch, system, prefill_stats, prec, par, prof)
    ttft_s = float(prefill.time_s) + request_overhead_s(prof)

    decode: StepCost | None = None
    if output_len > 1:
        # Every decode step's context, or (long outputs) evenly spaced samples of them: the mean step
        # time is the same to well under 0.1 % and memory stays bounded.
        contexts = (input_len + np.arange(output_len - 1, dtype=np.float64) if output_len - 1 <= DECODE_POINTS
                    else np.linspace(input_len, input_len + output_len - 2, DECODE_POINTS))
        decode = step_cost(arch, system, BatchStats.uniform(batch, 1, contexts, window=window), prec, par, prof)
        tpot_s = float(np.mean(decode.time_s))
    else:
        tpot_s = 0.0
    e2e_s = ttft_s + (output_len - 1) * tpot_s

    mem = memory_report(arch, system, prec, par, prof, batch=batch, seq_len=input_len + output_len,
                        step_tokens=batch * input_len)
    if not mem.fits:
        message = (f"{arch.id} with batch {batch} × {input_len + output_len} tokens needs "
                   f"{mem.total_bytes / 1e9:.1f} GB per device but {system.device.id} has "
                   f"{mem.capacity_bytes / 1e9:.1f} GB; lower the batch or lengths, quantize, or raise tp/pp")
        if prof.weight_offload != "none":
            source = "host memory" if prof.weight_offload == "host" else "storage"
            message += f" (priced with the weights that do not fit streamed from {source} every step)"
        if strict:
            raise DoesNotFitError(message)
        warnings.warn(message, FitWarning, stacklevel=2)

    return Estimate(
        ttft_s=ttft_s,
        tpot_s=tpot_s,
        e2e_s=e2e_s,
        output_tokens_per_s=batch * output_len / e2e_s,
        prefill_tokens_per_s=batch * input_len / ttft_s,
        decode_tokens_per_s=batch / tpot_s if tpot_s > 0 else None,
        memory=mem,
        fits=mem.fits,
        bottleneck=classify_bottleneck(decode if decode is not None else prefill,
                                       "host" if prof.weight_offload == "host" else "storage"),
        provenance=provenance(arch, system, prof, prec),
        uncertainty=uncertainty(prof, system.device),
        inputs={"model": arch.id, "hardware": system.id, "batch": batch, "input_len": input_len,
                "output_len": output_len, "tp": tp, "pp": pp, "ep": ep, "weight_dtype": prec.weight.name,
                "act_dtype": prec.act.name, "kv_dtype": prec.kv.name, "engine": prof.name},
        prefill=prefill,
        decode=decode,
    )


def kernel_time(
    model: str | ModelArch,
    hardware: str | Device | System,
    operator: str,
    *,
    num_tokens: int,
    context_tokens: int = 0,
    tp: int = 1,
    weight_dtype: str = "bf16",
    act_dtype: str | None = None,
    kv_dtype: str | None = None,
    engine: str | EngineProfile | None = "kernels",
) -> float:
    """Seconds of one invocation (one layer) of `operator` for a step of `num_tokens` new tokens.

    `operator` is a breakdown name such as `qkv_proj`, `o_proj`, `mlp_up`, `mlp_down`, `attention`.
    Uses the same cost core as :func:`estimate`; the default `kernels` engine has no engine overheads.
    """
    num_tokens = tokens(num_tokens, "num_tokens")
    context_tokens = tokens(context_tokens, "context_tokens", minimum=0)
    arch = load_model(model)
    par = Parallelism(tp=whole(tp, "tp")).check_for(arch)
    system = resolve_system(hardware, par.num_devices)
    prec = Precision.of(weight_dtype, act_dtype, kv_dtype)
    window = arch.sliding_window.size if arch.sliding_window else None
    stats = BatchStats.uniform(1, num_tokens, context_tokens, window=window)
    prof = load_engine(engine)
    cost = step_cost(arch, system, stats, prec, par, prof)
    for op in cost.ops:
        if op.name == operator:
            return float(op.time_s) / op.count
    names = ", ".join(o.name for o in cost.ops if o.kind not in ("comm", "overhead"))
    raise PerfModelError(f"unknown operator '{operator}'; use one of {names}")
