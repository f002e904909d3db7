"""The fitted parameters: few, physical, each with a prior, bounds and a scope — and only those the data identify.

Scopes: `global` (shared physics: roofline sharpness, kernel launch latency), `engine:<name>`
(overheads and kernel quality of one engine, shared across devices) and `device:<id>` (achievable
GEMM and bandwidth fractions of one device, shared across engines).

Identifiability: a scope gets at most one free parameter per :data:`ROWS_PER_PARAM` rows it is
fitted to, taken in the priority order of :data:`ENGINE_PARAMS` / :data:`DEVICE_PARAMS` (the
parameters that the typical rows constrain best come first). A parameter whose physics the rows do
not exercise (collective overhead without tensor-parallel rows, GQA re-read without GQA models) is
never freed, nor a device's GEMM fraction without isolated kernel rows on that device
(:data:`KERNEL_ANCHORED`). Everything not freed stays at its prior: the engine's own prior where its YAML
states one (`priors:`), else the common prior below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from perfmodel.cost.engine import DEFAULT_BANDWIDTH_EFFICIENCY, DEFAULT_GEMM_EFFICIENCY, EngineProfile
from perfmodel.specs.device import Device, EfficiencyHints

ROWS_PER_PARAM = 3
"""A free parameter needs at least this many rows in its scope."""


@dataclass(frozen=True)
class Param:
    """One fitted number. `log` parameters are fitted as log(value) with a log-normal prior."""

    scope: str
    name: str
    prior: float
    sigma: float
    lower: float
    upper: float
    log: bool = True

    @property
    def key(self) -> str:
        return f"{self.scope}:{self.name}"

    def to_internal(self, value: float) -> float:
        return float(np.log(value)) if self.log else float(value)

    def to_value(self, internal: float) -> float:
        return float(np.exp(internal)) if self.log else float(internal)

    def bounds(self) -> tuple[float, float]:
        return self.to_internal(self.lower), self.to_internal(self.upper)


GLOBAL_PARAMS = (
    ("roofline_sharpness", 3.0, 0.3, 1.5, 12.0, True),
    ("kernel_overhead_s", 3e-6, 0.7, 1e-7, 3e-5, True),
)
# name, common prior, sigma, lower, upper, log — in the order they are freed.
ENGINE_PARAMS = (
    ("step_overhead_s", 1e-3, 1.5, 1e-6, 0.1, True),
    ("moe_layer_overhead_s", 1e-5, 1.5, 1e-8, 2e-3, True),
    ("moe_efficiency", 1.0, 0.5, 0.05, 1.2, True),
    ("bandwidth_scale", 1.0, 0.15, 0.3, 1.2, True),
    ("gemm_scale", 1.0, 0.3, 0.1, 1.3, True),
    ("request_overhead_s", 1e-3, 1.5, 1e-7, 0.5, True),
    ("sequence_overhead_s", 1e-5, 1.2, 1e-9, 1e-3, True),
    ("attention_efficiency", 0.6, 0.5, 0.05, 1.0, True),
    ("collective_overhead_s", 1e-5, 0.7, 1e-7, 1e-3, True),  # NCCL small-message all-reduce: ~3-40 µs
    ("gqa_kv_reread", 0.0, 0.5, 0.0, 1.0, False),
    ("attention_bandwidth_scale", 1.0, 0.3, 0.1, 1.2, True),
    ("layer_overhead_s", 2e-5, 1.2, 1e-8, 1e-3, True),
)
DEVICE_PARAMS = ("bandwidth", "gemm")  # in the order they are freed
DEVICE_SIGMA = {"gemm": 0.25, "bandwidth": 0.2}
DEVICE_BOUNDS = {"gemm": (0.1, 1.0), "bandwidth": (0.2, 1.0)}
KERNEL_ANCHORED = ("gemm",)
"""Device fractions freed only on devices with isolated kernel rows: end-to-end rows alone cannot tell a slow
device GEMM from one engine's slow prefill (its GEMM quality, per-token overheads), and a fit without kernel
rows read the latter as the former (A100/H100 GEMM at 0.34-0.40 of peak against 0.80-0.87 measured by MAMF)."""
ENGINE_FIELDS = tuple(name for name, *_ in GLOBAL_PARAMS + ENGINE_PARAMS)


def common_prior(name: str) -> float:
    """The prior of a fitted engine field when the engine states none."""
    for field, prior, *_ in GLOBAL_PARAMS + ENGINE_PARAMS:
        if field == name:
            return prior
    raise KeyError(name)


def engine_prior(engine: EngineProfile, name: str) -> float:
    """The prior of `name` for `engine`: its own `priors:` entry, else the common prior."""
    return float(engine.priors.get(name, common_prior(name)))


def device_prior(device: Device, which: str) -> float:
    """Published hint if the spec has one, else the default for its kind."""
    hints = device.efficiency_hints
    if hints is not None and getattr(hints, which) is not None:
        return float(getattr(hints, which))
    defaults = DEFAULT_GEMM_EFFICIENCY if which == "gemm" else DEFAULT_BANDWIDTH_EFFICIENCY
    return defaults[device.kind]


ARCHITECTURE_FIELDS = ("moe_layer_overhead_s", "moe_efficiency")
"""Fields only one architecture's rows identify (routed experts). An engine whose rows hold no such model keeps
its prior there, which says nothing about the engine: the typical engine takes these from the engines fitted
to them."""

KERNEL_QUALITY = ("bandwidth_scale", "gemm_scale", "attention_efficiency", "attention_bandwidth_scale")
"""General kernel-quality scales: freed only when the engine's rows span at least two models, so one model's
peculiarities are not read as the engine's."""


