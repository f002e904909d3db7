"""Workload generation: arrival times, token lengths, request classes and test-time-scaling groups.

Everything random is drawn here, up front, from one numpy Generator seeded by the scenario, so a
run is deterministic for a given seed and independent of how the simulator schedules its work.
A request is one prompt; a best-of-N request is N sequences (samples) sharing it, each with its own
output length. Arrays are indexed by request (`input_len`, ...) or by sequence (`seq_*`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perfmodel.checks import MAX_TOKENS
from perfmodel.deprecation import rename_columns
from perfmodel.errors import SpecError
from perfmodel.sim.scenario import ArrivalSpec, LengthSpec, RequestClass, WorkloadSpec
from perfmodel.specs.loader import MAX_TABLE_BYTES, is_file, read_csv_file, read_text_file

IntArray = np.ndarray
FloatArray = np.ndarray


@dataclass(frozen=True)
class RequestTable:
    """All requests of a run (read-only arrays). Closed-loop arrival times are set when issued (NaN here)."""

    arrival_s: FloatArray
    input_len: IntArray
    class_id: IntArray
    samples: IntArray
    first_finish: IntArray
    """Samples that must finish for the request to complete (= samples unless first-finish)."""
    prefix_tokens: IntArray
    """Leading prompt tokens shared with the rest of the class (0: none)."""
    seq_start: IntArray
    """Index of each request's first sequence in the `seq_*` arrays."""
    seq_output_len: IntArray
    seq_request: IntArray
    classes: tuple[RequestClass, ...]
    concurrency: int | None = None
    think_time_s: float = 0.0

    @property
    def num_requests(self) -> int:
        return int(self.input_len.shape[0])

    @property
    def num_seqs(self) -> int:
        return int(self.seq_output_len.shape[0])

    @property
    def output_len(self) -> IntArray:
        """Tokens requested per request (summed over its samples)."""
        return np.add.reduceat(self.seq_output_len, self.seq_start) if self.num_requests else self.seq_start

    @property
    def closed_loop(self) -> bool:
        return self.concurrency is not None


def _read_lengths(path: str, column: str | None) -> np.ndarray:
    p = Path(path)
    if not is_file(p):
        raise SpecError("empirical length file not found; check the path", source=path, field="path")
    try:
        if p.suffix == ".csv":
            df = read_csv_file(p)
            col = column or df.columns[0]
            values = df[col].to_numpy()
        else:
            values = np.loadtxt(io.StringIO(read_text_file(p, limit=MAX_TABLE_BYTES)), ndmin=1)
    except (KeyError, ValueError, TypeError) as exc:
        raise SpecError(f"cannot read lengths ({exc})", source=path, field="column" if column else "path") from None
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0 or np.any(~np.isfinite(values)) or np.any(values < 1):
        raise SpecError("lengths must be finite numbers >= 1", source=path, field="path")
    return np.round(values).astype(np.int64)


def draw_lengths(spec: LengthSpec, n: int, rng: np.random.Generator) -> IntArray:
    """`n` token lengths from a distribution, rounded and clipped to [min, max]."""
    if spec.dist == "fixed":
        values = np.full(n, spec.value, dtype=np.float64)
    elif spec.dist == "uniform":
        values = rng.integers(spec.low, spec.high + 1, size=n).astype(np.float64)
    elif spec.dist == "lognormal":
        sigma2 = np.log1p(spec.cv ** 2)
        mu = np.log(spec.mean) - sigma2 / 2.0
        values = rng.lognormal(mu, np.sqrt(sigma2), size=n)
    else:
        values = rng.choice(_read_lengths(spec.path, spec.column), size=n).astype(np.float64)
    upper = spec.max if spec.max is not None else np.inf
    return np.clip(np.round(values), spec.min, upper).astype(np.int64)


def draw_arrivals(spec: ArrivalSpec, n: int, rng: np.random.Generator) -> FloatArray:
    """Arrival times (s) of `n` open-loop requests; NaN for closed-loop (issued on completion)."""
    if spec.process == "poisson":
        return np.cumsum(rng.exponential(1.0 / spec.rate_per_s, size=n))
    if spec.process == "gamma":
        shape = 1.0 / spec.cv ** 2
        return np.cumsum(rng.gamma(shape, 1.0 / (spec.rate_per_s * shape), size=n))
    if spec.process == "constant":
        return np.arange(n, dtype=np.float64) / spec.rate_per_s
    if spec.process == "all-at-once":
        return np.zeros(n)
    return np.full(n, np.nan)


