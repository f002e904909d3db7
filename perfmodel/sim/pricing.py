"""Step pricing: every engine step's seconds come from :func:`perfmodel.cost.step_cost`, in bulk.

A step is described by its exact batch-composition sums (a key: replica config id followed by the
eight :class:`~perfmodel.cost.BatchStats` fields, all integers). :class:`StepPricer` keeps an exact
cache key -> (seconds, FLOPs, bytes) and fills it with one vectorized `step_cost` call per config
for any number of keys.

To make those calls large, the simulator looks ahead: when a step is not in the cache, the world is
cloned and run forward speculatively (see :mod:`perfmodel.sim.cluster`), with :class:`GuessOracle`
standing in for the durations it does not know yet; every composition the speculative run meets is
then priced exactly in one call. A guess only steers which compositions get priced: the committed
run uses exact cached values only, so results are identical with or without look-ahead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfmodel.cost.batch import BatchStats
from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import EngineProfile
from perfmodel.cost.step import step_cost
from perfmodel.sim.records import StepKey
from perfmodel.specs.device import System
from perfmodel.specs.model import ModelArch

Key = StepKey
STAT_FIELDS = StepKey._fields[1:]  # the BatchStats fields, in key order

# Feature scales of the guess fit: they bring batch sums of very different sizes to order one, so the
# least-squares problem is well conditioned. Decode-only steps: sequences, KV tokens read, attention pairs.
DECODE_SEQS_SCALE = 1e-2
DECODE_KV_READ_SCALE = 1e-5
DECODE_PAIRS_SCALE = 1e-5
# Steps with prefill chunks: attention pairs, KV tokens read, new tokens.
PREFILL_PAIRS_SCALE = 1e-6
PREFILL_KV_READ_SCALE = 1e-4
PREFILL_TOKENS_SCALE = 1e-3
FALLBACK_GUESS_S = 1e-2  # a guessed step duration when no fit exists yet (look-ahead only)
FIT_WINDOW_STEPS = 256  # the guess fit uses the latest this many exact steps per (config, decode-only)
CACHE_GENERATION_KEYS = 60_000  # exact cache size before it becomes the old generation (bounds memory)
BASE_TABLE_MIN_TOKENS = 8192  # smallest table of exact no-attention step times (grown on demand)


@dataclass(frozen=True)
class CostTarget:
    """What one config id prices: a model on one replica's system with its precision and engine."""

    model: ModelArch
    system: System
    precision: Precision
    parallelism: Parallelism
    engine: EngineProfile


def stats_of_keys(keys: list[Key]) -> BatchStats:
    """The BatchStats (arrays over steps) of keys that share one config id."""
    arr = np.array([k[1:] for k in keys], dtype=np.float64)
    return BatchStats(**{name: arr[:, i] for i, name in enumerate(STAT_FIELDS)})


