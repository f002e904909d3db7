"""Calibration page headless (AppTest): a calibrated device YAML loaded back, its bad inputs, probe Cancel."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import perfmodel as pm

PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "pages" / "6_Calibration.py"
DEVICE_VIEW = "calibrated device YAML"
GEMM_PEAK_FLOPS_PER_S, GEMM_BW_BYTES_PER_S = 1e11, 2e10  # the rates conftest's gemm_bundle is timed at


def _page(**state) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=90)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _array(value) -> np.ndarray:
    """A trace's x or y as sent to the browser: a list, or plotly's typed array {dtype, bdata (base64)}."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value, dtype=float)


def _traces(at: AppTest) -> dict[str, dict]:
    data = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    return {t["name"]: {"x": _array(t["x"]), "y": _array(t["y"])} for t in data}


def test_a_calibrated_yaml_shows_its_fitted_curves_against_the_datasheet(calibrated_yaml: Path) -> None:
    """The bundle's GEMMs ran at 1e11 FLOP/s on an epyc-9654 spec: efficiency = 1e11 / its fp32 peak; the fitted
    line tends to 1e11 FLOP/s at high intensity, the datasheet line to the spec peak."""
    at = _page(cal_source=DEVICE_VIEW, cal_device_path=str(calibrated_yaml))
    assert not at.exception and not at.error
    spec_fp32 = pm.load_device("epyc-9654").peak_flops_per_s("fp32")
    assert float(at.metric[0].value.rstrip(" %")) / 100 == pytest.approx(GEMM_PEAK_FLOPS_PER_S / spec_fp32, rel=0.01)
    traces = _traces(at)
    assert set(traces) == {"fp32 fitted", "fp32 datasheet"}  # no measured points: they stay in the bundle
    assert traces["fp32 fitted"]["y"][-1] == pytest.approx(GEMM_PEAK_FLOPS_PER_S, rel=0.01)
    assert traces["fp32 datasheet"]["y"][-1] == pytest.approx(spec_fp32, rel=0.01)
    assert at.dataframe[0].value["fit"].tolist() == ["gemm_roofline fp32"]
    assert at.get("download_button")
    assert any("fitted curves only" in c.value for c in at.caption)


def test_loaded_yaml_and_fitted_bundle_agree(calibrated_yaml: Path, gemm_bundle: Path) -> None:
    loaded = _page(cal_source=DEVICE_VIEW, cal_device_path=str(calibrated_yaml))
    fitted = _page(cal_path=str(gemm_bundle), cal_base="epyc-9654")
    assert [m.value for m in loaded.metric] == [m.value for m in fitted.metric]


@pytest.mark.parametrize("content, message", [
    (None, "file not found"),
    ("kind: [unclosed\n", "not valid YAML"),
    ("catalog", "calibration.gemm_roofline"),
    ("bundle", "is not a known field"),
])
def test_bad_device_yaml_is_one_line(content: str | None, message: str, tmp_path: Path, gemm_bundle: Path) -> None:
    path = tmp_path / "device.yaml"
    if content == "catalog":  # a device spec, but not calibrated
        path.write_text(pm.device_files()["epyc-9654"].read_text())
    elif content == "bundle":  # a probe bundle given where a device belongs
        path.write_text(gemm_bundle.read_text())
    elif content is not None:
        path.write_text(content)
    at = _page(cal_source=DEVICE_VIEW, cal_device_path=str(path))
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value and "\n" not in at.error[0].value


def test_device_view_without_a_file_asks_for_one() -> None:
    at = _page(cal_source=DEVICE_VIEW)
    assert not at.exception and not at.error and "perfmodel calibrate" in at.info[0].value


def test_probe_shows_progress_and_cancel_stops_it() -> None:
    at = _page()
    at.button(key="cal_run").click().run()
    assert not at.exception and at.get("progress")
    assert at.button(key="probe_cancel").label == "Cancel probe"
    at.button(key="probe_cancel").click().run()
    assert not at.exception and not at.error and not at.get("progress")
    assert any(i.value == "Probe cancelled." for i in at.info)
