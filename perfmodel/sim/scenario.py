"""Scenario spec: what the simulator runs (deployment, scheduler, router, workload), validated and frozen.

A scenario is a YAML file in human units (see docs/simulator.md); bad fields give one-line
:class:`~perfmodel.errors.SpecError` messages naming the file and field. Relative paths inside a
scenario (trace CSVs, empirical length files) are resolved against the scenario's folder at load.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

from perfmodel.checks import MAX_TOKENS
from perfmodel.cost.engine import DEFAULT_ENGINE
from perfmodel.deprecation import rename_keys
from perfmodel.errors import PerfModelError, SpecError, UnknownIdError
from perfmodel.sim.router import ROUTERS
from perfmodel.sim.scheduler import SCHEDULERS
from perfmodel.specs.catalog import catalog_dir, catalog_entries
from perfmodel.specs.device import Device, System
from perfmodel.specs.loader import build_spec, is_file, read_mapping
from perfmodel.specs.model import ModelArch


def _registered(registry: dict[str, Any]) -> AfterValidator:
    """A name that must be a key of `registry` (the message lists the registered names)."""
    def check(value: str) -> str:
        if value not in registry:
            names = [repr(n) for n in registry]
            raise ValueError("Input should be " + (" or ".join([", ".join(names[:-1]), names[-1]])
                                                   if len(names) > 1 else names[0]))
        return value
    return AfterValidator(check)


SchedulerName = Annotated[str, _registered(SCHEDULERS)]
RouterName = Annotated[str, _registered(ROUTERS)]
RATE_PROCESSES = ("poisson", "gamma", "constant")
Tokens = Annotated[int, Field(ge=1, le=MAX_TOKENS)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class LengthSpec(_Frozen):
    """A token-length distribution: fixed, uniform, lognormal (mean and cv) or empirical (a file)."""

    dist: Literal["fixed", "uniform", "lognormal", "empirical"]
    value: Tokens | None = None
    low: Tokens | None = None
    high: Tokens | None = None
    mean: Annotated[float, Field(gt=0, le=MAX_TOKENS)] | None = None
    cv: NonNegativeFloat | None = None
    path: str | None = None
    column: str | None = None
    min: Tokens = 1
    max: Tokens | None = None

    @model_validator(mode="after")
    def _check(self) -> LengthSpec:
        need = {"fixed": ("value",), "uniform": ("low", "high"), "lognormal": ("mean", "cv"),
                "empirical": ("path",)}[self.dist]
        for name in need:
            if getattr(self, name) is None:
                raise ValueError(f"dist '{self.dist}' needs field '{name}'")
        if self.dist == "uniform" and self.low > self.high:
            raise ValueError("uniform needs low <= high")
        if self.max is not None and self.max < self.min:
            raise ValueError("max must be >= min")
        return self

    @classmethod
    def fixed(cls, value: int) -> LengthSpec:
        return cls(dist="fixed", value=value)


class ArrivalSpec(_Frozen):
    """How requests arrive: an open-loop process, a fixed concurrency, all at once, or a trace."""

    process: Literal["poisson", "gamma", "constant", "closed-loop", "all-at-once", "trace"]
    rate_per_s: PositiveFloat | None = None
    cv: PositiveFloat | None = None
    """Coefficient of variation of gamma inter-arrival times (1 = Poisson, > 1 bursty)."""
    concurrency: PositiveInt | None = None
    think_time_s: NonNegativeFloat = 0.0
    path: str | None = None
    """CSV with columns arrival_s, input_len, output_len (and optionally class)."""

    @model_validator(mode="after")
    def _check(self) -> ArrivalSpec:
        if self.process in RATE_PROCESSES and self.rate_per_s is None:
            raise ValueError(f"process '{self.process}' needs field 'rate_per_s'")
        if self.process == "gamma" and self.cv is None:
            raise ValueError("process 'gamma' needs field 'cv'")
        if self.process == "closed-loop" and self.concurrency is None:
            raise ValueError("process 'closed-loop' needs field 'concurrency'")
        if self.process == "trace" and self.path is None:
            raise ValueError("process 'trace' needs field 'path'")
        return self


class SLOSpec(_Frozen):
    """Latency targets a request must meet to count towards goodput (None: no target)."""

    ttft_s: PositiveFloat | None = None
    tpot_s: PositiveFloat | None = None
    e2e_s: PositiveFloat | None = None


class RequestClass(_Frozen):
    """A class of requests: its share, SLOs, lengths, shared prompt prefix and test-time scaling."""

    name: str = "default"
    weight: PositiveFloat = 1.0
    slo: SLOSpec = SLOSpec()
    input_len: LengthSpec | None = None
    output_len: LengthSpec | None = None
    shared_prefix_tokens: NonNegativeInt = 0
    """Leading prompt tokens identical across the class (a system prompt): cached once per replica."""
    samples: PositiveInt = 1
    """Best-of-N: N sequences share one prompt (prefilled once, prefix held once)."""
    first_finish: PositiveInt | None = None
    """m of a first-finish (short-m@k) group: the request ends when m samples finish; the rest are cancelled."""

    _renamed = model_validator(mode="before")(lambda data: rename_keys(data, where="classes"))

    @model_validator(mode="after")
    def _check(self) -> RequestClass:
        if self.first_finish is not None and self.first_finish > self.samples:
            raise ValueError("first_finish must be <= samples")
        return self


MAX_REQUESTS = 1_000_000
"""Most requests one simulation accepts (memory grows with the request count)."""
MAX_HORIZON_S = 1e9
"""Longest arrival span (requests ÷ rate, ~32 years): beyond it float seconds lose the step times."""


def _check_horizon(requests: int, rate_per_s: float) -> None:
    if requests / rate_per_s > MAX_HORIZON_S:
        raise PerfModelError(f"{requests} requests at {rate_per_s:g} req/s span {requests / rate_per_s:.3g} s, over "
                             f"the {MAX_HORIZON_S:.0e} s the simulator's clock resolves; raise the rate")


class WorkloadSpec(_Frozen):
    requests: Annotated[int, Field(ge=1, le=MAX_REQUESTS)] = 1000
    arrival: ArrivalSpec
    input_len: LengthSpec
    output_len: LengthSpec
    classes: Annotated[tuple[RequestClass, ...], Field(min_length=1)] = (RequestClass(),)

    _renamed = model_validator(mode="before")(lambda data: rename_keys(data, where="workload"))

    @model_validator(mode="after")
    def _check(self) -> WorkloadSpec:
        if self.arrival.process in RATE_PROCESSES and self.arrival.rate_per_s is not None:
            _check_horizon(self.requests, self.arrival.rate_per_s)
        return self


class SchedulerSpec(_Frozen):
    """Engine scheduler and paged-KV settings of one replica."""

    name: SchedulerName = "continuous"
    max_num_seqs: PositiveInt = 256
    max_num_batched_tokens: PositiveInt = 8192
    block_size: PositiveInt = 16
    prefix_caching: bool = True
    kv_blocks: PositiveInt | None = None
    """Override the KV capacity (blocks per replica) computed from the memory model."""
    max_waiting: PositiveInt | None = None
    """Admission control: reject arrivals when this many requests already wait at the replica."""


class PoolSpec(_Frozen):
    """One pool of identical replicas; unset fields inherit the scenario's top-level values."""

    replicas: PositiveInt = 1
    hardware: str | Device | System | None = None
    tp: PositiveInt | None = None
    pp: PositiveInt | None = None
    ep: PositiveInt | None = None
    engine: str | None = None
    scheduler: SchedulerSpec | None = None


