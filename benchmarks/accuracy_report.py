"""Accuracy of perfmodel against the project's validation data: before fitting, after, and cross-validated.

Run: `.venv/bin/python benchmarks/accuracy_report.py [-o docs/validation_results.md]`. It reads the held-out
predictions `perfmodel calibrate-engines` wrote to `calibration/cross_validation.csv` (each row predicted by
fits that never saw its source, its device or its engine), and simulates every serving row
(`perfmodel validate --serving`), then prints a Markdown report.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from perfmodel.calibrate import summary, summary_by
from perfmodel.calibrate.report import with_errors
from perfmodel.calibrate.serving_data import default_serving_files
from perfmodel.calibrate.serving_predict import validate_serving
from perfmodel.specs.catalog import catalog_dir

COLUMNS = {"prior": "Before fitting (priors only), in-sample rows",
           "fitted": "After fitting (shipped profiles), in-sample — reported, never gated",
           "cv_source": "Cross-validated, leave one source out — the gated figure",
           "cv_device": "Cross-validated, leave one device out — the figure for new hardware",
           "cv_engine": "Cross-validated, leave one engine out — what an engine without data gets"}


def table(errors: pd.DataFrame, group: str | None) -> str:
    df = pd.DataFrame([summary(errors)]) if group is None else summary_by(errors, group)
    if group == "source":
        df["source"] = df["source"].str.slice(0, 70)
    for col in ("median", "p90"):
        df[col] = df[col].map(lambda v: f"{v:.1%}")
    df["max_ratio"] = df["max_ratio"].map(lambda v: f"{v:.2f}x")
    header = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns)
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, *rows])


def section(title: str, errors: pd.DataFrame, groups: tuple[str, ...]) -> list[str]:
    out = [f"## {title}", "", table(errors, None), ""]
    for group in groups:
        out += [f"By {group}:", "", table(errors, group), ""]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-o", "--output", type=Path, help="also write the report here")
    args = parser.parse_args()
    rows = pd.read_csv(catalog_dir("calibration") / "cross_validation.csv", keep_default_na=False)
    e2e = rows[rows["kind"] != "kernel"].reset_index(drop=True)
    kernels = rows[rows["kind"] == "kernel"].reset_index(drop=True)
    sections = ["# Validation results", "",
                "Errors are |predicted / measured − 1|; `max_ratio` is the worst row's factor either way. "
                f"End-to-end and serving-fit rows: {len(e2e)}; kernel rows: {len(kernels)} (reported separately). "
                "Produced by `benchmarks/accuracy_report.py` from `calibration/cross_validation.csv` "
                "(written by `perfmodel calibrate-engines`) and a simulation of every serving row.", ""]
    for column, title in COLUMNS.items():
        errors = with_errors(e2e, e2e[column].astype(float).to_numpy())
        sections += section(title, errors, ("engine", "device", "quantity", "source"))
    for column in ("fitted", "cv_source"):
        errors = with_errors(kernels, kernels[column].astype(float).to_numpy())
        sections += section(f"Kernel rows ({column})", errors, ("device",))
    start = time.perf_counter()
    serving = validate_serving(default_serving_files())
    sections += section("Serving rows, simulated with the shipped profiles (every quantity)", serving,
                        ("quantity", "engine", "device", "source"))
    sections.append(f"_(simulation: {time.perf_counter() - start:.0f} s; rows excluded by "
                    f"validation/exclusions.yaml: {serving.attrs.get('excluded_rows', 0)}; rows the simulator "
                    f"cannot represent: {int(serving['predicted'].isna().sum())})_\n")
    text = "\n".join(sections)
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
