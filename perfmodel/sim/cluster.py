"""The simulated cluster: a simpy environment with the request source, routers, replicas and KV links.

A :class:`World` holds all mutable state in plain fields, so it can be cloned at any instant into a
fresh simpy environment that resumes exactly where it was (in-flight steps, transfers and pending
arrivals included). The committed run clones itself to look ahead when it meets a step it has not
priced: the clone runs on guessed durations, and every composition it meets is priced in one
vectorized `step_cost` call (see :mod:`perfmodel.sim.pricing`).
"""

from __future__ import annotations

from itertools import chain

import simpy
from simpy.core import Infinity as INFINITY

from perfmodel.cost.comm import kv_transfer_s
from perfmodel.cost.engine import request_overhead_s
from perfmodel.cost.memory import kv_bytes
from perfmodel.errors import PerfModelError
from perfmodel.sim.config import SimSetup
from perfmodel.sim.metrics import NullRecorder
from perfmodel.sim.pricing import GuessOracle, StepPricer
from perfmodel.sim.records import NEW, RECEIVED, Prefilling, Transfer, Waiting
from perfmodel.sim.replica import Replica
from perfmodel.sim.router import ROUTERS
from perfmodel.sim.scheduler import SCHEDULERS

# Look-ahead length: a moving average of the steps the committed run used from recent look-aheads
# (doubled when it used them all), starting at LOOKAHEAD_START_STEPS and kept within the bounds.
LOOKAHEAD_START_STEPS = 256.0
LOOKAHEAD_MIN_STEPS = 48
LOOKAHEAD_MAX_STEPS = 8192
LOOKAHEAD_SMOOTHING = 0.3  # weight of the latest observation in the moving average


