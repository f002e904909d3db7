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


def kv_blocks(model: ModelArch, system: System, precision: Precision, par: Parallelism, engine: EngineProfile, *,
              max_num_batched_tokens: ArrayLike, max_num_seqs: ArrayLike, block_size: int = 16) -> np.ndarray:
    """KV-cache blocks one replica holds beside its weights, reserve and the activations of a step of
    `max_num_batched_tokens` tokens over `max_num_seqs` sequences (the simulator's memory model), for each
    element of the broadcast caps. Raises DoesNotFitError when no block fits."""
    from perfmodel.sim.kv import kv_capacity_blocks

    budget, seqs = np.broadcast_arrays(np.asarray(max_num_batched_tokens, dtype=np.float64),
                                       np.asarray(max_num_seqs, dtype=np.float64))
    pairs, where = np.unique(np.stack([budget.ravel(), seqs.ravel()], axis=1), axis=0, return_inverse=True)
    blocks = np.array([kv_capacity_blocks(model, system, precision, par, engine, block_size=block_size,
                                          step_tokens=int(t), max_seqs=int(m))[0] for t, m in pairs], dtype=np.float64)
    return blocks[where.ravel()].reshape(budget.shape)


@dataclass(frozen=True)
class _Setup:
    """Broadcast inputs of one steady-state evaluation (no hardware: that only enters through step times)."""

    closed: bool
    replicas: int
    per_replica: np.ndarray
    inp: np.ndarray
    outl: np.ndarray
    budget_cap: np.ndarray
    dec_steps: np.ndarray
    context: np.ndarray
    seq_limit: np.ndarray
    b_max: np.ndarray
    overhead_s: FloatArray
    window: int | None
    inputs: dict[str, Any]

    def steps(self, b: FloatArray) -> tuple[BatchStats, dict[str, FloatArray]]:
        """The two representative steps at decode batch `b` (pure decode, then decode with prompt chunks),
        stacked for one `step_cost` call, and the step mix that goes with them."""
        room = np.maximum(self.budget_cap - np.ceil(b), 1.0)
        k = np.ceil(self.inp / room)  # chunks per prompt
        chunk = self.inp / k
        per_step = b / self.dec_steps  # requests completing (and admitted) per step
        q = per_step * k  # prompt chunks per step
        phi = np.minimum(q, 1.0)  # share of steps that carry chunks
        m = np.where(q > 0, q / np.maximum(phi, 1e-12), 1.0)  # chunks on such a step (at least one)
        decode = BatchStats.uniform(b, 1.0, self.context, window=self.window)
        chunks = BatchStats.uniform(m, chunk, (k - 1.0) * chunk / 2.0, window=self.window, sampled_per_seq=1.0 / k)
        return _stack(decode, _add(decode, chunks)), {"phi": phi, "per_step": per_step, "k": k, "b": b}

    def times(self, t: FloatArray, mix: dict[str, FloatArray]) -> tuple[FloatArray, ...]:
        """(decode step, mixed step, share of mixed steps, requests per step, chunks per prompt) from the
        priced steps of :meth:`steps`."""
        b = mix["b"]
        t = np.asarray(t)
        n = b.size
        return t[:n].reshape(b.shape), t[n:].reshape(b.shape), mix["phi"], mix["per_step"], mix["k"]


def _loop(*, load: FloatArray, closed: bool, replicas: int, inp: FloatArray, outl: FloatArray, seqs_cap: FloatArray,
          budget_cap: FloatArray, blocks: FloatArray, block_size: int, overhead_s: FloatArray, window: int | None,
          inputs: dict[str, Any]) -> _Setup:
    dec_steps = np.maximum(outl - 1.0, 1e-9)  # decode steps after the first token
    context = inp + outl / 2.0
    # sequences at the mean context whose KV fits in one replica
    kv_limit = np.maximum(np.floor(blocks / np.ceil(np.maximum(context, 1.0) / block_size)), 1.0)
    seq_limit = np.minimum(seqs_cap, kv_limit)
    # prefill is the bottleneck when the budget left by decodes cannot feed enough prompts:
    # B decodes leave (budget − B) tokens, i.e. (budget − B)/input prompts per step, each good for
    # output_len − 1 decode steps, so B <= budget (output_len − 1) / (input_len + output_len − 1).
    prefill_cap = budget_cap * dec_steps / (inp + dec_steps)
    return _Setup(closed=closed, replicas=replicas, per_replica=load / replicas, inp=inp, outl=outl,
                  budget_cap=budget_cap, dec_steps=dec_steps, context=context, seq_limit=seq_limit,
                  b_max=np.minimum(seq_limit, prefill_cap), overhead_s=overhead_s, window=window, inputs=inputs)


