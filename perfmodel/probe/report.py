"""Rich tables for the CLI: benchmark status, fit quality, measured vs predicted end to end."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from perfmodel.probe.bundle import Bundle
from perfmodel.probe.e2e import E2ERow, summary


def bundle_table(bundle: Bundle) -> Table:
    table = Table(title=f"{bundle.bundle_id} ({bundle.status}, {bundle.elapsed_s:.0f} s of {bundle.budget_s:.0f} s)")
    for col in ("benchmark", "status", "samples", "seconds", "note"):
        table.add_column(col, justify="right" if col in ("samples", "seconds") else "left")
    for name, result in bundle.benchmarks.items():
        table.add_row(name, result.status, str(len(result.samples)), f"{result.elapsed_s:.1f}", result.note[:70])
    return table


def fit_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="fit quality (R² of log-times; |relative error| of the fitted curve)")
    for col in ("fit", "parameters", "n", "R²", "median err", "max err"):
        table.add_column(col, justify="left" if col in ("fit", "parameters") else "right")
    for r in rows:
        table.add_row(r["fit"], r["params"], str(r["samples"]), f"{r['r2_log']:.3f}", f"{r['median_abs_rel_err']:.1%}",
                      f"{r['max_abs_rel_err']:.0%}")
    return table


def e2e_table(rows: Sequence[E2ERow], labels: Sequence[str]) -> Table:
    """One row per model × config: measured TTFT/TPOT and each target's prediction with its error."""
    table = Table(title="end to end: measured vs predicted (error = predicted / measured − 1)")
    for col in ("model", "batch", "input", "TTFT ms"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for label in labels:
        table.add_column(f"{label} ms", justify="right")
    table.add_column("TPOT ms", justify="right")
    for label in labels:
        table.add_column(f"{label} ms", justify="right")
    for r in rows:
        cells = [r.model, str(r.batch), str(r.input_len), f"{r.ttft_s * 1e3:.1f}"]
        cells += [f"{r.predicted[lb]['ttft_s'] * 1e3:.1f} ({r.rel_err(lb, 'ttft_s'):+.0%})" for lb in labels]
        cells += [f"{r.tpot_s * 1e3:.2f}"]
        cells += [f"{r.predicted[lb]['tpot_s'] * 1e3:.2f} ({r.rel_err(lb, 'tpot_s'):+.0%})" for lb in labels]
        table.add_row(*cells)
    return table


def e2e_summary_lines(rows: Sequence[E2ERow], labels: Sequence[str]) -> list[str]:
    stats = summary(rows, labels)
    return [f"{label}: |error| TTFT median {s['ttft_median_abs_err']:.1%}, p90 {s['ttft_p90_abs_err']:.1%} (worst "
            f"{s['ttft_max_abs_err']:.0%}); TPOT median {s['tpot_median_abs_err']:.1%}, p90 "
            f"{s['tpot_p90_abs_err']:.1%} (worst {s['tpot_max_abs_err']:.0%}) over {len(rows)} configurations"
            for label, s in stats.items()]