class _GuessModel:
    """Least-squares fit of recent exact step times, used only to steer look-ahead.

    Decode-only steps are nearly linear in batch size and KV read; steps with prefill chunks are
    fitted as a residual over an exact base curve (the step time of T new tokens without attention),
    which carries the GEMMs' memory- to compute-bound transition.
    """

    WINDOW = FIT_WINDOW_STEPS

    def __init__(self, decode: bool) -> None:
        self.decode = decode
        self.x: list[list[float]] = []
        self.y: list[float] = []
        self.coef: list[float] | None = None
        self.dirty = False

    def features(self, key: Key) -> list[float]:
        _, b, t, s, a, _, k, _, _ = key  # a StepKey (unpacked: the hot path of look-ahead)
        if self.decode:
            x, y = b * DECODE_SEQS_SCALE, k * DECODE_KV_READ_SCALE
            return [1.0, x, y, a * DECODE_PAIRS_SCALE, x * x, y * y, x * y]
        x, y, z = a * PREFILL_PAIRS_SCALE, k * PREFILL_KV_READ_SCALE, t * PREFILL_TOKENS_SCALE
        return [1.0, b, s, x, y, z, x * x, y * y, x * y, z * z, x * z, y * z]

    def add(self, key: Key, target: float) -> None:
        self.x.append(self.features(key))
        self.y.append(target)
        if len(self.y) > 2 * self.WINDOW:
            del self.x[: -self.WINDOW], self.y[: -self.WINDOW]
        self.dirty = True

    def predict(self, key: Key) -> float | None:
        if self.dirty:
            if len(self.y) >= 2:
                self.coef = np.linalg.lstsq(np.array(self.x[-self.WINDOW:]), np.array(self.y[-self.WINDOW:]),
                                            rcond=None)[0].tolist()
            self.dirty = False
        c = self.coef
        if c is None:
            return None
        _, b, t, s, a, _, k, _, _ = key
        if self.decode:
            x, y = b * DECODE_SEQS_SCALE, k * DECODE_KV_READ_SCALE
            return (c[0] + c[1] * x + c[2] * y + c[3] * a * DECODE_PAIRS_SCALE + c[4] * x * x + c[5] * y * y
                    + c[6] * x * y)
        x, y, z = a * PREFILL_PAIRS_SCALE, k * PREFILL_KV_READ_SCALE, t * PREFILL_TOKENS_SCALE
        return (c[0] + c[1] * b + c[2] * s + c[3] * x + c[4] * y + c[5] * z + c[6] * x * x + c[7] * y * y
                + c[8] * x * y + c[9] * z * z + c[10] * x * z + c[11] * y * z)

    def gradient(self, key: Key) -> tuple[float, float] | None:
        """(d time / d attention pairs, d time / d KV tokens read) of the fit at `key`."""
        c = self.coef
        if c is None:
            return None
        _, b, t, _, a, _, k, _, _ = key
        if self.decode:
            x, y = b * DECODE_SEQS_SCALE, k * DECODE_KV_READ_SCALE
            return c[3] * DECODE_PAIRS_SCALE, (c[2] + 2 * c[5] * y + c[6] * x) * DECODE_KV_READ_SCALE
        x, y, z = a * PREFILL_PAIRS_SCALE, k * PREFILL_KV_READ_SCALE, t * PREFILL_TOKENS_SCALE
        return ((c[3] + 2 * c[6] * x + c[8] * y + c[10] * z) * PREFILL_PAIRS_SCALE,
                (c[4] + 2 * c[7] * y + c[8] * x + c[11] * z) * PREFILL_KV_READ_SCALE)


class StepPricer:
    """Exact step costs by key, priced in vectorized batches; a two-generation cache bounds memory."""

    GENERATION = CACHE_GENERATION_KEYS

    def __init__(self, targets: dict[int, CostTarget]):
        self.targets = targets
        self.cache: dict[Key, tuple[float, float, float]] = {}
        self.old: dict[Key, tuple[float, float, float]] = {}
        self.guess_models: dict[tuple[int, int], _GuessModel] = {}
        self.base: dict[int, list[float]] = {}
        # latest exact step per (cfg, decode_only, seqs, new tokens, sampled) -> (attention pairs, KV read,
        # seconds): a guess for a step that differs only in pairs and KV read moves along the fit from it
        self.anchors: dict[tuple, tuple[int, int, float]] = {}
        self.calls = 0
        self.priced = 0

    def get(self, key: Key) -> tuple[float, float, float] | None:
        value = self.cache.get(key)
        if value is None:
            value = self.old.get(key)
            if value is not None:
                self.cache[key] = value
        return value

    def _cost(self, cfg: int, stats: BatchStats):
        t = self.targets[cfg]
        self.calls += 1
        return step_cost(t.model, t.system, stats, t.precision, t.parallelism, t.engine)

    def price(self, keys) -> None:
        """Price every key not yet cached: one `step_cost` call per config id."""
        by_cfg: dict[int, list[Key]] = {}
        for key in keys:
            if key not in self.cache and key not in self.old:
                by_cfg.setdefault(key.cfg, []).append(key)
        if len(self.cache) > self.GENERATION:
            self.old, self.cache = self.cache, {}
            self.anchors = {}
        for cfg, group in by_cfg.items():
            group = list(dict.fromkeys(group))
            cost = self._cost(cfg, stats_of_keys(group))
            shape = (len(group),)
            times = np.broadcast_to(cost.time_s, shape).tolist()
            flops = np.broadcast_to(cost.flops, shape).tolist()
            nbytes = np.broadcast_to(cost.bytes, shape).tolist()
            self.priced += len(group)
            cache, anchors = self.cache, self.anchors
            for key, ti, fi, bi in zip(group, times, flops, nbytes, strict=True):
                cache[key] = (ti, fi, bi)
                _, seqs, new, sampled, pairs, _, kv_read, _, decode = key
                anchors[(cfg, decode, seqs, new, sampled)] = (pairs, kv_read, ti)
            for key, ti in list(zip(group, times, strict=True))[-2 * _GuessModel.WINDOW:]:
                decode = key.decode_only
                model = self.guess_models.get((cfg, decode))
                if model is None:
                    model = self.guess_models[(cfg, decode)] = _GuessModel(bool(decode))
                model.add(key, ti if decode else ti - self._base(cfg, key.new_tokens))

    def _base(self, cfg: int, tokens: int) -> float:
        """Exact time of a step of `tokens` new tokens with no attention work (guess baseline)."""
        table = self.base.get(cfg)
        if table is None or tokens >= len(table):
            n = max(BASE_TABLE_MIN_TOKENS, 2 * tokens)
            t = np.arange(n, dtype=np.float64)
            one, zero = np.ones(n), np.zeros(n)
            stats = BatchStats(num_seqs=one, new_tokens=t, sampled_tokens=one, attn_pairs=zero,
                               attn_pairs_window=zero, kv_read_tokens=zero, kv_read_tokens_window=zero,
                               decode_only=zero)
            table = self.base[cfg] = np.broadcast_to(self._cost(cfg, stats).time_s, (n,)).tolist()
        return table[tokens]

    def guess(self, key: Key) -> float:
        """A stand-in duration for an unpriced key (look-ahead only; never reaches a result).

        An exact step with the same sequences, new and sampled tokens, moved along the fit's gradient in
        attention pairs and KV read; else the fit itself."""
        cfg, seqs, new, sampled, pairs, _, kv_read, _, decode = key
        model = self.guess_models.get((cfg, decode))
        anchor = self.anchors.get((cfg, decode, seqs, new, sampled))
        if anchor is not None and model is not None:
            grad = model.gradient(key)
            if grad is not None:
                value = anchor[2] + grad[0] * (pairs - anchor[0]) + grad[1] * (kv_read - anchor[1])
                if value > 0:
                    return value
        value = model.predict(key) if model is not None else None
        if value is not None and not decode:
            value += self._base(cfg, new)
        if value is None or value <= 0:
            other = self.guess_models.get((cfg, 1 - decode))
            value = other.predict(key) if other is not None else None
            if value is not None and decode:
                value += self._base(cfg, new)
        return value if value is not None and value > 0 else FALLBACK_GUESS_S