@dataclass(frozen=True)
class PendingSteadyState:
    """A closed-loop steady state waiting for its step times: price `steps` with
    :func:`perfmodel.cost.step_cost` (in pieces, on whatever hardware each element runs), then
    :meth:`finish` with the seconds of every step in `steps`' order."""

    steps: BatchStats
    _setup: _Setup
    _mix: dict[str, FloatArray]

    def finish(self, time_s: ArrayLike) -> SteadyState:
        """The steady state from the seconds of `steps`."""
        s = self._setup
        t_dec, t_mix, phi, per_step, k = s.times(np.asarray(time_s, dtype=np.float64), self._mix)
        return _closed_loop(s, self._mix["b"], t_dec, t_mix, phi, per_step, k)


def _pending(s: _Setup) -> PendingSteadyState:
    n_run = np.minimum(s.per_replica, s.seq_limit)
    # in steps, a request waits for the running step (when others keep the replica busy), spends
    # k steps in prefill and output_len − 1 decoding: the share of the running set that decodes
    k0 = np.ceil(s.inp / np.maximum(s.budget_cap - np.ceil(n_run), 1.0))
    wait = np.where(n_run > 1.0, 1.0, 0.0)
    b = np.minimum(n_run * s.dec_steps / (s.dec_steps + k0 + wait), s.b_max)
    b = np.where(s.outl > 1, b, 0.0)
    steps, mix = s.steps(b)
    return PendingSteadyState(steps=steps, _setup=s, _mix=mix)


