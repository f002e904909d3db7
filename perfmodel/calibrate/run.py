"""The two jobs behind the CLI: score shipped profiles (`validate`) and refit them (`calibrate-engines`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from perfmodel.calibrate.data import KERNEL_ENGINE, data_hash, load_fit_table
from perfmodel.calibrate.fit import (
    FitResult,
    cross_validate,
    current_profiles,
    fit,
    generic_profile,
    prior_predictions,
)
from perfmodel.calibrate.predict import predict
from perfmodel.calibrate.report import with_errors
from perfmodel.calibrate.store import write_fit

BAND_PERCENTILE = 80  # the uncertainty band covers this share of held-out rows


def validate(paths: Sequence[str | Path], *, engine: str | None = None, cv: str | None = None,
             before: bool = False, serving_paths: Sequence[str | Path] = (),
             progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Rows with predictions and errors.

    Default: the shipped profiles. `before=True`: every engine and device at its prior (no fit).
    `cv='device'|'model'|'source'|'engine'`: leave-one-group-out predictions (fit without the group).
    `engine`: score every end-to-end row with this profile instead of the row's own.
    `serving_paths`: serving CSVs whose closed-loop rows join the table (priced by the steady-state closed form).
    `progress(done, total)`: called as cross-validation folds finish.
    """
    table = load_fit_table(paths, serving_paths)
    if engine:
        table.loc[table["kind"] == "e2e", "engine"] = engine
    if cv:
        predicted = cross_validate(table, cv, full=fit(table), progress=progress)
    elif before:
        predicted = prior_predictions(table)
    else:
        predicted = predict(table)
    return with_errors(table, predicted)


def _band(errors: pd.Series) -> float:
    errors = errors.dropna()
    return float(np.percentile(errors, BAND_PERCENTILE)) if len(errors) else float("nan")


def uncertainty_bands(table: pd.DataFrame, by_source: np.ndarray, by_device: np.ndarray) -> dict[str, dict[str, float]]:
    """Per engine: the held-out |relative error| band for a device the fit has seen (rows predicted by a fit
    without their source) and for one it has not (rows predicted by a fit without their device)."""
    seen = with_errors(table, by_source)
    unseen = with_errors(table, by_device)
    overall = {"seen_device_rel": _band(seen["abs_rel_error"]), "unseen_device_rel": _band(unseen["abs_rel_error"])}
    bands = {}
    for engine in sorted(set(table["engine"])):
        mask = table["engine"] == engine
        band = {"seen_device_rel": _band(seen.loc[mask, "abs_rel_error"]),
                "unseen_device_rel": _band(unseen.loc[mask, "abs_rel_error"])}
        bands[engine] = {k: (v if np.isfinite(v) else overall[k]) for k, v in band.items()}
        bands[engine]["unseen_device_rel"] = max(bands[engine]["unseen_device_rel"], bands[engine]["seen_device_rel"])
    return bands


CV_FOLDS = ("source", "device", "engine")
CV_MAX_NFEV = 12  # each held-out fit starts from the full fit, a few steps away
CV_TABLE = "cross_validation.csv"
CV_COLUMNS = ("kind", "study", "engine", "hardware", "num_devices", "model", "weight_dtype", "batch", "input_len",
              "output_len", "quantity", "value")


def calibrate_engines(paths: Sequence[str | Path], *, engines_dir: Path, calibration_dir: Path,
                      with_cv: bool = True, serving_paths: Sequence[str | Path] = ()
                      ) -> tuple[FitResult, dict[str, dict[str, float]] | None]:
    """Fit every engine and device in the data, write the profiles, return the fit and its error bands.

    With `with_cv`, every row is also predicted by fits that never saw its source, its device and its
    engine; those held-out predictions set the uncertainty bands and are written, with the prior and
    in-sample predictions, to `calibration/cross_validation.csv` (what `benchmarks/accuracy_report.py` reads).
    """
    table = load_fit_table(paths, serving_paths)
    result = fit(table)
    result.extras["rows_by_engine"] = table.groupby("engine").size().to_dict()
    result.extras["hardware_by_engine"] = {e: sorted(set(part["hardware"])) for e, part in table.groupby("engine")}
    current = current_profiles(result)
    result.engines["generic"] = generic_profile(result)
    bands = None
    if with_cv:
        held = {by: cross_validate(table, by, full=result, max_nfev=CV_MAX_NFEV) for by in CV_FOLDS}
        bands = uncertainty_bands(table, held["source"], held["device"])
        e2e = (table["kind"] != "kernel").to_numpy()
        by_engine = with_errors(table[e2e], held["engine"][e2e])
        band = _band(by_engine["abs_rel_error"])
        bands["generic"] = {"seen_device_rel": band, "unseen_device_rel": max(band, max(
            b["unseen_device_rel"] for b in bands.values()))}
        rows = table[list(CV_COLUMNS)].copy()
        rows["prior"], rows["fitted"] = prior_predictions(table), result.predictions
        for by, values in held.items():
            rows[f"cv_{by}"] = values
        calibration_dir.mkdir(parents=True, exist_ok=True)
        rows.to_csv(calibration_dir / CV_TABLE, index=False, float_format="%.6g")
    for name, engine in current.items():  # current profiles with no rows: priors, banded like an unseen engine
        if name not in result.engines:
            result.engines[name] = engine
            if bands is not None:
                bands[name] = dict(bands["generic"])
    write_fit(result, engines_dir=engines_dir, calibration_dir=calibration_dir,
              data_sha256=data_hash([*paths, *serving_paths]),
              rows=len(table), uncertainty=bands)
    return result, bands


__all__ = ["KERNEL_ENGINE", "calibrate_engines", "uncertainty_bands", "validate"]
