"""Calibration page: run a short, cancellable probe of this machine or load a probe bundle and fit it, or load a
calibrated device YAML; draw the fitted curves against the datasheet roofline and download the device YAML.

Thin by design: `perfmodel probe` (a child process in a background job, so it can be cancelled) →
perfmodel.calibrate_bundle → perfmodel.viz (gemm_fit_figure; calibrated_gemm_curves for a loaded YAML).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _jobs  # noqa: E402
import _ui  # noqa: E402

import perfmodel as pm  # noqa: E402
from perfmodel.viz import calibrated_gemm_curves, calibration_quality, gemm_fit_figure, gemm_points  # noqa: E402

THIS_CPU = "this CPU (detected)"
BUNDLE = "cal_bundle_path"  # session state: the bundle the page shows
SOURCES = ("probe or bundle", "calibrated device YAML")
JOB = "probe"
MIN_BUDGET_S, MAX_BUDGET_S = 10, 120
STARTUP_S = 15.0  # interpreter start and the final write, on top of the probe's own budget
MAX_YAML_BYTES = 5_000_000


def probe_command(budget_s: int, output: Path) -> list[str]:
    """The public CLI, GEMM and memory benchmarks only, numpy backend (runs anywhere)."""
    return [sys.executable, "-m", "perfmodel.cli", "probe", "--backend", "numpy", "--budget-s", str(budget_s),
            "--only", "gemm,memory", "-o", str(output)]


def run_probe(budget_s: int, job: _jobs.Job) -> str:
    """The job's work: the probe in a child process, its progress the time spent over the budget."""
    output = Path(tempfile.mkdtemp(prefix="perfmodel-probe-")) / "bundle.json"
    rc = _jobs.run_subprocess(
        job, probe_command(budget_s, output), limit_s=budget_s + STARTUP_S,
        on_tick=lambda t: job.report(min(t / budget_s, 1.0), f"probing… {min(t, budget_s):.0f} s of {budget_s} s"))
    if rc != 0 and not output.is_file():
        raise pm.PerfModelError(f"probe failed: {job.error or f'exit status {rc}'}")
    return str(output)


def probe_panel(budget_s: int) -> None:
    """Start, watch and collect the probe job; its bundle becomes the one the page shows."""
    if st.sidebar.button("Run probe", type="primary", key="cal_run"):
        _jobs.start(JOB, budget_s, lambda j: run_probe(budget_s, j), text="probing…")
    job = _jobs.get(JOB)
    if job is None:
        return
    if job.running:
        _jobs.watch(JOB, "Cancel probe")
    elif job.state == "cancelled":
        st.info("Probe cancelled.")
    elif job.state == "failed":
        _ui.error(RuntimeError(job.error))
    elif job.state == "done" and not job.taken:
        st.session_state[BUNDLE] = job.result
        job.taken = True


def bundle_source() -> None:
    """Where the bundle comes from: a fresh probe, an upload, or a path."""
    sb = st.sidebar
    sb.header("Probe this machine")
    budget_s = _ui.number(sb, "Budget (s)", "cal_budget_s", 20, MIN_BUDGET_S, MAX_BUDGET_S, 5)
    probe_panel(int(budget_s))
    sb.header("…or load a bundle")
    upload = sb.file_uploader("Bundle JSON from `perfmodel probe`", type=["json"], key="cal_upload")
    if upload is not None:
        path = Path(tempfile.gettempdir()) / f"perfmodel-upload-{upload.file_id}.json"
        path.write_bytes(upload.getvalue())
        st.session_state[BUNDLE] = str(path)
    typed = _ui.text(sb, "…or bundle path", "cal_path")
    if typed:
        st.session_state[BUNDLE] = typed


def device_source() -> str | None:
    """The calibrated device YAML to show: an upload, or a path."""
    sb = st.sidebar
    sb.header("Load a calibrated device")
    upload = sb.file_uploader("Device YAML from `perfmodel calibrate`", type=["yaml", "yml"], key="cal_device_upload")
    if upload is not None:
        if upload.size > MAX_YAML_BYTES:
            st.error(f"{upload.name}: {upload.size:,} bytes; a device YAML is far smaller, check the file")
            return None
        path = Path(tempfile.gettempdir()) / f"perfmodel-upload-{upload.file_id}.yaml"
        path.write_bytes(upload.getvalue())
        return str(path)
    return _ui.text(sb, "…or device YAML path", "cal_device_path") or None


