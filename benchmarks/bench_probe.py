"""How well the probe keeps to its time budget: the numpy probe at several budgets, elapsed against budget.

Target: a probe finishes within its budget plus 20% (the last point in flight is completed, the bundle
written). Run: `python benchmarks/bench_probe.py [--budgets 3 10 30]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perfmodel.probe import ProbeOptions, run_probe  # noqa: E402

TARGET_OVERRUN = 1.2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[3.0, 10.0, 30.0])
    args = parser.parse_args()
    print(f"{'budget s':>9} {'elapsed s':>10} {'ratio':>6} {'status':>9}  target <= {TARGET_OVERRUN:.1f}x")
    worst = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for budget in args.budgets:
            bundle = run_probe(ProbeOptions(backend="numpy", budget_s=budget, output=Path(folder) / "b.json"))
            ratio = bundle.elapsed_s / budget
            worst = max(worst, ratio)
            print(f"{budget:9.1f} {bundle.elapsed_s:10.2f} {ratio:6.2f} {bundle.status:>9}")
    print(f"worst {worst:.2f}x of budget: {'met' if worst <= TARGET_OVERRUN else 'MISSED'}")
    return 0 if worst <= TARGET_OVERRUN else 1


if __name__ == "__main__":
    raise SystemExit(main())
