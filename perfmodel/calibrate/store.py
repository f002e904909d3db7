"""Write a fit as the shipped files: engine profiles and the per-device efficiency table."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from perfmodel.calibrate.fit import FitResult
from perfmodel.calibrate.params import ENGINE_FIELDS, fitted_fields
from perfmodel.cost.engine import engine_files
from perfmodel.specs.loader import read_mapping
from perfmodel.units import significant

FITTED_ENGINE_FIELDS = ENGINE_FIELDS
HEADER = ("# Fitted fields are written by `perfmodel calibrate-engines`; edit the description, software, priors "
          "and notes only.\n")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_fit(result: FitResult, *, engines_dir: Path, calibration_dir: Path, data_sha256: str, rows: int,
              uncertainty: dict[str, dict[str, float]] | None = None) -> list[Path]:
    """Update each engine's YAML in place and write calibration/device_efficiency.yaml.

    Every fitted field is written (those the data did not free at their prior), but `fit.fitted` lists
    only the free ones, and `calibrated: true` only when at least one of the engine's own fields was fitted.
    """
    written = []
    shipped = engine_files()
    engines_dir.mkdir(parents=True, exist_ok=True)
    free = fitted_fields(result.params)
    hardware = result.extras.get("hardware_by_engine") or {}
    for name, profile in sorted(result.engines.items()):
        source = shipped.get(name)
        data: dict[str, Any] = read_mapping(source) if source else {"name": name}
        for field in FITTED_ENGINE_FIELDS:
            data[field] = significant(getattr(profile, field))
        own = free.get(f"engine:{name}", [])
        data["calibrated"] = bool(own) or name == "generic"
        if name in hardware:
            data["hardware"] = sorted(hardware[name])
        fit_info: dict[str, Any] = {"data_sha256": data_sha256, "rows": int((result.extras.get("rows_by_engine")
                                                                            or {}).get(name, 0)),
                                    "fitted": own, "fitted_global": free.get("global", []),
                                    "fitted_on": str(date.today())}
        if uncertainty and name in uncertainty:
            fit_info["uncertainty"] = {k: significant(v, 3) for k, v in uncertainty[name].items()}
        data["fit"] = fit_info
        path = engines_dir / (source.name if source else f"{name}.yaml")
        _atomic_write(path, HEADER + yaml.safe_dump(data, sort_keys=False, width=110))
        written.append(path)
    calibration_dir.mkdir(parents=True, exist_ok=True)
    devices = {
        device_id: {which: significant(getattr(dev.fitted_efficiency, which)) for which in ("gemm", "bandwidth")
                    if getattr(dev.fitted_efficiency, which) is not None}
        for device_id, dev in sorted(result.devices.items()) if dev.fitted_efficiency is not None
    }
    table = {"data_sha256": data_sha256, "rows": rows, "fitted_on": str(date.today()), "devices": devices}
    path = calibration_dir / "device_efficiency.yaml"
    _atomic_write(path, "# Written by `perfmodel calibrate-engines`: fractions of peak fitted to published "
                        "measurements.\n" + yaml.safe_dump(table, sort_keys=False))
    written.append(path)
    return written
