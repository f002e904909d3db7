"""The request shape a plan serves: mean and quantile lengths from the spec's distributions or trace."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from perfmodel.deprecation import rename_columns
from perfmodel.errors import SpecError
from perfmodel.plan.spec import PlanSpec
from perfmodel.sim.scenario import LengthSpec
from perfmodel.specs.loader import read_csv_file

SAMPLES = 20_000


def sample_lengths(spec: LengthSpec, n: int = SAMPLES, seed: int = 0) -> np.ndarray:
    """Token lengths drawn from a length distribution (the simulator's definitions: lognormal by mean and
    cv, clipped to [min, max], rounded)."""
    rng = np.random.default_rng(seed)
    if spec.dist == "fixed":
        x = np.full(n, float(spec.value))
    elif spec.dist == "uniform":
        x = rng.integers(spec.low, spec.high + 1, n).astype(np.float64)
    elif spec.dist == "lognormal":
        sigma2 = np.log1p(spec.cv ** 2)
        x = rng.lognormal(np.log(spec.mean) - sigma2 / 2.0, np.sqrt(sigma2), n)
    else:
        table = read_csv_file(spec.path)
        x = rng.choice(_column(table, spec.column or table.columns[0], spec.path), n)
    return np.round(np.clip(x, spec.min, spec.max if spec.max is not None else np.inf))


def _column(table: pd.DataFrame, name: str, source: str) -> np.ndarray:
    """One numeric column (finite, >= 1 token, not empty) of a length or trace table."""
    if name not in table.columns:
        raise SpecError(f"has no column '{name}'", source=str(source))
    values = pd.to_numeric(table[name], errors="coerce").to_numpy(np.float64)
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 1):
        raise SpecError(f"column '{name}' must hold finite token counts >= 1", source=str(source))
    return values


@dataclass(frozen=True)
class WorkloadShape:
    """Mean lengths (tokens per request and per sample), samples per request and output-length quantiles."""

    input_len: float
    output_len: float
    cached_input_len: float
    samples: int
    output_q: dict[str, float]

    def output_quantile(self, q: str) -> float:
        return self.output_q[q]


def workload_shape(spec: PlanSpec) -> WorkloadShape:
    """Lengths of the spec's traffic (a trace file's columns when arrivals come from a trace)."""
    t = spec.traffic
    if t.arrival == "trace":
        table = rename_columns(read_csv_file(t.trace), where=str(t.trace))
        inp, out = _column(table, "input_len", t.trace), _column(table, "output_len", t.trace)
    else:
        inp, out = sample_lengths(t.input_len), sample_lengths(t.output_len, seed=1)
    samples = 1
    if t.strategy is not None:
        samples = t.strategy.samples
        if t.strategy.budget_tokens is not None:
            out = np.minimum(out, t.strategy.budget_tokens)
    # a request waits for all its samples: the q-quantile of the longest of n is the q^(1/n) quantile of one
    qs = {name: float(np.quantile(out, p ** (1.0 / samples)))
          for name, p in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))}
    mean_in = float(np.mean(inp))
    return WorkloadShape(input_len=mean_in, output_len=max(float(np.mean(out)), 1.0),
                         cached_input_len=max(mean_in * (1.0 - t.shared_prefix_fraction), 1.0), samples=samples,
                         output_q=qs)
