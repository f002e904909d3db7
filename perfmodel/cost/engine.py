"""Engine profiles: how well a serving engine uses a device, and what it costs beyond the kernels."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from perfmodel.constants import DEFAULT_ENGINE
from perfmodel.cost.config import Precision
from perfmodel.errors import PerfModelError, UnknownIdError
from perfmodel.specs.catalog import catalog_dir, catalog_entries
from perfmodel.specs.device import Device
from perfmodel.specs.dtypes import gguf_output_dtype
from perfmodel.specs.loader import build_spec, is_file, read_mapping

# Achievable fractions of peak for a device with no measured hint, by device kind.
DEFAULT_GEMM_EFFICIENCY = {"gpu": 0.75, "npu": 0.70, "soc": 0.60, "cpu": 0.55}
DEFAULT_BANDWIDTH_EFFICIENCY = {"gpu": 0.85, "npu": 0.80, "soc": 0.75, "cpu": 0.70}


class EngineProfile(BaseModel):
    """Kernel quality and fixed overheads of one serving engine (all times in seconds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    family: str | None = None
    """The engine this profile belongs to (`trtllm` for `trtllm` and `trtllm-0.6`)."""
    software: str | None = None
    """Software versions the profile stands for, in words, e.g. `TensorRT-LLM >= 0.20, 1.x`."""
    versions: str | None = None
    """The same as a PEP 440 range (`>=0.8`), used to pick the profile for a stated engine version."""
    hardware: tuple[str, ...] = ()
    """Devices the profile's data covers (empty: none; its numbers are priors)."""
    priors: dict[str, float] = Field(default_factory=dict)
    """Per-engine prior values of fitted fields, where this engine's physics differs from the common prior
    (e.g. a GQA decode kernel that reads each KV head once: `gqa_kv_reread: 0`)."""
    gemm_scale: float = Field(default=1.0, gt=0, le=1.5)
    """Multiplies the device's achievable GEMM fraction (1 = the device's best)."""
    bandwidth_scale: float = Field(default=1.0, gt=0, le=1.5)
    """Multiplies the device's achievable memory-bandwidth fraction."""
    roofline_sharpness: float | None = Field(default=None, gt=1)
    """p of the smooth roofline t = (t_c^p + t_m^p)^(1/p): kernels near the ridge point hide memory
    latency imperfectly. None is the sharp roofline max(t_c, t_m)."""
    kernel_overhead_s: float = Field(default=0.0, ge=0)
    """Fixed cost of each kernel launch (per operator invocation)."""
    attention_efficiency: float = Field(default=1.0, gt=0, le=1)
    """Attention-kernel compute efficiency relative to the GEMM efficiency."""
    attention_bandwidth_scale: float = Field(default=1.0, gt=0, le=1.5)
    """Memory bandwidth attention kernels reach relative to the device's achievable bandwidth."""
    gqa_kv_reread: float = Field(default=0.0, ge=0, le=1)
    """0: a grouped-query attention kernel reads each KV head once for its whole query group;
    1: it re-reads it for every query head (older decode kernels), multiplying KV traffic by the group size."""
    link_efficiency: float = Field(default=1.0, gt=0, le=1)
    """Fraction of link bandwidth collectives achieve."""
    collective_overhead_s: float = Field(default=0.0, ge=0)
    """Fixed cost of each collective call (launch and synchronization) on top of the α–β time."""
    moe_efficiency: float = Field(default=1.0, gt=0, le=1.5)
    """Routed-expert (grouped GEMM) kernel quality relative to the engine's dense GEMMs: divides their speed."""
    step_overhead_s: float = Field(default=0.0, ge=0)
    layer_overhead_s: float = Field(default=0.0, ge=0)
    moe_layer_overhead_s: float = Field(default=0.0, ge=0)
    """Per MoE layer per step: routing, token permutation and expert dispatch beyond the GEMMs themselves."""
    sequence_overhead_s: float = Field(default=0.0, ge=0)
    """Per sequence per step (sampling, scheduling, detokenization)."""
    request_overhead_s: float = Field(default=0.0, ge=0)
    """Once per request, paid before its first token."""
    memory_reserve_fraction: float = Field(default=0.0, ge=0, lt=1)
    memory_reserve_gb: float = Field(default=0.0, ge=0)
    use_device_hints: bool = True
    """Use the device's measured efficiency hints; False gives a pure-roofline profile."""
    fused_epilogues: bool = False
    """True: norms, RoPE, activations, residuals and GEMM/attention activations stay on chip, so only
    weights and the KV cache cost memory traffic (the speed-of-light `ideal` profile)."""
    tp_comm_overlap: float = Field(default=0.0, ge=0, le=1)
    """Fraction of the tensor-parallel all-reduce hidden behind the stage's compute (never more than it)."""
    gguf_output_q6k: bool = False
    """llama.cpp quantization presets: the output (lm_head) matrix stays at Q6_K for k-quant and q4/q5
    weights, Q8_0 for q8_0, and unquantized for 16/32-bit weights (:func:`gguf_output_dtype`)."""
    weight_offload: Literal["none", "mmap", "host"] = "none"
    """What the engine does with weights that do not fit: `mmap` streams the missing part from storage
    each step, `host` from host memory over the host link; `none` prices them as if resident."""
    calibrated: bool = False
    fit: dict[str, Any] | None = None
    """Provenance of fitted values: data hash, rows used, cross-validated error bands."""
    sources: dict[str, str] = Field(default_factory=dict)
    notes: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _priors_fill_unset_fields(cls, data: Any) -> Any:
        """A field the profile does not set takes its value from `priors:` (hand-set physics)."""
        if isinstance(data, dict) and isinstance(data.get("priors"), dict):
            data = dict(data)
            for key, value in data["priors"].items():
                if key not in cls.model_fields or key == "priors":
                    raise ValueError(f"priors.{key} is not an engine field; see docs/spec_formats.md")
                data.setdefault(key, value)
        return data
    def stored_precision(self, precision: Precision) -> Precision:
        """`precision` with the formats this engine actually stores (the GGUF lm_head rule)."""
        if self.gguf_output_q6k:
            return precision.with_lm_head(gguf_output_dtype(precision.weight))
        return precision

    def gemm_efficiency(self, device: Device, dtype: str | None = None) -> float:
        """Large-shape GEMM fraction of `dtype`'s peak on `device` with this engine (BF16's when None)."""
        if not self.use_device_hints:
            return self.gemm_scale
        base = _device_value(device, "gemm", DEFAULT_GEMM_EFFICIENCY)
        return min(1.0, base * self.gemm_scale * gemm_dtype_ratio(device, dtype))

    def bandwidth_efficiency(self, device: Device) -> float:
        """Achieved fraction of memory bandwidth on `device` with this engine."""
        if not self.use_device_hints:
            return self.bandwidth_scale
        base = _device_value(device, "bandwidth", DEFAULT_BANDWIDTH_EFFICIENCY)
        return min(1.0, base * self.bandwidth_scale)


def request_overhead_s(engine: EngineProfile) -> float:
    """Seconds an engine spends once per request before its first token (tokenization, scheduling)."""
    return engine.request_overhead_s


def _device_value(device: Device, which: str, defaults: dict[str, float]) -> float:
    calib = device.calibration
    if calib is not None and getattr(calib, f"{which}_efficiency", None):
        return float(getattr(calib, f"{which}_efficiency"))
    for hints in (device.fitted_efficiency, device.efficiency_hints):
        if hints is not None and getattr(hints, which) is not None:
            return float(getattr(hints, which))
    return defaults[device.kind]


def gemm_dtype_ratio(device: Device, dtype: str | None) -> float:
    """How much lower (or higher) a fraction of its own peak a `dtype` GEMM reaches than a BF16 one on `device`,
    from the published per-dtype figures (`efficiency_hints.gemm_by_dtype`); 1 where none is published, and on a
    device calibrated by a probe, which measured its own."""
    hints = device.efficiency_hints
    calib = device.calibration
    if dtype is None or hints is None or not hints.gemm or not hints.gemm_by_dtype or dtype not in hints.gemm_by_dtype:
        return 1.0
    if calib is not None and calib.gemm_efficiency:
        return 1.0
    return hints.gemm_by_dtype[dtype] / hints.gemm


def device_efficiency_source(device: Device) -> str:
    """Where the device's efficiency numbers come from, for provenance."""
    if device.calibration is not None:
        return f"calibrated ({device.calibration.bundle_id})"
    if device.fitted_efficiency is not None:
        return "fitted to published measurements of this device"
    if device.efficiency_hints is not None:
        return "spec-only with published efficiency hints"
    return "spec-only (default efficiency for its kind)"


def engine_files() -> dict[str, Path]:
    return catalog_entries(catalog_dir("engines"))


@lru_cache(maxsize=64)
def _engine_from_path(path: str) -> EngineProfile:
    data = read_mapping(Path(path))
    data.setdefault("name", Path(path).stem)
    return build_spec(EngineProfile, data, path)


ENGINE_ALIASES = {
    "tensorrt-llm": "trtllm", "tensorrt_llm": "trtllm", "trt-llm": "trtllm", "trt_llm": "trtllm",
    "llamacpp": "llama.cpp", "llama-cpp": "llama.cpp", "llama_cpp": "llama.cpp", "ik_llama.cpp": "llama.cpp",
    "ik-llama.cpp": "llama.cpp", "ggml": "llama.cpp", "transformers": "hf-transformers", "hf": "hf-transformers",
    "huggingface": "hf-transformers", "pytorch": "hf-transformers", "sg-lang": "sglang",
    "tensorrt-llm-0.6": "trtllm-0.6", "trtllm-v0.6": "trtllm-0.6", "vllm-0": "vllm-v0", "vllm0": "vllm-v0",
}

"""The profile used when no engine is named, in the API, CLI, dashboard, simulator and `tts cost` alike."""


def canonical_engine_name(name: str | None) -> str:
    """Catalog name for common spellings (`TensorRT-LLM` -> `trtllm`, `llama-cpp` -> `llama.cpp`).

    No name, an empty one, `default` or `unknown` mean :data:`DEFAULT_ENGINE`.
    """
    key = (name or "").strip().lower()
    if key in ("", "default", "unknown", "none"):
        return DEFAULT_ENGINE
    return ENGINE_ALIASES.get(key, key)


def profile_for_version(engine: str | None, version: str | None) -> str:
    """The profile name for `engine` at `version`: the member of its family whose `versions` range holds it.

    A missing or unparseable version (a nightly build) means the family's current profile; an engine
    without a family keeps its own name.
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    name = canonical_engine_name(engine)
    text = (version or "").strip().lower().removeprefix("v")
    try:
        parsed = Version(text) if text else None
    except InvalidVersion:
        parsed = None
    if parsed is None:
        return name
    for candidate in sorted(engine_files()):
        profile = _engine_from_path(str(engine_files()[candidate]))
        if profile.family != name or not profile.versions:
            continue
        try:
            if SpecifierSet(profile.versions).contains(parsed, prereleases=True):
                return profile.name
        except InvalidSpecifier:
            continue
    return name


def load_engine(ref: str | EngineProfile | None) -> EngineProfile:
    """An engine profile by name (:data:`DEFAULT_ENGINE` when None), YAML path, or object.

    A name with no profile falls back to `generic` (a typical engine: the mean of the fitted named
    engines) and says so in its name, which estimates carry into their provenance.
    """
    if isinstance(ref, EngineProfile):
        return ref
    if isinstance(ref, os.PathLike):
        ref = os.fspath(ref)
    if ref is not None and not isinstance(ref, str):
        raise PerfModelError(f"engine must be a profile name, a YAML path or an EngineProfile (got a "
                             f"{type(ref).__name__})")
    files = engine_files()
    if ref and (ref.endswith((".yaml", ".yml")) or "/" in ref or os.sep in ref):
        if ref.endswith((".yaml", ".yml")) and is_file(Path(ref)):
            return _engine_from_path(ref)
        raise UnknownIdError("engine", ref, files)
    name = canonical_engine_name(ref)
    if name in files:
        return _engine_from_path(str(files[name]))
    fallback = _engine_from_path(str(files.get("generic") or files[DEFAULT_ENGINE]))
    return fallback.model_copy(update={"name": f"{fallback.name} (no profile for '{ref}')"})
