"""Fitted curves read back from a calibrated device YAML (the Calibration page's 'load' view)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import perfmodel as pm
from perfmodel.viz import calibrated_gemm_curves, calibration_quality, gemm_fit_figure

DEVICE = {
    "id": "cpu-calibrated", "memory": {"capacity_gb": 64, "bandwidth_gb_s": 100.0},
    "calibration": {
        "gemm_efficiency": 0.5, "spec_compute_tflops": {"fp32": 2.0, "bf16": 4.0},
        "gemm_roofline": {"fp32": {"peak_tflops": 1.0, "bandwidth_gb_s": 50.0, "sharpness": 8.0, "overhead_us": 3.0,
                                   "samples": 7, "r2_log": 0.99, "median_abs_rel_err": 0.02, "max_abs_rel_err": 0.1}},
        "bandwidth_curves": {"triad": {"dram_gb_s": 80.0, "samples": 5, "r2_log": 0.9, "median_abs_rel_err": 0.05,
                                       "max_abs_rel_err": 0.2}},
        "framework": {"overhead_us": 40.0, "samples": 3, "r2_log": 0.8, "median_abs_rel_err": 0.1,
                      "max_abs_rel_err": 0.3},
        "dispatch_us": {"add": 2.0},
    },
}


def test_curves_in_si_units_and_the_datasheet_roof() -> None:
    curves, peaks, bw = calibrated_gemm_curves(DEVICE)
    fp32 = curves["fp32"]
    assert (fp32.peak_flops_per_s, fp32.bw_bytes_per_s, fp32.sharpness) == (1e12, 50e9, 8.0)
    assert peaks == {"fp32": 2e12, "bf16": 4e12}
    assert bw == 100e9  # no spec_bandwidth_gb_s: the bandwidth was not refitted, memory's is the datasheet's
    with_bw = {**DEVICE, "calibration": {**DEVICE["calibration"], "spec_bandwidth_gb_s": 70.0}}
    assert calibrated_gemm_curves(with_bw)[2] == 70e9


def test_quality_table_has_one_row_per_fitted_curve() -> None:
    table = calibration_quality(DEVICE)
    assert table["fit"].tolist() == ["gemm_roofline fp32", "bandwidth_curves triad", "framework"]
    assert table["r2_log"].tolist() == [0.99, 0.9, 0.8]
    assert "peak_tflops 1.0" in table.loc[0, "params"] and "r2_log" not in table.loc[0, "params"]


@pytest.mark.parametrize("device", [{"id": "x"}, {"calibration": {"gemm_efficiency": 1.0}},
                                    {"calibration": {"gemm_roofline": {}}}])
def test_an_uncalibrated_mapping_is_a_spec_error(device: dict) -> None:
    with pytest.raises(pm.SpecError, match=r"dev\.yaml: field 'calibration\.gemm_roofline'.*perfmodel calibrate"):
        calibrated_gemm_curves(device, "dev.yaml")


def test_a_malformed_curve_is_a_spec_error() -> None:
    bad = {"calibration": {"gemm_roofline": {"fp32": {"peak_tflops": "fast"}}}}
    with pytest.raises(pm.SpecError, match="peak_tflops"):
        calibrated_gemm_curves(bad)


def test_figure_draws_the_fitted_and_datasheet_lines() -> None:
    """Far above the ridge the fitted line tends to its peak (1 TFLOP/s), the datasheet line to 2 TFLOP/s;
    far below it to intensity × bandwidth."""
    curves, peaks, bw = calibrated_gemm_curves(DEVICE)
    points = pd.DataFrame({"dtype": ["fp32", "fp32"], "intensity": [0.01, 1e5], "flops_per_s": [5e8, 1e12]})
    fig = gemm_fit_figure(points, curves, peaks, bw)
    lines = {t.name: t for t in fig.data}
    fitted, sheet = lines["fp32 fitted"], lines["fp32 datasheet"]
    assert np.asarray(fitted.y)[-1] == pytest.approx(1e12, rel=1e-3)
    assert np.asarray(fitted.y)[0] == pytest.approx(np.asarray(fitted.x)[0] * 50e9, rel=1e-3)
    assert np.asarray(sheet.y)[-1] == pytest.approx(2e12, rel=1e-3)
    assert "bf16 datasheet" not in lines  # only dtypes that were measured or fitted are drawn