class ExactOracle:
    """Step costs for the committed run: cached exact values; a miss triggers look-ahead (or a direct call)."""

    def __init__(self, pricer: StepPricer, lookahead=None):
        self.pricer = pricer
        self.lookahead = lookahead  # callable(keys) that fills the cache, or None: price directly
        self.steps = 0
        self.misses = 0

    def cost(self, keys: tuple[Key, ...]) -> tuple[float, float, float]:
        self.steps += 1
        if len(keys) == 1:
            value = self.pricer.cache.get(keys[0])
            if value is None:
                value = self.pricer.get(keys[0])
                if value is None:
                    self._fill(keys)
                    value = self.pricer.get(keys[0])
            return value
        get = self.pricer.get
        values = [get(k) for k in keys]
        if any(v is None for v in values):
            self._fill(keys)
            values = [get(k) for k in keys]
        return (sum(v[0] for v in values), sum(v[1] for v in values), sum(v[2] for v in values))

    def _fill(self, keys: tuple[Key, ...]) -> None:
        self.misses += 1
        if self.lookahead is not None:
            self.lookahead(keys)
        if any(self.pricer.get(k) is None for k in keys):
            self.pricer.price(keys)


class GuessOracle:
    """Step costs for a speculative run: exact where cached, guessed elsewhere; records what to price."""

    def __init__(self, pricer: StepPricer, max_steps: int):
        self.pricer = pricer
        self.max_steps = max_steps
        self.misses: dict[Key, None] = {}
        self.steps = 0
        self.stop_event = None  # set by the speculative world; succeeded when the step budget is spent

    def cost(self, keys: tuple[Key, ...]) -> tuple[float, float, float]:
        self.steps += 1
        pricer = self.pricer
        total = 0.0
        for key in keys:
            value = pricer.cache.get(key) or pricer.get(key)
            if value is None:
                self.misses[key] = None
                total += pricer.guess(key)
            else:
                total += value[0]
        if self.steps >= self.max_steps and not self.stop_event.triggered:
            self.stop_event.succeed()
        return (total, 0.0, 0.0)
