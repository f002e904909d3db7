"""One engine replica: waiting queue, running prefills, the decode set and the paged KV pool.

The replica's simpy process repeats: ask its scheduler for the next step's plan (which admits,
allocates and preempts at the step's start), ask the oracle what the step costs (exact
`step_cost` of its batch composition), wait that long, then apply the step (tokens emitted, prompts
finished, sequences done). All state lives in plain fields so the whole replica can be cloned
mid-run for look-ahead; sequences waiting to start hold no state beyond their queue entry.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from perfmodel.cost.engine import EngineProfile
from perfmodel.sim.kv import BlockPool, blocks_for
from perfmodel.sim.lifecycle import SequenceLifecycle
from perfmodel.sim.records import (
    CLASS_PREFIX,
    GROUP_PREFIX,
    NEW,
    RECEIVED,
    RESUME,
    InFlightStep,
    Prefilling,
    SampleGroup,
    Waiting,
    new_record,
)
from perfmodel.sim.running import DecodeSet
from perfmodel.sim.scenario import SchedulerSpec


@dataclass(frozen=True)
class ReplicaConfig:
    """Static description of one replica (shared by clones)."""

    index: int
    pool: str  # unified | prefill | decode
    cfg_id: int
    draft_cfg_id: int | None
    scheduler: SchedulerSpec
    kv_blocks: int
    engine: EngineProfile
    spec_k: int
    window: int | None
    draft_window: int | None
    peak_flops_per_s: float
    mem_bw_bytes_per_s: float
    system_id: str


class Replica(SequenceLifecycle):
    """Mutable state and mechanics of one replica; the policy is its :class:`~perfmodel.sim.scheduler.Scheduler`."""

    def __init__(self, cfg: ReplicaConfig, world, scheduler):
        self.cfg = cfg
        self.world = world
        self.scheduler = scheduler  # stateless policy object (shared by clones)
        self.reserves_kv = scheduler.reserves_kv_up_front
        self.block_size = cfg.scheduler.block_size
        self.pool = BlockPool(cfg.kv_blocks)
        self.ds = DecodeSet(self.block_size, uniform=cfg.spec_k == 0)
        self.waiting: deque[Waiting] = deque()
        self.prefilling: dict[int, Prefilling] = {}
        self.groups: dict[int, SampleGroup] = {}  # best-of-N requests with samples on this replica
        self.outgoing: dict[int, tuple[int, tuple]] = {}  # req -> (private blocks, prefix keys) awaiting transfer
        self.admits = 0
        self.item_uid = 0
        self.prefilling_seqs = 0  # sequences in prefilling items
        self.outstanding = 0
        self.waiting_tokens = 0
        self.pending_plan = None
        self.inflight: InFlightStep | None = None
        self.wake = None
        # O(1) decode steps from running sums (no sliding window, no speculative decoding, no check mode)
        self.fast = cfg.window is None and cfg.spec_k == 0 and not world.check

    def clone(self, world) -> Replica:
        c = Replica.__new__(Replica)
        c.cfg, c.world, c.scheduler, c.reserves_kv = self.cfg, world, self.scheduler, self.reserves_kv
        c.block_size = self.block_size
        c.pool, c.ds = self.pool.clone(), self.ds.clone()
        c.waiting = self.waiting.copy()
        c.prefilling = {u: it.clone() for u, it in self.prefilling.items()}
        c.groups = {r: g.clone() for r, g in self.groups.items()}
        c.outgoing = dict(self.outgoing)
        c.admits, c.item_uid, c.outstanding = self.admits, self.item_uid, self.outstanding
        c.waiting_tokens, c.prefilling_seqs = self.waiting_tokens, self.prefilling_seqs
        c.pending_plan, c.inflight, c.wake, c.fast = self.pending_plan, self.inflight, None, self.fast
        return c

    # ---- the process ------------------------------------------------------------------------------
    def run(self):
        """simpy process: plan, price, wait, apply; sleep when there is nothing to do."""
        env = self.world.env
        timeout = env.timeout
        cost_of = self.world.oracle.cost
        if self.inflight is not None:
            yield timeout(self.inflight.end_s - env.now)
            self.complete()
        plan_step = self.scheduler.plan
        while True:
            plan = self.pending_plan
            if plan is None:
                plan = plan_step(self)
                if plan is None:
                    self.wake = env.event()
                    yield self.wake
                    self.wake = None
                    continue
                self.pending_plan = plan
            cost = cost_of(plan.keys)
            self.pending_plan = None
            now = env.now
            self.inflight = new_record(InFlightStep, (plan, now, now + cost[0], cost, self.pool.used))
            yield timeout(cost[0])
            self.complete()

    def kick(self) -> None:
        """Wake the process if it sleeps."""
        if self.wake is not None and not self.wake.triggered:
            self.wake.succeed()

    def enqueue(self, entry: Waiting, front: bool = False) -> None:
        """Queue an entry (a new request, a preempted sequence to resume, or KV received)."""
        if front:
            self.waiting.appendleft(entry)
        else:
            self.waiting.append(entry)
        self.waiting_tokens += self.entry_tokens(entry)
        wake = self.wake
        if wake is not None and not wake.triggered:
            wake.succeed()

    def entry_tokens(self, entry: Waiting) -> int:
        """Prompt tokens an entry will compute (a resumed sequence recomputes its generated tokens too)."""
        prompt = self.world.wl.input_len[entry.req]
        return prompt + entry.generated if entry.kind == RESUME else prompt

    @property
    def num_running(self) -> int:
        return self.ds.size + self.prefilling_seqs

    def pop_item(self, uid: int) -> Prefilling:
        """Remove a prefilling item."""
        item = self.prefilling.pop(uid)
        self.prefilling_seqs -= item.samples
        return item

    def group_done(self, req: int) -> bool:
        """Whether `req` is a best-of-N request that has already completed (its other samples are cancelled)."""
        grp = self.groups.get(req)
        return grp is not None and grp.done

    # ---- KV helpers ---------------------------------------------------------------------------------
    def prefix_lookup(self, req: int, resume: bool) -> tuple[int, tuple]:
        """(shared blocks, entry keys) a prompt can reuse from the prefix cache."""
        wl = self.world.wl
        if resume:
            grp = self.groups.get(req)
            if grp is not None and (GROUP_PREFIX, req) in self.pool.entries:
                return grp.shared_blocks, grp.prefix_keys
        if self.cfg.scheduler.prefix_caching and wl.prefix_tokens[req] >= self.block_size:
            key = (CLASS_PREFIX, wl.class_id[req])
            entry = self.pool.entries.get(key)
            if entry is not None:
                return entry.blocks, (key,)
        return 0, ()

    def tail_copies(self, req: int) -> int:
        """Extra blocks a best-of-N fork needs: each further sample copies the prompt's partial last block
        (none on a prefill-only replica, which hands the prompt's KV over without forking)."""
        if self.cfg.pool == "prefill":
            return 0
        samples = self.world.wl.samples[req]
        return (samples - 1) * (1 if self.world.wl.input_len[req] % self.block_size else 0)

    def reservation(self, req: int, shared_blocks: int) -> int:
        """Private blocks a request holds for its whole life (reserved up front by static batching)."""
        wl, bs = self.world.wl, self.block_size
        prompt = wl.input_len[req]
        if self.cfg.pool == "prefill":  # hands the prompt's KV over; generates nothing here
            return blocks_for(prompt - shared_blocks * bs, bs)
        start = wl.seq_start[req]
        outs = wl.seq_output_len[start:start + wl.samples[req]]
        if len(outs) == 1:
            return blocks_for(prompt + outs[0] - 1 - shared_blocks * bs, bs)
        tail = prompt % bs
        return prompt // bs - shared_blocks + sum(blocks_for(tail + o - 1, bs) for o in outs)

    def chunk_need(self, item: Prefilling, chunk: int, final: bool) -> int:
        """New private blocks an item needs to compute `chunk` more tokens."""
        if self.reserves_kv:
            return 0
        bs = self.block_size
        need = blocks_for(item.computed_tokens + chunk - item.shared_blocks * bs, bs) - item.private_blocks
        if final and item.kind == NEW and item.samples > 1:
            need += self.tail_copies(item.req)
        return need

    def grow(self, item: Prefilling, chunk: int) -> None:
        """The item's private blocks once `chunk` more tokens are computed."""
        bs = self.block_size
        item.private_blocks = blocks_for(item.computed_tokens + chunk - item.shared_blocks * bs, bs)

    def decode_need(self) -> int:
        """Blocks the decode set needs for its next step."""
        ds = self.ds
        if ds.uniform:
            return ds.need_blocks()
        q = self.cfg.spec_k + 1
        need = 0
        for _, rec in ds.contexts():
            if not rec.reserved:
                priv = rec.private_tokens0 + ds.counter - rec.counter0
                need += max(blocks_for(priv + q, self.block_size) - rec.held_blocks0, 0)
        return need

    def unref_all(self, prefix_keys: tuple) -> None:
        """Drop this sequence's references to prefix entries (a finished group's own entry is freed)."""
        if not prefix_keys:
            return
        drop = not self.cfg.scheduler.prefix_caching
        for key in prefix_keys:
            grp = self.groups.get(key[1]) if key[0] == GROUP_PREFIX else None
            self.pool.unref(key, drop=drop or (key[0] == GROUP_PREFIX and (grp is None or grp.done)))

    # ---- admission ----------------------------------------------------------------------------------
    def admit(self, budget: int, whole: bool = False) -> tuple[Prefilling, int, bool] | None:
        """Admit the head of the waiting queue as a prefilling item; returns (item, chunk, final) or None."""
        waiting = self.waiting
        while waiting:
            entry = waiting[0]
            kind = entry.kind
            if kind == NEW:
                break
            if kind == RECEIVED:
                return None
            if self.group_done(entry.req):
                waiting.popleft()  # a cancelled sample of a finished group
                self.waiting_tokens -= self.entry_tokens(entry)
                self.drop_sample(entry.seq, entry.req, entry.generated)
                continue
            break
        else:
            return None
        req = entry.req
        wl, bs = self.world.wl, self.block_size
        samples = wl.samples[req] if kind == NEW else 1
        running = self.ds.size + self.prefilling_seqs
        if running and running + samples > self.cfg.scheduler.max_num_seqs:
            return None
        if kind == NEW and wl.prefix_tokens[req] < bs:
            shared, prefix_keys = 0, ()
        else:
            shared, prefix_keys = self.prefix_lookup(req, kind == RESUME)
        prompt = wl.input_len[req]
        target = prompt if kind == NEW else prompt + entry.generated
        remaining = target - shared * bs
        chunk = remaining if whole else min(remaining, budget)
        if chunk <= 0 or (whole and chunk > budget and self.prefilling):
            return None
        final = chunk == remaining
        reserves = self.reserves_kv
        copies = self.tail_copies(req) if final and samples > 1 and kind == NEW and not reserves else 0
        need = self.reservation(req, shared) if reserves else -(-chunk // bs) + copies
        pool = self.pool
        for key in prefix_keys:
            pool.ref(key)
        if not pool.alloc(need):
            for key in prefix_keys:
                pool.unref(key)
            return None
        waiting.popleft()
        self.waiting_tokens -= target if kind == RESUME else prompt
        self.admits += 1
        self.item_uid += 1
        seq = (wl.seq_start[req] if samples == 1 else -1) if kind == NEW else entry.seq
        item = Prefilling(uid=self.item_uid, kind=kind, req=req, seq=seq, target_tokens=target,
                          computed_tokens=shared * bs, shared_blocks=shared, prefix_keys=prefix_keys,
                          private_blocks=need - copies, generated=entry.generated if kind == RESUME else 0,
                          admit_order=self.admits, samples=samples)
        self.prefilling[self.item_uid] = item
        self.prefilling_seqs += samples
        self.world.recorder.scheduled(req, self.world.env.now)
        return item, chunk, final

    def admit_transfers(self) -> int:
        """Admit sequences whose KV arrived from a prefill pool straight into the decode set."""
        admitted = 0
        wl, bs, reserves = self.world.wl, self.block_size, self.reserves_kv
        while self.waiting and self.waiting[0].kind == RECEIVED:
            entry = self.waiting[0]
            req = entry.req
            samples = wl.samples[req]
            if self.num_running + samples > self.cfg.scheduler.max_num_seqs and self.num_running:
                break
            shared, prefix_keys = self.prefix_lookup(req, False)
            prompt = wl.input_len[req]
            private = self.reservation(req, shared) if reserves else \
                blocks_for(prompt - shared * bs, bs) + self.tail_copies(req)
            margin = 0 if reserves else self.decode_need() + samples
            if not self.pool.can_alloc(private + margin):
                break
            for key in prefix_keys:
                self.pool.ref(key)
            self.pool.alloc(private)
            self.waiting.popleft()
            self.waiting_tokens -= prompt
            self.admits += 1
            self.world.recorder.scheduled_decode(req, self.world.env.now)
            item = Prefilling(uid=0, kind=RECEIVED, req=req, seq=wl.seq_start[req] if samples == 1 else -1,
                              target_tokens=prompt, computed_tokens=prompt, shared_blocks=shared,
                              prefix_keys=prefix_keys,
                              private_blocks=private - (0 if reserves else self.tail_copies(req)), generated=0,
                              admit_order=self.admits, samples=samples)
            self.start_decoding(item, entry.ready_s)
            admitted += samples
        return admitted

    # ---- preemption ---------------------------------------------------------------------------------
    def preempt_latest(self, need: int) -> bool:
        """Preempt (by recompute) the most recently admitted running sequence because the step needs `need`
        blocks more than are free; False if nothing runs."""
        uid = self.ds.latest()
        item = max(self.prefilling.values(), key=lambda it: it.admit_order) if self.prefilling else None
        rec = self.ds.records[uid] if uid is not None else None
        if item is None and rec is None:
            return False
        recorder = self.world.recorder
        recorder.preemption(self.cfg.index, self.world.env.now, self.pool.used, self.pool.capacity, need)
        if item is not None and (rec is None or item.admit_order > rec.admit_order):
            self.pop_item(item.uid)
            self.pool.release(item.private_blocks)
            self.unref_all(item.prefix_keys)
            recorder.preempted(item.req)
            entry = Waiting(NEW, item.req) if item.kind == NEW else \
                Waiting(RESUME, item.req, seq=item.seq, generated=item.generated)
        else:
            rec, ctx, gen, held = self.ds.remove(uid)
            self.pool.release(held)
            self.unref_all(rec.prefix_keys)
            recorder.run(rec.seq, self.cfg.index, rec.first_emit_s, rec.joined_counter, self.ds.counter)
            recorder.preempted(rec.req)
            entry = Waiting(RESUME, rec.req, seq=rec.seq, generated=gen)
        self.enqueue(entry, front=True)
        return True
