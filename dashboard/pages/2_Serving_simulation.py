"""Serving simulation page: a scenario form, latency CDFs, batch and KV time series, per-replica table.

Thin by design: widgets → perfmodel.simulate (in a background job: progress bar, Cancel) → perfmodel.viz figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _jobs  # noqa: E402
import _ui  # noqa: E402

import perfmodel as pm  # noqa: E402
from perfmodel.viz import human_rate, human_seconds, latency_cdf_figure, replica_table, timeseries_figure  # noqa: E402

DEFAULT_SCENARIO = "chat"
KEEP = "from scenario"
# Bounds keep one run to seconds on a shared server (the simulator's cost grows with requests × replicas).
MAX_REQUESTS, MAX_RATE, MAX_REPLICAS = 5_000, 10_000.0, 64


def form() -> dict:
    """The simulation's arguments from the sidebar widgets."""
    sb = st.sidebar
    sb.header("Scenario")
    scenario = _ui.select(sb, "Shipped scenario", list(pm.scenario_files()), "sim_scenario", DEFAULT_SCENARIO)
    scenario = _ui.text(sb, "…or scenario YAML path (overrides)", "sim_path") or scenario
    sb.header("Overrides")
    requests = _ui.number(sb, "Requests", "sim_requests", 300, 1, MAX_REQUESTS, 100)
    rate = _ui.number(sb, "Arrival rate (req/s, 0 = scenario's)", "sim_rate", 0.0, 0.0, MAX_RATE, 5.0)
    seed = _ui.number(sb, "Seed", "sim_seed", 0, 0, 2**31 - 1, 1)
    replicas = _ui.number(sb, "Replicas (0 = scenario's)", "sim_replicas", 0, 0, MAX_REPLICAS, 1)
    scheduler = _ui.select(sb, "Scheduler", [KEEP, *pm.SCHEDULERS], "sim_scheduler", KEEP)
    router = _ui.select(sb, "Router", [KEEP, *pm.ROUTERS], "sim_router", KEEP)
    return {"scenario": scenario, "requests": int(requests), "rate": float(rate) or None, "seed": int(seed),
            "replicas": int(replicas) or None, "scheduler": None if scheduler == KEEP else scheduler,
            "router": None if router == KEEP else router}


def build(args: dict) -> pm.Scenario:
    """The scenario with the form's overrides applied."""
    sc = pm.load_scenario(args["scenario"]).with_overrides(requests=args["requests"], rate=args["rate"],
                                                        seed=args["seed"])
    update = {}
    if args["replicas"]:
        update["replicas"] = args["replicas"]
    if args["scheduler"]:
        update["scheduler"] = sc.scheduler.model_copy(update={"name": args["scheduler"]})
    if args["router"]:
        update["router"] = args["router"]
    return sc.model_copy(update=update) if update else sc


JOB = "sim"
LAST = "sim_last_key"  # session state: the key of the last result this session showed


def simulate(scenario: pm.Scenario, job: _jobs.Job) -> pm.SimResult:
    """The job's work: the simulation, reporting finished requests (Cancel stops it at the next report)."""
    return pm.simulate(scenario, progress=lambda done, total: job.update(
        done / total, f"simulating… {done:,} of {total:,} requests done"))


def show(res: pm.SimResult) -> None:
    """Metrics, CDFs, time series and the per-replica table of one run."""
    s = res.summary
    _ui.tiles([("TTFT p50 / p99", f"{human_seconds(s['ttft_s']['p50'])} / {human_seconds(s['ttft_s']['p99'])}"),
               ("TPOT p50 / p99", f"{human_seconds(s['tpot_s']['p50'])} / {human_seconds(s['tpot_s']['p99'])}"),
               ("Throughput", human_rate(s["throughput"]["output_tokens_per_s"], "tok/s")),
               ("Goodput", f"{s['goodput_requests_per_s']:.3g} req/s"), ("Preemptions", str(s["preemptions"])),
               ("KV peak", f"{s['kv_peak_utilization']:.0%}")], per_row=3)
    st.caption(f"{s['completed']}/{s['requests']} completed, {s['rejected']} rejected, "
               f"{s['duration_s']:.1f} s simulated in {s['simulator']['wall_s']:.2f} s "
               f"({s['simulator']['steps']:,} engine steps, {s['simulator']['step_cost_calls']} step_cost calls)")
    left, right = st.columns(2)
    left.plotly_chart(latency_cdf_figure(res, "ttft_s"))
    right.plotly_chart(latency_cdf_figure(res, "tpot_s"))
    left.plotly_chart(timeseries_figure(res, "batch_size"))
    right.plotly_chart(timeseries_figure(res, "kv_utilization"))
    st.subheader("Replicas")
    st.dataframe(replica_table(res), hide_index=True)


def main() -> None:
    st.title("Serving simulation")
    args = form()
    path = Path(args["scenario"])
    # one simulation per distinct form (seeded, so deterministic); the mtime re-runs it when a YAML file changes
    key = (tuple(sorted(args.items())), path.stat().st_mtime if path.is_file() else None)
    res = _jobs.recall(JOB, key)
    job = _jobs.get(JOB)
    if res is None and (job is None or job.key != key):
        try:
            scenario = build(args)
        except pm.PerfModelError as exc:
            _ui.error(exc)
            return
        job = _jobs.start(JOB, key, lambda j: simulate(scenario, j), text="simulating…")
    if res is None:
        if job.running:
            _jobs.watch(JOB, "Cancel simulation")
        elif job.state == "cancelled":
            st.info("Simulation cancelled. Change an input, or press *Run again*, to simulate.")
            if st.button("Run again", key="sim_again"):
                _jobs.start(JOB, key, lambda j: simulate(build(args), j), text="simulating…")
                st.rerun()
        elif job.state == "failed":
            _ui.error(RuntimeError(job.error))
            return
        else:
            res = job.result
    if res is not None:
        st.session_state[LAST] = key
        show(res)
        return
    last = _jobs.recall(JOB, st.session_state.get(LAST))
    if last is not None:  # keep what was shown until the new run ends
        st.caption("The previous run, until this one ends:")
        show(last)


main()
