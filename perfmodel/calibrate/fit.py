"""Fit engine profiles and device efficiencies to measurements (maximum a posteriori, scipy)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from scipy.sparse import lil_matrix

from perfmodel.calibrate.data import KERNEL_ENGINE, study_of
from perfmodel.calibrate.params import (
    ARCHITECTURE_FIELDS,
    ENGINE_FIELDS,
    ENGINE_PARAMS,
    GLOBAL_PARAMS,
    Param,
    apply,
    build_params,
    engine_prior,
    fitted_fields,
)
from perfmodel.calibrate.predict import predict
from perfmodel.cost.engine import EngineProfile, engine_files, load_engine
from perfmodel.errors import PerfModelError
from perfmodel.specs.catalog import load_device, load_model
from perfmodel.specs.device import Device

DATA_SIGMA = 0.10  # a 10% miss on one row weighs as much as one prior standard deviation
MISSING_PENALTY = 10.0


def prior_engine(name: str) -> EngineProfile:
    """The named profile with every fitted field reset to its prior (nothing learned from data)."""
    base = load_engine(name)
    update = {field: engine_prior(base, field) for field in ENGINE_FIELDS}
    return base.model_copy(update=update | {"calibrated": False, "fit": None})


def model_features(models) -> dict[str, set[str]]:
    """Ids among `models` by architecture feature: `grouped` (GQA/MQA, not MLA) and `moe` (routed experts)."""
    out: dict[str, set[str]] = {"grouped": set(), "moe": set()}
    for model_id in set(models):
        try:
            model = load_model(model_id)
        except PerfModelError:
            continue
        if not model.mla and model.kv_heads < model.num_heads:
            out["grouped"].add(model_id)
        if model.moe:
            out["moe"].add(model_id)
    return out


def prior_device(device_id: str) -> Device:
    """The catalog device without any fitted efficiency."""
    return load_device(device_id).model_copy(update={"fitted_efficiency": None})


@dataclass
class FitResult:
    """Fitted parameters, the profiles and devices they make, and the in-sample predictions."""

    params: list[Param]
    values: np.ndarray
    engines: dict[str, EngineProfile]
    devices: dict[str, Device]
    predictions: np.ndarray
    success: bool
    nfev: int
    message: str = ""
    extras: dict = field(default_factory=dict)

    def value(self, key: str) -> float:
        for p, v in zip(self.params, self.values, strict=True):
            if p.key == key:
                return p.to_value(v)
        raise KeyError(key)


def _sparsity(table: pd.DataFrame, params: list[Param]) -> lil_matrix:
    n_rows = len(table)
    sparsity = lil_matrix((n_rows + len(params), len(params)), dtype=int)
    for j, p in enumerate(params):
        if p.scope == "global":
            mask = np.ones(n_rows, dtype=bool)
        elif p.scope.startswith("engine:"):
            mask = (table["engine"] == p.scope.split(":", 1)[1]).to_numpy()
        else:
            mask = (table["hardware"] == p.scope.split(":", 1)[1]).to_numpy()
        for i in np.flatnonzero(mask):
            sparsity[i, j] = 1
        sparsity[n_rows + j, j] = 1
    return sparsity


def _memoized_predictor(table: pd.DataFrame, params: list[Param], base_engines: dict[str, EngineProfile],
                        base_devices: dict[str, Device]):
    """`predict` over the table for parameter vectors, re-pricing only the (engine, device) groups of rows
    whose own parameters changed — a finite-difference Jacobian column touches few of them."""
    groups = []
    for (engine, hardware), rows in table.groupby(["engine", "hardware"], sort=False).indices.items():
        scopes = {"global", f"engine:{engine}", f"device:{hardware}"}
        relevant = np.array([j for j, p in enumerate(params) if p.scope in scopes], dtype=int)
        groups.append((engine, hardware, rows, relevant, table.iloc[rows]))
    cache: dict[tuple, np.ndarray] = {}

    def run(x: np.ndarray) -> np.ndarray:
        engines, devices = apply(params, x, base_engines, base_devices)
        out = np.empty(len(table))
        for engine, hardware, rows, relevant, part in groups:
            key = (engine, hardware, x[relevant].tobytes())
            if key not in cache:
                cache[key] = predict(part, engines, devices)
            out[rows] = cache[key]
        return out

    return run


def fit(table: pd.DataFrame, *, x0: dict[str, float] | None = None, max_nfev: int = 60) -> FitResult:
    """Fit the parameters of every engine and device in `table` (log-error least squares with priors)."""
    engine_names = sorted(set(table["engine"]))
    base_engines = {name: prior_engine(name) for name in engine_names}
    base_devices = {d: prior_device(d) for d in sorted(set(table["hardware"]))}
    params = build_params(table, base_engines, base_devices, model_features(table["model"]))
    measured = table["value"].to_numpy()
    weights = table["weight"].to_numpy()
    priors = np.array([p.to_internal(p.prior) for p in params])
    sigmas = np.array([p.sigma for p in params])
    lower, upper = np.array([p.bounds() for p in params]).T
    start = priors.copy()
    if x0:
        for j, p in enumerate(params):
            if p.key in x0:
                start[j] = p.to_internal(x0[p.key])
    start = np.clip(start, lower + 1e-9, upper - 1e-9)

    predict_cached = _memoized_predictor(table, params, base_engines, base_devices)

    def residuals(x: np.ndarray) -> np.ndarray:
        pred = predict_cached(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            err = np.log(pred / measured)
        err = np.where(np.isfinite(err), err, MISSING_PENALTY)
        return np.concatenate([weights * err / DATA_SIGMA, (x - priors) / sigmas])

    result = least_squares(residuals, start, bounds=(lower, upper), jac_sparsity=_sparsity(table, params),
                           x_scale="jac", max_nfev=max_nfev, diff_step=1e-3)
    engines, devices = apply(params, result.x, base_engines, base_devices)
    return FitResult(params, result.x, engines, devices, predict(table, engines, devices), bool(result.success),
                     int(result.nfev), str(result.message))


def prior_predictions(table: pd.DataFrame) -> np.ndarray:
    """Predictions with every engine and device at its prior (before any fitting)."""
    engines = {name: prior_engine(name) for name in set(table["engine"])}
    devices = {d: prior_device(d) for d in set(table["hardware"])}
    return predict(table, engines, devices)


GROUP_COLUMNS = {"device": "hardware", "model": "model", "source": "study", "engine": "engine"}


def is_current_profile(engine: EngineProfile) -> bool:
    """A named engine's profile for its current major version (`vllm`, not `vllm-v0` or `research-2023`)."""
    return engine.family is not None and engine.family == engine.name


