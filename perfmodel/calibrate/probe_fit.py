"""Fit a probe bundle into a calibrated device profile, and an eager-engine profile for this machine.

The per-benchmark curves live in perfmodel.probe.fits; this module gathers them (`fit_bundle`),
turns them into a device YAML with a `calibration:` section (`calibrated_device`) and an engine
profile (`calibrated_engine`), and writes both (`calibrate_bundle`, `write_yaml`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from perfmodel.cost.engine import EngineProfile, load_engine
from perfmodel.errors import PerfModelError
from perfmodel.probe.bundle import Bundle, load_bundle
from perfmodel.probe.eager_fit import eager_calibration
from perfmodel.probe.fits import (
    STATS,
    AttentionFit,
    ElementwiseFit,
    FrameworkFit,
    GemmFit,
    LinearFit,
    StreamFit,
    fit_allreduce,
    fit_attention,
    fit_elementwise,
    fit_framework,
    fit_gemm,
    fit_stream,
    tiny_op_counts,
)
from perfmodel.probe.gemm import skinny_weight_rates
from perfmodel.specs.catalog import load_device
from perfmodel.specs.detect import detect_local_cpu
from perfmodel.specs.device import COMPUTE_KEYS, Device
from perfmodel.units import significant as sig

__all__ = ["STATS", "AttentionFit", "ElementwiseFit", "FrameworkFit", "GemmFit", "LinearFit", "ProbeCalibration",
           "ProbeFit", "StreamFit", "calibrate_bundle", "calibrated_device", "calibrated_engine", "fit_allreduce",
           "fit_attention", "fit_bundle", "fit_elementwise", "fit_framework", "fit_gemm", "fit_stream",
           "tiny_op_counts", "write_yaml"]


@dataclass(frozen=True)
class ProbeFit:
    """Everything fitted from one bundle."""

    bundle_id: str
    backend: str
    device: str
    threads: int
    gemm: dict[str, GemmFit]
    stream: dict[str, StreamFit]
    dispatch_s: dict[str, float]
    attention: dict[str, AttentionFit] = field(default_factory=dict)
    elementwise: dict[str, ElementwiseFit] = field(default_factory=dict)
    framework: FrameworkFit | None = None
    allreduce: LinearFit | None = None
    allreduce_world_size: int = 2
    stat: str = "median"
    skinny_weight_bytes_per_s: dict[str, dict[str, dict[int, float]]] = field(default_factory=dict)
    """Measured weight-streaming rate of skinny GEMMs by dtype, input features and rows (for a rows-aware core)."""
    eager: dict[str, Any] = field(default_factory=dict)
    """Eager-framework tables (`gemm_weight_gb_s` and the `eager` section), from the eager benchmark."""

    @property
    def call_costs_in_tables(self) -> bool:
        """The eager tables time whole framework calls, so no separate per-kernel launch is charged."""
        return bool(self.eager.get("gemm_weight_gb_s"))

    @property
    def kernel_overhead_s(self) -> float:
        """Fixed cost of one kernel call: a tiny matmul through the framework's dispatcher."""
        for op in ("linear_module", "matmul", "add"):
            if op in self.dispatch_s:
                return self.dispatch_s[op]
        return min((g.overhead_s for g in self.gemm.values()), default=0.0)

    @property
    def dram_bw_bytes_per_s(self) -> float | None:
        """Best DRAM-plateau bandwidth of the read and triad kernels (copy when neither ran)."""
        rates = [self.stream[k].dram_bw_bytes_per_s for k in ("read", "triad") if k in self.stream]
        rates = rates or [f.dram_bw_bytes_per_s for f in self.stream.values()]
        return max(rates) if rates else None

    def reference_dtype(self, device_kind: str) -> str:
        """The dtype whose GEMM efficiency becomes the device's: fp32 on CPUs, 16-bit on accelerators."""
        order = ("fp32", "bf16", "fp16") if device_kind == "cpu" else ("bf16", "fp16", "fp32")
        for dtype in order:
            if dtype in self.gemm:
                return dtype
        return next(iter(self.gemm))

    def curves(self) -> list[tuple[str, str, Any]]:
        """(group, key, fit) for every fitted curve; groups are the `calibration:` extra sections."""
        out: list[tuple[str, str, Any]] = [("gemm_roofline", d, g) for d, g in self.gemm.items()]
        out += [("bandwidth_curves", k, f) for k, f in self.stream.items()]
        out += [("attention", k, f) for k, f in self.attention.items()]
        out += [("elementwise", k, f) for k, f in self.elementwise.items()]
        for group, fit in (("framework", self.framework), ("allreduce", self.allreduce)):
            if fit is not None:
                out.append((group, "", fit))
        return out

    def quality_rows(self) -> list[dict[str, Any]]:
        """One row per fitted curve: its parameters in human units, R² of log-times and errors."""
        return [{"fit": f"{group} {key}".strip(), "params": fit.describe(), **fit.quality.to_dict()}
                for group, key, fit in self.curves()]


