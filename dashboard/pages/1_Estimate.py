"""Estimate page: one configuration's latency, throughput, memory, roofline and per-operator breakdown.

Thin by design: widgets → perfmodel.estimate → perfmodel.viz.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _ui  # noqa: E402
from _forms import AUTO, DEFAULT_DEVICE, hardware_ids, run_estimate, workload  # noqa: E402

import perfmodel as pm  # noqa: E402
from perfmodel import DTYPES, engine_files  # noqa: E402
from perfmodel.viz import breakdown_figure, human_rate, human_seconds, memory_figure, roofline_figure  # noqa: E402


def sidebar() -> dict | None:
    """The estimate's arguments from the sidebar widgets, or None when no hardware is chosen."""
    sb = st.sidebar
    args = workload(sb)
    sb.header("Hardware")
    hardware = _ui.select(sb, "Device or system", hardware_ids(), "hardware", DEFAULT_DEVICE)
    hardware = _ui.text(sb, "…or custom device/system YAML path (overrides)", "hardware_path") or hardware
    engine = _ui.select(sb, "Engine", list(engine_files()), "engine", pm.DEFAULT_ENGINE)
    sb.header("Precision")
    dtypes = list(DTYPES)
    compute_dtypes = [name for name, d in DTYPES.items() if not d.weight_only]
    weight_dtype = _ui.select(sb, "Weights", dtypes, "weight_dtype", "bf16")
    act_dtype = _ui.select(sb, "Activations", [AUTO, *compute_dtypes], "act_dtype", AUTO)
    kv_dtype = _ui.select(sb, "KV cache", [AUTO, *dtypes], "kv_dtype", AUTO)
    if not hardware:
        return None
    return {**args, "hardware": hardware, "engine": engine, "weight_dtype": weight_dtype,
            "act_dtype": None if act_dtype == AUTO else act_dtype, "kv_dtype": None if kv_dtype == AUTO else kv_dtype}


def status_line(est: pm.Estimate) -> str:
    prov = est.provenance
    return (f"{_ui.FITS if est.fits else _ui.DOES_NOT_FIT} · bottleneck: **{est.bottleneck}** · "
            f"{prov['model']} on {prov['hardware']} ({prov['device_calibration']}) · "
            f"engine {prov['engine']} ({prov['engine_profile']}) · {prov['precision']} · "
            f"perfmodel {prov['perfmodel_version']}")


def show(est: pm.Estimate, fit_messages: list[str], args: dict) -> None:
    """Metrics, status line, figures and the breakdown table of one estimate."""
    def band(value: float) -> str | None:
        low, high = est.band(value)
        return f"likely {human_seconds(low)} – {human_seconds(high)}" if low is not None else None

    _ui.tiles([("TTFT", human_seconds(est.ttft_s)), ("TPOT", human_seconds(est.tpot_s)),
               ("E2E latency", human_seconds(est.e2e_s)),
               ("Output tokens/s", human_rate(est.output_tokens_per_s, "tok/s")),
               ("Decode tokens/s", human_rate(est.decode_tokens_per_s, "tok/s"))], per_row=3,
              help={"TTFT": band(est.ttft_s), "TPOT": band(est.tpot_s), "E2E latency": band(est.e2e_s)})
    st.caption(status_line(est))
    rel = est.uncertainty["rel"]
    st.caption(f"uncertainty: {f'±{rel:.0%} — ' if rel is not None else ''}{est.uncertainty['basis']}")
    if not est.fits:
        st.warning(" ".join(fit_messages) or "This configuration does not fit in device memory.")

    device = pm.resolve_system(args["hardware"], args["tp"] * args["pp"]).device
    st.plotly_chart(memory_figure(est))
    st.plotly_chart(roofline_figure(est, device, pm.load_engine(args["engine"])))
    st.plotly_chart(breakdown_figure(est))
    st.subheader("Per-operator breakdown")
    st.dataframe(est.breakdown, hide_index=True)


def main() -> None:
    st.title("LLM inference estimate")
    args = sidebar()
    if args is None:
        st.info("No hardware in the catalog: enter a device YAML path in the sidebar.")
        return
    try:
        est, fit_messages = run_estimate(args)
        show(est, fit_messages, args)
    except pm.PerfModelError as exc:
        _ui.error(exc)


main()
