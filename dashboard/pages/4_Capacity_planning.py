"""Capacity planning page: a plan spec (shipped, uploaded or edited), the ranked table, Pareto charts,
why rejected families were rejected, and downloads of every export.

Thin by design: widgets → perfmodel.plan (in a child process: progress bar, Cancel) → plotly figures of its table.
"""

from __future__ import annotations

import io
import json
import pickle
import sys
import tempfile
import zipfile
from pathlib import Path

import plotly.express as px
import streamlit as st
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _jobs  # noqa: E402
import _ui  # noqa: E402

import perfmodel as pm  # noqa: E402
from perfmodel import load_plan_spec  # noqa: E402

DEFAULT_PLAN = "chat-70b"
JOB = "plan"
CHILD = Path(__file__).resolve().parents[1] / "_plan_child.py"


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


def run_plan(data: dict, job: _jobs.Job) -> pm.Plan:
    """The job's work: the planner in a child process (Cancel terminates it), reporting verified configurations."""
    with tempfile.TemporaryDirectory(prefix="perfmodel-plan-") as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "plan.pickle"
        spec_path.write_text(json.dumps(data))

        def on_line(line: str) -> None:
            parts = line.split()
            if len(parts) == 4 and parts[0] == "progress" and int(parts[3]) > 0:
                done, total = int(parts[2]), int(parts[3])
                job.report(done / total, f"simulating the best configurations… {done} of {total} verified")

        rc = _jobs.run_subprocess(job, [sys.executable, str(CHILD), str(spec_path), str(out_path)],
                                  on_line=on_line)
        if rc != 0 or not out_path.is_file():
            raise pm.PerfModelError(job.error or f"the planner stopped with exit status {rc}")
        return pickle.loads(out_path.read_bytes())


def main() -> None:
    st.title("Capacity planning")
    st.caption("The cheapest deployment that meets the SLOs: every candidate screened analytically, the best "
               "and the Pareto set verified by simulation. Prices are assumptions unless the spec gives them.")
    try:
        data = spec_form()
        load_plan_spec(data)
    except (pm.PerfModelError, yaml.YAMLError) as exc:
        _ui.error(exc)
        return
    key = json.dumps(data, sort_keys=True, default=str)
    if st.button("Plan", type="primary", key="plan_run"):
        _jobs.start(JOB, key, lambda j: run_plan(data, j), text="screening every candidate…")
    job = _jobs.get(JOB)
    plan = _jobs.recall(JOB, key)
    if job is not None and job.running:  # (of this spec or of one edited since: Cancel stops it either way)
        _jobs.watch(JOB, "Cancel planning")
        return
    if job is not None and job.key == key and job.state == "cancelled":
        st.info("Planning cancelled. Press Plan to start again.")
    elif job is not None and job.key == key and job.state == "failed":
        _ui.error(RuntimeError(job.error))
        return
    if plan is None:
        st.info("Edit the spec, then press Plan.")
        return
    show(plan)


def show(plan: pm.Plan) -> None:
    """The ranked table, the chosen deployment, Pareto charts, rejections and downloads of one plan."""
    s = plan.stats
    st.write(f"{s['candidates']} candidates screened in {s['screen_s']:.1f} s, {s['verified']} simulated.")
    best = plan.best
    if best is None:
        st.error("No feasible plan.")
        for line in plan.advice():
            st.write(f"- {line}")
    else:
        _ui.tiles([("Deployment", f"{int(best['total_gpus'])} × {best['device']}"),
                   ("$ / hour", f"{best['cost_per_hour_usd']:.2f}"),
                   ("$ / M output tokens", f"{best['usd_per_m_output_tokens']:.3g}"),
                   ("p99 TTFT", f"{best['ttft_s_p99']:.3g} s")], per_row=2)
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
