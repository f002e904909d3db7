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
from perfmodel.sim.lifecycle import (  # noqa: F401 - item fields are re-exported for the schedulers
    I_ADMIT,
    I_COMP,
    I_G,
    I_KIND,
    I_PKEYS,
    I_PRIV,
    I_REQ,
    I_SAMPLES,
    I_SB,
    I_SEQ,
    I_TARGET,
    I_UID,
    SequenceLifecycle,
)
from perfmodel.sim.running import (
    ADMIT,
    EMIT0,
    HELD0,
    PKEYS,
    PRIV0,
    REQ,
    RESERVED,
    RUN0,
    SEQ,
    T0,
    DecodeSet,
)
from perfmodel.sim.scenario import SchedulerSpec

_NO_GROUP = (0, 0, 0, False)
_DONE_GROUP = (0, 0, 0, True)


@dataclass(frozen=True)
class ReplicaConfig:
    """Static description of one replica (shared by clones)."""

    index: int
    pool: str  # unified | prefill | decode
    cfg_id: int
    draft_cfg_id: int | None
    scheduler: SchedulerSpec
    kv_blocks: int
    kv_block_bytes: float
    engine: EngineProfile
    spec_k: int
    spec_rate: float
    window: int | None
    draft_window: int | None
    num_devices: int
    peak_flops_per_s: float
    mem_bw_bytes_per_s: float
    system_id: str


