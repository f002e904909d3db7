"""The calibration bundle: a versioned JSON of probe samples and summaries, written atomically."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import secrets
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from perfmodel.errors import SpecError
from perfmodel.probe.bench import Timing
from perfmodel.specs.loader import MAX_TABLE_BYTES, read_text_file, validation_error_to_spec_error

BUNDLE_FORMAT = "perfmodel-calibration-bundle"
SCHEMA_VERSION = 1

BenchStatus = Literal["complete", "truncated", "skipped", "failed", "interrupted"]


class Sample(BaseModel):
    """One benchmark point: its parameters, the work it does, and per-call seconds."""

    model_config = ConfigDict(extra="forbid")
    kernel: str
    params: dict[str, int | float | str | bool] = Field(default_factory=dict)
    flops: float = 0.0
    bytes: float = 0.0
    inner: int = 1
    times_s: list[float] = Field(min_length=1)
    median_s: float
    p10_s: float
    p90_s: float

    @model_validator(mode="after")
    def _check(self) -> Sample:
        times = [*self.times_s, self.median_s, self.p10_s, self.p90_s]
        if not all(math.isfinite(t) and t > 0 for t in times):
            raise ValueError(f"'{self.kernel}' sample times must be finite and > 0 seconds; re-run the probe")
        if not (math.isfinite(self.flops) and math.isfinite(self.bytes) and self.flops >= 0 and self.bytes >= 0):
            raise ValueError(f"'{self.kernel}' sample flops and bytes must be finite and >= 0")
        return self

    @classmethod
    def of(cls, kernel: str, timing: Timing, *, flops: float = 0.0, bytes: float = 0.0,  # noqa: A002
           **params: int | float | str | bool) -> Sample:
        return cls(kernel=kernel, params=params, flops=flops, bytes=bytes, inner=timing.inner,
                   times_s=list(timing.times_s), median_s=timing.median_s, p10_s=timing.p10_s,
                   p90_s=timing.p90_s)

    def seconds(self, stat: str = "median") -> float:
        """Per-call seconds by `stat`: `median`, `p25` (the lower quartile of the samples) or `min` (the
        least disturbed sample on a shared machine)."""
        if stat == "median":
            return self.median_s
        if stat == "p25":
            return float(np.quantile(self.times_s, 0.25))
        return float(min(self.times_s))

    @property
    def flops_per_s(self) -> float:
        return self.flops / self.median_s

    @property
    def bytes_per_s(self) -> float:
        return self.bytes / self.median_s


class BenchmarkResult(BaseModel):
    """All samples of one microbenchmark, with its status and a short summary."""

    model_config = ConfigDict(extra="forbid")
    name: str
    status: BenchStatus = "complete"
    note: str = ""
    elapsed_s: float = 0.0
    samples: list[Sample] = Field(default_factory=list)
    summary: dict[str, Any] = Field(default_factory=dict)


class Bundle(BaseModel):
    """A probe run: environment, per-benchmark samples, optional end-to-end results."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["perfmodel-calibration-bundle"] = BUNDLE_FORMAT
    schema_version: int = SCHEMA_VERSION
    bundle_id: str
    created_utc: str
    status: Literal["running", "complete", "partial", "interrupted"] = "running"
    backend: str
    device: str
    threads: int
    clock: Literal["wall", "thread"] = "wall"
    budget_s: float
    elapsed_s: float = 0.0
    env: dict[str, Any] = Field(default_factory=dict)
    benchmarks: dict[str, BenchmarkResult] = Field(default_factory=dict)
    e2e: list[dict[str, Any]] = Field(default_factory=list)

    def samples(self, benchmark: str, kernel: str | None = None) -> list[Sample]:
        """Samples of one benchmark (optionally one kernel); empty when it did not run."""
        result = self.benchmarks.get(benchmark)
        if result is None:
            return []
        return [s for s in result.samples if kernel is None or s.kernel == kernel]


def new_bundle_id(backend: str, device: str) -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"probe-{backend}-{device.replace(':', '')}-{stamp}-{secrets.token_hex(3)}"


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def write_bundle(bundle: Bundle, path: str | Path) -> Path:
    """Write atomically: a temporary file in the same folder, then os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(bundle.model_dump_json(indent=1))
    os.replace(tmp, path)
    return path


def load_bundle(path: str | Path) -> Bundle:
    """Read and validate a bundle; errors name the file and field."""
    path = Path(path)
    try:
        data = json.loads(read_text_file(path, limit=MAX_TABLE_BYTES))
    except RecursionError:
        raise SpecError("not usable JSON: nested too deeply", source=str(path)) from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"not valid JSON near line {exc.lineno}; was the probe killed mid-write?",
                        source=str(path)) from None
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise SpecError(f"not a calibration bundle (expected format: {BUNDLE_FORMAT}); "
                        "make one with `perfmodel probe -o bundle.json`", source=str(path))
    if data.get("schema_version") != SCHEMA_VERSION:
        raise SpecError(f"schema_version {data.get('schema_version')} is not supported (this perfmodel reads "
                        f"{SCHEMA_VERSION}); re-run `perfmodel probe`", source=str(path), field="schema_version")
    try:
        return Bundle.model_validate(data)
    except ValidationError as exc:
        raise validation_error_to_spec_error(exc, str(path)) from None
