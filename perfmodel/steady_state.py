"""Closed-form steady state of one serving replica under continuous batching (vectorized, no simulation).

A replica runs back-to-back engine steps. In steady state every step carries the B sequences that
are decoding (one token each, at the mean context input_len + output_len/2) and, on some steps,
prompt chunks of the requests being admitted (chunked prefill under the token budget). Two
representative steps are priced by :func:`perfmodel.cost.step_cost` — a pure decode step and a
decode step with prompt chunks mixed in — and the step mix follows from flow balance: a request
needs k prefill chunks and output_len − 1 decode steps, so requests complete at B / (output_len − 1)
per step. Latencies follow from Little's law (closed loop) or from the step times (open loop).

Every input may be a numpy array (concurrencies, rates, lengths broadcast together): one call
evaluates thousands of operating points with a handful of `step_cost` calls.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from perfmodel.checks import whole
from perfmodel.cost.batch import BatchStats, FloatArray
from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import EngineProfile, load_engine
from perfmodel.cost.step import step_cost
from perfmodel.errors import PerfModelError
from perfmodel.specs.catalog import load_model, resolve_system
from perfmodel.specs.device import Device, System
from perfmodel.specs.model import ModelArch

DEFAULT_MAX_NUM_SEQS = 256
DEFAULT_MAX_BATCHED_TOKENS = 8192
OPEN_LOOP_ITERATIONS = 60


@dataclass(frozen=True)
class SteadyState:
    """Steady-state serving figures for a whole deployment (arrays over the swept operating points).

    Throughputs are for all `replicas` together; latencies are per request. `saturated` marks open-loop
    rates above what the deployment can serve (throughput is then the capacity, latencies are inf).
    """

    output_tokens_per_s: FloatArray
    total_tokens_per_s: FloatArray
    request_throughput_per_s: FloatArray
    ttft_mean_s: FloatArray
    tpot_mean_s: FloatArray
    itl_mean_s: FloatArray
    e2e_mean_s: FloatArray
    decode_batch: FloatArray
    """Sequences decoding in an average step of one replica."""
    step_s: FloatArray
    """Mean engine-step time of one replica."""
    saturated: FloatArray
    inputs: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain lists (JSON-ready)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value if f.name == "inputs" else np.asarray(value).tolist()
        return out


def _add(a: BatchStats, b: BatchStats) -> BatchStats:
    """Stats of one step that runs both compositions (sums; decode-only only if both are)."""
    values = {f.name: np.asarray(getattr(a, f.name)) + np.asarray(getattr(b, f.name)) for f in fields(a)}
    values["decode_only"] = np.minimum(np.asarray(a.decode_only), np.asarray(b.decode_only))
    return BatchStats(**values)


def _resolve(model: str | ModelArch, hardware: str | Device | System, tp: int, pp: int, ep: int,
             engine: str | EngineProfile | None):
    arch = load_model(model)
    par = Parallelism(tp=tp, pp=pp, ep=ep).check_for(arch)
    system = resolve_system(hardware, par.num_devices)
    eng = engine if isinstance(engine, EngineProfile) else load_engine(engine or "default")
    return arch, system, par, eng


def _kv_sequence_limit(arch: ModelArch, system: System, prec: Precision, par: Parallelism, eng: EngineProfile,
                       context: FloatArray, block_size: int, budget: int, max_seqs: int) -> FloatArray:
    """Sequences at the mean context whose KV fits in one replica (the memory model the simulator uses)."""
    from perfmodel.sim.kv import kv_capacity_blocks

    blocks, _ = kv_capacity_blocks(arch, system, prec, par, eng, block_size=block_size, step_tokens=budget,
                                   max_seqs=max_seqs)
    per_seq = np.ceil(np.maximum(context, 1.0) / block_size)
    return np.maximum(np.floor(blocks / per_seq), 1.0)


def steady_state(
    model: str | ModelArch,
    hardware: str | Device | System,
    *,
    input_len: ArrayLike,
    output_len: ArrayLike,
    concurrency: ArrayLike | None = None,
    request_rate: ArrayLike | None = None,
    replicas: int = 1,
    tp: int = 1,
    pp: int = 1,
    ep: int = 1,
    weight_dtype: str = "bf16",
    kv_dtype: str | None = None,
    act_dtype: str | None = None,
    engine: str | EngineProfile | None = None,
    max_num_seqs: ArrayLike = DEFAULT_MAX_NUM_SEQS,
    max_num_batched_tokens: ArrayLike = DEFAULT_MAX_BATCHED_TOKENS,
    block_size: int = 16,
) -> SteadyState:
    """Steady-state throughput and mean latencies of `replicas` continuous-batching replicas.

    Give either `concurrency` (closed loop: that many requests in flight over the whole deployment,
    each reissued when it finishes) or `request_rate` (open loop, req/s for the whole deployment).
    `input_len`/`output_len` are mean token lengths. All of these, and the scheduler caps `max_num_seqs`
    and `max_num_batched_tokens`, may be arrays; they broadcast (with array caps the KV capacity is
    computed once with the activations of the largest cap, slightly conservative for the smaller ones).
    Times come from :func:`perfmodel.cost.step_cost` only. Raises :class:`PerfModelError` for bad inputs.
    """
    if (concurrency is None) == (request_rate is None):
        raise PerfModelError("steady_state needs exactly one of concurrency (closed loop) or request_rate (open loop)")
    replicas = whole(replicas, "replicas")
    arch, system, par, eng = _resolve(model, hardware, tp, pp, ep, engine)
    prec = Precision.of(weight_dtype, act_dtype, kv_dtype)
    closed = concurrency is not None
    load = np.asarray(concurrency if closed else request_rate, dtype=np.float64)
    inp = np.asarray(input_len, dtype=np.float64)
    outl = np.asarray(output_len, dtype=np.float64)
    seqs_cap = np.asarray(max_num_seqs, dtype=np.float64)
    budget_cap = np.asarray(max_num_batched_tokens, dtype=np.float64)
    load, inp, outl, seqs_cap, budget_cap = np.broadcast_arrays(load, inp, outl, seqs_cap, budget_cap)
    if not all(np.all(np.isfinite(a)) for a in (load, inp, outl, seqs_cap, budget_cap)):
        raise PerfModelError("concurrency / request_rate, input_len, output_len and the scheduler caps must be "
                             "finite numbers")
    if np.any(load <= 0) or np.any(inp < 1) or np.any(outl < 1):
        raise PerfModelError("concurrency / request_rate must be > 0 and input_len, output_len >= 1")
    if np.any(seqs_cap < 1) or np.any(budget_cap < 1):
        raise PerfModelError("max_num_seqs and max_num_batched_tokens must be >= 1")
    per_replica = load / replicas
    dec_steps = np.maximum(outl - 1.0, 1e-9)  # decode steps after the first token
    context = inp + outl / 2.0
    kv_limit = _kv_sequence_limit(arch, system, prec, par, eng, context, block_size, int(np.max(budget_cap)),
                                  int(np.max(seqs_cap)))
    seq_limit = np.minimum(seqs_cap, kv_limit)
    # prefill is the bottleneck when the budget left by decodes cannot feed enough prompts:
    # B decodes leave (budget − B) tokens, i.e. (budget − B)/input prompts per step, each good for
    # output_len − 1 decode steps, so B <= budget (output_len − 1) / (input_len + output_len − 1).
    prefill_cap = budget_cap * dec_steps / (inp + dec_steps)
    b_max = np.minimum(seq_limit, prefill_cap)

    def price(b: FloatArray) -> tuple[FloatArray, ...]:
        room = np.maximum(budget_cap - np.ceil(b), 1.0)
        k = np.ceil(inp / room)  # chunks per prompt
        chunk = inp / k
        per_step = b / dec_steps  # requests completing (and admitted) per step
        q = per_step * k  # prompt chunks per step
        phi = np.minimum(q, 1.0)  # share of steps that carry chunks
        m = np.where(q > 0, q / np.maximum(phi, 1e-12), 1.0)  # chunks on such a step (at least one)
        window = arch.sliding_window.size if arch.sliding_window else None
        decode = BatchStats.uniform(b, 1.0, context, window=window)
        chunks = BatchStats.uniform(m, chunk, (k - 1.0) * chunk / 2.0, window=window, sampled_per_seq=1.0 / k)
        both = _stack(decode, _add(decode, chunks))
        t = np.asarray(step_cost(arch, system, both, prec, par, eng).time_s)
        n = b.size
        t_dec, t_mix = t[:n].reshape(b.shape), t[n:].reshape(b.shape)
        return t_dec, t_mix, phi, per_step, k

    if closed:
        n_run = np.minimum(per_replica, seq_limit)
        # in steps, a request waits for the running step (when others keep the replica busy), spends
        # k steps in prefill and output_len − 1 decoding: the share of the running set that decodes
        k0 = np.ceil(inp / np.maximum(budget_cap - np.ceil(n_run), 1.0))
        wait = np.where(n_run > 1.0, 1.0, 0.0)
        b = np.minimum(n_run * dec_steps / (dec_steps + k0 + wait), b_max)
        b = np.where(outl > 1, b, 0.0)
        t_dec, t_mix, phi, per_step, k = price(b)
        step = (1.0 - phi) * t_dec + phi * t_mix
        # a lone request leaves the replica idle for its admission overhead between requests
        idle = np.where(n_run <= 1.0, eng.request_overhead_s, 0.0)
        steps_per_request = np.where(outl > 1, 1.0 / np.maximum(per_step, 1e-300), k)
        rate = 1.0 / (steps_per_request * step + idle)  # requests per s per replica
        rate = np.where(outl > 1, rate, n_run / (k * t_mix + eng.request_overhead_s))
        saturated = np.zeros_like(rate)
    else:
        b = np.minimum(per_replica * dec_steps * 1e-3, b_max)  # start low; iterate B = λ (L − 1) t_step(B)
        for _ in range(OPEN_LOOP_ITERATIONS):
            t_dec, t_mix, phi, per_step, k = price(b)
            step = (1.0 - phi) * t_dec + phi * t_mix
            b = np.minimum(0.5 * b + 0.5 * per_replica * dec_steps * step, b_max)
        t_dec, t_mix, phi, per_step, k = price(b)
        step = (1.0 - phi) * t_dec + phi * t_mix
        full_dec, full_mix, full_phi, _, _ = price(b_max)
        capacity = b_max / dec_steps / ((1.0 - full_phi) * full_dec + full_phi * full_mix)  # requests/s at b_max
        saturated = per_replica >= capacity * (1.0 - 1e-6)
        rate = np.where(saturated, capacity, per_replica)
    # a decoding sequence sees the other requests' prompt chunks on a share of its steps
    others = np.where(closed, np.clip((per_replica - 1.0) / np.maximum(per_replica, 1.0), 0.0, 1.0), 1.0)
    phi_seen = np.minimum(phi * others, 1.0)
    tpot = np.where(outl > 1, (1.0 - phi_seen) * t_dec + phi_seen * t_mix, np.nan)
    if closed:
        e2e = per_replica / rate  # Little's law: every in-flight request is reissued when it finishes
        # the arrival waits for the running step (or the admission overhead on an idle replica), then its
        # k prompt chunks; requests beyond the running limit also wait their turn in the queue
        queue = np.maximum(per_replica - n_run, 0.0) / rate
        ttft = np.where(n_run > 1.0, step, eng.request_overhead_s) + k * t_mix + queue
    else:
        ttft = eng.request_overhead_s + step / 2.0 + k * t_mix
        e2e = ttft + dec_steps * np.nan_to_num(tpot)
        ttft = np.where(saturated, np.inf, ttft)
        e2e = np.where(saturated, np.inf, e2e)
    req_s = rate * replicas
    return SteadyState(
        output_tokens_per_s=req_s * outl, total_tokens_per_s=req_s * (inp + outl), request_throughput_per_s=req_s,
        ttft_mean_s=ttft, tpot_mean_s=tpot, itl_mean_s=tpot, e2e_mean_s=e2e, decode_batch=b, step_s=step,
        saturated=np.asarray(saturated, dtype=np.float64),
        inputs={"model": arch.id, "hardware": system.id, "engine": eng.name, "replicas": replicas, "tp": par.tp,
                "pp": par.pp, "ep": par.ep, "weight_dtype": prec.weight.name, "kv_dtype": prec.kv.name,
                "mode": "closed-loop" if closed else "open-loop",
                "max_num_seqs": np.asarray(max_num_seqs).tolist(),
                "max_num_batched_tokens": np.asarray(max_num_batched_tokens).tolist()})


def _stack(a: BatchStats, b: BatchStats) -> BatchStats:
    """One BatchStats whose arrays are a's steps followed by b's (one `step_cost` call for both)."""
    shape = np.broadcast_shapes(a.shape, b.shape)
    values = {f.name: np.concatenate([np.broadcast_to(getattr(a, f.name), shape).ravel(),
                                      np.broadcast_to(getattr(b, f.name), shape).ravel()]) for f in fields(a)}
    return BatchStats(**values)
