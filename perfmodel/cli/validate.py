"""`perfmodel validate | calibrate-engines`: score predictions against measurements, refit engine profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from perfmodel.cli.common import check_output, check_output_dir, err, fail, finite, out, print_json
from perfmodel.errors import PerfModelError


def _pct(value: float) -> str:
    return "–" if value != value else f"{value:.1%}"


def _times(value: float) -> str:
    return "–" if value != value else f"{value:.2f}x"


def _refuse_unpredicted(errors) -> None:
    """Exit 2 when no row could be priced (unknown device, model or engine), naming the first row's problem;
    warn about the rows that could not be priced otherwise."""
    from perfmodel.calibrate.predict import predict_row

    missing = errors["predicted"].isna()
    if not missing.any():
        return
    first = errors[missing].iloc[0]
    try:
        predict_row(first)
        reason = "the model returned no value"
    except PerfModelError as exc:
        reason = str(exc)
    except (AttributeError, KeyError, TypeError, ValueError):
        reason = "the row is incomplete"
    where = f"{first.get('hardware')}, {first.get('model')}"
    if missing.all():
        fail(PerfModelError(f"none of the {len(errors)} rows could be predicted; first ({where}): {reason}"))
    err.print(f"[yellow]not predicted[/] ({int(missing.sum())} of {len(errors)} rows; first: {where}): {reason}",
              highlight=False, soft_wrap=True)


def _print_summary_tables(errors, title: str, groups: tuple[str, ...] = ("source", "device", "engine",
                                                                          "quantity")) -> None:
    from perfmodel.calibrate.report import summary, summary_by

    overall = summary(errors)
    out.print(f"[bold]{title}[/]: {overall['rows']} rows, median |error| {_pct(overall['median'])}, "
              f"p90 {_pct(overall['p90'])}, worst {_times(overall['max_ratio'])}", highlight=False)
    for group in groups:
        df = summary_by(errors, group)
        table = Table(title=f"by {group}")
        for col in (group, "rows", "median", "p90", "max_ratio"):
            table.add_column(col, justify="left" if col == group else "right")
        for row in df.itertuples(index=False):
            table.add_row(str(row[0])[:60], str(row.rows), _pct(row.median), _pct(row.p90), _times(row.max_ratio))
        out.print(table)


def validate_command(
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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from perfmodel.calibrate.serving_data import default_serving_files

    bar = Progress(TextColumn(f"cross-validating by {cv}" if cv else "predicting"), BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True,
                   disable=not (cv and err.is_terminal))
    try:
        with bar:
            task = bar.add_task("folds", total=None)
            errors = run_validate(csv or default_measurement_files(), engine=engine, cv=cv, before=before,
                                  serving_paths=() if csv else default_serving_files(),
                                  progress=lambda done, total: bar.update(task, completed=done, total=total))
    except PerfModelError as exc:
        fail(exc)
    _refuse_unpredicted(errors)
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
        print_json(finite({"mode": label, "overall": summary(errors),
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

