"""`perfmodel calibrate-engines` regenerates the shipped files from the shipped data."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from perfmodel.calibrate.data import data_hash, default_measurement_files
from perfmodel.calibrate.serving_data import default_serving_files
from perfmodel.calibrate.store import FITTED_ENGINE_FIELDS
from perfmodel.cli import app
from perfmodel.specs.catalog import catalog_dir


def test_refit_matches_shipped_profiles(tmp_path) -> None:
    r = CliRunner().invoke(app, ["calibrate-engines", "--no-cv", "--engines-dir", str(tmp_path / "engines"),
                                 "--calibration-dir", str(tmp_path / "calibration")])
    assert r.exit_code == 0, r.output
    shipped_devices = yaml.safe_load((catalog_dir("calibration") / "device_efficiency.yaml").read_text())
    fresh_devices = yaml.safe_load((tmp_path / "calibration" / "device_efficiency.yaml").read_text())
    data = data_hash([*default_measurement_files(), *default_serving_files()])
    assert shipped_devices["data_sha256"] == data == fresh_devices["data_sha256"]
    for device, values in shipped_devices["devices"].items():
        for key, value in values.items():
            assert fresh_devices["devices"][device][key] == pytest.approx(value, rel=0.02), (device, key)
    for path in (tmp_path / "engines").glob("*.yaml"):
        fresh = yaml.safe_load(path.read_text())
        shipped = yaml.safe_load((catalog_dir("engines") / path.name).read_text())
        for field in FITTED_ENGINE_FIELDS:
            assert fresh[field] == pytest.approx(shipped[field], rel=0.02, abs=1e-9), (path.name, field)
