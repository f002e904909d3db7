"""Serving simulation page: a scenario form, latency CDFs, batch and KV time series, per-replica table.

Thin by design: widgets → perfmodel.simulate → perfmodel.viz figures.
"""

from __future__ import annotations

import streamlit as st

import perfmodel as pm
from perfmodel.viz import human_rate, human_seconds, latency_cdf_figure, replica_table, timeseries_figure

DEFAULT_SCENARIO = "chat"
KEEP = "from scenario"


def form() -> dict:
    """The simulation's arguments from the sidebar widgets."""
    sb = st.sidebar
    sb.header("Scenario")
    ids = list(pm.scenario_files())
    scenario = sb.selectbox("Shipped scenario", ids, index=ids.index(DEFAULT_SCENARIO) if DEFAULT_SCENARIO in ids
                            else 0, key="sim_scenario")
    scenario = sb.text_input("…or scenario YAML path (overrides)", key="sim_path").strip() or scenario
    sb.header("Overrides")
    requests = sb.number_input("Requests", min_value=1, max_value=200_000, value=300, step=100, key="sim_requests")
    rate = sb.number_input("Arrival rate (req/s, 0 = scenario's)", min_value=0.0, value=0.0, step=5.0,
                           key="sim_rate")
    seed = sb.number_input("Seed", min_value=0, value=0, step=1, key="sim_seed")
    replicas = sb.number_input("Replicas (0 = scenario's)", min_value=0, value=0, step=1, key="sim_replicas")
    scheduler = sb.selectbox("Scheduler", [KEEP, *pm.SCHEDULERS], key="sim_scheduler")
    router = sb.selectbox("Router", [KEEP, *pm.ROUTERS], key="sim_router")
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


def show(res: pm.SimResult) -> None:
    """Metrics, CDFs, time series and the per-replica table of one run."""
    s = res.summary
    cols = st.columns(6)
    cols[0].metric("TTFT p50 / p99", f"{human_seconds(s['ttft_s']['p50'])} / {human_seconds(s['ttft_s']['p99'])}")
    cols[1].metric("TPOT p50 / p99", f"{human_seconds(s['tpot_s']['p50'])} / {human_seconds(s['tpot_s']['p99'])}")
    cols[2].metric("Throughput", human_rate(s["throughput"]["output_tokens_per_s"], "tok/s"))
    cols[3].metric("Goodput", f"{s['goodput_requests_per_s']:.3g} req/s")
    cols[4].metric("Preemptions", str(s["preemptions"]))
    cols[5].metric("KV peak", f"{s['kv_peak_utilization']:.0%}")
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
    st.set_page_config(page_title="perfmodel · Serving simulation", page_icon="🚦", layout="wide")
    st.title("Serving simulation")
    args = form()
    try:
        res = pm.simulate(build(args))
    except pm.PerfModelError as exc:
        st.error(str(exc))
        return
    show(res)


main()