class LinkOverride(_Frozen):
    """The link KV caches cross between pools (per direction); default: the systems' own links."""

    bandwidth_gb_s: PositiveFloat | None = None
    latency_us: NonNegativeFloat | None = None
    shared: bool = False
    """True: every prefill replica's transfers queue on one shared link (contention)."""


class DisaggregationSpec(_Frozen):
    prefill: PoolSpec
    decode: PoolSpec
    link: LinkOverride = LinkOverride()
    decode_router: RouterName | None = None


class SpeculativeSpec(_Frozen):
    """Speculative decoding: k draft tokens per step, each accepted with `acceptance_rate`."""

    draft_model: str | ModelArch
    num_tokens: PositiveInt = 4
    acceptance_rate: float = Field(default=0.7, ge=0, le=1)


class Scenario(_Frozen):
    """A serving deployment and the workload it serves."""

    name: str = "scenario"
    description: str = ""
    seed: NonNegativeInt = 0
    model: str | ModelArch
    hardware: str | Device | System
    replicas: PositiveInt = 1
    tp: PositiveInt = 1
    pp: PositiveInt = 1
    ep: PositiveInt = 1
    engine: str = DEFAULT_ENGINE
    weight_dtype: str = "bf16"
    act_dtype: str | None = None
    kv_dtype: str | None = None
    scheduler: SchedulerSpec = SchedulerSpec()
    router: RouterName = "least-outstanding"
    workload: WorkloadSpec
    disaggregation: DisaggregationSpec | None = None
    speculative: SpeculativeSpec | None = None

    def with_overrides(self, *, requests: int | None = None, rate: float | None = None,
                       seed: int | None = None) -> Scenario:
        """A copy with the request count, arrival rate (req/s) or seed replaced (CLI flags)."""
        wl = self.workload
        if requests is not None:
            if isinstance(requests, bool) or not isinstance(requests, int) or not 1 <= requests <= MAX_REQUESTS:
                raise PerfModelError(f"--requests must be a whole number in [1, {MAX_REQUESTS:,}] (got {requests!r}); "
                                     "the upper limit bounds the simulator's memory")
            wl = wl.model_copy(update={"requests": int(requests)})
        if rate is not None:
            if wl.arrival.process not in RATE_PROCESSES:
                raise PerfModelError(f"--rate applies to {', '.join(RATE_PROCESSES)} arrivals; this scenario uses "
                                     f"'{wl.arrival.process}'")
            if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
                raise PerfModelError(f"--rate must be a finite number > 0 (got {rate!r})")
            wl = wl.model_copy(update={"arrival": wl.arrival.model_copy(update={"rate_per_s": float(rate)})})
        update: dict[str, Any] = {"workload": wl}
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
                raise PerfModelError(f"--seed must be a whole number in [0, 2^63) (got {seed!r})")
            update["seed"] = int(seed)
        if wl.arrival.rate_per_s is not None and wl.arrival.process in RATE_PROCESSES:
            _check_horizon(wl.requests, wl.arrival.rate_per_s)
        return self.model_copy(update=update)


