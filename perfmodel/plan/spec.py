"""PlanSpec: what a capacity plan must serve (model, traffic, SLOs), on what (candidates), searched how.

YAML keys are the field names below (human units: seconds, tokens, req/s, USD per device-hour);
bad fields give one-line :class:`~perfmodel.errors.SpecError` messages naming the file and field.
See docs/planner.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from perfmodel.deprecation import rename_keys
from perfmodel.errors import SpecError
from perfmodel.sim.scenario import LengthSpec
from perfmodel.specs.loader import build_spec, is_file, read_mapping

QUANTILES = ("p50", "p90", "p99")
METRICS = ("ttft_s", "tpot_s", "itl_s", "e2e_s")
OBJECTIVES = ("min-cost-per-hour", "min-cost-per-mtok", "min-gpus", "max-tokens-per-gpu")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StrategySpec(_Frozen):
    """Test-time scaling per request: best-of-N / self-consistency (N samples share one prompt) or a long
    chain of thought capped at `budget_tokens`."""

    kind: Literal["best-of-n", "self-consistency", "long-cot"]
    n: PositiveInt = 1
    budget_tokens: PositiveInt | None = None

    @model_validator(mode="after")
    def _check(self) -> StrategySpec:
        if self.kind == "long-cot" and self.budget_tokens is None:
            raise ValueError("strategy 'long-cot' needs field 'budget_tokens'")
        return self

    @property
    def samples(self) -> int:
        return 1 if self.kind == "long-cot" else self.n


class TrafficSpec(_Frozen):
    """Offered load and request shape (lengths use the simulator's length formats)."""

    rate_per_s: PositiveFloat | None = None
    concurrency: PositiveInt | None = None
    arrival: Literal["poisson", "gamma", "trace"] = "poisson"
    burstiness_cv: PositiveFloat = 1.0
    """Coefficient of variation of gamma inter-arrival times (1 = Poisson, > 1 bursty)."""
    trace: str | None = None
    """CSV with arrival_s, input_len, output_len (the simulator's trace format)."""
    input_len: LengthSpec
    output_len: LengthSpec
    shared_prefix_fraction: float = Field(default=0.0, ge=0.0, lt=1.0)
    strategy: StrategySpec | None = None

    _renamed = model_validator(mode="before")(lambda data: rename_keys(data, where="traffic"))

    @model_validator(mode="after")
    def _check(self) -> TrafficSpec:
        if (self.rate_per_s is None) == (self.concurrency is None):
            raise ValueError("give exactly one of 'rate_per_s' and 'concurrency'")
        if self.arrival == "trace" and self.trace is None:
            raise ValueError("arrival 'trace' needs field 'trace' (a CSV path)")
        return self


class Targets(_Frozen):
    """Upper limits (seconds) at percentiles of the per-request distribution."""

    p50: PositiveFloat | None = None
    p90: PositiveFloat | None = None
    p99: PositiveFloat | None = None

    def items(self) -> list[tuple[str, float]]:
        return [(q, getattr(self, q)) for q in QUANTILES if getattr(self, q) is not None]


class SLOSpec(_Frozen):
    """Latency targets. TTFT: arrival to first token. TPOT: (E2E − TTFT)/(output tokens − 1), excludes the
    first token. ITL: every gap between consecutive tokens of a request. E2E: arrival to last token."""

    ttft_s: Targets = Targets()
    tpot_s: Targets = Targets()
    itl_s: Targets = Targets()
    e2e_s: Targets = Targets()
    attainment: float = Field(default=0.99, gt=0.0, le=1.0)
    """Share of requests that must meet every per-request limit (the loosest percentile target of each)."""

    def constraints(self) -> list[tuple[str, str, float]]:
        """(metric, quantile, limit_s) for every target set."""
        return [(m, q, v) for m in METRICS for q, v in getattr(self, m).items()]

    def per_request_limit(self, metric: str) -> float | None:
        """The limit a single request is held to: the highest-percentile target of the metric."""
        items = getattr(self, metric).items()
        return items[-1][1] if items else None


class CandidatesSpec(_Frozen):
    """Hardware to choose from, the GPU budget and prices (USD per device-hour; the catalog's price is an
    assumption, override it here)."""

    devices: tuple[str, ...]
    gpu_budget: PositiveInt | None = None
    nodes: PositiveInt | None = None
    devices_per_node: PositiveInt = 8
    prices: dict[str, NonNegativeFloat] = {}


class SearchSpec(_Frozen):
    """The configuration space. `disaggregation` items: 'aggregated' or 'xPyD' (e.g. '2p1d')."""

    tp: tuple[PositiveInt, ...] = (1, 2, 4, 8)
    pp: tuple[PositiveInt, ...] = (1,)
    ep: tuple[PositiveInt, ...] = (1,)
    disaggregation: tuple[str, ...] = ("aggregated",)
    weight_dtype: tuple[str, ...] = ("bf16",)
    kv_dtype: tuple[str, ...] = ("bf16",)
    engine: tuple[str, ...] = ("vllm",)
    max_num_seqs: tuple[PositiveInt, ...] = (256,)
    max_num_batched_tokens: tuple[PositiveInt, ...] = (8192,)
    prefix_caching: tuple[bool, ...] = (True,)
    speculative: tuple[bool, ...] = (False,)


class SpeculativeSettings(_Frozen):
    """Draft model and acceptance for candidates with speculative decoding on."""

    draft_model: str
    num_tokens: PositiveInt = 4
    acceptance_rate: float = Field(default=0.7, ge=0.0, le=1.0)


class ObjectiveSpec(_Frozen):
    kind: Literal["min-cost-per-hour", "min-cost-per-mtok", "min-gpus", "max-tokens-per-gpu"] = "min-cost-per-hour"
    min_tokens_per_s_per_user: PositiveFloat | None = None
    """Floor on output tokens/s per user (1/TPOT) for 'max-tokens-per-gpu'."""


class VerifySpec(_Frozen):
    """Stage 2: how many screened configurations are simulated and how hard."""

    top_k: int = Field(default=5, ge=0)
    max_pareto: int = Field(default=10, ge=0)
    requests: PositiveInt = 2000
    """Requests in the final simulation of each verified deployment at the planned rate."""
    bisect_requests: PositiveInt = 500
    """Requests in each one-unit simulation of the search for the largest per-unit load."""
    bisect_steps: PositiveInt = 6
    """Most simulations that narrow the bracket on the per-unit load once one is found."""
    bisect_tolerance: PositiveFloat = 0.1
    """The search stops once it has decided the unit count and the bracket is narrower than this × its low end."""
    seed: int = 0
    bootstrap: int = Field(default=200, ge=0)
    """Resamples for the confidence intervals of the simulated percentiles (0: none)."""


class PlanSpec(_Frozen):
    """A capacity-planning question (see docs/planner.md)."""

    name: str = "plan"
    description: str = ""
    model: str
    traffic: TrafficSpec
    slo: SLOSpec
    candidates: CandidatesSpec
    search: SearchSpec = SearchSpec()
    speculative: SpeculativeSettings | None = None
    objective: ObjectiveSpec = ObjectiveSpec()
    verify: VerifySpec = VerifySpec()


def _checked(spec: PlanSpec, source: str) -> PlanSpec:
    """Cross-field checks pydantic cannot express, each naming the field."""
    from perfmodel.plan.space import parse_disagg  # local: space imports this module
    from perfmodel.specs.catalog import load_device, load_model

    def bad(field: str, message: str) -> SpecError:
        return SpecError(message, source=source, field=field)

    try:
        load_model(spec.model)
    except Exception as exc:  # noqa: BLE001 - reported as a field error
        raise bad("model", str(exc)) from None
    if not spec.candidates.devices:
        raise bad("candidates.devices", "empty; list at least one device id")
    for dev in spec.candidates.devices:
        try:
            device = load_device(dev)
        except Exception as exc:  # noqa: BLE001
            raise bad("candidates.devices", str(exc)) from None
        if device.id not in spec.candidates.prices and dev not in spec.candidates.prices \
                and device.price_per_hour_usd is None:
            raise bad("candidates.prices", f"no price for '{device.id}' in the catalog; give one "
                                           f"(USD per device-hour, e.g. prices: {{{device.id}: 0.1}})")
    for name in ("tp", "pp", "ep", "disaggregation", "weight_dtype", "kv_dtype", "engine", "max_num_seqs",
                 "max_num_batched_tokens", "prefix_caching", "speculative"):
        if not getattr(spec.search, name):
            raise bad(f"search.{name}", "empty search space; give at least one value")
    for item in spec.search.disaggregation:
        try:
            parse_disagg(item)
        except ValueError as exc:
            raise bad("search.disaggregation", str(exc)) from None
    if True in spec.search.speculative and spec.speculative is None:
        raise bad("speculative", "search.speculative includes true; give speculative.draft_model")
    if not spec.slo.constraints():
        raise bad("slo", "no latency target; set at least one of ttft_s, tpot_s, itl_s, e2e_s (p50/p90/p99)")
    if spec.objective.kind == "max-tokens-per-gpu" and spec.objective.min_tokens_per_s_per_user is None:
        raise bad("objective.min_tokens_per_s_per_user", "'max-tokens-per-gpu' needs a tokens/s/user floor")
    return spec


def _negative_hint(data: Any, source: str) -> None:
    """Negative numbers anywhere get a plain message before pydantic's."""
    def walk(obj: Any, path: str) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(obj, list):
            for v in obj:
                walk(v, path)
        elif isinstance(obj, (int, float)) and not isinstance(obj, bool) and obj < 0:
            raise SpecError(f"must not be negative (got {obj})", source=source, field=path)
    walk(data, "")


def load_plan_spec(ref: str | Path | dict | PlanSpec) -> PlanSpec:
    """A PlanSpec from an object, a mapping, a YAML path or a shipped plan id (workloads/plans/)."""
    if isinstance(ref, PlanSpec):
        return ref
    if isinstance(ref, dict):
        _negative_hint(ref, "plan")
        return _checked(build_spec(PlanSpec, ref, "plan"), "plan")
    from perfmodel.specs.catalog import catalog_dir, catalog_entries

    text = str(ref)
    shipped = catalog_entries(catalog_dir("workloads") / "plans")
    path = shipped.get(text) or Path(text).expanduser()
    if not is_file(path):
        raise SpecError(f"file not found; shipped plans: {', '.join(sorted(shipped))}", source=text)
    data = read_mapping(path)
    data.setdefault("name", path.stem)
    trace = (data.get("traffic") or {}).get("trace")
    if isinstance(trace, str) and not Path(trace).is_absolute():
        data["traffic"]["trace"] = str((path.parent / trace).resolve())
    _negative_hint(data, str(path))
    return _checked(build_spec(PlanSpec, data, str(path)), str(path))
