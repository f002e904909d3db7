"""Command-line interface: `perfmodel estimate | hardware | model | engine`.

User mistakes print one line and exit 2 (3 when `--strict` and the configuration does not fit);
no tracebacks.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.table import Table

import perfmodel as pm
from perfmodel.cli_common import check_output, check_output_dir, engine_notice, err, fail, out, print_json
from perfmodel.cost.engine import DEFAULT_ENGINE, engine_files, load_engine
from perfmodel.errors import PerfModelError
from perfmodel.specs.catalog import device_files, load_device, load_model, load_system, model_files, system_files
from perfmodel.specs.detect import detect_local_cpu
from perfmodel.viz.format import human_bytes, human_rate, human_seconds

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Predict LLM inference cost on described hardware.")
hardware_app = typer.Typer(no_args_is_help=True, help="Device and system catalog.")
model_app = typer.Typer(no_args_is_help=True, help="Model architecture catalog.")
engine_app = typer.Typer(no_args_is_help=True, help="Engine profiles.")
app.add_typer(hardware_app, name="hardware")
app.add_typer(model_app, name="model")
app.add_typer(engine_app, name="engine")

@app.command()
def estimate(
    model: Annotated[str, typer.Option("--model", "-m", help="Model id, YAML path or HF config.json")],
    hardware: Annotated[str, typer.Option("--hardware", "-H", help="Device or system id, or YAML path")],
    input_len: Annotated[int, typer.Option("--input-len", help="Prompt tokens per request")],
    output_len: Annotated[int, typer.Option("--output-len", help="Generated tokens per request")],
    batch: Annotated[int, typer.Option("--batch", "-b")] = 1,
    tp: Annotated[int, typer.Option("--tp", help="Tensor-parallel degree")] = 1,
    pp: Annotated[int, typer.Option("--pp", help="Pipeline-parallel degree")] = 1,
    ep: Annotated[int, typer.Option("--ep", help="Expert-parallel degree (divides tp)")] = 1,
    weight_dtype: Annotated[str, typer.Option("--weight-dtype")] = "bf16",
    kv_dtype: Annotated[str | None, typer.Option("--kv-dtype")] = None,
    act_dtype: Annotated[str | None, typer.Option("--act-dtype")] = None,
    engine: Annotated[str | None, typer.Option("--engine", help=f"Engine profile (default: {DEFAULT_ENGINE})")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object in SI units")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 3 when it does not fit in memory")] = False,
    breakdown: Annotated[bool, typer.Option("--breakdown", help="Also print the per-operator table")] = False,
) -> None:
    """Static-batch TTFT, TPOT, end-to-end latency, throughput and memory."""
    engine_notice(engine)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pm.FitWarning)
            est = pm.estimate(model, hardware, batch=batch, input_len=input_len, output_len=output_len,
                              tp=tp, pp=pp, ep=ep, weight_dtype=weight_dtype, kv_dtype=kv_dtype,
                              act_dtype=act_dtype, engine=engine, strict=strict)
    except PerfModelError as exc:
        fail(exc)
    for w in caught:
        if issubclass(w.category, pm.FitWarning):
            err.print(f"[yellow]warning:[/] does not fit: {w.message}", highlight=False, soft_wrap=True)
    if as_json:
        print_json(est.to_dict())
        return
    title = (f"{est.inputs['model']} on {est.inputs['hardware']} (tp={tp}, pp={pp}, batch={batch}, "
             f"{input_len}→{output_len} tokens, engine {est.inputs['engine']})")
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    def with_band(value: float | None) -> str:
        low, high = est.band(value)
        return human_seconds(value) + (f"  ({human_seconds(low)} – {human_seconds(high)})" if low else "")

    rows = [
        ("TTFT", with_band(est.ttft_s)), ("TPOT", with_band(est.tpot_s)),
        ("end-to-end", with_band(est.e2e_s)),
        ("output throughput", human_rate(est.output_tokens_per_s, "tok/s")),
        ("prefill throughput", human_rate(est.prefill_tokens_per_s, "tok/s")),
        ("decode throughput", human_rate(est.decode_tokens_per_s, "tok/s")),
        ("weights / device", human_bytes(est.memory.weights_bytes)),
        ("KV cache / device", human_bytes(est.memory.kv_cache_bytes)),
        ("total / capacity", f"{human_bytes(est.memory.total_bytes)} / {human_bytes(est.memory.capacity_bytes)}"),
        ("fits", "yes" if est.fits else "[red]NO[/]"), ("bottleneck", est.bottleneck),
        ("provenance", f"{est.provenance['device_calibration']}; engine {est.provenance['engine_profile']}"),
        ("uncertainty", (f"±{est.uncertainty['rel']:.0%}: " if est.uncertainty["rel"] else "")
         + est.uncertainty["basis"]),
    ]
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    if breakdown:
        bd = est.breakdown
        t = Table(title="per-operator breakdown (per device)")
        for col in ("phase", "operator", "bound", "time"):
            t.add_column(col)
        for row in bd.itertuples():
            t.add_row(row.phase, row.operator, row.bound, human_seconds(row.time_s))
        out.print(t)


def _catalog_table(title: str, rows: list[tuple[str, ...]], columns: tuple[str, ...]) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    out.print(table)


@hardware_app.command("list")
def hardware_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List catalog devices and systems."""
    devices = [load_device(i) for i in device_files()]
    systems = [load_system(i) for i in system_files()]
    if as_json:
        print_json({"devices": [d.id for d in devices], "systems": [s.id for s in systems]})
        return
    _catalog_table("devices", [
        (d.id, d.kind, d.name or "", f"{d.memory.capacity_gb:g} GB", f"{d.memory.bandwidth_gb_s:g} GB/s",
         ", ".join(f"{k} {v:g}" for k, v in d.compute_tflops.items())) for d in devices],
        ("id", "kind", "name", "memory", "bandwidth", "peak TFLOP/s"))
    _catalog_table("systems", [(s.id, s.name or "", f"{s.num_devices} × {s.device.id}") for s in systems],
                   ("id", "name", "devices"))


