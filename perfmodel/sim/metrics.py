"""Recording a run (the committed run only) and the statistics computed from it.

Per-token data is never stored token by token: a sequence's tokens are runs of consecutive decode
steps of one replica (the step end times are stored once per replica), so inter-token latencies,
their distribution and any request's token times are derived exactly from O(steps + runs) data.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

import numpy as np

from perfmodel.sim.records import StepKey

REJECT_REASONS = {1: "does not fit in KV memory", 2: "waiting queue full"}
STEP_COLUMNS = ("replica", "start_s", "end_s", "num_seqs", "new_tokens", "decode_seqs", "prefill_chunks", "queue_len",
                "kv_blocks_used", "flops", "bytes")


class NullRecorder:
    """Records nothing (speculative look-ahead runs)."""

    def _noop(self, *args, **kwargs) -> None:
        return None

    arrival = routed = handoff = rejected = scheduled = scheduled_decode = first_token = preempted = run = \
        seq_done = request_done = decode_end = step = transfer = preemption = _noop


class Recorder:
    """Per-request, per-sequence and per-step records of the committed run."""

    def __init__(self, num_requests: int, num_seqs: int, num_replicas: int, arrival_s: np.ndarray,
                 progress: Callable[[int, int], None] | None = None):
        n = num_requests
        self.arrival_s = np.array(arrival_s, dtype=np.float64)
        self.replica = np.full(n, -1, dtype=np.int64)
        self.decode_replica = np.full(n, -1, dtype=np.int64)
        self.scheduled_s = [np.nan] * n
        self.scheduled_decode_s = [np.nan] * n
        self.first_token_s = [np.nan] * n
        self.finish_s = np.full(n, np.nan)
        self.status = np.zeros(n, dtype=np.int8)  # 0 pending, 1 completed, 2 rejected
        self.reject_reason = np.zeros(n, dtype=np.int8)
        self.preemptions = np.zeros(n, dtype=np.int64)
        self.seq_finish_s = np.full(num_seqs, np.nan)
        self.seq_generated = np.zeros(num_seqs, dtype=np.int64)
        self.seq_cancelled = np.zeros(num_seqs, dtype=bool)
        # runs: a sequence's emissions on one replica: one at emit0 (prompt done / KV received), then one
        # at the end of each decode step with counter j0 .. j1-1
        self.run_seq, self.run_rep, self.run_j0, self.run_j1 = array("q"), array("q"), array("q"), array("q")
        self.run_emit0 = array("d")
        self.decode_ends = [array("d") for _ in range(num_replicas)]
        self.step_rows = array("d")  # STEP_COLUMNS per step, flattened
        self.transfers: list[tuple[int, int, int, float, float, float]] = []
        self.total_preemptions = 0
        self.preemption_events: list[tuple[int, float, int, int, int]] = []  # replica, time, used, capacity, need
        self.done = 0
        self.progress = progress
        self._progress_every = max(1, n // 200)

    # ---- events -------------------------------------------------------------------------------------
    def arrival(self, req: int, t: float) -> None:
        self.arrival_s[req] = t

    def routed(self, req: int, replica: int) -> None:
        self.replica[req] = replica

    def handoff(self, req: int, replica: int) -> None:
        self.decode_replica[req] = replica

    def rejected(self, req: int, t: float, reason: int) -> None:
        self.status[req] = 2
        self.reject_reason[req] = reason
        self.finish_s[req] = t
        self._tick()

    def scheduled(self, req: int, t: float) -> None:
        if self.scheduled_s[req] != self.scheduled_s[req]:  # NaN: first admission
            self.scheduled_s[req] = t

    def scheduled_decode(self, req: int, t: float) -> None:
        if self.scheduled_decode_s[req] != self.scheduled_decode_s[req]:
            self.scheduled_decode_s[req] = t

    def first_token(self, req: int, t: float) -> None:
        if self.first_token_s[req] != self.first_token_s[req]:
            self.first_token_s[req] = t

    def preempted(self, req: int) -> None:
        self.preemptions[req] += 1
        self.total_preemptions += 1

    def preemption(self, replica: int, t: float, used_blocks: int, capacity: int, need: int) -> None:
        self.preemption_events.append((replica, t, used_blocks, capacity, need))

    def run(self, seq: int, replica: int, emit0_s: float, j0: int, j1: int) -> None:
        self.run_seq.append(seq)
        self.run_rep.append(replica)
        self.run_emit0.append(emit0_s)
        self.run_j0.append(j0)
        self.run_j1.append(j1)

    def seq_done(self, seq: int, t: float, generated: int, cancelled: bool) -> None:
        self.seq_finish_s[seq] = t
        self.seq_generated[seq] = generated
        self.seq_cancelled[seq] = cancelled

    def request_done(self, req: int, t: float) -> None:
        self.status[req] = 1
        self.finish_s[req] = t
        self._tick()

    def _tick(self) -> None:
        self.done += 1
        if self.progress is not None and (self.done % self._progress_every == 0 or self.done == len(self.status)):
            self.progress(self.done, len(self.status))

    def decode_end(self, replica: int, t: float) -> None:
        self.decode_ends[replica].append(t)

    def step(self, replica: int, start_s: float, end_s: float, key: StepKey, n_dec: int, n_chunks: int,
             queue_len: int, used_blocks: int, cost: tuple[float, float, float]) -> None:
        self.step_rows.extend((replica, start_s, end_s, key.num_seqs, key.new_tokens, n_dec, n_chunks, queue_len,
                               used_blocks, cost[1], cost[2]))

    @property
    def steps(self) -> dict[str, np.ndarray]:
        """Step records as columns."""
        rows = np.frombuffer(self.step_rows, dtype=np.float64).reshape(-1, len(STEP_COLUMNS))
        out = {}
        for i, name in enumerate(STEP_COLUMNS):
            col = rows[:, i]
            out[name] = col if name in ("start_s", "end_s", "flops", "bytes") else col.astype(np.int64)
        return out

    def transfer(self, src: int, dst: int, req: int, start_s: float, end_s: float, nbytes: float) -> None:
        self.transfers.append((src, dst, req, start_s, end_s, nbytes))


# ---- statistics ---------------------------------------------------------------------------------------
def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """np.percentile(np.repeat(values, weights), q) without expanding (integer weights, linear method)."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.int64)
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if values.size == 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    v, cw = values[order], np.cumsum(weights[order])
    h = (cw[-1] - 1) * q / 100.0
    lo = int(np.floor(h))
    hi = min(lo + 1, int(cw[-1]) - 1)
    a = v[np.searchsorted(cw, lo, side="right")]
    b = v[np.searchsorted(cw, hi, side="right")]
    return float(a + (h - lo) * (b - a))