class Replica(SequenceLifecycle):
    """Mutable state and mechanics of one replica; scheduling policy lives in :mod:`perfmodel.sim.scheduler`."""

    def __init__(self, cfg: ReplicaConfig, world):
        self.cfg = cfg
        self.world = world
        self.B = cfg.scheduler.block_size
        self.pool = BlockPool(cfg.kv_blocks)
        self.ds = DecodeSet(self.B, uniform=cfg.spec_k == 0)
        self.waiting: deque = deque()
        self.prefilling: dict[int, list] = {}
        self.groups: dict[int, list] = {}  # req -> [m, alive, finished, done, pkeys, shared_blocks]
        self.outgoing: dict[int, tuple[int, tuple]] = {}  # req -> (private blocks, pkeys) awaiting KV transfer
        self.admits = 0
        self.item_uid = 0
        self.pf_seqs = 0  # sequences in prefilling items
        self.outstanding = 0
        self.waiting_tokens = 0
        self.pending_plan = None
        self.inflight = None  # (plan, end_s, cost, start_s, KV blocks in use during the step)
        self.wake = None
        # O(1) decode steps from running sums (no sliding window, no speculative decoding, no check mode)
        self.fast = cfg.window is None and cfg.spec_k == 0 and not world.check

    def clone(self, world) -> Replica:
        c = Replica.__new__(Replica)
        c.cfg, c.world, c.B = self.cfg, world, self.B
        c.pool, c.ds = self.pool.clone(), self.ds.clone()
        c.waiting = self.waiting.copy()
        c.prefilling = {u: it[:] for u, it in self.prefilling.items()}
        c.groups = {r: g[:] for r, g in self.groups.items()}
        c.outgoing = dict(self.outgoing)
        c.admits, c.item_uid, c.outstanding, c.waiting_tokens = self.admits, self.item_uid, self.outstanding, \
            self.waiting_tokens
        c.pf_seqs = self.pf_seqs
        c.pending_plan, c.inflight, c.wake, c.fast = self.pending_plan, self.inflight, None, self.fast
        return c

    # ---- the process ------------------------------------------------------------------------------
    def run(self):
        """simpy process: plan, price, wait, apply; sleep when there is nothing to do."""
        env = self.world.env
        timeout = env.timeout
        cost_of = self.world.oracle.cost
        if self.inflight is not None:
            yield timeout(self.inflight[1] - env.now)
            self.complete()
        plan_fn = self.world.schedulers[self.cfg.index]
        while True:
            plan = self.pending_plan
            if plan is None:
                plan = plan_fn(self)
                if plan is None:
                    self.wake = env.event()
                    yield self.wake
                    self.wake = None
                    continue
                self.pending_plan = plan
            cost = cost_of(plan[0])
            self.pending_plan = None
            now = env.now
            self.inflight = (plan, now + cost[0], cost, now, self.pool.used)
            yield timeout(cost[0])
            self.complete()

    def kick(self) -> None:
        """Wake the process if it sleeps."""
        if self.wake is not None and not self.wake.triggered:
            self.wake.succeed()

    def enqueue(self, entry: tuple, front: bool = False) -> None:
        """Queue an entry: ('n', req) new, ('r', seq, req, generated) resume, ('x', req, t) KV received."""
        if front:
            self.waiting.appendleft(entry)
        else:
            self.waiting.append(entry)
        self.waiting_tokens += self.entry_tokens(entry)
        wake = self.wake
        if wake is not None and not wake.triggered:
            wake.succeed()

    def entry_tokens(self, entry: tuple) -> int:
        wl = self.world.wl
        if entry[0] == "r":
            return wl.input_tokens[entry[2]] + entry[3]
        return wl.input_tokens[entry[1]]

    @property
    def num_running(self) -> int:
        return self.ds.n + self.pf_seqs

    def pop_item(self, uid: int) -> list:
        """Remove a prefilling item."""
        item = self.prefilling.pop(uid)
        self.pf_seqs -= item[I_SAMPLES]
        return item

    # ---- KV helpers ---------------------------------------------------------------------------------
    def prefix_lookup(self, req: int, resume: bool) -> tuple[int, tuple]:
        """(shared blocks, entry keys) a prompt can reuse from the prefix cache."""
        wl = self.world.wl
        if resume:
            grp = self.groups.get(req)
            if grp is not None and ("g", req) in self.pool.entries:
                return grp[5], grp[4]
        if self.cfg.scheduler.prefix_caching and wl.prefix_tokens[req] >= self.B:
            key = ("c", wl.class_id[req])
            entry = self.pool.entries.get(key)
            if entry is not None:
                return entry[0], (key,)
        return 0, ()

    def tail_copies(self, req: int) -> int:
        """Extra blocks a best-of-N fork needs: each further sample copies the prompt's partial last block
        (none on a prefill-only replica, which hands the prompt's KV over without forking)."""
        if self.cfg.pool == "prefill":
            return 0
        samples = self.world.wl.samples[req]
        return (samples - 1) * (1 if self.world.wl.input_tokens[req] % self.B else 0)

    def reservation(self, req: int, shared_blocks: int) -> int:
        """Private blocks a request holds for its whole life (static batching reserves them up front)."""
        wl, B = self.world.wl, self.B
        prompt = wl.input_tokens[req]
        if self.cfg.pool == "prefill":  # hands the prompt's KV over; generates nothing here
            return blocks_for(prompt - shared_blocks * B, B)
        start = wl.seq_start[req]
        outs = wl.seq_output_tokens[start:start + wl.samples[req]]
        if len(outs) == 1:
            return blocks_for(prompt + outs[0] - 1 - shared_blocks * B, B)
        tail = prompt % B
        return prompt // B - shared_blocks + sum(blocks_for(tail + o - 1, B) for o in outs)

    def chunk_need(self, item: list, chunk: int, final: bool) -> int:
        """New private blocks an item needs to compute `chunk` more tokens."""
        if self.cfg.scheduler.name == "static":
            return 0
        need = blocks_for(item[I_COMP] + chunk - item[I_SB] * self.B, self.B) - item[I_PRIV]
        if final and item[I_KIND] == "n" and item[I_SAMPLES] > 1:
            need += self.tail_copies(item[I_REQ])
        return need

    def decode_need(self) -> int:
        """Blocks the decode set needs for its next step."""
        ds = self.ds
        if ds.uniform:
            return ds.need_blocks()
        q = self.cfg.spec_k + 1
        need = 0
        for _, rec in ds.contexts():
            if not rec[RESERVED]:
                priv = rec[PRIV0] + ds.t - rec[T0]
                need += max(blocks_for(priv + q, self.B) - rec[HELD0], 0)
        return need

    def unref_all(self, pkeys: tuple) -> None:
        if not pkeys:
            return
        drop = not self.cfg.scheduler.prefix_caching
        for key in pkeys:
            self.pool.unref(key, drop=drop or (key[0] == "g" and self.groups.get(key[1], _DONE_GROUP)[3]))

    # ---- admission ----------------------------------------------------------------------------------
    def admit(self, budget: int, whole: bool = False) -> tuple | None:
        """Admit the head of the waiting queue as a prefilling item; returns (item, chunk, final) or None."""
        waiting = self.waiting
        while waiting:
            entry = waiting[0]
            kind = entry[0]
            if kind == "n":
                req = entry[1]
                break
            if kind == "x":
                return None
            req = entry[2]
            if self.groups.get(req, _NO_GROUP)[3]:
                waiting.popleft()  # a cancelled sample of a finished group
                self.waiting_tokens -= self.entry_tokens(entry)
                self.drop_sample(entry[1], req, entry[3])
                continue
            break
        else:
            return None
        wl, B = self.world.wl, self.B
        samples = wl.samples[req] if kind == "n" else 1
        running = self.ds.n + self.pf_seqs
        if running and running + samples > self.cfg.scheduler.max_num_seqs:
            return None
        if kind == "n" and wl.prefix_tokens[req] < B:
            sb, pkeys = 0, ()
        else:
            sb, pkeys = self.prefix_lookup(req, kind == "r")
        prompt = wl.input_tokens[req]
        target = prompt if kind == "n" else prompt + entry[3]
        remaining = target - sb * B
        chunk = remaining if whole else min(remaining, budget)
        if chunk <= 0 or (whole and chunk > budget and self.prefilling):
            return None
        final = chunk == remaining
        static = self.cfg.scheduler.name == "static"
        copies = self.tail_copies(req) if final and samples > 1 and kind == "n" and not static else 0
        need = self.reservation(req, sb) if static else -(-chunk // B) + copies
        pool = self.pool
        for key in pkeys:
            pool.ref(key)
        if not pool.alloc(need):
            for key in pkeys:
                pool.unref(key)
            return None
        waiting.popleft()
        self.waiting_tokens -= target if kind == "r" else prompt
        self.admits += 1
        self.item_uid += 1
        seq = (wl.seq_start[req] if samples == 1 else -1) if kind == "n" else entry[1]
        item = [self.item_uid, kind, req, seq, target, sb * B, sb, pkeys, need - copies,
                entry[3] if kind == "r" else 0, self.admits, samples]
        self.prefilling[self.item_uid] = item
        self.pf_seqs += samples
        self.world.recorder.scheduled(req, self.world.env.now)
        return item, chunk, final

    def admit_transfers(self, static: bool = False) -> int:
        """Admit sequences whose KV arrived from a prefill pool straight into the decode set."""
        admitted = 0
        wl, B = self.world.wl, self.B
        while self.waiting and self.waiting[0][0] == "x":
            _, req, t_s = self.waiting[0]
            samples = wl.samples[req]
            if self.num_running + samples > self.cfg.scheduler.max_num_seqs and self.num_running:
                break
            sb, pkeys = self.prefix_lookup(req, False)
            prompt = wl.input_tokens[req]
            private = self.reservation(req, sb) if static else \
                blocks_for(prompt - sb * B, B) + self.tail_copies(req)
            margin = 0 if static else self.decode_need() + samples
            if not self.pool.can_alloc(private + margin):
                break
            for key in pkeys:
                self.pool.ref(key)
            self.pool.alloc(private)
            self.waiting.popleft()
            self.waiting_tokens -= prompt
            self.admits += 1
            self.world.recorder.scheduled_decode(req, self.world.env.now)
            item = [0, "x", req, wl.seq_start[req] if samples == 1 else -1, prompt, prompt, sb, pkeys,
                    private - (0 if static else self.tail_copies(req)), 0, self.admits, samples]
            self.start_decoding(item, t_s)
            admitted += samples
        return admitted

    # ---- preemption ---------------------------------------------------------------------------------
    def preempt_latest(self, need: int) -> bool:
        """Preempt (by recompute) the most recently admitted running sequence because the step needs `need`
        blocks more than are free; False if nothing runs."""
        uid = self.ds.latest()
        item = max(self.prefilling.values(), key=lambda it: it[I_ADMIT]) if self.prefilling else None
        rec = self.ds.recs[uid] if uid is not None else None
        if item is None and rec is None:
            return False
        rec_ = self.world.recorder
        rec_.preemption(self.cfg.index, self.world.env.now, self.pool.used, self.pool.capacity, need)
        if item is not None and (rec is None or item[I_ADMIT] > rec[ADMIT]):
            self.pop_item(item[I_UID])
            self.pool.release(item[I_PRIV])
            self.unref_all(item[I_PKEYS])
            rec_.preempted(item[I_REQ])
            entry = ("n", item[I_REQ]) if item[I_KIND] == "n" else ("r", item[I_SEQ], item[I_REQ], item[I_G])
        else:
            rec, ctx, gen, held = self.ds.remove(uid)
            self.pool.release(held)
            self.unref_all(rec[PKEYS])
            rec_.run(rec[SEQ], self.cfg.index, rec[EMIT0], rec[RUN0], self.ds.t)
            rec_.preempted(rec[REQ])
            entry = ("r", rec[SEQ], rec[REQ], gen)
        self.enqueue(entry, front=True)
        return True