def generic_engine(engines: dict[str, EngineProfile],
                   fitted: dict[str, Iterable[str]] | None = None) -> EngineProfile:
    """A typical engine: the geometric mean (arithmetic for linear parameters) of the current engine profiles.

    Used for engine names that have no profile of their own. Profiles of old versions, unnamed
    research stacks and isolated kernels are left out. `fitted` (engine name -> its fields freed by data)
    makes each field of one architecture (:data:`ARCHITECTURE_FIELDS`, the MoE costs) the mean over the
    profiles that measured it, so what only MoE rows identify is not diluted by the priors of engines that
    never served an MoE model; where no profile measured it, and for every other field, the mean is over
    all of them.
    """
    current = {name: e for name, e in sorted(engines.items()) if is_current_profile(e)}
    base = prior_engine("generic")
    if not current:
        return base.model_copy(update={"name": "generic"})
    fitted = fitted or {}
    update: dict[str, float] = {}
    for name, *_rest, log in GLOBAL_PARAMS + ENGINE_PARAMS:
        measured = [e for engine_name, e in current.items()
                    if name in ARCHITECTURE_FIELDS and name in set(fitted.get(engine_name, ()))]
        values = np.array([getattr(e, name) for e in (measured or current.values())], dtype=float)
        update[name] = float(np.exp(np.mean(np.log(values)))) if log else float(np.mean(values))
    return base.model_copy(update=update | {"name": "generic", "calibrated": True})