PERCENTILES = (50, 90, 95, 99)


def describe(values: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float | None]:
    """Mean and p50/p90/p95/p99 (None when there is no value)."""
    values = np.asarray(values, dtype=np.float64)
    if weights is None:
        values = values[np.isfinite(values)]
        weights = np.ones(values.shape, dtype=np.int64)
    if values.size == 0 or weights.sum() == 0:
        return {"mean": None, **{f"p{p}": None for p in PERCENTILES}}
    mean = float(np.sum(values * weights) / np.sum(weights))
    return {"mean": mean, **{f"p{p}": weighted_quantile(values, weights, p) for p in PERCENTILES}}


def itl_samples(rec: Recorder) -> tuple[np.ndarray, np.ndarray]:
    """Every inter-token (inter-emission) latency of the run, as (values, integer weights)."""
    values, weights = [], []
    seq = np.frombuffer(rec.run_seq, dtype=np.int64)
    rep = np.frombuffer(rec.run_rep, dtype=np.int64)
    j0 = np.frombuffer(rec.run_j0, dtype=np.int64)
    j1 = np.frombuffer(rec.run_j1, dtype=np.int64)
    emit0 = np.frombuffer(rec.run_emit0, dtype=np.float64)
    last = emit0.copy()
    for r, ends in enumerate(rec.decode_ends):
        ends = np.frombuffer(ends, dtype=np.float64)
        mine = rep == r
        if not ends.size or not mine.any():
            continue
        a, b = j0[mine], j1[mine]
        counts = np.zeros(ends.size + 1, dtype=np.int64)
        long_runs = b > a + 1
        np.add.at(counts, a[long_runs] + 1, 1)
        np.add.at(counts, b[long_runs], -1)
        values.append(np.diff(ends))
        weights.append(np.cumsum(counts)[1:ends.size])
        has = b > a
        idx = np.flatnonzero(mine)[has]
        values.append(ends[a[has]] - emit0[idx])
        weights.append(np.ones(idx.size, dtype=np.int64))
        last[idx] = ends[b[has] - 1]
    order = np.lexsort((emit0, seq))
    same = seq[order][1:] == seq[order][:-1]
    gaps = emit0[order][1:][same] - last[order][:-1][same]
    values.append(gaps)
    weights.append(np.ones(gaps.size, dtype=np.int64))
    if not values:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    return np.concatenate(values), np.concatenate(weights)


def token_times(rec: Recorder, seq: int) -> np.ndarray:
    """Emission times of one sequence (one per emission; speculative steps may carry several tokens)."""
    runs = np.flatnonzero(np.frombuffer(rec.run_seq, dtype=np.int64) == seq)
    parts = []
    for i in sorted(runs, key=lambda i: rec.run_emit0[i]):
        ends = np.frombuffer(rec.decode_ends[rec.run_rep[i]], dtype=np.float64)
        parts.append([rec.run_emit0[i]])
        parts.append(ends[rec.run_j0[i]:rec.run_j1[i]])
    return np.concatenate(parts) if parts else np.zeros(0)