def closed_loop_batches(*, input_len: ArrayLike, output_len: ArrayLike, concurrency: ArrayLike,
                        max_num_seqs: ArrayLike, max_num_batched_tokens: ArrayLike, kv_blocks: ArrayLike,
                        request_overhead_s: ArrayLike, window: int | None = None,
                        block_size: int = 16) -> PendingSteadyState:
    """The closed-loop :func:`steady_state` of one replica split in two — the steps to price, and how to
    finish from their times — for elements that may each run on different hardware: `kv_blocks` (see
    :func:`kv_blocks`) and `request_overhead_s` (the engine's) carry what the hardware and engine decide
    besides step times. Every argument broadcasts; `steady_state(concurrency=...)` is this with one
    `step_cost` call."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (
        concurrency, input_len, output_len, max_num_seqs, max_num_batched_tokens, kv_blocks)))
    load, inp, outl, seqs_cap, budget_cap, blocks = arrays
    return _pending(_loop(load=load, closed=True, replicas=1, inp=inp, outl=outl, seqs_cap=seqs_cap,
                          budget_cap=budget_cap, blocks=blocks, block_size=block_size,
                          overhead_s=np.asarray(request_overhead_s, dtype=np.float64), window=window,
                          inputs={"mode": "closed-loop"}))


def _closed_loop(s: _Setup, b: FloatArray, t_dec: FloatArray, t_mix: FloatArray, phi: FloatArray,
                 per_step: FloatArray, k: FloatArray) -> SteadyState:
    n_run = np.minimum(s.per_replica, s.seq_limit)
    step = (1.0 - phi) * t_dec + phi * t_mix
    # a lone request leaves the replica idle for its admission overhead between requests
    idle = np.where(n_run <= 1.0, s.overhead_s, 0.0)
    steps_per_request = np.where(s.outl > 1, 1.0 / np.maximum(per_step, 1e-300), k)
    rate = 1.0 / (steps_per_request * step + idle)  # requests per s per replica
    rate = np.where(s.outl > 1, rate, n_run / (k * t_mix + s.overhead_s))
    tpot = _tpot(s, phi, t_dec, t_mix)
    e2e = s.per_replica / rate  # Little's law: every in-flight request is reissued when it finishes
    # the arrival waits for the running step (or the admission overhead on an idle replica), then its
    # k prompt chunks; requests beyond the running limit also wait their turn in the queue
    queue = np.maximum(s.per_replica - n_run, 0.0) / rate
    ttft = np.where(n_run > 1.0, step, s.overhead_s) + k * t_mix + queue
    return _result(s, rate, ttft, tpot, e2e, b, step, np.zeros_like(rate))


def _tpot(s: _Setup, phi: FloatArray, t_dec: FloatArray, t_mix: FloatArray) -> FloatArray:
    # a decoding sequence sees the other requests' prompt chunks on a share of its steps
    others = (np.clip((s.per_replica - 1.0) / np.maximum(s.per_replica, 1.0), 0.0, 1.0) if s.closed
              else np.ones_like(s.per_replica))
    phi_seen = np.minimum(phi * others, 1.0)
    return np.where(s.outl > 1, (1.0 - phi_seen) * t_dec + phi_seen * t_mix, np.nan)


def _result(s: _Setup, rate: FloatArray, ttft: FloatArray, tpot: FloatArray, e2e: FloatArray, b: FloatArray,
            step: FloatArray, saturated: FloatArray) -> SteadyState:
    req_s = rate * s.replicas
    return SteadyState(
        output_tokens_per_s=req_s * s.outl, total_tokens_per_s=req_s * (s.inp + s.outl),
        request_throughput_per_s=req_s, ttft_mean_s=ttft, tpot_mean_s=tpot, itl_mean_s=tpot, e2e_mean_s=e2e,
        decode_batch=b, step_s=step, saturated=np.asarray(saturated, dtype=np.float64), inputs=s.inputs)


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
    blocks = kv_blocks(arch, system, prec, par, eng, max_num_batched_tokens=np.max(budget_cap),
                       max_num_seqs=np.max(seqs_cap), block_size=block_size)
    inputs = {"model": arch.id, "hardware": system.id, "engine": eng.name, "replicas": replicas, "tp": par.tp,
              "pp": par.pp, "ep": par.ep, "weight_dtype": prec.weight.name, "kv_dtype": prec.kv.name,
              "mode": "closed-loop" if closed else "open-loop", "max_num_seqs": np.asarray(max_num_seqs).tolist(),
              "max_num_batched_tokens": np.asarray(max_num_batched_tokens).tolist()}
    s = _loop(load=load, closed=closed, replicas=replicas, inp=inp, outl=outl, seqs_cap=seqs_cap,
              budget_cap=budget_cap, blocks=blocks, block_size=block_size, overhead_s=eng.request_overhead_s,
              window=arch.sliding_window.size if arch.sliding_window else None, inputs=inputs)

    def price(b: FloatArray) -> tuple[FloatArray, ...]:
        steps, mix = s.steps(b)
        return s.times(step_cost(arch, system, steps, prec, par, eng).time_s, mix)

    if closed:
        pending = _pending(s)
        return pending.finish(step_cost(arch, system, pending.steps, prec, par, eng).time_s)
    b = np.minimum(s.per_replica * s.dec_steps * 1e-3, s.b_max)  # start low; iterate B = λ (L − 1) t_step(B)
    for _ in range(OPEN_LOOP_ITERATIONS):
        t_dec, t_mix, phi, per_step, k = price(b)
        step = (1.0 - phi) * t_dec + phi * t_mix
        b = np.minimum(0.5 * b + 0.5 * s.per_replica * s.dec_steps * step, s.b_max)
    t_dec, t_mix, phi, per_step, k = price(b)
    step = (1.0 - phi) * t_dec + phi * t_mix
    full_dec, full_mix, full_phi, _, _ = price(s.b_max)
    capacity = s.b_max / s.dec_steps / ((1.0 - full_phi) * full_dec + full_phi * full_mix)  # requests/s at b_max
    saturated = s.per_replica >= capacity * (1.0 - 1e-6)
    rate = np.where(saturated, capacity, s.per_replica)
    tpot = _tpot(s, phi, t_dec, t_mix)
    ttft = s.overhead_s + step / 2.0 + k * t_mix
    e2e = ttft + s.dec_steps * np.nan_to_num(tpot)
    ttft = np.where(saturated, np.inf, ttft)
    e2e = np.where(saturated, np.inf, e2e)
    return _result(s, rate, ttft, tpot, e2e, b, step, saturated)


def _stack(a: BatchStats, b: BatchStats) -> BatchStats:
    """One BatchStats whose arrays are a's steps followed by b's (one `step_cost` call for both)."""
    shape = np.broadcast_shapes(a.shape, b.shape)
    values = {f.name: np.concatenate([np.broadcast_to(getattr(a, f.name), shape).ravel(),
                                      np.broadcast_to(getattr(b, f.name), shape).ravel()]) for f in fields(a)}
    return BatchStats(**values)