def scenario_files() -> dict[str, Path]:
    """Shipped scenarios (id -> path) in workloads/scenarios/."""
    return catalog_entries(catalog_dir("workloads") / "scenarios")


_PATH_KEYS = ("path",)


def _resolve_paths(data: Any, base: Path) -> Any:
    """Make relative `path:` values absolute against the scenario file's folder."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if key in _PATH_KEYS and isinstance(value, str) and not Path(value).expanduser().is_absolute():
                out[key] = str((base / value).resolve())
            else:
                out[key] = _resolve_paths(value, base)
        return out
    if isinstance(data, list):
        return [_resolve_paths(v, base) for v in data]
    return data


def load_scenario(ref: str | Path | dict | Scenario) -> Scenario:
    """A scenario from an object, a mapping, a YAML path, or a shipped id (e.g. `chat`)."""
    if isinstance(ref, Scenario):
        return ref
    if isinstance(ref, dict):
        return build_spec(Scenario, ref, "scenario")
    text = str(ref)
    files = scenario_files()
    if text in files:
        path = files[text]
    else:
        path = Path(text).expanduser()
        if not is_file(path):
            if text.endswith((".yaml", ".yml", ".json")) or "/" in text:
                raise SpecError("file not found; check the path", source=text)
            close = UnknownIdError("scenario", text, files).suggestions
            hint = f"; did you mean {', '.join(close)}?" if close else f"; shipped: {', '.join(sorted(files))}"
            raise SpecError(f"unknown scenario '{text}'{hint} (or pass a path to a YAML file)")
    data = read_mapping(path)
    data.setdefault("name", path.stem)
    return build_spec(Scenario, _resolve_paths(data, path.parent), str(path))
