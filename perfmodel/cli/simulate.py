"""`perfmodel simulate`: the discrete-event serving simulator on a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from perfmodel.cli.common import check_output, err, fail, out, print_json
from perfmodel.errors import PerfModelError


def simulate_command(
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
    check_output(trace, "--trace")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from perfmodel.sim import simulate as run_simulation
    from perfmodel.viz.format import human_rate, human_seconds

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

