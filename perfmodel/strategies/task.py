"""`task_cost`: the cost of one prompt through one strategy on described hardware.

FLOPs, bytes (weights, KV read, KV written), eFLOPs (Kinetics: FLOPs + I·bytes), latency with the
samples batched as an engine runs them, energy (power model in :mod:`perfmodel.strategies.power`),
dollars, peak memory and where the time goes. Every second comes from the cost core
(`cost_model="perfmodel"`); `cost_model="kinetics"` reports the published law instead
(:mod:`perfmodel.strategies.kinetics`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from perfmodel._version import __version__
from perfmodel.checks import tokens, whole
from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import EngineProfile, device_efficiency_source, load_engine, request_overhead_s
from perfmodel.deprecation import warn_renamed
from perfmodel.errors import PerfModelError
from perfmodel.specs.catalog import load_model, resolve_system
from perfmodel.specs.device import Device, System
from perfmodel.specs.model import ModelArch
from perfmodel.strategies.alive import DEFAULT_RESOLUTION
from perfmodel.strategies.attention import DENSE, AttentionSpec
from perfmodel.strategies.base import PlanContext, Strategy
from perfmodel.strategies.evaluate import Deployment, PhaseCost, price_phases
from perfmodel.strategies.phases import TARGET, Phase
from perfmodel.strategies.power import dollars, idle_power_w

COST_MODELS = ("perfmodel", "kinetics")


@dataclass(frozen=True)
class TaskCost:
    """Cost of one task (one prompt through one strategy). SI units; totals over all devices."""

    flops: float
    bytes: float
    weight_read_bytes: float
    kv_read_bytes: float
    kv_write_bytes: float
    eflops: float
    machine_balance_flop_per_byte: float
    latency_s: float
    energy_j: float | None
    cost_usd: float | None
    peak_memory_bytes: float
    fits: bool
    attention_share: float
    generated_tokens: float
    attention_time_s: float
    gemm_time_s: float
    other_time_s: float
    cost_model: str
    inputs: dict[str, Any]
    provenance: dict[str, Any]
    phase_rows: tuple[dict[str, Any], ...] = field(repr=False)

    @property
    def phases(self) -> pd.DataFrame:
        """Where the work and time go: one row per phase (prefill, decode, verify, draft, verifier…)."""
        return pd.DataFrame(list(self.phase_rows))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the keys `perfmodel tts cost --json` prints)."""
        d = {k: v for k, v in asdict(self).items() if k != "phase_rows"}
        d["phases"] = [dict(r) for r in self.phase_rows]
        return d


@dataclass(frozen=True, eq=False)
class Setup:
    """The deployments of a task: the target and each extra role, and the plan context."""

    target: Deployment
    roles: dict[str, Deployment]
    separate: dict[str, bool]  # role runs on its own system (held for the whole task)
    ctx: PlanContext

    def deployment(self, role: str) -> Deployment:
        if role == TARGET:
            return self.target
        if role not in self.roles:
            raise PerfModelError(f"strategy uses a '{role}' model but none was given")
        return self.roles[role]


def _input_len(input_len: int | None, prompt_len: int | None) -> int:
    """`input_len`, or the deprecated `prompt_len` (with a warning)."""
    if prompt_len is not None:
        if input_len is not None:
            raise PerfModelError("give input_len only (prompt_len is its deprecated spelling)")
        warn_renamed("prompt_len", "input_len")
        return prompt_len
    if input_len is None:
        raise PerfModelError("input_len (prompt tokens) is required")
    return input_len


MAX_RESOLUTION = 1_000_000
"""Most context bins a decode is integrated on (bounded memory)."""


def make_target(model: str | ModelArch, hardware: str | Device | System, *, attention: AttentionSpec = DENSE,
                weight_dtype: str = "bf16", kv_dtype: str | None = None, act_dtype: str | None = None,
                tp: int = 1, pp: int = 1, ep: int = 1, engine: str | EngineProfile | None = None,
                machine_balance: float | None = None) -> Deployment:
    """The target model's deployment from ids, paths or spec objects (`machine_balance` overrides I)."""
    if machine_balance is not None and not machine_balance > 0:
        raise PerfModelError(f"machine balance must be > 0 FLOP/byte (got {machine_balance}); e.g. 562.5 for B200")
    arch = load_model(model)
    par = Parallelism(tp=tp, pp=pp, ep=ep).check_for(arch)
    return Deployment(arch, resolve_system(hardware, par.num_devices),
                      Precision.of(weight_dtype, act_dtype, kv_dtype), par, load_engine(engine), attention,
                      machine_balance)


