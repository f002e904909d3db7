"""A planned deployment as a simulator scenario (what stage 2 simulates and what the plan exports)."""

from __future__ import annotations

from typing import Any

from perfmodel.plan.spec import PlanSpec
from perfmodel.sim.scenario import (
    ArrivalSpec,
    DisaggregationSpec,
    LengthSpec,
    PoolSpec,
    RequestClass,
    Scenario,
    SchedulerSpec,
    SpeculativeSpec,
    WorkloadSpec,
)
from perfmodel.sim.scenario import SLOSpec as SimSLO


def _arrival(spec: PlanSpec, load: float) -> ArrivalSpec:
    t = spec.traffic
    if t.concurrency is not None:
        return ArrivalSpec(process="closed-loop", concurrency=max(int(round(load)), 1))
    if t.arrival == "gamma":
        return ArrivalSpec(process="gamma", rate_per_s=float(load), cv=t.burstiness_cv)
    return ArrivalSpec(process="poisson", rate_per_s=float(load))


def build_scenario(spec: PlanSpec, config: dict[str, Any], units: int, load: float, requests: int,
                   seed: int) -> Scenario:
    """`units` replicas (or xPyD units) of `config` serving `load` (req/s, or requests in flight for
    closed-loop traffic) for `requests` requests. A trace is replayed at its own timing only when `load`
    equals the spec's rate; otherwise its lengths are kept and arrivals are Poisson."""
    t = spec.traffic
    out_len: LengthSpec = t.output_len
    samples, budget = 1, None
    if t.strategy is not None:
        samples, budget = t.strategy.samples, t.strategy.budget_tokens
    if budget is not None:
        out_len = out_len.model_copy(update={"max": min(budget, out_len.max or budget)})
    mean_in = t.input_len.mean or t.input_len.value or t.input_len.low or 1
    prefix = int(t.shared_prefix_fraction * mean_in)
    slo = SimSLO(ttft_s=spec.slo.per_request_limit("ttft_s"), tpot_s=spec.slo.per_request_limit("tpot_s"),
                 e2e_s=spec.slo.per_request_limit("e2e_s"))
    cls = RequestClass(name=spec.name, slo=slo, shared_prefix_tokens=prefix, samples=samples)
    workload = WorkloadSpec(requests=int(requests), arrival=_arrival(spec, load), input_len=t.input_len,
                            output_len=out_len, classes=(cls,))
    sched = SchedulerSpec(name="continuous", max_num_seqs=int(config["max_num_seqs"]),
                          max_num_batched_tokens=int(config["max_num_batched_tokens"]),
                          prefix_caching=bool(config["prefix_caching"]))
    x, y = int(config["prefill_workers"]), int(config["decode_workers"])
    disagg = (DisaggregationSpec(prefill=PoolSpec(replicas=x * units), decode=PoolSpec(replicas=y * units))
              if x else None)
    speculative = None
    if config["speculative"] and spec.speculative is not None:
        s = spec.speculative
        speculative = SpeculativeSpec(draft_model=s.draft_model, num_tokens=s.num_tokens,
                                      acceptance_rate=s.acceptance_rate)
    return Scenario(name=f"{spec.name}-{config['config_id']}", description=f"planned deployment of {spec.model}",
                    seed=seed, model=spec.model, hardware=config["device"], replicas=1 if x else units,
                    tp=int(config["tp"]), pp=int(config["pp"]), ep=int(config["ep"]), engine=config["engine"],
                    weight_dtype=config["weight_dtype"], kv_dtype=config["kv_dtype"], scheduler=sched,
                    workload=workload, disaggregation=disagg, speculative=speculative)
