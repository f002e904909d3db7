"""`perfmodel estimate`: static-batch latency, throughput and memory of one configuration."""

from __future__ import annotations

import warnings
from typing import Annotated

import typer
from rich.table import Table

from perfmodel.cli.common import engine_notice, err, fail, out, print_json
from perfmodel.constants import DEFAULT_ENGINE
from perfmodel.errors import PerfModelError


def estimate_command(
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
    from perfmodel.analytic import FitWarning
    from perfmodel.analytic import estimate as run_estimate
    from perfmodel.viz.format import human_bytes, human_rate, human_seconds

    engine_notice(engine)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FitWarning)
            est = run_estimate(model, hardware, batch=batch, input_len=input_len, output_len=output_len,
                              tp=tp, pp=pp, ep=ep, weight_dtype=weight_dtype, kv_dtype=kv_dtype,
                              act_dtype=act_dtype, engine=engine, strict=strict)
    except PerfModelError as exc:
        fail(exc)
    for w in caught:
        if issubclass(w.category, FitWarning):
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

