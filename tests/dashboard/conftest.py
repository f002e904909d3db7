"""A small probe bundle whose GEMMs follow an exact roofline (for the Calibration page tests), and the `finish`
fixture: rerun a page until its background job has ended."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from perfmodel.probe import BenchmarkResult, Bundle, Sample, write_bundle

GEMM_PEAK_FLOPS_PER_S, GEMM_BW_BYTES_PER_S = 1e11, 2e10


def _sample(seconds: float, flops: float, nbytes: float, **params: int | str) -> Sample:
    return Sample(kernel="gemm", params=params, flops=flops, bytes=nbytes, times_s=[seconds] * 3, median_s=seconds,
                  p10_s=seconds, p90_s=seconds)


@pytest.fixture(scope="session")
def gemm_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fp32 GEMMs (m × 2048 × 2048) timed at max(FLOPs / 1e11, bytes / 2e10) seconds."""
    samples = []
    for m in (1, 4, 16, 64, 256, 1024, 2048):
        n = k = 2048
        flops, nbytes = 2.0 * m * n * k, 4.0 * (m * k + k * n + m * n)
        seconds = max(flops / GEMM_PEAK_FLOPS_PER_S, nbytes / GEMM_BW_BYTES_PER_S)
        samples.append(_sample(seconds, flops, nbytes, dtype="fp32", m=m, n=n, k=k))
    bundle = Bundle(bundle_id="probe-test", created_utc="2026-01-01T00:00:00+00:00", status="complete",
                    backend="numpy", device="cpu", threads=1, budget_s=10,
                    benchmarks={"gemm": BenchmarkResult(name="gemm", samples=samples)})
    return write_bundle(bundle, tmp_path_factory.mktemp("bundle") / "bundle.json")



def _finish(at, timeout_s: float = 120.0):
    deadline = time.monotonic() + timeout_s
    while at.get("progress"):
        if time.monotonic() > deadline:
            raise AssertionError("the page's job did not end in time")
        time.sleep(0.3)
        at.run()
    return at


@pytest.fixture
def finish():
    """`finish(at)`: rerun an AppTest page until its background job has ended (no progress bar left)."""
    return _finish


@pytest.fixture(scope="session")
def calibrated_yaml(gemm_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The device YAML `perfmodel calibrate` writes for `gemm_bundle` on the epyc-9654 spec."""
    out = tmp_path_factory.mktemp("calibrated") / "epyc-probe.yaml"
    subprocess.run([sys.executable, "-m", "perfmodel.cli", "calibrate", str(gemm_bundle), "-H", "epyc-9654", "-o",
                    str(out)], check=True, capture_output=True, text=True)
    return out
