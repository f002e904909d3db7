"""Planner speed: stage-1 screen rate, a shipped plan end to end, Ray overhead versus the process pool.

    PYTHONPATH=$PWD python benchmarks/bench_plan.py [--plan chat-70b] [--workers 2] [--requests 5000] [--ray]

Figures are wall-clock on the machine it runs on; the simulation cache is disabled so every run simulates.
"""

from __future__ import annotations

import argparse
import os
import time

import perfmodel as pm
from perfmodel.plan import load_plan_spec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plan", default="chat-70b")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--requests", type=int, default=None, help="final simulation requests (default: the spec's)")
    ap.add_argument("--ray", action="store_true", help="also time the Ray backend")
    ap.add_argument("--screen-repeats", type=int, default=5, help="stage-1 timings (best and median reported)")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (CPUs: {os.cpu_count()})")
    pm.plan(args.plan, verify=False)  # warm the catalogs
    runs = []
    for _ in range(args.screen_repeats):
        t = time.perf_counter()
        screened = pm.plan(args.plan, verify=False)
        runs.append(time.perf_counter() - t)
    n = screened.stats["candidates"]
    dt, med = min(runs), sorted(runs)[len(runs) // 2]
    print(f"stage 1: {n} candidates in {dt:.3f} s = {n / dt:,.0f} candidates/s (best of {len(runs)}; "
          f"median {med:.3f} s = {n / med:,.0f}/s)")
    spec = load_plan_spec(args.plan)
    if args.requests:
        spec = spec.model_copy(update={"verify": spec.verify.model_copy(update={"requests": args.requests})})
    timings = {}

    def timed(label: str, backend: str) -> None:
        t = time.perf_counter()
        p = pm.plan(spec, backend=backend, workers=args.workers, cache_dir=False)
        timings[label] = time.perf_counter() - t
        print(f"{label}: {p.stats['candidates']} candidates, {p.stats['verified']} simulated "
              f"({spec.verify.requests} requests each at the planned rate) in {timings[label]:.1f} s "
              f"(load average now {os.getloadavg()[0]:.2f})")
        best = p.best
        if best is not None:
            print(f"  best: {int(best['total_gpus'])} x {best['device']} {best['mode']} tp={best['tp']} "
                  f"${best['cost_per_hour_usd']:.2f}/h")

    timed("local", "local")
    if args.ray:
        timed("ray, instance started by the plan", "ray")
        import ray

        ray.init(num_cpus=args.workers, log_to_driver=False, include_dashboard=False)
        timed("ray, warm-up on a running instance", "ray")
        timed("ray, running instance", "ray")
        ray.shutdown()
        for label in ("ray, instance started by the plan", "ray, running instance"):
            print(f"Ray overhead vs process pool ({label.removeprefix('ray, ')}): "
                  f"{timings[label] / timings['local'] - 1:+.0%}")

if __name__ == "__main__":
    main()
