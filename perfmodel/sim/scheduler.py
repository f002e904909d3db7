"""Scheduling policies: which sequences run in a replica's next step (a registry, name -> class).

A policy's `plan(replica)` returns the next :class:`~perfmodel.sim.records.StepPlan` (its pricing keys,
how many decodes run, the prompt chunks computed) or None when the replica is idle. Planning happens at
the step's start and performs its admissions, block allocations and preemptions through the replica's
mechanics. What differs between policies beyond `plan` is stated by class flags, which the replica
reads instead of the policy's name:

- `chunked_prefill`: prompts may be split across steps under the token budget (else admitted whole).
- `admits_mid_batch`: new requests join while others decode (else only once the batch has finished).
- `reserves_kv_up_front`: a request's KV blocks for prompt + output are reserved at admission (else
  blocks are allocated as tokens arrive, and a full cache preempts the latest admitted sequence).

To add a policy, subclass :class:`Scheduler`, set `name` and the flags, implement `plan`, and add the
class to `SCHEDULERS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from perfmodel.errors import PerfModelError
from perfmodel.sim.records import Chunk, Prefilling, StepKey, StepPlan, new_record
from perfmodel.sim.steps import fast_keys, reference_keys

if TYPE_CHECKING:
    from perfmodel.sim.replica import Replica

UNLIMITED_TOKENS = 1 << 60  # the token budget of a static batch's prefill step


def build_plan(r: Replica, n_dec: int, chunks: list[tuple[Prefilling, int, bool]]) -> StepPlan:
    """Pricing keys of a step from its composition (fast sums, or the per-sequence reference path)."""
    cfg = r.cfg
    step_chunks = [(c, item.computed_tokens, 1 if final else 0) for item, c, final in chunks]
    if cfg.window is None and cfg.draft_window is None and not r.world.check:
        keys = fast_keys(cfg.cfg_id, r.ds, n_dec, step_chunks, cfg.spec_k, cfg.draft_cfg_id)
    else:
        keys = reference_keys(cfg.cfg_id, r.ds, n_dec, step_chunks, cfg.window, cfg.spec_k, cfg.draft_cfg_id,
                              cfg.draft_window)
        if r.world.check and cfg.window is None and cfg.draft_window is None:
            fast = fast_keys(cfg.cfg_id, r.ds, n_dec, step_chunks, cfg.spec_k, cfg.draft_cfg_id)
            if fast != keys:
                raise AssertionError(f"incremental step sums {fast} differ from the per-sequence batch {keys}")
    return StepPlan(keys, n_dec, tuple(Chunk(item.uid, c, final) for item, c, final in chunks))


class Scheduler:
    """Base class of scheduling policies (stateless: one object serves a replica and its clones)."""

    name: ClassVar[str] = "base"
    chunked_prefill: ClassVar[bool] = False
    admits_mid_batch: ClassVar[bool] = True
    reserves_kv_up_front: ClassVar[bool] = False

    def plan(self, r: Replica) -> StepPlan | None:  # pragma: no cover - interface
        raise NotImplementedError


class Continuous(Scheduler):
    """vLLM v1 style: every decode, then continuing prompt chunks, then waiting prompts while
    `max_num_seqs`, the token budget `max_num_batched_tokens` (chunked prefill) and KV blocks allow; when
    blocks run out the most recently admitted sequence is preempted (recompute) and nothing new is
    admitted that step."""

    name = "continuous"
    chunked_prefill = True

    def plan(self, r: Replica) -> StepPlan | None:
        ds = r.ds
        if r.fast and ds.size and not r.prefilling and not r.waiting:  # the common decode-only step, O(1)
            need = ds.new_block_phase[ds.counter % r.block_size]
            pool = r.pool
            if need <= pool.capacity - pool.used - pool.cached:
                pool.used += need
                n = ds.size
                pairs = ds.context_sum + n
                kv_read = pairs - ds.shared_read_savings
                key = new_record(StepKey, (r.cfg.cfg_id, n, n, n, pairs, pairs, kv_read, kv_read, 1))
                return new_record(StepPlan, ((key,), n, ()))
        spec = r.cfg.scheduler
        r.admit_transfers()
        preempted = False
        while True:
            n_dec = r.ds.size
            need = r.decode_need() if n_dec else 0
            budget = spec.max_num_batched_tokens - n_dec
            chunks = []
            for item in r.prefilling.values():
                if budget <= 0:
                    break
                remaining = item.target_tokens - item.computed_tokens
                c = min(remaining, budget)
                need += r.chunk_need(item, c, c == remaining)
                chunks.append((item, c, c == remaining))
                budget -= c
            if r.pool.can_alloc(need):
                break
            if not r.preempt_latest(need):
                raise PerfModelError("internal error: KV blocks exhausted with nothing to preempt")
            preempted = True
        r.pool.alloc(need)
        for item, c, _ in chunks:
            r.grow(item, c)
        if not preempted:
            while budget > 0 and r.waiting:
                admitted = r.admit(budget, whole=not self.chunked_prefill)
                if admitted is None:
                    break
                chunks.append(admitted)
                budget -= admitted[1]
        if not n_dec and not chunks:
            return None
        return build_plan(r, n_dec, chunks)


class PrefillFirst(Scheduler):
    """Older engines (vLLM v0 default): a step is either whole prompts only (when any can be admitted;
    decodes pause) or one decode step of every running sequence."""

    name = "prefill-first"

    def plan(self, r: Replica) -> StepPlan | None:
        spec = r.cfg.scheduler
        r.admit_transfers()
        while True:
            chunks = []
            budget = spec.max_num_batched_tokens
            while r.waiting:
                admitted = r.admit(budget, whole=not self.chunked_prefill)
                if admitted is None:
                    break
                chunks.append(admitted)
                budget -= admitted[1]
            if chunks:
                return build_plan(r, 0, chunks)
            if not r.ds.size:
                return None
            need = r.decode_need()
            if r.pool.can_alloc(need):
                r.pool.alloc(need)
                return build_plan(r, r.ds.size, [])
            r.preempt_latest(need)


class Static(Scheduler):
    """Request-level batching: an idle replica takes a batch of waiting requests, reserves their KV for
    prompt + output, prefills them in one step and decodes until all finish."""

    name = "static"
    admits_mid_batch = False
    reserves_kv_up_front = True

    def plan(self, r: Replica) -> StepPlan | None:
        if r.ds.size and not self.admits_mid_batch:
            return build_plan(r, r.ds.size, [])
        r.admit_transfers()
        if r.ds.size:
            return build_plan(r, r.ds.size, [])
        chunks = []
        while r.waiting:
            admitted = r.admit(UNLIMITED_TOKENS, whole=not self.chunked_prefill)
            if admitted is None:
                break
            chunks.append(admitted)
        if not chunks:
            return None
        return build_plan(r, 0, chunks)


SCHEDULERS: dict[str, type[Scheduler]] = {cls.name: cls for cls in (Static, Continuous, PrefillFirst)}
