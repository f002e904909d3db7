"""Compare page: 2–4 devices, engines or precisions side by side on one workload.

Thin by design: widgets → perfmodel.estimate (once per configuration) → perfmodel.viz.compare.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _ui  # noqa: E402
from _forms import DEFAULT_DEVICE, hardware_ids, run_estimate, workload  # noqa: E402

import perfmodel as pm  # noqa: E402
from perfmodel import DTYPES, engine_files  # noqa: E402
from perfmodel.viz import (  # noqa: E402
    compare_memory_figure,
    compare_metrics_figure,
    compare_roofline_figure,
    compare_table,
    human_rate,
    human_seconds,
)

DIMENSIONS = ("devices", "engines", "precisions")
DEFAULTS = {"devices": [DEFAULT_DEVICE, "a100-sxm-80gb"], "engines": [pm.DEFAULT_ENGINE, "vllm"],
            "precisions": ["bf16", "fp8"]}
MIN_CONFIGS, MAX_CONFIGS = 2, 4


def sidebar() -> tuple[dict, str, list[str]]:
    """The shared workload and fixed choices, which dimension varies, and its 2–4 values."""
    sb = st.sidebar
    sb.header("Compare")
    dimension = _ui.select(sb, "Side by side", DIMENSIONS, "cmp_dimension", "devices")
    options = {"devices": hardware_ids(), "engines": list(engine_files()), "precisions": list(DTYPES)}[dimension]
    chosen = _ui.multi(sb, f"{dimension.capitalize()} ({MIN_CONFIGS}–{MAX_CONFIGS})", options,
                       f"cmp_{dimension}", DEFAULTS[dimension], max_selections=MAX_CONFIGS)
    args = workload(sb)
    sb.header("Fixed choices")
    if dimension != "devices":
        args["hardware"] = _ui.select(sb, "Device or system", hardware_ids(), "hardware", DEFAULT_DEVICE)
    if dimension != "engines":
        args["engine"] = _ui.select(sb, "Engine", list(engine_files()), "engine", pm.DEFAULT_ENGINE)
    if dimension != "precisions":
        args["weight_dtype"] = _ui.select(sb, "Weights", list(DTYPES), "weight_dtype", "bf16")
    return args, dimension, chosen


def configurations(args: dict, dimension: str, chosen: list[str]) -> list[dict]:
    """One estimate's arguments per chosen value; a precision sets weights (activations and KV follow)."""
    field = {"devices": "hardware", "engines": "engine", "precisions": "weight_dtype"}[dimension]
    return [{**args, field: value} for value in chosen]


def main() -> None:
    st.title("Compare configurations")
    args, dimension, chosen = sidebar()
    if len(chosen) < MIN_CONFIGS:
        st.info(f"Pick {MIN_CONFIGS}–{MAX_CONFIGS} {dimension} in the sidebar.")
        return
    estimates, warnings_ = [], []
    try:
        for cfg in configurations(args, dimension, chosen):
            est, messages = run_estimate(cfg)
            estimates.append(est)
            warnings_ += [f"{cfg['hardware']} / {cfg['engine']} / {cfg['weight_dtype']}: {m}" for m in messages]
    except pm.PerfModelError as exc:
        _ui.error(exc)
        return
    table = compare_table(estimates, chosen)
    for label, est in zip(chosen, estimates, strict=True):
        st.markdown(f"**{label}** · {_ui.FITS if est.fits else _ui.DOES_NOT_FIT} · bottleneck {est.bottleneck}")
        _ui.tiles([("TTFT", human_seconds(est.ttft_s)), ("TPOT", human_seconds(est.tpot_s)),
                   ("E2E latency", human_seconds(est.e2e_s)),
                   ("Output tokens/s", human_rate(est.output_tokens_per_s, "tok/s"))], per_row=4)
    for message in warnings_:
        st.warning(message.splitlines()[0])
    st.plotly_chart(compare_metrics_figure(table))
    st.plotly_chart(compare_memory_figure(estimates, chosen))
    st.plotly_chart(compare_roofline_figure(estimates, chosen))
    st.dataframe(table, hide_index=True)


main()
