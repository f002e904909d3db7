"""Test-time scaling page: cost of strategies vs N and length, eFLOPs vs FLOPs, accuracy frontier.

Thin by design: widgets → perfmodel API (perfmodel.tts) → perfmodel.viz.tts figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _ui  # noqa: E402

import perfmodel as pm  # noqa: E402
from perfmodel import (  # noqa: E402
    BUDGET_UNITS,
    SWEEP_STRATEGIES,
    attention_from_options,
    cost_table,
    device_files,
    frontier,
    model_files,
)
from perfmodel.viz import (  # noqa: E402
    coinciding_series,
    cost_vs_length_figure,
    cost_vs_n_figure,
    eflops_vs_flops_figure,
    frontier_figure,
    time_split_figure,
)

EXAMPLE_TRIALS = Path(__file__).resolve().parents[2] / "workloads" / "tts" / "trials_synthetic.csv"
DEFAULT_MODELS = ["qwen3-0.6b", "qwen3-8b"]
METRICS = {"eFLOPs": "eflops", "FLOPs": "flops", "latency (s)": "latency_s", "dollars": "cost_usd",
           "energy (J)": "energy_j"}
N_VALUES = (1, 2, 4, 8, 16, 32)
GEN_LENS = (1024, 4096, 16384, 32768)
MAX_MODELS, MAX_PROMPT_LEN, MAX_KV_BUDGET = 6, 131_072, 131_072


def sidebar() -> dict:
    """The page's arguments from the sidebar widgets."""
    sb = st.sidebar
    models = list(model_files())
    chosen = _ui.multi(sb, "Models", models, "tts_models", DEFAULT_MODELS, max_selections=MAX_MODELS)
    device = _ui.select(sb, "Device", list(device_files()), "tts_device", "h100-sxm-80gb")
    strategies = _ui.multi(sb, "Strategies", list(SWEEP_STRATEGIES), "tts_strategies", ["best-of-n", "first-finish"])
    metric = _ui.select(sb, "Cost metric", list(METRICS), "tts_metric")
    gen_len = _ui.slider(sb, "Generation length (cost vs N)", GEN_LENS, "tts_gen_len", 16384)
    n = _ui.slider(sb, "Samples N (cost vs length)", N_VALUES, "tts_n", 8)
    prompt_len = _ui.number(sb, "Prompt tokens", "tts_prompt_len", 512, 1, MAX_PROMPT_LEN, 128)
    sparse = _ui.select(sb, "Attention", ["none", "window", "topk", "block-topk"], "tts_sparse")
    kv_budget = _ui.number(sb, "KV budget (sparse)", "tts_kv_budget", 2048, 1, MAX_KV_BUDGET, 256)
    trials = _ui.text(sb, "Trials CSV (frontier)", "tts_trials", str(EXAMPLE_TRIALS))
    unit = _ui.select(sb, "Frontier budget unit", list(BUDGET_UNITS), "tts_frontier_unit")
    return {"models": chosen, "device": device, "strategies": strategies, "metric": METRICS[metric],
            "gen_len": int(gen_len), "n": int(n), "prompt_len": int(prompt_len), "sparse": sparse,
            "kv_budget": int(kv_budget), "trials": trials, "unit": unit}


@st.cache_data(show_spinner=False)
def sweeps(models: tuple, device: str, strategies: tuple, gen_len: int, n: int, prompt_len: int, sparse: str,
           kv_budget: int):
    """Cost vs N (at gen_len) and cost vs length (at N), dense and the chosen sparse variant."""
    attentions = [attention_from_options("none")]
    if sparse != "none":
        attentions.append(attention_from_options(sparse, kv_budget=kv_budget, local_window=min(128, kv_budget)))
    by_n = cost_table(models, device, strategies=strategies, n_values=N_VALUES, gen_lens=(gen_len,),
                      prompt_len=prompt_len, attentions=attentions)
    by_len = cost_table(models, device, strategies=strategies, n_values=(n,), gen_lens=GEN_LENS,
                        prompt_len=prompt_len, attentions=attentions)
    return by_n, by_len


@st.cache_data(show_spinner=False)
def frontier_tables(trials: str, device: str):
    """Frontier over every model in the trials, on a compact grid (N up to 16, four budgets)."""
    result = frontier(trials, device, n_values=(1, 2, 4, 8, 16),
                      length_budgets=(4096, 8192, 16384, 32768))
    return result.points, result.frontiers, result.thresholds


def main() -> None:
    st.title("Test-time scaling")
    st.caption("Cost of a solved task: FLOPs, eFLOPs (Kinetics: FLOPs + I·bytes), seconds, joules and dollars, "
               "from the same cost core as every other estimate.")
    args = sidebar()
    if not args["models"] or not args["strategies"]:
        st.info("Pick at least one model and one strategy in the sidebar.")
        return
    try:
        by_n, by_len = sweeps(tuple(args["models"]), args["device"], tuple(args["strategies"]), args["gen_len"],
                              args["n"], args["prompt_len"], args["sparse"], args["kv_budget"])
        fig_n = cost_vs_n_figure(by_n, args["metric"])
        st.plotly_chart(fig_n)
        same = coinciding_series(fig_n)
        if same:
            st.caption("Overlapping lines are drawn dotted with open markers: " + "; ".join(
                f"**{a}** = **{b}**" for a, b in same) + ". At fixed generation lengths every sample ends on the "
                "same step, so stopping at the first finished sample costs what running all N does.")
        st.plotly_chart(cost_vs_length_figure(by_len, args["metric"]))
        st.plotly_chart(eflops_vs_flops_figure(by_n))
        st.plotly_chart(time_split_figure(by_len))
        st.subheader("Accuracy versus cost")
        if not Path(args["trials"]).is_file():
            st.warning(f"{args['trials']}: file not found; give a trials CSV to draw the frontier.")
            return
        points, fronts, thresholds = frontier_tables(args["trials"], args["device"])
        cost_col = BUDGET_UNITS[args["unit"]]
        st.plotly_chart(frontier_figure(points, fronts[args["unit"]], cost_col))
        threshold = thresholds[args["unit"]]
        if threshold:
            st.caption(f"Size threshold ({args['unit']}): **{threshold['model']}** — above it, spending on "
                       "test-time compute beats a bigger model.")
        st.dataframe(fronts[args["unit"]][["budget", "accuracy", "model", "strategy", "n", "length_budget"]],
                     hide_index=True)
    except pm.PerfModelError as exc:
        _ui.error(exc)


main()