@hardware_app.command("show")
def hardware_show(ref: str) -> None:
    """Print one device or system spec as YAML."""
    try:
        spec = load_system(ref) if ref in system_files() else load_device(ref)
    except PerfModelError as exc:
        fail(exc)
    out.print(yaml.safe_dump(spec.model_dump(exclude_none=True), sort_keys=False), highlight=False)


@hardware_app.command("detect")
def hardware_detect(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the YAML here")] = None,
) -> None:
    """Describe this machine's CPU as a device YAML (estimates, labelled as such)."""
    check_output(output, "-o")
    spec = detect_local_cpu()
    pm.Device.model_validate(spec)
    text = yaml.safe_dump(spec, sort_keys=False)
    if output is None:
        sys.stdout.write(text)
        return
    tmp = output.with_suffix(output.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(output)
    err.print(f"wrote {output}")


@model_app.command("list")
def model_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List catalog models with parameter counts."""
    models = [load_model(i) for i in model_files()]
    if as_json:
        print_json([m.id for m in models])
        return
    _catalog_table("models", [
        (m.id, m.name or "", f"{m.total_params() / 1e9:.2f} B", f"{m.active_params() / 1e9:.2f} B",
         "MLA" if m.mla else f"{m.num_heads}/{m.kv_heads}", f"MoE {m.moe.num_experts}×top{m.moe.experts_per_token}"
         if m.moe else "dense") for m in models],
        ("id", "name", "params", "active", "heads q/kv", "mlp"))


@model_app.command("show")
def model_show(ref: str) -> None:
    """Print one model architecture as YAML, with derived counts."""
    try:
        m = load_model(ref)
    except PerfModelError as exc:
        fail(exc)
    data = m.model_dump(exclude_none=True)
    data["derived"] = {"total_params": m.total_params(), "active_params": m.active_params(),
                       "kv_bytes_per_token_bf16": m.kv_elements_per_token * 2}
    out.print(yaml.safe_dump(data, sort_keys=False), highlight=False)


@engine_app.command("list")
def engine_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List engine profiles: software versions, the hardware their data covers, and whether each is fitted."""
    engines = [load_engine(n) for n in engine_files()]
    if as_json:
        print_json({e.name: {"calibrated": e.calibrated, "default": e.name == DEFAULT_ENGINE, "family": e.family,
                             "software": e.software, "hardware": list(e.hardware), "description": e.description}
                    for e in engines})
        return
    rows = [(e.name + (" (default)" if e.name == DEFAULT_ENGINE else ""), "fitted" if e.calibrated else "prior",
             e.software or "", ", ".join(e.hardware) or "none", e.description) for e in engines]
    _catalog_table("engines", rows, ("name", "status", "software", "data covers", "description"))


def _print_summary_tables(errors, title: str, groups: tuple[str, ...] = ("source", "device", "engine",
                                                                          "quantity")) -> None:
    from perfmodel.calibrate.report import summary, summary_by

    overall = summary(errors)
    out.print(f"[bold]{title}[/]: {overall['rows']} rows, median |error| {overall['median']:.1%}, "
              f"p90 {overall['p90']:.1%}, worst {overall['max_ratio']:.2f}x", highlight=False)
    for group in groups:
        df = summary_by(errors, group)
        table = Table(title=f"by {group}")
        for col in (group, "rows", "median", "p90", "max_ratio"):
            table.add_column(col, justify="left" if col == group else "right")
        for row in df.itertuples(index=False):
            table.add_row(str(row[0])[:60], str(row.rows), f"{row.median:.1%}", f"{row.p90:.1%}",
                          f"{row.max_ratio:.2f}x")
        out.print(table)


@app.command()
def validate(
    csv: Annotated[list[Path] | None, typer.Argument(help="Measurement CSVs (default: validation/*.csv)")] = None,
    engine: Annotated[str | None, typer.Option("--engine", help="Score every row with this engine profile")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write an HTML report here")] = None,
    cv: Annotated[str | None, typer.Option("--cv", help="Leave-one-group-out: device, model, source or engine")] = None,
    before: Annotated[bool, typer.Option("--before", help="Use the unfitted priors (the 'before' numbers)")] = False,
    rows: Annotated[bool, typer.Option("--rows", help="Print every row")] = False,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write every row with its prediction here")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
    serving: Annotated[bool, typer.Option("--serving", help="Serving-level rows (validation/serving*.csv): "
                                                            "simulate each configuration")] = False,
    fast: Annotated[bool, typer.Option("--fast", help="With --serving: the steady-state closed form instead "
                                                      "of the simulator")] = False,
) -> None:
    """Score predictions against published measurements: |relative error| per row and summaries."""
    from perfmodel.calibrate import default_measurement_files
    from perfmodel.calibrate import validate as run_validate
    from perfmodel.calibrate.report import html_report, summary, summary_by

    check_output(report, "--report")
    check_output(csv_out, "--csv")
    if serving:
        _validate_serving(csv, fast=fast, report=report, csv_out=csv_out, as_json=as_json, rows=rows)
        return
    if fast:
        fail(PerfModelError("--fast applies to --serving only"))
    if cv is not None and cv not in ("device", "model", "source", "engine"):
        fail(PerfModelError(f"--cv must be device, model, source or engine (got {cv!r})"))
    try:
        from perfmodel.calibrate.serving_data import default_serving_files

        errors = run_validate(csv or default_measurement_files(), engine=engine, cv=cv, before=before,
                              serving_paths=() if csv else default_serving_files())
    except PerfModelError as exc:
        fail(exc)
    label = f"cross-validated by {cv}" if cv else ("priors (before fitting)" if before else "shipped profiles")
    if as_json:
        print_json({"mode": label, "overall": summary(errors),
                     **{f"by_{g}": summary_by(errors, g).to_dict(orient="records")
                        for g in ("source", "device", "engine", "quantity")}})
    else:
        _print_summary_tables(errors, label)
    if rows:
        cols = ["hardware", "num_devices", "engine", "model", "batch", "input_len", "output_len", "quantity",
                "value", "predicted", "ratio"]
        out.print(errors[cols].to_string(index=False), highlight=False)
    if csv_out:
        errors.to_csv(csv_out, index=False)
        err.print(f"wrote {csv_out}")
    if report:
        html_report(errors, report, title=f"perfmodel validation — {label}")
        err.print(f"wrote {report}")


SERVING_GROUPS = ("quantity", "engine", "device")


def _finite(data):
    """`data` with NaN floats replaced by None (strict JSON)."""
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_finite(v) for v in data]
    if isinstance(data, float) and data != data:
        return None
    return data


def _validate_serving(csv: list[Path] | None, *, fast: bool, report: Path | None, csv_out: Path | None,
                      as_json: bool, rows: bool) -> None:
    """`validate --serving`: every serving configuration through the simulator (or the closed form)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from perfmodel.calibrate.report import html_report, summary, summary_by
    from perfmodel.calibrate.serving_data import default_serving_files
    from perfmodel.calibrate.serving_predict import validate_serving

    paths = csv or default_serving_files()
    if not paths:
        fail(PerfModelError("no serving measurements: validation/serving*.csv does not exist; pass CSV files"))
    bar = Progress(TextColumn("closed form" if fast else "simulating"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal)
    try:
        with bar:
            task = bar.add_task("configurations", total=None)
            errors = validate_serving(paths, fast=fast,
                                      progress=lambda done, total: bar.update(task, completed=done, total=total))
    except PerfModelError as exc:
        fail(exc)
    label = "serving, " + ("steady-state closed form" if fast else "simulated")
    missing = errors[errors["predicted"].isna()]
    if as_json:
        print_json(_finite({"mode": label, "overall": summary(errors),
                            **{f"by_{g}": summary_by(errors, g).to_dict(orient="records") for g in SERVING_GROUPS},
                            "unpredicted": missing[["file", "line", "quantity", "reason"]].to_dict(orient="records")}))
    else:
        _print_summary_tables(errors, label, SERVING_GROUPS)
        reasons = missing.groupby("reason").size()
        for reason, count in reasons.items():
            err.print(f"[yellow]not predicted[/] ({count} rows): {reason}", highlight=False, soft_wrap=True)
        if errors.attrs.get("excluded_rows"):
            err.print(f"excluded ({errors.attrs['excluded_rows']} rows): see validation/exclusions.yaml",
                      highlight=False)
    cols = ["hardware", "num_devices", "engine", "model", "load", "input_len", "output_len", "quantity", "value",
            "predicted", "ratio"]
    if rows:
        out.print(errors[cols].to_string(index=False), highlight=False)
    if csv_out:
        errors.to_csv(csv_out, index=False)
        err.print(f"wrote {csv_out}")
    if report:
        html_report(errors, report, title=f"perfmodel validation — {label}", groups=SERVING_GROUPS,
                    columns=("file", "line", *cols, "reason"))
        err.print(f"wrote {report}")


@app.command("calibrate-engines")
def calibrate_engines_command(
    csv: Annotated[list[Path] | None, typer.Argument(help="Measurement CSVs (default: validation/*.csv)")] = None,
    engines_dir: Annotated[Path | None, typer.Option("--engines-dir", help="Where engine YAMLs go")] = None,
    calibration_dir: Annotated[Path | None, typer.Option("--calibration-dir", help="Where device fits go")] = None,
    cv: Annotated[bool, typer.Option("--cv/--no-cv", help="Cross-validate to set uncertainty bands")] = True,
) -> None:
    """Refit engine profiles and device efficiencies; rewrite the shipped profile files."""
    from perfmodel.calibrate import calibrate_engines, default_measurement_files
    from perfmodel.calibrate.serving_data import default_serving_files
    from perfmodel.specs.catalog import catalog_dir

    paths = csv or default_measurement_files()
    check_output_dir(engines_dir, "--engines-dir")
    check_output_dir(calibration_dir, "--calibration-dir")
    try:
        with out.status("fitting engine profiles (and cross-validating)" if cv else "fitting engine profiles"):
            result, bands = calibrate_engines(paths, engines_dir=engines_dir or catalog_dir("engines"),
                                              calibration_dir=calibration_dir or catalog_dir("calibration"),
                                              with_cv=cv, serving_paths=() if csv else default_serving_files())
    except PerfModelError as exc:
        fail(exc)
    out.print(f"fit: {result.message} ({result.nfev} evaluations)", highlight=False)
    for name, band in (bands or {}).items():
        out.print(f"  {name}: ±{band['seen_device_rel']:.0%} on fitted devices, "
                  f"±{band['unseen_device_rel']:.0%} on unseen devices", highlight=False)


from perfmodel.tts.cli import tts_app  # noqa: E402  (test-time scaling sub-app)

app.add_typer(tts_app, name="tts")


@app.command()
def simulate(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML path or shipped id (chat, disagg-2p1d, ...)")],
    requests: Annotated[int | None, typer.Option("--requests", "-n", help="Override the number of requests")] = None,
    rate: Annotated[float | None, typer.Option("--rate", help="Override the arrival rate (requests/s)")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override the random seed")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object")] = False,
    trace: Annotated[Path | None, typer.Option("--trace", help="Write a Chrome-trace JSON of every step")] = None,
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress",
                                                  help="Progress bar (default: when stderr is a terminal)")] = None,
) -> None:
    """Discrete-event serving simulation: queueing, batching and KV pressure, request by request."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from perfmodel.sim import simulate as run_simulation

    check_output(trace, "--trace")

    show = err.is_terminal if progress is None else progress
    bar = Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err, transient=True, disable=not show)
    try:
        with bar:
            task = bar.add_task("requests", total=None)
            result = run_simulation(scenario, requests=requests, rate=rate, seed=seed,
                                    progress=lambda done, total: bar.update(task, completed=done, total=total))
    except PerfModelError as exc:
        fail(exc)
    summary = result.summary
    if trace is not None:
        result.write_chrome_trace(trace)
        err.print(f"wrote {trace}")
    if as_json:
        print_json(summary)
        return
    pools = ", ".join(f"{name}: {p['replicas']} × {p['hardware']} (tp={p['tp']}, pp={p['pp']}, "
                      f"{p['scheduler']['name']})" for name, p in summary["config"]["pools"].items() if "replicas" in p)
    table = Table(title=f"{summary['scenario']}: {summary['completed']}/{summary['requests']} requests in "
                        f"{summary['duration_s']:.1f} s simulated ({pools})")
    for col in ("metric", "mean", "p50", "p90", "p99"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for key, label in (("ttft_s", "TTFT"), ("tpot_s", "TPOT"), ("itl_s", "ITL"), ("e2e_s", "end-to-end"),
                       ("queue_s", "queueing")):
        d = summary[key]
        table.add_row(label, *(human_seconds(d[k]) for k in ("mean", "p50", "p90", "p99")))
    out.print(table)
    tp = summary["throughput"]
    out.print(f"throughput {tp['requests_per_s']:.3g} req/s, {human_rate(tp['output_tokens_per_s'], 'tok/s')} out · "
              f"goodput {summary['goodput_requests_per_s']:.3g} req/s · rejected {summary['rejected']} · "
              f"preemptions {summary['preemptions']} · KV peak {summary['kv_peak_utilization']:.0%}", highlight=False)
    reps = Table(title="replicas")
    for col in ("replica", "pool", "hardware", "steps", "utilization", "MFU", "MBU", "mean batch", "KV peak"):
        reps.add_column(col, justify="left" if col in ("pool", "hardware") else "right")
    for r in summary["replicas"]:
        reps.add_row(str(r["replica"]), r["pool"], r["hardware"], str(r["steps"]), f"{r['utilization']:.0%}",
                     f"{r['mfu']:.1%}", f"{r['mbu']:.0%}", f"{r['mean_batch_size']:.1f}",
                     f"{r['kv_peak_utilization']:.0%}")
    out.print(reps)


def _csv(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


@app.command()
def probe(
    backend: Annotated[str, typer.Option("--backend", help="torch (any torch device; the default when importable) "
                                          "or numpy (CPU)")] = "auto",
    device: Annotated[str, typer.Option("--device", help="torch device: cpu, cuda, cuda:1, mps, xpu…")] = "cpu",
    budget_s: Annotated[float, typer.Option("--budget-s", help="Time budget for all benchmarks, seconds")] = 300.0,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Bundle JSON, written after each benchmark "
                                                 "(default probe-bundle.json; probe-e2e.json with --e2e)")] = None,
    collectives: Annotated[bool, typer.Option("--collectives", help="All-reduce between 2 processes")] = False,
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads (default: all available)")] = None,
    clock: Annotated[str, typer.Option("--clock", help="wall, or thread (CPU time; --threads 1 on cpu)")] = "wall",
    only: Annotated[str | None, typer.Option("--only", help="Comma-separated benchmarks, e.g. gemm,memory")] = None,
    e2e: Annotated[list[str] | None, typer.Option("--e2e", help="End-to-end check of MODEL[:layers=N][:hidden=N]"
                                                   "[:vocab=N] (repeatable; bare --e2e or `default`: two Llama "
                                                   "sizes); runs instead of the benchmarks")] = None,
    layers: Annotated[int | None, typer.Option("--layers", help="e2e: shrink every model to N layers")] = None,
    hidden: Annotated[int | None, typer.Option("--hidden", help="e2e: shrink every model to this width")] = None,
    vocab: Annotated[int | None, typer.Option("--vocab", help="e2e: vocabulary size")] = None,
    configs: Annotated[str, typer.Option("--configs", help="e2e: BATCHxINPUT_LEN list")]
    = "1x128,1x512,1x2048,4x128,4x512,16x128,16x256",
    output_len: Annotated[int, typer.Option("--output-len", help="e2e: new tokens per request")] = 16,
    dtype: Annotated[str, typer.Option("--dtype", help="e2e: weights, activations and KV dtype")] = "fp32",
    repeats: Annotated[int, typer.Option("--repeats", help="e2e: timed generate() calls per config")] = 3,
    stat: Annotated[str, typer.Option("--stat", help="e2e: median or min over repeats")] = "min",
    max_error: Annotated[float, typer.Option("--max-error", help="e2e: exit 1 when the calibrated median |error| "
                                             "of TTFT or TPOT exceeds this")] = 0.10,
    max_p90_error: Annotated[float, typer.Option("--max-p90-error", help="e2e: exit 1 when the calibrated p90 "
                                                 "|error| exceeds this")] = 0.20,
    hardware: Annotated[str | None, typer.Option("--hardware", "-H", help="e2e: spec-only device (default: "
                                                  "this CPU, detected)")] = None,
    calibrated: Annotated[str | None, typer.Option("--calibrated", help="e2e: calibrated device YAML or probe "
                                                    "bundle (default: probe-bundle.json when present)")] = None,
    engine: Annotated[str | None, typer.Option("--engine", help="e2e: engine for the calibrated device (default: "
                                               "the one fitted with it)")] = None,
) -> None:
    """Measure this machine into a calibration bundle, or (--e2e) check predictions against a real decoder."""
    from perfmodel.probe import ProbeOptions, RichProgress, run_probe, write_bundle
    from perfmodel.probe.report import bundle_table, e2e_summary_lines, e2e_table

    check_output(output, "-o")

    try:
        if e2e:
            from perfmodel.probe.e2e import (
                ModelChoice,
                e2e_bundle,
                errors_exceed,
                models_for,
                parse_configs,
                run_e2e,
                targets_for,
                thread_mismatch,
            )

            output = output or Path("probe-e2e.json")
            models = [ModelChoice.parse(m, layers=layers, hidden=hidden, vocab=vocab) for m in models_for(e2e)]
            targets = targets_for(hardware, calibrated, engine)
            bundle = e2e_bundle(device, threads, clock)
            for line in thread_mismatch(targets, bundle.threads):
                err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)
            labels = [t.label for t in targets]

            def on_row(row) -> None:
                bundle.e2e.append(row.to_dict())
                write_bundle(bundle, output)
                err.print(f"{row.model} b{row.batch} s{row.input_len}: TTFT {row.ttft_s * 1e3:.1f} ms, TPOT "
                          f"{row.tpot_s * 1e3:.2f} ms", highlight=False)

            rows = run_e2e(models, targets, configs=parse_configs(configs), output_len=output_len, dtype=dtype,
                           device=device, threads=threads, repeats=repeats, clock=clock, stat=stat, on_row=on_row)
            out.print(e2e_table(rows, labels))
            for line in e2e_summary_lines(rows, labels):
                out.print(line, highlight=False)
            failed = errors_exceed(rows, labels[-1], max_error, max_p90_error)
            if failed:
                err.print(f"[bold red]error:[/] {failed}", highlight=False, soft_wrap=True)
                raise typer.Exit(code=1)
            return
        output = output or Path("probe-bundle.json")
        if backend == "auto":
            from perfmodel.probe.backends import default_backend

            backend, note = default_backend()
            if note:
                err.print(note, highlight=False)
        opts = ProbeOptions(backend=backend, device=device, budget_s=budget_s, output=output,
                            collectives=collectives, threads=threads, only=_csv(only), clock=clock)
        with RichProgress(err) as progress:
            bundle = run_probe(opts, progress)
    except KeyboardInterrupt:
        err.print(f"interrupted: the samples measured so far are in {output}")
        raise typer.Exit(code=130) from None
    except PerfModelError as exc:
        fail(exc)
    out.print(bundle_table(bundle))
    err.print(f"wrote {output}")


