"""Inputs whose memory would grow with a number: refused with a message, or computed in bounded memory.

Each case runs the real entry point in a child process capped at 3 GiB of address space and 120 s;
an unbounded allocation dies there (MemoryError or a kill) instead of taking the machine down.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT_BYTES = 3 * 2**30
M = ["-m", "qwen3-0.6b", "-H", "h100-sxm-80gb"]
CASES = {
    "estimate output 1e9 (refused)": (["estimate", *M, "--input-len", "16", "--output-len", "1000000000"], 2),
    "estimate output 1e8 (sampled)": (["estimate", *M, "--input-len", "16", "--output-len", "100000000",
                                       "--json"], 0),
    "tts gen-len 1e8 (refused)": (["tts", "cost", *M, "--output-len", "100000000", "--json"], 2),
    "tts every step": (["tts", "cost", *M, "--output-len", "200000", "--resolution", "0", "--json"], 0),
    "simulate 1e10 requests (refused)": (["simulate", "chat", "-n", "10000000000"], 2),
}


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
@pytest.mark.parametrize("case", sorted(CASES))
def test_bounded_memory(case: str) -> None:
    args, code = CASES[case]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", "from perfmodel.cli import main; main()", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, preexec_fn=_limit)
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == code, (proc.returncode, proc.stderr[-1000:])
    if code == 2:
        assert proc.stderr.strip().startswith("error:") and "limit" in proc.stderr, proc.stderr
