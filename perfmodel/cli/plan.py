"""`perfmodel plan SPEC.yaml`: the capacity planner on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from perfmodel.cli.common import check_output, check_output_dir, err, fail, out, print_json
from perfmodel.errors import PerfModelError

SHOWN = (("rank", "#"), ("verified", "verified"), ("device", "device"), ("total_gpus", "GPUs"), ("mode", "mode"),
         ("tp", "tp"), ("pp", "pp"), ("max_num_seqs", "seqs"), ("weight_dtype", "w"), ("kv_dtype", "kv"),
         ("ttft_s_p99", "TTFT p99"), ("tpot_s_p99", "TPOT p99"), ("e2e_s_p99", "E2E p99"),
         ("tokens_per_s_per_gpu", "tok/s/GPU"), ("tokens_per_s_per_user", "tok/s/user"),
         ("cost_per_hour_usd", "$/h"), ("usd_per_m_output_tokens", "$/M out"), ("reason", "reason"))


def _cell(value) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:.3g}"
    return str(value)


def plan_command(
    spec: Annotated[str, typer.Argument(help="Plan spec YAML path or shipped plan id (workloads/plans/)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as one JSON object")] = False,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the ranked table as CSV")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Export plan.json, table, scenario and launch "
                                                               "commands to this folder")] = None,
    backend: Annotated[str, typer.Option("--backend", help="local (process pool), serial or ray")] = "local",
    workers: Annotated[int | None, typer.Option("--workers", help="Parallel simulations")] = None,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Ray cluster address")] = None,
    top: Annotated[int | None, typer.Option("--top", help="Configurations to verify by simulation (top K)")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not reuse or store simulation results")] = False,
) -> None:
    """Cheapest deployment meeting the SLOs: analytic screen, simulation of the best, launch commands."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from perfmodel.plan import plan

    check_output(csv, "--csv")
    check_output_dir(out_dir, "--out")

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal)
    try:
        with bar:
            task = bar.add_task("screening", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=f"simulating ({stage})", completed=done, total=total)

            result = plan(spec, backend=backend, workers=workers, ray_address=ray_address, top_k=top,
                          cache_dir=False if no_cache else None, progress=progress)
        if out_dir is not None:
            for p in result.export(out_dir):
                err.print(f"wrote {p}")
    except PerfModelError as exc:
        fail(exc)
    if result.stats.get("interrupted"):
        err.print("[yellow]interrupted:[/] keeping what was verified so far")
    if csv is not None:
        result.answer(len(result.table)).to_csv(csv, index=False)
        err.print(f"wrote {csv}")
    if as_json:
        print_json(result.to_dict(top=top or 20))
        return
    s = result.stats
    table = Table(title=f"{result.spec.name}: {s['candidates']} candidates screened in {s['screen_s']:.1f} s, "
                        f"{s['verified']} simulated ({s['wall_s']:.0f} s total)")
    for _, label in SHOWN:
        table.add_column(label, overflow="fold")
    for _, row in result.answer(10).iterrows():
        table.add_row(*(_cell(row.get(col)) for col, _ in SHOWN))
    out.print(table)
    best = result.best
    if best is None:
        out.print("[bold red]no feasible plan[/]")
        for line in result.advice():
            out.print(f"  - {line}", highlight=False)
        return
    out.print(f"chosen: {int(best['total_gpus'])} × {best['device']} ({best['mode']}, tp={best['tp']}, "
              f"pp={best['pp']}, {best['weight_dtype']}), ${best['cost_per_hour_usd']:.2f}/h "
              f"(price: {best['price_source']}), ${best['usd_per_m_output_tokens']:.3g} per M output tokens; "
              f"model uncertainty ±{best['uncertainty_rel']:.0%}", highlight=False)
    for line in result.launch(best)["vllm"]:
        out.print(f"  {line}", highlight=False, soft_wrap=True)
