"""perfmodel dashboard: `streamlit run dashboard/app.py`.

Thin by design: widgets → perfmodel API → perfmodel.viz. No model logic lives here.
This file is the entry point and the Estimate page; further pages go in dashboard/pages/.
"""

from __future__ import annotations

import warnings

import streamlit as st

import perfmodel as pm
from perfmodel.cost.engine import engine_files
from perfmodel.specs.catalog import device_files, model_files, system_files
from perfmodel.specs.dtypes import DTYPES
from perfmodel.viz import (
    breakdown_figure,
    human_rate,
    human_seconds,
    memory_figure,
    roofline_figure,
)

AUTO = "auto"
DEFAULT_MODEL, DEFAULT_DEVICE = "llama-3.1-8b", "h100-sxm-80gb"


def _index(options: list[str], preferred: str) -> int:
    return options.index(preferred) if preferred in options else 0


def sidebar() -> dict | None:
    """The estimate's arguments from the sidebar widgets, or None when no hardware is chosen."""
    sb = st.sidebar
    sb.header("Workload")
    models = list(model_files())
    model = sb.selectbox("Model", models, index=_index(models, DEFAULT_MODEL), key="model")
    model = sb.text_input("…or model YAML / HF config.json path", key="model_path").strip() or model

    sb.header("Hardware")
    hardware_ids = list(device_files()) + list(system_files())
    hardware = sb.selectbox("Device or system", hardware_ids, index=_index(hardware_ids, DEFAULT_DEVICE),
                            key="hardware")
    hardware = sb.text_input("…or custom device/system YAML path (overrides)", key="hardware_path").strip() \
        or hardware
    engines = list(engine_files())
    engine = sb.selectbox("Engine", engines, index=_index(engines, pm.DEFAULT_ENGINE), key="engine")

    sb.header("Precision")
    dtypes = list(DTYPES)
    compute_dtypes = [name for name, d in DTYPES.items() if not d.weight_only]
    weight_dtype = sb.selectbox("Weights", dtypes, index=_index(dtypes, "bf16"), key="weight_dtype")
    act_dtype = sb.selectbox("Activations", [AUTO, *compute_dtypes], key="act_dtype")
    kv_dtype = sb.selectbox("KV cache", [AUTO, *dtypes], key="kv_dtype")

    sb.header("Batch and parallelism")
    batch = sb.number_input("Batch", min_value=1, value=1, step=1, key="batch")
    input_len = sb.number_input("Input tokens", min_value=1, value=1024, step=128, key="input_len")
    output_len = sb.number_input("Output tokens", min_value=1, value=256, step=64, key="output_len")
    tp = sb.number_input("Tensor parallel (tp)", min_value=1, value=1, step=1, key="tp")
    pp = sb.number_input("Pipeline parallel (pp)", min_value=1, value=1, step=1, key="pp")
    ep = sb.number_input("Expert parallel (ep)", min_value=1, value=1, step=1, key="ep")

    if not hardware:
        return None
    return {
        "model": model, "hardware": hardware, "engine": engine, "weight_dtype": weight_dtype,
        "act_dtype": None if act_dtype == AUTO else act_dtype, "kv_dtype": None if kv_dtype == AUTO else kv_dtype,
        "batch": int(batch), "input_len": int(input_len), "output_len": int(output_len),
        "tp": int(tp), "pp": int(pp), "ep": int(ep),
    }


def run_estimate(args: dict) -> tuple[pm.Estimate, list[str]]:
    """Call the public API, keeping its FitWarning messages to show on the page."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pm.FitWarning)
        est = pm.estimate(**args)
    return est, [str(w.message) for w in caught if issubclass(w.category, pm.FitWarning)]


def show(est: pm.Estimate, fit_messages: list[str], args: dict) -> None:
    """Metrics, status line, figures and the breakdown table of one estimate."""
    cols = st.columns(5)
    def band(value: float) -> str | None:
        low, high = est.band(value)
        return f"likely {human_seconds(low)} – {human_seconds(high)}" if low is not None else None

    cols[0].metric("TTFT", human_seconds(est.ttft_s), help=band(est.ttft_s))
    cols[1].metric("TPOT", human_seconds(est.tpot_s), help=band(est.tpot_s))
    cols[2].metric("E2E latency", human_seconds(est.e2e_s), help=band(est.e2e_s))
    cols[3].metric("Output tokens/s", human_rate(est.output_tokens_per_s, "tok/s"))
    cols[4].metric("Decode tokens/s", human_rate(est.decode_tokens_per_s, "tok/s"))

    prov = est.provenance
    st.caption(f"{'✅ fits' if est.fits else '❌ does not fit'} · bottleneck: **{est.bottleneck}** · "
               f"{prov['model']} on {prov['hardware']} ({prov['device_calibration']}) · "
               f"engine {prov['engine']} ({prov['engine_profile']}) · {prov['precision']} · "
               f"perfmodel {prov['perfmodel_version']}")
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
    st.set_page_config(page_title="perfmodel · Estimate", page_icon="⏱️", layout="wide")
    st.title("LLM inference estimate")
    args = sidebar()
    if args is None:
        st.info("No hardware in the catalog: enter a device YAML path in the sidebar.")
        return
    try:
        est, fit_messages = run_estimate(args)
        show(est, fit_messages, args)
    except pm.PerfModelError as exc:
        st.error(str(exc))


main()