def make_setup(target: Deployment, strategy: Strategy, prompt_tokens: int,
               resolution: int | None = DEFAULT_RESOLUTION, role_cache: dict | None = None) -> Setup:
    """Deployments for the strategy's extra roles (same system and precision as the target unless
    the role names its own hardware), reusing `role_cache` across calls when given."""
    prompt_tokens = tokens(prompt_tokens, "prompt length (input_len)")
    if resolution is not None:
        resolution = whole(resolution, "resolution (context bins per decode)", maximum=MAX_RESOLUTION)
    cache = {} if role_cache is None else role_cache
    roles, separate = {}, {}
    for name, role in strategy.roles().items():
        key = (name, role.model if isinstance(role.model, str) else role.model.id, str(role.hardware))
        if key not in cache:
            own = role.hardware is not None
            system = resolve_system(role.hardware, 1) if own else target.system
            par = Parallelism() if own else target.parallelism
            cache[key] = Deployment(load_model(role.model), system, target.precision, par, target.engine,
                                    machine_balance=None if own else target.machine_balance)
        roles[name], separate[name] = cache[key], role.hardware is not None
    budget = target.attention.budget_tokens
    ctx = PlanContext(prompt_tokens, resolution, (float(budget),) if budget else ())
    return Setup(target, roles, separate, ctx)


def _provenance(dep: Deployment) -> dict[str, Any]:
    return {"model": dep.model.id, "hardware": dep.system.id, "device": dep.system.device.id,
            "device_calibration": device_efficiency_source(dep.system.device), "engine": dep.engine.name,
            "precision": dep.precision.label(), "perfmodel_version": __version__}


def _inputs(setup: Setup, strategy: Strategy, cost_model: str) -> dict[str, Any]:
    t = setup.target
    return {"model": t.model.id, "hardware": t.system.id, "input_len": setup.ctx.prompt_tokens,
            "attention": t.attention.label(), "weight_dtype": t.precision.weight.name,
            "act_dtype": t.precision.act.name, "kv_dtype": t.precision.kv.name, "tp": t.parallelism.tp,
            "pp": t.parallelism.pp, "engine": t.engine.name, "cost_model": cost_model,
            "resolution": setup.ctx.resolution, **strategy.describe(),
            "roles": {name: dep.model.id for name, dep in setup.roles.items()}}


def peak_memory(setup: Setup, phases: list[Phase]) -> tuple[float, bool]:
    """Weights of every model plus the most KV each holds at once; whether each system holds it."""
    need: dict[int, float] = {}
    systems: dict[int, Deployment] = {}
    for role in {TARGET, *setup.roles}:
        dep = setup.deployment(role)
        live = max((p.live_kv_tokens for p in phases if p.role == role), default=0.0)
        key = id(dep.system)
        need[key] = need.get(key, 0.0) + dep.weight_bytes_total() + dep.kv_bytes_total(live)
        systems[key] = dep
    fits = all(need[k] <= systems[k].system.device.capacity_bytes * systems[k].devices for k in need)
    return sum(need.values()), fits