@st.cache_data(show_spinner=False)
def fit(path: str, mtime: float, hardware: str | None):
    """Fit a bundle onto a base device: (quality rows, device YAML mapping, GEMM points, fits, spec roof)."""
    result = pm.calibrate_bundle(path, hardware)
    device = pm.load_device(hardware) if hardware else None
    calib = result.device["calibration"]
    spec_peaks = {d: t * 1e12 for d, t in calib["spec_compute_tflops"].items()}
    if device is not None:
        spec_bw = device.mem_bw_bytes_per_s
    else:
        spec_bw = calib.get("spec_bandwidth_gb_s", result.device["memory"]["bandwidth_gb_s"]) * 1e9
    points = gemm_points(pm.load_bundle(path).samples("gemm"), result.fit.stat)
    return result.fit.quality_rows(), result.device, points, dict(result.fit.gemm), spec_peaks, spec_bw


@st.cache_data(show_spinner=False)
def read_device(path: str, mtime: float) -> tuple[dict, str]:
    """A calibrated device YAML: (its mapping, its text). Checked as a device spec and for fitted curves."""
    pm.load_device(path)  # a malformed device is a SpecError naming the file and field
    text = Path(path).read_text()
    data = yaml.safe_load(text)
    calibrated_gemm_curves(data, path)
    return data, text


def show(device: dict, text: str, points: pd.DataFrame, fits: dict, spec_peaks: dict, spec_bw: float,
         quality: pd.DataFrame) -> None:
    """Tiles, the GEMM figure, the fit-quality table and the download of one calibrated device."""
    calib = device["calibration"]
    bw = calib.get("bandwidth_efficiency")
    _ui.tiles([("GEMM efficiency", f"{calib['gemm_efficiency'] * 100:.3g} %"),
               ("Bandwidth efficiency", f"{bw * 100:.3g} %" if bw is not None else "–"),
               ("Kernel overhead", f"{calib.get('kernel_overhead_us', 0.0):.3g} µs")])
    st.caption(f"bundle {calib.get('bundle_id', '?')} · {calib.get('backend', '?')} on {calib.get('device', '?')}, "
               f"{calib.get('threads', '?')} threads · reference dtype {calib.get('reference_dtype', '?')}")
    st.plotly_chart(gemm_fit_figure(points, fits, spec_peaks, spec_bw))
    st.subheader("Fit quality")
    st.dataframe(quality, hide_index=True)
    st.download_button("Download calibrated device YAML", text, file_name=f"{device.get('id', 'device')}.yaml",
                       mime="application/x-yaml", key="cal_download")
    with st.expander("Calibrated device YAML"):
        st.code(text, language="yaml")


def file_mtime(path: str, what: str) -> float | None:
    """The file's modification time (the cache key of its fit), or None after saying it is missing."""
    if not Path(path).is_file():
        st.error(f"{path}: file not found; give {what}.")
        return None
    return Path(path).stat().st_mtime


def show_device_file() -> None:
    """A calibrated device YAML written earlier: its fitted curves, quality and text."""
    path = device_source()
    if not path:
        st.info("Upload or give the path of a device YAML written by `perfmodel calibrate` in the sidebar.")
        return
    mtime = file_mtime(path, "a device YAML written by `perfmodel calibrate`")
    if mtime is None:
        return
    try:
        data, text = read_device(path, mtime)
        fits, spec_peaks, spec_bw = calibrated_gemm_curves(data, path)
        quality = calibration_quality(data, path)
    except (pm.PerfModelError, yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        _ui.error(exc)
        return
    st.caption(f"{path} · fitted curves only: the measured points stay in the probe bundle")
    show(data, text, gemm_points([]), fits, spec_peaks, spec_bw, quality)


def show_bundle_fit() -> None:
    """A probe bundle (fresh, uploaded or by path) fitted onto a base device spec."""
    base = _ui.select(st.sidebar, "Base device spec", [THIS_CPU, *pm.device_files()], "cal_base", THIS_CPU)
    bundle_source()
    path = st.session_state.get(BUNDLE)
    if not path:
        st.info("Run a short probe or load a bundle in the sidebar.")
        return
    mtime = file_mtime(path, "the bundle JSON written by `perfmodel probe`")
    if mtime is None:
        return
    try:
        rows, device, points, fits, spec_peaks, spec_bw = fit(path, mtime, None if base == THIS_CPU else base)
    except pm.PerfModelError as exc:
        _ui.error(exc)
        return
    text = yaml.safe_dump(device, sort_keys=False, allow_unicode=True)
    show(device, text, points, fits, spec_peaks, spec_bw, pd.DataFrame(rows))


def main() -> None:
    st.title("Calibration")
    st.caption("Measure this machine's GEMMs and memory bandwidth, fit them, and get a calibrated device YAML "
               "(the same steps as `perfmodel probe` then `perfmodel calibrate`), or load one written earlier.")
    source = _ui.select(st.sidebar, "Show", SOURCES, "cal_source", SOURCES[0])
    if source == SOURCES[1]:
        show_device_file()
    else:
        show_bundle_fit()


main()
