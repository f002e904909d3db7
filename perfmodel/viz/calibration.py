"""Probe fits against the datasheet roofline (pure functions: samples and fits in, figure out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from perfmodel.errors import SpecError
from perfmodel.probe.curves import roofline_s
from perfmodel.viz.figures import _roof

DTYPE_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2")


def gemm_points(samples: list[Any], stat: str = "median") -> pd.DataFrame:
    """GEMM samples of a probe bundle as rows: dtype, FLOPs, bytes, seconds, intensity and achieved FLOP/s."""
    rows = [{"dtype": str(s.params.get("dtype", "?")), "flops": s.flops, "bytes": s.bytes,
             "seconds": s.seconds(stat)} for s in samples if s.flops > 0 and s.bytes > 0]
    df = pd.DataFrame(rows, columns=["dtype", "flops", "bytes", "seconds"])
    return df.assign(intensity=df["flops"] / df["bytes"], flops_per_s=df["flops"] / df["seconds"])


def gemm_fit_figure(points: pd.DataFrame, fits: Mapping[str, Any], spec_peak_flops_per_s: Mapping[str, float],
                    spec_bw_bytes_per_s: float) -> go.Figure:
    """Measured GEMMs (markers), each dtype's fitted roofline (line, per-call overhead left out) and the
    datasheet roofline (dashed) on log-log axes of FLOP/s against arithmetic intensity.

    `fits` maps a dtype to an object with `peak_flops_per_s`, `bw_bytes_per_s` and `sharpness`.
    """
    fig = go.Figure()
    lo = float(points["intensity"].min()) / 2 if len(points) else 0.1
    hi = float(points["intensity"].max()) * 2 if len(points) else 1e4
    x = np.geomspace(max(lo, 1e-3), max(hi, lo * 10), 200)
    for i, dtype in enumerate(sorted(set(points["dtype"]) | set(fits))):
        color = DTYPE_COLORS[i % len(DTYPE_COLORS)]
        rows = points[points["dtype"] == dtype]
        if len(rows):
            fig.add_trace(go.Scatter(x=rows["intensity"], y=rows["flops_per_s"], mode="markers",
                                     name=f"{dtype} measured", marker={"color": color, "size": 8},
                                     hovertemplate="%{x:.3g} FLOP/B<br>%{y:.3s}FLOP/s<extra></extra>"))
        fit = fits.get(dtype)
        if fit is not None:
            t = roofline_s(x, np.ones_like(x), fit.peak_flops_per_s, fit.bw_bytes_per_s, fit.sharpness, 0.0)
            fig.add_trace(go.Scatter(x=x, y=x / t, mode="lines", name=f"{dtype} fitted",
                                     line={"color": color}, hoverinfo="skip"))
        peak = spec_peak_flops_per_s.get(dtype)
        if peak:
            fig.add_trace(go.Scatter(x=x, y=_roof(x, peak, spec_bw_bytes_per_s), mode="lines",
                                     name=f"{dtype} datasheet", line={"color": color, "dash": "dash"},
                                     hoverinfo="skip"))
    title = "GEMMs: measured, fitted and the datasheet roofline" if len(points) else \
        "GEMMs: fitted and the datasheet roofline"
    fig.update_layout(title=title, legend_title_text="")
    fig.update_xaxes(type="log", title="arithmetic intensity (FLOP/byte)")
    fig.update_yaxes(type="log", title="FLOP/s")
    return fig


@dataclass(frozen=True)
class RooflineCurve:
    """A fitted GEMM roofline read back from a calibrated device YAML (SI units)."""

    peak_flops_per_s: float
    bw_bytes_per_s: float
    sharpness: float


QUALITY_KEYS = ("samples", "r2_log", "median_abs_rel_err", "max_abs_rel_err")


def _calibration(device: Mapping[str, Any], source: str | None) -> Mapping[str, Any]:
    calib = device.get("calibration")
    if not isinstance(calib, Mapping) or not isinstance(calib.get("gemm_roofline"), Mapping) \
            or not calib["gemm_roofline"]:
        raise SpecError("no fitted GEMM rooflines: give a device YAML written by `perfmodel calibrate`",
                        source=source, field="calibration.gemm_roofline")
    return calib


def calibrated_gemm_curves(device: Mapping[str, Any], source: str | None = None,
                           ) -> tuple[dict[str, RooflineCurve], dict[str, float], float]:
    """From a calibrated device mapping: (fitted GEMM roofline per dtype, datasheet peak FLOP/s per dtype,
    datasheet bandwidth in bytes/s), ready for :func:`gemm_fit_figure`. Raises SpecError (naming `source`)
    when the mapping has no well-formed fitted GEMM rooflines."""
    calib = _calibration(device, source)
    try:
        curves = {str(dtype): RooflineCurve(float(c["peak_tflops"]) * 1e12, float(c["bandwidth_gb_s"]) * 1e9,
                                            float(c["sharpness"]))
                  for dtype, c in calib["gemm_roofline"].items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"each dtype needs numbers peak_tflops, bandwidth_gb_s and sharpness ({exc!r} failed)",
                        source=source, field="calibration.gemm_roofline") from None
    peaks = {str(d): float(t) * 1e12 for d, t in (calib.get("spec_compute_tflops") or {}).items()}
    bw_gb_s = calib.get("spec_bandwidth_gb_s", device.get("memory", {}).get("bandwidth_gb_s", 0.0))
    return curves, peaks, float(bw_gb_s) * 1e9


def calibration_quality(device: Mapping[str, Any], source: str | None = None) -> pd.DataFrame:
    """One row per fitted curve stored in a calibrated device mapping: its parameters and fit quality."""
    rows = []

    def add(name: str, entry: Mapping[str, Any]) -> None:
        params = ", ".join(f"{k} {v}" for k, v in entry.items() if k not in QUALITY_KEYS)
        rows.append({"fit": name, "params": params, **{k: entry.get(k) for k in QUALITY_KEYS}})

    for group, value in _calibration(device, source).items():
        if not isinstance(value, Mapping):
            continue
        if "r2_log" in value:
            add(str(group), value)
        for key, entry in value.items():
            if isinstance(entry, Mapping) and "r2_log" in entry:
                add(f"{group} {key}", entry)
    return pd.DataFrame(rows, columns=["fit", "params", *QUALITY_KEYS])
