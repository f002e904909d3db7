"""The capacity planner in a child process of the Capacity planning page, so that Cancel can terminate it.

`python _plan_child.py SPEC.json PLAN.pickle`: prints `progress STAGE DONE TOTAL` lines as configurations are
verified, writes the pickled `pm.Plan`, exits 0. A `PerfModelError` goes to stderr in one line (exit 2).
"""

from __future__ import annotations

import json
import pickle
import sys
import warnings
from pathlib import Path

import perfmodel as pm


def main(argv: list[str]) -> int:
    spec_path, out_path = argv

    def progress(stage: str, done: int, total: int) -> None:
        print(f"progress {stage} {done} {total}", flush=True)

    warnings.simplefilter("ignore")  # stderr carries only the one-line error
    try:
        plan = pm.plan(json.loads(Path(spec_path).read_text()), backend="serial", progress=progress)
    except pm.PerfModelError as exc:
        print((str(exc).strip().splitlines() or [type(exc).__name__])[0], file=sys.stderr)
        return 2
    tmp = Path(out_path).with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(plan))
    tmp.replace(out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