@app.command()
def calibrate(
    bundle: Annotated[Path, typer.Argument(help="Calibration bundle from `perfmodel probe`")],
    hardware: Annotated[str | None, typer.Option("--hardware", "-H", help="Base device id or YAML (default: this "
                                                  "CPU, detected)")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Calibrated device YAML")] = None,
    engine_out: Annotated[Path | None, typer.Option("--engine-out", help="Fitted engine profile (default: "
                                                     "<output>-engine.yaml next to -o)")] = None,
    engine_base: Annotated[str, typer.Option("--engine-base", help="Engine the profile starts from")]
    = "hf-transformers",
    reference_dtype: Annotated[str | None, typer.Option(
        "--reference-dtype", help="dtype whose efficiency becomes the device's (default: fp32 on CPUs, bf16 elsewhere)")
    ] = None,
    stat: Annotated[str, typer.Option("--stat", help="Fit each point's min (least disturbed) or median seconds")]
    = "min",
    device_id: Annotated[str | None, typer.Option("--id", help="Id of the calibrated device")] = None,
) -> None:
    """Fit a probe bundle into a calibrated device YAML and the engine profile fitted with it.

    The device YAML carries the engine (and names its file), so `--hardware device.yaml` alone
    predicts the probed framework; an explicit `--engine` of another engine still wins.
    """
    from perfmodel.calibrate.probe_fit import calibrate_bundle, write_yaml
    from perfmodel.probe.report import fit_table

    if engine_out is None and output is not None:
        engine_out = output.with_name(f"{output.stem}-engine.yaml")
    check_output(output, "-o")
    check_output(engine_out, "--engine-out")
    try:
        result = calibrate_bundle(bundle, hardware, device_id=device_id or (output.stem if output else None),
                                  reference_dtype=reference_dtype, engine_base=engine_base,
                                  engine_name=engine_out.stem if engine_out else None, stat=stat)
    except PerfModelError as exc:
        fail(exc)
    out.print(fit_table(result.fit.quality_rows()))
    calib = result.device["calibration"]
    err.print(f"gemm_efficiency {calib['gemm_efficiency']} ({calib['reference_dtype']}), bandwidth_efficiency "
              f"{calib.get('bandwidth_efficiency', '—')}, kernel overhead {calib['kernel_overhead_us']} µs",
              highlight=False)
    if engine_out is not None:
        result.device["calibration"]["engine_file"] = str(engine_out.resolve())
    if output is None:
        sys.stdout.write(yaml.safe_dump(result.device, sort_keys=False, allow_unicode=True))
    else:
        write_yaml(result.device, output)
        err.print(f"wrote {output}")
    if engine_out is not None:
        write_yaml(result.engine, engine_out)
        err.print(f"wrote {engine_out}")


from perfmodel.plan.cli import plan_command  # noqa: E402  (capacity planner)

app.command("plan")(plan_command)


def bare_e2e(argv: list[str]) -> list[str]:
    """`probe --e2e` with no model after it means the default models (`--e2e default`)."""
    out = []
    for i, arg in enumerate(argv):
        out.append(arg)
        if arg == "--e2e" and (i + 1 == len(argv) or argv[i + 1].startswith("-")):
            out.append("default")
    return out


def main() -> None:
    """Entry point: run the CLI, turning any :class:`PerfModelError` into a one-line message."""
    try:
        app(args=bare_e2e(sys.argv[1:]))
    except PerfModelError as exc:  # errors raised outside a command body
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None


if __name__ == "__main__":
    main()