def current_profiles(result: FitResult) -> dict[str, EngineProfile]:
    """Every shipped current-version profile: fitted where the data had rows, else its priors with the fitted
    global physics."""
    shared = {p.name: p.to_value(v) for p, v in zip(result.params, result.values, strict=True) if p.scope == "global"}
    out = {}
    for name in engine_files():
        engine = result.engines.get(name) or prior_engine(name).model_copy(update=shared)
        if is_current_profile(engine):
            out[name] = engine
    return out


def generic_profile(result: FitResult) -> EngineProfile:
    """The `generic` profile a fit gives: the mean of the current profiles it fitted (at least one of their own
    fields freed by rows), or of every current profile at its priors when it fitted none. The MoE fields are
    averaged over the profiles that fitted them, where any did.

    `calibrate-engines` ships this; cross-validation predicts an engine a fold has no rows of with it.
    """
    current = current_profiles(result)
    own = fitted_fields(result.params)
    fitted = {name: engine for name, engine in current.items() if own.get(f"engine:{name}")}
    return generic_engine(fitted or current, {name: own.get(f"engine:{name}", []) for name in current})


def held_out_engines(result: FitResult, names: Iterable[str]) -> dict[str, EngineProfile]:
    """The profiles that predict rows of `names` a fit never saw.

    An engine the fit had rows of keeps its fitted profile. One it had none of gets the fit's generic profile,
    what the project ships for an engine without data, not its hand-set priors; the isolated-kernel profile
    (`kernels`) keeps its priors with the fitted global physics, as it ships.
    """
    shared = {p.name: p.to_value(v) for p, v in zip(result.params, result.values, strict=True) if p.scope == "global"}
    generic = None
    out = {}
    for name in sorted(set(names)):
        if name in result.engines:
            out[name] = result.engines[name]
        elif name == KERNEL_ENGINE:
            out[name] = prior_engine(name).model_copy(update=shared)
        else:
            generic = generic or generic_profile(result)
            out[name] = generic
    return out


def shipped_start(table: pd.DataFrame) -> dict[str, float]:
    """Every parameter a fit of `table` could free, at the shipped profiles' and devices' fitted values.

    Held-out fits start here (a few steps from their optimum) when no full fit is at hand.
    """
    start = {}
    for name in sorted(set(table["engine"])):
        engine = load_engine(name)
        for name_of_field in ENGINE_FIELDS:
            start[f"engine:{name}:{name_of_field}"] = float(getattr(engine, name_of_field))
        for name_of_field, *_ in GLOBAL_PARAMS:
            start[f"global:{name_of_field}"] = float(getattr(engine, name_of_field))
    for device_id in sorted(set(table["hardware"])):
        fitted = load_device(device_id).fitted_efficiency
        for which in ("gemm", "bandwidth"):
            if fitted is not None and getattr(fitted, which) is not None:
                start[f"device:{device_id}:{which}"] = float(getattr(fitted, which))
    return start


def cross_validate(table: pd.DataFrame, by: str, *, full: FitResult | None = None, max_nfev: int = 30,
                   x0: dict[str, float] | None = None,
                   progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Leave-one-group-out predictions: each group is predicted by a fit that never saw it.

    Each held-out fit starts from `full` (or `x0`). A held-out device falls back to its published hints
    or kind defaults; an engine left without rows (a held-out engine, or the only source of one) is predicted
    with the generic profile of the fold's fitted engines (what an engine without data gets, see
    :func:`held_out_engines`). `progress(done, total)` is called after each held-out group.
    """
    column = GROUP_COLUMNS[by]
    keys = table[column] if column in table.columns else table["source"].map(study_of)
    warm = {p.key: p.to_value(v) for p, v in zip(full.params, full.values, strict=True)} if full else x0
    held_out = np.full(len(table), np.nan)
    groups = sorted(set(keys))
    for done, group in enumerate(groups):
        if progress is not None:
            progress(done, len(groups))
        test = (keys == group).to_numpy()
        train = table[~test]
        if train.empty:
            continue
        result = fit(train, x0=warm, max_nfev=max_nfev)
        engines = held_out_engines(result, table.loc[test, "engine"])
        devices = {d: result.devices.get(d) or prior_device(d) for d in set(table.loc[test, "hardware"])}
        held_out[test] = predict(table[test], engines, devices)
    return held_out