def _exercised(name: str, rows: pd.DataFrame, features: dict[str, set[str]]) -> bool:
    """Whether `rows` contain the physics that parameter `name` describes."""
    if name == "collective_overhead_s":
        return bool((rows["num_devices"] > 1).any())
    if name == "gqa_kv_reread":
        return bool(rows["model"].isin(features.get("grouped", set())).any())
    if name.startswith("moe_"):
        return bool(rows["model"].isin(features.get("moe", set())).any())
    if name in KERNEL_QUALITY:
        return rows["model"].nunique() >= 2
    return True


def build_params(table: pd.DataFrame, engines: dict[str, EngineProfile], devices: dict[str, Device],
                 features: dict[str, set[str]] | None = None, kernel_engine: str = "kernels") -> list[Param]:
    """The free parameters the rows of `table` identify (see the module docstring for the rules).

    `features`: model ids by architecture feature — `grouped` (grouped-query attention: KV heads shared by
    several query heads) and `moe` (routed experts). The `kernels` profile (isolated microbenchmarks) gets
    only the global parameters.
    """
    features = features or {}
    params = [Param("global", *spec) for spec in GLOBAL_PARAMS]
    for name in sorted(engines):
        rows = table[table["engine"] == name]
        if name == kernel_engine or rows.empty:
            continue
        budget = len(rows) // ROWS_PER_PARAM
        for field, _prior, sigma, lower, upper, log in ENGINE_PARAMS:
            if budget <= 0:
                break
            if not _exercised(field, rows, features):
                continue
            prior = min(max(engine_prior(engines[name], field), lower), upper)
            params.append(Param(f"engine:{name}", field, prior, sigma, lower, upper, log))
            budget -= 1
    kernel_rows = table["engine"] == kernel_engine
    for device_id in sorted(devices):
        on_device = table["hardware"] == device_id
        budget = int(on_device.sum()) // ROWS_PER_PARAM
        anchored = bool((on_device & kernel_rows).any())
        for which in [w for w in DEVICE_PARAMS if anchored or w not in KERNEL_ANCHORED][:budget]:
            lo, hi = DEVICE_BOUNDS[which]
            prior = min(max(device_prior(devices[device_id], which), lo * 1.01), hi * 0.99)
            params.append(Param(f"device:{device_id}", which, prior, DEVICE_SIGMA[which], lo, hi))
    return params


def apply(params: list[Param], values: np.ndarray, base_engines: dict[str, EngineProfile],
          base_devices: dict[str, Device]) -> tuple[dict[str, EngineProfile], dict[str, Device]]:
    """Engine profiles and devices with the given parameter values filled in."""
    by_scope: dict[str, dict[str, float]] = {}
    for p, v in zip(params, values, strict=True):
        by_scope.setdefault(p.scope, {})[p.name] = p.to_value(v)
    shared = by_scope.get("global", {})
    engines = {}
    for name, base in base_engines.items():
        update = dict(shared) | by_scope.get(f"engine:{name}", {})
        engines[name] = base.model_copy(update=update)
    devices = {}
    for device_id, base in base_devices.items():
        fitted = by_scope.get(f"device:{device_id}")
        devices[device_id] = (base.model_copy(update={"fitted_efficiency": EfficiencyHints(**fitted)})
                              if fitted else base)
    return engines, devices


def fitted_fields(params: list[Param]) -> dict[str, list[str]]:
    """Per scope, the names of the parameters that were free in a fit."""
    out: dict[str, list[str]] = {}
    for p in params:
        out.setdefault(p.scope, []).append(p.name)
    return out
