"""Per-question trial data: one row per (model, question, trial) with its correctness and length.

CSV columns (header required):

- `model` — a catalog id (or model YAML path) of the model that produced the trial;
- `question_id`, `trial_id` — any labels; (model, question_id, trial_id) must be unique;
- `correct` — 1 if the trial's final answer is right, else 0;
- `generated_tokens` — tokens the trial generated (>= 1);
- optional `answer` — the extracted final answer (any string; empty = no answer), needed for
  majority vote (self-consistency);
- optional `score` — a verifier's score of the trial (higher is better), needed for best-of-N
  with a verifier;
- optional `input_len` — the question's prompt length.

A length budget B turns every trial with generated_tokens > B into a trial without an answer
(it was cut before finishing): incorrect, no vote, never selected ahead of a finished trial.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from perfmodel.deprecation import rename_columns
from perfmodel.errors import PerfModelError
from perfmodel.specs.loader import is_file, read_csv_file

REQUIRED = ("model", "question_id", "trial_id", "correct", "generated_tokens")
OPTIONAL = ("answer", "score", "input_len")


def _fail(source: str, message: str) -> PerfModelError:
    return PerfModelError(f"{source}: {message}")


def load_trials(data: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read and validate trial data (a CSV path or a DataFrame); returns a clean DataFrame."""
    if isinstance(data, pd.DataFrame):
        df, source = data.copy(), "trials"
    elif not isinstance(data, str | os.PathLike):
        raise _fail("trials", f"expected a CSV path or a DataFrame (got a {type(data).__name__})")
    else:
        path = Path(data)
        source = str(path)
        if not is_file(path):
            raise _fail(source, "file not found; give a CSV with columns " + ", ".join(REQUIRED))
        df = read_csv_file(path, dtype={"model": str, "question_id": str, "trial_id": str, "answer": str},
                           keep_default_na=False, na_values={"score": [""], "correct": [""],
                                                             "generated_tokens": [""]})
    df = rename_columns(df, where=source, renames={"prompt_tokens": "input_len"})
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise _fail(source, f"missing column(s) {', '.join(missing)}; need {', '.join(REQUIRED)}")
    if df.empty:
        raise _fail(source, "no trials")
    for col in ("correct", "generated_tokens", *(c for c in ("score", "input_len") if c in df.columns)):
        df[col] = pd.to_numeric(df[col], errors="coerce")
        if df[col].isna().any():
            row = int(df[col].isna().to_numpy().argmax())
            raise _fail(source, f"column '{col}' has a non-numeric or empty value (data row {row + 1})")
    if not df["correct"].isin([0, 1]).all():
        raise _fail(source, "column 'correct' must be 0 or 1")
    if (df["generated_tokens"] < 1).any():
        raise _fail(source, "column 'generated_tokens' must be >= 1")
    df["model"] = df["model"].astype(str)
    df["question_id"] = df["question_id"].astype(str)
    df["trial_id"] = df["trial_id"].astype(str)
    if df.duplicated(["model", "question_id", "trial_id"]).any():
        raise _fail(source, "duplicate (model, question_id, trial_id) rows")
    df["correct"] = df["correct"].astype(int)
    df["generated_tokens"] = df["generated_tokens"].astype(int)
    if "answer" in df.columns:
        df["answer"] = df["answer"].fillna("").astype(str)
    return df.reset_index(drop=True)