def fit_bundle(bundle: Bundle, stat: str = "median") -> ProbeFit:
    """Fit every curve the bundle has samples for, on each sample's median (or minimum) seconds."""
    if stat not in STATS:
        raise PerfModelError(f"unknown statistic '{stat}'; use {', '.join(STATS)}")
    gemm = fit_gemm(bundle.samples("gemm"), stat)
    dispatch = {str(s.params["op"]): s.seconds(stat) for s in bundle.samples("overhead", "dispatch")}
    stream = fit_stream(bundle.samples("memory"), stat)
    fit = ProbeFit(bundle_id=bundle.bundle_id, backend=bundle.backend, device=bundle.device, threads=bundle.threads,
                   gemm=gemm, stream=stream, dispatch_s=dispatch,
                   attention=fit_attention(bundle.samples("attention"), gemm, stat),
                   elementwise=fit_elementwise(bundle.samples("elementwise"), stream.get("triad"), stat))
    fit = replace(fit, eager=eager_calibration(bundle.samples("eager"), stat))
    launch_s = 0.0 if fit.call_costs_in_tables else fit.kernel_overhead_s
    framework = fit_framework(bundle.samples("overhead", "hf_generate"), launch_s, stat)
    allreduce = bundle.samples("collectives", "allreduce")
    world = int(allreduce[0].params["world_size"]) if allreduce else 2
    return replace(fit, framework=framework, allreduce=fit_allreduce(allreduce, stat), allreduce_world_size=world,
                   stat=stat, skinny_weight_bytes_per_s=skinny_weight_rates(bundle.samples("gemm"), stat))



# --- calibrated profiles ------------------------------------------------------------------------

def calibration_extras(fit: ProbeFit) -> dict[str, Any]:
    """The fitted curves, in human units with their fit quality, for the `calibration:` section (extra keys)."""
    extras: dict[str, Any] = {"dispatch_us": {k: sig(v * 1e6, 3) for k, v in fit.dispatch_s.items()},
                              "gemm_skinny_weight_gb_s": {d: {k: {m: sig(v / 1e9, 3) for m, v in rows.items()}
                                                              for k, rows in t.items()}
                                                          for d, t in fit.skinny_weight_bytes_per_s.items()}}
    extras.update(fit.eager)
    for group, key, curve in fit.curves():
        entry = {**curve.human(), **curve.quality.to_dict()}
        if group == "allreduce":  # t = α + M / bus bandwidth; a ring moves 2(n−1)/n·M per link
            n = fit.allreduce_world_size
            entry = {"world_size": n, "alpha_us": entry.pop("overhead_us"),
                     "bus_bandwidth_gb_s": entry.pop("bandwidth_gb_s"),
                     "link_bandwidth_gb_s": sig(2 * (n - 1) / n * curve.bw_bytes_per_s / 1e9), **entry}
        if key:
            extras.setdefault(group, {})[key] = entry
        else:
            extras[group] = entry
    return extras


def calibrated_device(fit: ProbeFit, base: Device, *, device_id: str | None = None,
                      reference_dtype: str | None = None) -> dict[str, Any]:
    """The base device's YAML mapping with measured peaks where they beat the spec and a `calibration:` section.

    gemm_efficiency = the reference dtype's fitted large-GEMM rate ÷ its spec peak (capped at 1, raising
    the peak when exceeded); every other measured dtype gets the effective peak that, times that one
    efficiency, reproduces its measured rate (the spec values are kept under calibration).
    bandwidth_efficiency = the DRAM-plateau bandwidth ÷ the spec bandwidth, likewise.
    """
    if not fit.gemm:
        raise PerfModelError(f"bundle {fit.bundle_id} has no GEMM samples; re-run `perfmodel probe` with a larger "
                             "--budget-s")
    data = base.model_dump(mode="json", exclude_none=True)
    data.pop("fitted_efficiency", None)
    data.pop("calibration", None)
    ref = reference_dtype or fit.reference_dtype(base.kind)
    if ref not in fit.gemm:
        raise PerfModelError(f"reference dtype '{ref}' was not measured; pick one of {', '.join(fit.gemm)}")
    spec_peaks = dict(base.compute_tflops)
    peaks = dict(spec_peaks)
    spec_ref = base.peak_flops_per_s(ref) / 1e12
    measured = {d: g.peak_flops_per_s / 1e12 for d, g in fit.gemm.items()}
    gemm_eff = min(1.0, measured[ref] / spec_ref)
    for dtype, tflops in measured.items():
        if dtype in COMPUTE_KEYS:
            peaks[dtype] = sig(max(tflops / gemm_eff, spec_ref) if dtype == ref else tflops / gemm_eff)
    data["compute_tflops"] = peaks
    calib: dict[str, Any] = {"bundle_id": fit.bundle_id, "gemm_efficiency": sig(gemm_eff),
                             "kernel_overhead_us": sig(fit.kernel_overhead_s * 1e6, 3), "source": "perfmodel probe",
                             "backend": fit.backend, "device": fit.device, "threads": fit.threads,
                             "reference_dtype": ref, "statistic": fit.stat, "fitted_on": dt.date.today().isoformat(),
                             "spec_compute_tflops": spec_peaks,
                             "gemm_efficiency_by_dtype": {d: sig(min(1.0, t / (base.peak_flops_per_s(d) / 1e12)))
                                                          for d, t in measured.items() if d in COMPUTE_KEYS}}
    dram = fit.dram_bw_bytes_per_s
    if dram is not None:
        spec_bw = base.memory.bandwidth_gb_s
        bw_eff = min(1.0, dram / 1e9 / spec_bw)
        data["memory"]["bandwidth_gb_s"] = sig(max(spec_bw, dram / 1e9))
        calib.update(bandwidth_efficiency=sig(bw_eff), spec_bandwidth_gb_s=spec_bw)
    calib.update(calibration_extras(fit))
    data["calibration"] = calib
    data["id"] = device_id or f"{base.id}-calibrated"
    data.setdefault("sources", {})["calibration"] = (
        f"perfmodel probe bundle {fit.bundle_id} ({fit.backend} on {fit.device}, {fit.threads} threads); peaks and "
        "bandwidth raised to measured values where the spec was lower")
    Device.model_validate(data)  # what we write must load
    return data