class World:
    """One run of the cluster (the committed run, or a speculative clone of it)."""

    def __init__(self, setup: SimSetup, recorder, pricer: StepPricer, check: bool = False, _clone: bool = False):
        self.setup = setup
        self.wl = setup.lists
        self.recorder = recorder
        self.pricer = pricer
        self.check = check
        self.oracle = None
        self.request_overhead_s = request_overhead_s(setup.entry_engine)
        if _clone:
            return
        self.env = simpy.Environment()
        self.replicas = [Replica(c, self, SCHEDULERS[c.scheduler.name]()) for c in setup.replicas]
        self.pool_replicas = {name: [self.replicas[i] for i in idx] for name, idx in setup.pools.items()}
        self.routers = {pool: ROUTERS[name]() for pool, name in setup.routers.items()}
        self.link_free = [0.0] * len(setup.links)
        self.transfers: dict[int, Transfer] = {}  # never changed in place: clones share them
        self.next_tid = 0
        self.next_req = 0
        self.pending: dict[int, float] = {}
        self.resolved = 0
        self._ema = LOOKAHEAD_START_STEPS
        self._mark = (0, 1 << 30)
        if setup.closed_loop:
            for _ in range(min(setup.concurrency, setup.num_requests)):
                self.pending[self.next_req] = 0.0
                self.next_req += 1

    def clone(self, oracle) -> World:
        """A speculative copy that resumes from this instant in its own environment and records nothing."""
        c = World(self.setup, NullRecorder(), self.pricer, _clone=True)
        c.oracle = oracle
        c.env = simpy.Environment(initial_time=self.env.now)
        c.replicas = [r.clone(c) for r in self.replicas]
        c.pool_replicas = {name: [c.replicas[i] for i in idx] for name, idx in self.setup.pools.items()}
        c.routers = {pool: r.clone() for pool, r in self.routers.items()}
        c.link_free = self.link_free[:]
        c.transfers = dict(self.transfers)
        c.next_tid, c.next_req, c.resolved = self.next_tid, self.next_req, self.resolved
        c.pending = dict(self.pending)
        return c

    # ---- processes ----------------------------------------------------------------------------------
    def start(self) -> None:
        env = self.env
        if not self.setup.closed_loop:
            env.process(self._source())
        for req, t in self.pending.items():
            env.process(self._issue(req, t))
        for tid in self.transfers:
            env.process(self._deliver(tid))
        for r in self.replicas:
            env.process(r.run())

    def _source(self):
        env = self.env
        arrival, overhead, n = self.wl.arrival_s, self.request_overhead_s, self.setup.num_requests
        while self.next_req < n:
            req = self.next_req
            t = arrival[req] + overhead
            if t > env.now:
                yield env.timeout(t - env.now)
            self.next_req += 1
            self.dispatch(req, arrival[req])

    def _issue(self, req: int, t: float):
        wait = t + self.request_overhead_s - self.env.now
        if wait > 0:
            yield self.env.timeout(wait)
        del self.pending[req]
        self.dispatch(req, t)

    def _deliver(self, tid: int):
        end_s = self.transfers[tid].end_s
        if end_s > self.env.now:
            yield self.env.timeout(end_s - self.env.now)
        tr = self.transfers.pop(tid)
        self.replicas[tr.src].release_outgoing(tr.req)
        self.recorder.first_token(tr.req, tr.end_s)
        self.recorder.transfer(tr.src, tr.dst, tr.req, tr.start_s, tr.end_s, tr.nbytes)
        self.replicas[tr.dst].enqueue(Waiting(RECEIVED, tr.req, ready_s=tr.end_s))

    def accepted(self, seq: int, generated: int) -> int:
        """Accepted draft tokens of a speculative step (pre-drawn per sequence: order-independent)."""
        return self.setup.accepted(seq, generated)

    # ---- requests -----------------------------------------------------------------------------------
    def dispatch(self, req: int, arrival_s: float) -> None:
        """A request reaches the serving system: admission check, routing, queueing."""
        rec = self.recorder
        rec.arrival(req, arrival_s)
        setup = self.setup
        if not setup.fits[req]:
            rec.rejected(req, self.env.now, 1)
            self.resolve()
            return
        r = self.routers[setup.entry_pool].pick(self.pool_replicas[setup.entry_pool], req)
        limit = r.cfg.scheduler.max_waiting
        if limit is not None and len(r.waiting) >= limit:
            rec.rejected(req, self.env.now, 2)
            self.resolve()
            return
        rec.routed(req, r.cfg.index)
        r.outstanding += 1
        r.enqueue(Waiting(NEW, req))

    def request_done(self, req: int, replica: Replica) -> None:
        replica.outstanding -= 1
        self.recorder.request_done(req, self.env.now)
        self.resolve()

    def resolve(self) -> None:
        """A request completed or was rejected; a closed-loop client issues its next one."""
        self.resolved += 1
        setup = self.setup
        if setup.closed_loop and self.next_req < setup.num_requests:
            req = self.next_req
            self.next_req += 1
            t = self.env.now + setup.think_time_s
            self.pending[req] = t
            self.env.process(self._issue(req, t))

    def handoff(self, src: Replica, item: Prefilling, now: float) -> None:
        """Disaggregation: a prompt is done on a prefill replica; send its KV to a decode replica."""
        setup = self.setup
        req = item.req
        src.outgoing[req] = (item.private_blocks, item.prefix_keys)
        src.outstanding -= 1
        dst = self.routers["decode"].pick(self.pool_replicas["decode"], req)
        dst.outstanding += 1
        self.recorder.handoff(req, dst.cfg.index)
        prompt = self.wl.input_len[req]
        nbytes = float(kv_bytes(setup.kv_model, setup.kv_precision, prompt, setup.kv_parallelism))
        link = 0 if setup.shared_link else setup.pools["prefill"].index(src.cfg.index)
        busy_s, latency_s = kv_transfer_s(nbytes, setup.links[link], setup.kv_link_efficiency)
        start_s = max(now, self.link_free[link])
        self.link_free[link] = start_s + busy_s
        end_s = self.link_free[link] + latency_s
        tid = self.next_tid
        self.next_tid += 1
        self.transfers[tid] = Transfer(end_s, src.cfg.index, dst.cfg.index, req, start_s, nbytes)
        self.env.process(self._deliver(tid))

    # ---- look-ahead ---------------------------------------------------------------------------------
    def lookahead(self, keys: tuple) -> None:
        """Run a speculative clone forward and price every step composition it meets in one call.

        The clone runs for about the number of steps the committed run recently used from one
        look-ahead (it diverges when a guessed duration moves an event across a step boundary).
        """
        steps_now = self.oracle.steps
        used, offered = steps_now - self._mark[0], self._mark[1]
        observed = 2 * used if used >= offered else used
        self._ema = (1 - LOOKAHEAD_SMOOTHING) * self._ema + LOOKAHEAD_SMOOTHING * observed
        guess = GuessOracle(self.pricer, int(min(max(self._ema, LOOKAHEAD_MIN_STEPS), LOOKAHEAD_MAX_STEPS)))
        spec = self.clone(guess)
        env = spec.env
        stop = guess.stop_event = env.event()
        spec.start()
        step, peek = env.step, env.peek
        while not stop.triggered and peek() != INFINITY:  # until the step budget is spent or the run ends
            step()
        self.pricer.price(chain(keys, guess.misses))
        self._mark = (steps_now, max(guess.steps, 1))

    def run(self) -> None:
        """Run the committed simulation to the end."""
        self.start()
        self.env.run()
        if self.resolved != self.setup.num_requests:
            stuck = [r.cfg.index for r in self.replicas if r.waiting or r.ds.size or r.prefilling]
            raise PerfModelError(f"internal error: simulation stalled with {self.setup.num_requests - self.resolved} "
                                 f"unfinished requests (replicas {stuck})")

