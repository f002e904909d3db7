"""Calibration page: run a short, cancellable probe of this machine or load a probe bundle, fit it, draw the
fitted curves against the datasheet roofline, and download the calibrated device YAML.

Thin by design: `perfmodel probe` (a subprocess, so it can be stopped) → perfmodel.calibrate.probe_fit →
perfmodel.viz.calibration.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import streamlit as st
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _ui  # noqa: E402

import perfmodel as pm  # noqa: E402
from perfmodel import calibrate_bundle, device_files, load_bundle  # noqa: E402
from perfmodel.viz import gemm_fit_figure, gemm_points  # noqa: E402

THIS_CPU = "this CPU (detected)"
BUNDLE = "cal_bundle_path"  # session state: the bundle the page shows
MIN_BUDGET_S, MAX_BUDGET_S = 10, 120
STARTUP_S = 15.0  # interpreter start and the final write, on top of the probe's own budget


def probe_command(budget_s: int, output: Path) -> list[str]:
    """The public CLI, GEMM and memory benchmarks only, numpy backend (runs anywhere)."""
    return [sys.executable, "-c", "from perfmodel.cli import main; main()", "probe", "--backend", "numpy",
            "--budget-s", str(budget_s), "--only", "gemm,memory", "-o", str(output)]


def run_probe(budget_s: int) -> None:
    """Run the probe with a progress bar; the Cancel button (or leaving the page) stops it."""
    output = Path(tempfile.mkdtemp(prefix="perfmodel-probe-")) / "bundle.json"
    st.button("Cancel probe", key="cal_cancel")  # a click reruns the page, which stops the loop below
    bar = st.progress(0.0, text="probing…")
    proc = subprocess.Popen(probe_command(budget_s, output), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    start = time.monotonic()
    try:
        while proc.poll() is None:
            elapsed = time.monotonic() - start
            if elapsed > budget_s + STARTUP_S:
                proc.terminate()
                break
            bar.progress(min(elapsed / budget_s, 1.0), text=f"probing… {elapsed:.0f} s of {budget_s} s")
            time.sleep(0.25)
    finally:  # the page stopped (Cancel, Stop, another page) or the probe ended: never leave it running
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
    bar.empty()
    if proc.returncode != 0 and not output.is_file():
        lines = (proc.stderr.read() if proc.stderr else "").strip().splitlines()
        st.error(f"probe failed: {lines[-1] if lines else f'exit status {proc.returncode}'}")
        return
    st.session_state[BUNDLE] = str(output)


def source() -> None:
    """Where the bundle comes from: a fresh probe, an upload, or a path."""
    sb = st.sidebar
    sb.header("Probe this machine")
    budget_s = _ui.number(sb, "Budget (s)", "cal_budget_s", 20, MIN_BUDGET_S, MAX_BUDGET_S, 5)
    if sb.button("Run probe", type="primary", key="cal_run"):
        run_probe(budget_s)
    elif st.session_state.get("cal_cancel"):
        st.info("Probe cancelled.")
    sb.header("…or load a bundle")
    upload = sb.file_uploader("Bundle JSON from `perfmodel probe`", type=["json"], key="cal_upload")
    if upload is not None:
        path = Path(tempfile.gettempdir()) / f"perfmodel-upload-{upload.file_id}.json"
        path.write_bytes(upload.getvalue())
        st.session_state[BUNDLE] = str(path)
    typed = _ui.text(sb, "…or bundle path", "cal_path")
    if typed:
        st.session_state[BUNDLE] = typed


@st.cache_data(show_spinner=False)
def fit(path: str, mtime: float, hardware: str | None):
    """Fit a bundle onto a base device: (quality rows, device YAML mapping, GEMM points, fits, spec roof)."""
    result = calibrate_bundle(path, hardware)
    device = pm.load_device(hardware) if hardware else None
    calib = result.device["calibration"]
    spec_peaks = {d: t * 1e12 for d, t in calib["spec_compute_tflops"].items()}
    if device is not None:
        spec_bw = device.mem_bw_bytes_per_s
    else:
        spec_bw = calib.get("spec_bandwidth_gb_s", result.device["memory"]["bandwidth_gb_s"]) * 1e9
    points = gemm_points(load_bundle(path).samples("gemm"), result.fit.stat)
    return result.fit.quality_rows(), result.device, points, dict(result.fit.gemm), spec_peaks, spec_bw


def main() -> None:
    st.title("Calibration")
    st.caption("Measure this machine's GEMMs and memory bandwidth, fit them, and get a calibrated device YAML "
               "(the same steps as `perfmodel probe` then `perfmodel calibrate`).")
    base = _ui.select(st.sidebar, "Base device spec", [THIS_CPU, *device_files()], "cal_base", THIS_CPU)
    source()
    path = st.session_state.get(BUNDLE)
    if not path:
        st.info("Run a short probe or load a bundle in the sidebar.")
        return
    if not Path(path).is_file():
        st.error(f"{path}: file not found; give the bundle JSON written by `perfmodel probe`.")
        return
    try:
        rows, device, points, fits, spec_peaks, spec_bw = fit(path, Path(path).stat().st_mtime,
                                                              None if base == THIS_CPU else base)
    except pm.PerfModelError as exc:
        _ui.error(exc)
        return
    calib = device["calibration"]
    _ui.tiles([("GEMM efficiency", f"{calib['gemm_efficiency'] * 100:.3g} %"),
               ("Bandwidth efficiency", f"{calib['bandwidth_efficiency'] * 100:.3g} %"
                if "bandwidth_efficiency" in calib else "–"),
               ("Kernel overhead", f"{calib['kernel_overhead_us']:.3g} µs")])
    st.caption(f"bundle {calib['bundle_id']} · {calib['backend']} on {calib['device']}, {calib['threads']} threads "
               f"· reference dtype {calib['reference_dtype']}")
    st.plotly_chart(gemm_fit_figure(points, fits, spec_peaks, spec_bw))
    st.subheader("Fit quality")
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    text = yaml.safe_dump(device, sort_keys=False, allow_unicode=True)
    st.download_button("Download calibrated device YAML", text, file_name=f"{device['id']}.yaml",
                       mime="application/x-yaml", key="cal_download")
    with st.expander("Calibrated device YAML"):
        st.code(text, language="yaml")


main()
