"""Paged KV cache of one replica: a block pool with shared prefix entries (prefix caching).

Blocks are counted, not tracked one by one: a sequence holds a number of private blocks, and
prefixes shared by several sequences (a class's common system prompt, the prompt of a best-of-N
group) are entries holding full blocks with a reference count. An entry nobody references stays
cached (a later request may hit it) but is reclaimable: allocation evicts such entries, least
recently used first, before it reports that memory ran out.
"""

from __future__ import annotations

import math

from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import EngineProfile
from perfmodel.cost.memory import kv_budget, kv_bytes
from perfmodel.errors import DoesNotFitError
from perfmodel.sim.records import PrefixEntry
from perfmodel.specs.device import System
from perfmodel.specs.model import ModelArch


def blocks_for(tokens: int, block_size: int) -> int:
    """Blocks holding `tokens` tokens."""
    return -(-tokens // block_size)


class BlockPool:
    """Block counts of one replica's KV cache (cheap to clone)."""

    __slots__ = ("capacity", "used", "cached", "entries", "clock")

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.used = 0  # private blocks + blocks of referenced entries
        self.cached = 0  # blocks of unreferenced (reclaimable) entries
        self.entries: dict[tuple, PrefixEntry] = {}
        self.clock = 0

    def clone(self) -> BlockPool:
        c = BlockPool.__new__(BlockPool)
        c.capacity, c.used, c.cached, c.clock = self.capacity, self.used, self.cached, self.clock
        c.entries = {k: v.clone() for k, v in self.entries.items()}
        return c

    @property
    def free(self) -> int:
        return self.capacity - self.used - self.cached

    def alloc(self, n: int) -> bool:
        """Take `n` blocks, evicting unreferenced cached entries if needed; False if they do not fit."""
        if n <= self.capacity - self.used - self.cached:
            self.used += n
            return True
        if n > self.capacity - self.used:
            return False
        while n > self.capacity - self.used - self.cached:
            key = min((k for k, e in self.entries.items() if e.refs == 0), key=lambda k: self.entries[k].last_use)
            self.cached -= self.entries.pop(key).blocks
        self.used += n
        return True

    def can_alloc(self, n: int) -> bool:
        return n <= self.capacity - self.used

    def release(self, n: int) -> None:
        self.used -= n

    def ref(self, key: tuple) -> int:
        """Reference an existing entry (a prefix-cache hit); returns its blocks, 0 if absent."""
        entry = self.entries.get(key)
        if entry is None:
            return 0
        if entry.refs == 0:
            self.cached -= entry.blocks
            self.used += entry.blocks
        entry.refs += 1
        self.clock += 1
        entry.last_use = self.clock
        return entry.blocks

    def unref(self, key: tuple, drop: bool = False) -> None:
        """Drop a reference; the last one leaves the entry cached, or frees it when `drop`."""
        entry = self.entries[key]
        entry.refs -= 1
        if entry.refs == 0:
            self.used -= entry.blocks
            if drop:
                del self.entries[key]
            else:
                self.cached += entry.blocks

    def drop(self, key: tuple) -> None:
        """Forget an unreferenced entry (its group is over)."""
        entry = self.entries.get(key)
        if entry is not None and entry.refs == 0:
            self.cached -= entry.blocks
            del self.entries[key]

    def add_entry(self, key: tuple, blocks: int, refs: int) -> None:
        """Turn `blocks` private blocks (already counted as used) into a shared entry."""
        self.clock += 1
        self.entries[key] = PrefixEntry(blocks, refs, self.clock)
        if refs == 0:
            self.used -= blocks
            self.cached += blocks


def kv_capacity_blocks(model: ModelArch, system: System, precision: Precision, par: Parallelism,
                       engine: EngineProfile, *, block_size: int, step_tokens: int, max_seqs: int,
                       draft: tuple[ModelArch, Parallelism] | None = None) -> tuple[int, float]:
    """KV blocks one replica can hold and the bytes per block per device (memory model with the engine's
    reserve, the weights and the activations of the largest step). Raises DoesNotFitError if none fit."""
    budget = kv_budget(model, system, precision, par, engine, step_tokens=step_tokens, max_seqs=max_seqs,
                       draft=draft)
    precision = engine.stored_precision(precision)
    block_bytes = float(kv_bytes(model, precision, block_size, par))
    if draft is not None:
        block_bytes += float(kv_bytes(draft[0], precision, block_size, draft[1]))
    free = budget.free_bytes
    blocks = int(math.floor(free / block_bytes)) if free > 0 else 0
    if blocks < 1:
        raise DoesNotFitError(
            f"{model.id} on {system.id} (tp={par.tp}, pp={par.pp}) leaves no room for a KV cache: weights "
            f"{budget.weights_bytes / 1e9:.1f} GB + engine reserve {budget.reserve_bytes / 1e9:.1f} GB + "
            f"activations {budget.activation_bytes / 1e9:.1f} GB per device vs {budget.capacity_bytes / 1e9:.1f} GB;"
            " quantize, raise tp/pp, or pick larger hardware")
    return blocks, block_bytes