def calibrated_engine(fit: ProbeFit, base: EngineProfile, device: dict[str, Any], *, name: str | None = None,
                      bundle_sha256: str | None = None) -> dict[str, Any]:
    """An engine profile for eager PyTorch on this machine: the base engine with probe-fitted kernels and overheads.

    Kernel rates live in the calibrated device, so gemm_scale is 1; bandwidth_scale turns the device's
    DRAM bandwidth into the GEMM weight-streaming rate the framework reaches.
    """
    calib = device["calibration"]
    ref = calib["reference_dtype"]
    gemm = fit.gemm[ref]
    data = base.model_dump(mode="json", exclude_none=True)
    data.update(name=name or f"{base.name}-probe", calibrated=True, gemm_scale=1.0,
                roofline_sharpness=sig(gemm.sharpness, 3),
                kernel_overhead_s=0.0 if fit.call_costs_in_tables else sig(fit.kernel_overhead_s),
                description=f"{base.name} with kernels and overheads fitted to probe bundle {fit.bundle_id}")
    device_bw = device["memory"]["bandwidth_gb_s"] * 1e9 * calib.get("bandwidth_efficiency", 1.0)
    data["bandwidth_scale"] = sig(min(1.5, gemm.bw_bytes_per_s / device_bw))
    if ref in fit.attention:
        data["attention_efficiency"] = sig(min(1.0, fit.attention[ref].compute_scale), 3)
        data["attention_bandwidth_scale"] = sig(min(1.5, fit.attention[ref].bandwidth_scale), 3)
    if fit.framework:
        f = fit.framework
        data.update(step_overhead_s=sig(f.step_s), layer_overhead_s=sig(f.layer_s),
                    sequence_overhead_s=sig(f.sequence_s), request_overhead_s=sig(f.request_s))
    data["fit"] = {"source": f"perfmodel probe bundle {fit.bundle_id}", "data_sha256": bundle_sha256 or "",
                   "base": base.name,
                   "fitted_on": dt.date.today().isoformat(), "backend": fit.backend, "threads": fit.threads,
                   "overheads": "framework generate() fit" if fit.framework else f"kept from {base.name}"}
    data["notes"] = (f"Written by `perfmodel calibrate`. Use with the calibrated device of bundle {fit.bundle_id}: "
                     "its GEMM rates already include this framework's kernels.")
    EngineProfile.model_validate(data)
    return data


@dataclass(frozen=True)
class ProbeCalibration:
    """A fitted bundle and the device and engine YAML mappings made from it."""

    fit: ProbeFit
    device: dict[str, Any]
    engine: dict[str, Any]


def calibrate_bundle(bundle_path: str | Path, hardware: str | Device | None = None, *, device_id: str | None = None,
                     reference_dtype: str | None = None, engine_base: str = "hf-transformers",
                     engine_name: str | None = None, stat: str = "median") -> ProbeCalibration:
    """Fit `bundle_path` onto a base device (catalog id, YAML path, or this CPU detected when None)."""
    bundle = load_bundle(bundle_path)
    if hardware is None:
        if bundle.device != "cpu":
            raise PerfModelError(f"bundle {bundle.bundle_id} measured '{bundle.device}': pass its spec with --hardware")
        base = Device.model_validate(detect_local_cpu())
    else:
        base = load_device(hardware)
    fit = fit_bundle(bundle, stat)
    device = calibrated_device(fit, base, device_id=device_id, reference_dtype=reference_dtype)
    sha = hashlib.sha256(Path(bundle_path).read_bytes()).hexdigest()
    engine = calibrated_engine(fit, load_engine(engine_base), device, name=engine_name, bundle_sha256=sha)
    device["calibration"]["engine"] = engine  # so the device alone predicts this framework
    Device.model_validate(device)
    return ProbeCalibration(fit, device, engine)


def write_yaml(mapping: dict[str, Any], path: str | Path) -> Path:
    """Write a spec mapping atomically (tmp + os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True))
    os.replace(tmp, path)
    return path