def _read_trace(path: str, limit: int | None, classes: tuple[RequestClass, ...]) -> pd.DataFrame:
    p = Path(path)
    if not is_file(p):
        raise SpecError("trace file not found; check the path", source=path, field="workload.arrival.path")
    df = rename_columns(read_csv_file(p), where=path)
    for col in ("arrival_s", "input_len", "output_len"):
        if col not in df.columns:
            raise SpecError("missing column; the trace needs arrival_s, input_len, output_len",
                            source=path, field=col)
        df[col] = pd.to_numeric(df[col], errors="coerce")
    if limit is not None:
        df = df.iloc[:limit]
    if df.empty:
        raise SpecError("has no requests", source=path)
    arr = df["arrival_s"].to_numpy(dtype=np.float64)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0) or np.any(np.diff(arr) < 0):
        raise SpecError("arrival times must be finite, >= 0 and sorted", source=path, field="arrival_s")
    for col in ("input_len", "output_len"):
        values = df[col].to_numpy(dtype=np.float64)
        if np.any(~np.isfinite(values)) or np.any(values < 1) or np.any(values > MAX_TOKENS):
            raise SpecError(f"token counts must be whole numbers in [1, {MAX_TOKENS:,}]", source=path, field=col)
    if "class" in df.columns:
        names = {c.name: i for i, c in enumerate(classes)}
        unknown = set(df["class"].astype(str)) - set(names)
        if unknown:
            raise SpecError(f"unknown class {sorted(unknown)[0]!r}; declare it under workload.classes",
                            source=path, field="class")
        df = df.assign(class_id=df["class"].astype(str).map(names))
    return df


def generate(spec: WorkloadSpec, seed: int, requests: int | None = None) -> RequestTable:
    """Draw every request of a workload (deterministic for `seed`)."""
    rng = np.random.default_rng(seed)
    classes = spec.classes
    if spec.arrival.process == "trace":
        df = _read_trace(spec.arrival.path, requests or spec.requests, classes)
        n = len(df)
        arrival = df["arrival_s"].to_numpy(dtype=np.float64)
        arrival = arrival - (arrival[0] if n else 0.0)
        class_id = (df["class_id"].to_numpy(dtype=np.int64) if "class_id" in df.columns
                    else rng.choice(len(classes), size=n, p=_weights(classes)))
        input_len = df["input_len"].to_numpy(dtype=np.int64)
        trace_out = df["output_len"].to_numpy(dtype=np.int64)
    else:
        n = requests or spec.requests
        arrival = draw_arrivals(spec.arrival, n, rng)
        class_id = rng.choice(len(classes), size=n, p=_weights(classes))
        input_len = np.empty(n, dtype=np.int64)
        trace_out = None
    samples = np.array([c.samples for c in classes], dtype=np.int64)[class_id]
    seq_start = np.concatenate([[0], np.cumsum(samples)[:-1]]).astype(np.int64) if n else np.zeros(0, np.int64)
    seq_request = np.repeat(np.arange(n, dtype=np.int64), samples)
    seq_out = np.empty(int(samples.sum()), dtype=np.int64)
    seq_class = class_id[seq_request]
    for cid, cls in enumerate(classes):
        mask = class_id == cid
        if trace_out is None:
            input_len[mask] = draw_lengths(cls.input_len or spec.input_len, int(mask.sum()), rng)
        smask = seq_class == cid
        if trace_out is None:
            seq_out[smask] = draw_lengths(cls.output_len or spec.output_len, int(smask.sum()), rng)
        else:
            seq_out[smask] = trace_out[seq_request[smask]]
    prefix = np.array([c.shared_prefix_tokens for c in classes], dtype=np.int64)[class_id]
    input_len = np.maximum(input_len, prefix + 1)  # a shared prefix is followed by the request's own text
    m = np.array([c.first_finish or c.samples for c in classes], dtype=np.int64)[class_id]
    closed = spec.arrival.process == "closed-loop"
    return RequestTable(
        arrival_s=arrival, input_len=input_len, class_id=class_id, samples=samples, first_finish=m,
        prefix_tokens=prefix, seq_start=seq_start, seq_output_len=seq_out, seq_request=seq_request,
        classes=classes, concurrency=spec.arrival.concurrency if closed else None,
        think_time_s=spec.arrival.think_time_s if closed else 0.0,
    )


def _weights(classes: tuple[RequestClass, ...]) -> np.ndarray:
    w = np.array([c.weight for c in classes], dtype=np.float64)
    return w / w.sum()


def acceptance_draws(seed: int, seq: int, steps: int, k: int, rate: float) -> np.ndarray:
    """Accepted draft tokens (0..k) of each speculative step of one sequence: each draft token is
    accepted with probability `rate` until the first rejection. Counter-based (seed, seq), so the
    draws do not depend on scheduling order."""
    rng = np.random.default_rng([seed, 7919, seq])
    accepted = rng.random((steps, k)) < rate
    return np.where(accepted.all(axis=1), k, np.argmin(accepted, axis=1)).astype(np.int64)
