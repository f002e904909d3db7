"""Start-up time of the command line: `--help`, `--version`, a usage error and a one-line user error.

Runs each command as a fresh process (best of --repeat runs, wall seconds) and prints a table; the target
is under 0.3 s for help and one-line errors. Run: `python benchmarks/bench_startup.py [--repeat 5]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "perfmodel --help": ["--help"],
    "perfmodel --version": ["--version"],
    "perfmodel tts cost --help": ["tts", "cost", "--help"],
    "usage error (missing --model)": ["estimate", "--hardware", "h100-sxm-80gb"],
    "bad number (--batch abc)": ["estimate", "-m", "x", "-H", "y", "--input-len", "1", "--output-len", "1",
                                 "--batch", "abc"],
    "output folder missing (--trace)": ["simulate", "chat", "--trace", "/no/such/dir/t.json"],
}


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best_of(args: list[str], repeat: int) -> tuple[float, float, int]:
    """(best wall s, best CPU s, exit code) of `repeat` runs; CPU time (user + system) is what a loaded
    machine distorts least."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times, cpus, code = [], [], 0
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), _children_cpu_s()
        proc = subprocess.run([sys.executable, "-c", "from perfmodel.cli import main; main()", *args],
                              env=env, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
        cpus.append(_children_cpu_s() - c0)
        code = proc.returncode
    return min(times), min(cpus), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    opts = parser.parse_args()
    best_of(["--version"], 1)  # warm the file cache
    interpreter = min(_time_interpreter() for _ in range(opts.repeat))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'command':40} {'wall s':>8} {'CPU s':>8} {'exit':>5}")
    print(f"{'python -c pass (interpreter alone)':40} {interpreter:8.3f} {'':>8} {0:5d}")
    for label, args in CASES.items():
        seconds, cpu_s, code = best_of(args, opts.repeat)
        print(f"{label:40} {seconds:8.3f} {cpu_s:8.3f} {code:5d}")


def _time_interpreter() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
