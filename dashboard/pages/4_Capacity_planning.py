"""Capacity planning page: a plan spec (shipped, uploaded or edited), the ranked table, Pareto charts,
why rejected families were rejected, and downloads of every export.

Thin by design: widgets → perfmodel.plan → plotly figures of its table.
"""

from __future__ import annotations

import io
import sys
import tempfile
import zipfile
from pathlib import Path

import plotly.express as px
import streamlit as st
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _ui  # noqa: E402

import perfmodel as pm  # noqa: E402
from perfmodel import load_plan_spec  # noqa: E402

DEFAULT_PLAN = "chat-70b"


def spec_form() -> dict:
    """The spec as editable YAML (from a shipped plan or an upload) plus the stage-2 settings."""
    sb = st.sidebar
    sb.header("Plan spec")
    shipped = pm.plan_files()
    ids = list(shipped)
    name = _ui.select(sb, "Shipped plan", ids, "plan_id", DEFAULT_PLAN)
    upload = sb.file_uploader("…or upload a plan YAML", type=["yaml", "yml"], key="plan_upload")
    text = upload.getvalue().decode() if upload is not None else shipped[name].read_text()
    text = st.text_area("Spec (YAML; keys documented in docs/planner.md)", text, height=260, key=f"plan_text_{name}")
    top = _ui.number(sb, "Configurations to simulate (top K)", "plan_top", 3, 0, 50, 1)
    requests = _ui.number(sb, "Requests per final simulation", "plan_requests", 300, 50, 20000, 50)
    data = yaml.safe_load(text) or {}
    data.setdefault("name", name)
    verify = dict(data.get("verify") or {})
    verify.update({"top_k": int(top), "requests": int(requests),
                   "bisect_requests": min(int(verify.get("bisect_requests", 150)), int(requests))})
    data["verify"] = verify
    return data


def downloads(plan: pm.Plan) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = plan.export(tmp)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for p in paths:
                zf.write(p, Path(p).name)
        st.download_button("Download every export (zip)", buf.getvalue(), file_name=f"{plan.spec.name}.zip")
        cols = st.columns(min(len(paths), 4))
        for i, p in enumerate(paths):
            cols[i % len(cols)].download_button(Path(p).name, Path(p).read_bytes(), file_name=Path(p).name,
                                                key=f"dl_{Path(p).name}")


def main() -> None:
    st.title("Capacity planning")
    st.caption("The cheapest deployment that meets the SLOs: every candidate screened analytically, the best "
               "and the Pareto set verified by simulation. Prices are assumptions unless the spec gives them.")
    try:
        data = spec_form()
        spec = load_plan_spec(data)
    except (pm.PerfModelError, yaml.YAMLError) as exc:
        st.error(str(exc).splitlines()[0])
        return
    if not st.button("Plan", type="primary", key="plan_run"):
        st.info("Edit the spec, then press Plan.")
        return
    with st.spinner("screening and simulating…"):
        try:
            plan = pm.plan(spec, backend="serial")
        except pm.PerfModelError as exc:
            _ui.error(exc)
            return
    s = plan.stats
    st.write(f"{s['candidates']} candidates screened in {s['screen_s']:.1f} s, {s['verified']} simulated.")
    best = plan.best
    if best is None:
        st.error("No feasible plan.")
        for line in plan.advice():
            st.write(f"- {line}")
    else:
        c = st.columns(4)
        c[0].metric("Deployment", f"{int(best['total_gpus'])} × {best['device']}")
        c[1].metric("$ / hour", f"{best['cost_per_hour_usd']:.2f}")
        c[2].metric("$ / M output tokens", f"{best['usd_per_m_output_tokens']:.3g}")
        c[3].metric("p99 TTFT", f"{best['ttft_s_p99']:.3g} s")
        st.code("\n".join(plan.launch(best)["vllm"]), language="bash")
    st.subheader("Ranked configurations")
    st.dataframe(plan.answer(50), hide_index=True)
    ok = plan.feasible
    if len(ok):
        left, right = st.columns(2)
        left.plotly_chart(px.scatter(ok, x="tokens_per_s_per_user", y="tokens_per_s_per_gpu", color="device",
                                     symbol="verified", hover_data=["mode", "tp", "weight_dtype"],
                                     title="tokens/s/GPU vs tokens/s/user"), use_container_width=True)
        right.plotly_chart(px.scatter(ok, x="ttft_s_p99", y="usd_per_m_output_tokens", color="device",
                                      symbol="verified", hover_data=["mode", "tp", "weight_dtype"],
                                      title="$ per M output tokens vs p99 TTFT"), use_container_width=True)
    st.subheader("Why rejected families were rejected")
    st.dataframe(plan.rejections(), hide_index=True)
    downloads(plan)


main()