def assemble(setup: Setup, strategy: Strategy, phases: list[Phase], costs: list[PhaseCost]) -> TaskCost:
    """Totals, energy, dollars and the per-phase table of one priced task."""
    rows, eflops, attention_e = [], 0.0, 0.0
    energy: float | None = 0.0
    for p, c in zip(phases, costs, strict=True):
        dep = setup.deployment(p.role)
        i = dep.machine_balance_flop_per_byte
        e, a = c.flops + i * c.bytes, c.attention_flops + i * c.attention_bytes
        eflops, attention_e = eflops + e, attention_e + a
        energy = None if energy is None or c.energy_j is None else energy + c.energy_j
        rows.append({"phase": c.name, "role": c.role, "model": dep.model.id, "steps": c.steps, "time_s": c.time_s,
                     "flops": c.flops, "bytes": c.bytes, "weight_bytes": c.weight_bytes, "kv_bytes": c.kv_bytes,
                     "kv_write_bytes": c.kv_write_bytes, "attention_flops": c.attention_flops,
                     "attention_bytes": c.attention_bytes,
                     "eflops": e, "attention_share": a / e if e > 0 else 0.0,
                     "attention_time_s": c.attention_time_s, "gemm_time_s": c.gemm_time_s,
                     "other_time_s": c.other_time_s, "energy_j": c.energy_j, "generated_tokens": c.generated_tokens})
    t = setup.target
    latency = sum(c.time_s for c in costs) + request_overhead_s(t.engine)
    usd = dollars(t.system.device, t.devices, latency)
    for role, own in setup.separate.items():
        if not own:
            continue
        dep = setup.roles[role]
        role_usd = dollars(dep.system.device, dep.devices, latency)
        usd = None if usd is None or role_usd is None else usd + role_usd
        idle, busy = idle_power_w(dep.system.device), sum(c.time_s for c in costs if c.role == role)
        energy = None if energy is None or idle is None else energy + idle * dep.devices * max(latency - busy, 0.0)
    peak, fits = peak_memory(setup, phases)
    kv_total = sum(c.kv_bytes for c in costs)
    kv_write = sum(c.kv_write_bytes for c in costs)
    return TaskCost(
        flops=sum(c.flops for c in costs), bytes=sum(c.bytes for c in costs),
        weight_read_bytes=sum(c.weight_bytes for c in costs), kv_read_bytes=kv_total - kv_write,
        kv_write_bytes=kv_write, eflops=eflops, machine_balance_flop_per_byte=t.machine_balance_flop_per_byte,
        latency_s=latency, energy_j=energy, cost_usd=usd, peak_memory_bytes=peak, fits=fits,
        attention_share=attention_e / eflops if eflops > 0 else 0.0,
        generated_tokens=sum(c.generated_tokens for c in costs if c.role == TARGET),
        attention_time_s=sum(c.attention_time_s for c in costs), gemm_time_s=sum(c.gemm_time_s for c in costs),
        other_time_s=sum(c.other_time_s for c in costs), cost_model="perfmodel",
        inputs=_inputs(setup, strategy, "perfmodel"), provenance=_provenance(t), phase_rows=tuple(rows))


def price_tasks(setups: list[Setup], strategies: list[Strategy]) -> list[TaskCost]:
    """Price many tasks at once: phases on the same deployment share one cost-core call."""
    plans = [s.phases(setup.ctx) for setup, s in zip(setups, strategies, strict=True)]
    batches: dict[int, tuple[Deployment, list[tuple[int, int, Phase]]]] = {}
    for ti, (setup, phases) in enumerate(zip(setups, plans, strict=True)):
        for pi, phase in enumerate(phases):
            dep = setup.deployment(phase.role)
            batches.setdefault(id(dep), (dep, []))[1].append((ti, pi, phase))
    priced: list[list[PhaseCost | None]] = [[None] * len(p) for p in plans]
    for dep, items in batches.values():
        for (ti, pi, _), cost in zip(items, price_phases(dep, [ph for _, _, ph in items]), strict=True):
            priced[ti][pi] = cost
    return [assemble(setup, s, phases, costs)  # type: ignore[arg-type]
            for setup, s, phases, costs in zip(setups, strategies, plans, priced, strict=True)]


def task_cost(
    model: str | ModelArch,
    hardware: str | Device | System,
    strategy: Strategy,
    *,
    input_len: int | None = None,
    attention: AttentionSpec = DENSE,
    weight_dtype: str = "bf16",
    kv_dtype: str | None = None,
    act_dtype: str | None = None,
    tp: int = 1,
    pp: int = 1,
    ep: int = 1,
    engine: str | EngineProfile | None = None,
    cost_model: str = "perfmodel",
    resolution: int | None = DEFAULT_RESOLUTION,
    machine_balance: float | None = None,
    prompt_len: int | None = None,
) -> TaskCost:
    """Cost of one prompt of `input_len` tokens through `strategy` with `model` on `hardware`.

    `attention` applies a sparse variant to every decode step of the target (prefill stays dense).
    `resolution` is the number of context bins a long decode is integrated on (None: every step).
    `cost_model="kinetics"` reports the published Kinetics law (decode only, weights dropped) for
    parallel-sampling strategies. `machine_balance` (FLOP/byte) replaces the device's I = peak FLOP/s
    ÷ memory B/s in eFLOPs = FLOPs + I·bytes. `prompt_len` is the deprecated spelling of `input_len`.
    """
    input_len = _input_len(input_len, prompt_len)
    if cost_model not in COST_MODELS:
        raise PerfModelError(f"unknown cost model '{cost_model}'; use one of {', '.join(COST_MODELS)}")
    target = make_target(model, hardware, attention=attention, weight_dtype=weight_dtype, kv_dtype=kv_dtype,
                         act_dtype=act_dtype, tp=tp, pp=pp, ep=ep, engine=engine, machine_balance=machine_balance)
    setup = make_setup(target, strategy, input_len, resolution)
    if cost_model == "kinetics":
        from perfmodel.strategies.kinetics_task import kinetics_task_cost

        return kinetics_task_cost(setup, strategy)
    return price_tasks([setup], [strategy])[0]
