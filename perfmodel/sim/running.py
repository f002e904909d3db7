"""The decode set of one replica: sequences generating tokens, with exact sums updated in O(1) per step.

Between scheduling events every running sequence gains one token of context per decode step, so a
sequence is stored once, as it was when it joined (a :class:`~perfmodel.sim.records.Running` record
stated at decode counter `counter0`), and its state at counter t follows by adding t - counter0. The
sums a step needs (Σ context, the shared-prefix read savings, how many sequences cross a KV block
boundary) are kept incrementally: a decode-only step costs O(1) Python work whatever the batch size.
Records are never changed in place, so cloning the set for look-ahead is a shallow copy.
"""

from __future__ import annotations

import heapq

from perfmodel.sim.records import Running


class DecodeSet:
    """Running decode sequences of one replica and their exact per-step sums."""

    __slots__ = ("block_size", "counter", "size", "context_sum", "shared_read_savings", "new_block_phase",
                 "finish_heap", "records", "group_members", "next_uid", "uniform")

    def __init__(self, block_size: int, uniform: bool = True):
        self.block_size = block_size
        self.counter = 0  # decode steps executed on this replica
        self.size = 0  # sequences in the set
        self.context_sum = 0  # Σ cached context over the set at `counter`
        # Σ over prefix groups of (members - 1) · prefix tokens: KV a group reads once, not per member
        self.shared_read_savings = 0
        # sequences by the counter phase (mod block_size) at which they need a new KV block
        self.new_block_phase = [0] * block_size
        self.finish_heap: list[tuple[int, int]] = []  # (counter at which it is done, uid)
        self.records: dict[int, Running] = {}
        self.group_members: dict[tuple, int] = {}
        self.next_uid = 0
        self.uniform = uniform  # False with speculative decoding: records are rebased every step

    def clone(self) -> DecodeSet:
        c = DecodeSet.__new__(DecodeSet)
        c.block_size, c.counter, c.size, c.uniform = self.block_size, self.counter, self.size, self.uniform
        c.context_sum, c.shared_read_savings, c.next_uid = self.context_sum, self.shared_read_savings, self.next_uid
        c.new_block_phase = self.new_block_phase[:]
        c.finish_heap = self.finish_heap[:]
        c.records = dict(self.records)
        c.group_members = dict(self.group_members)
        return c

    def add(self, rec: Running) -> int:
        """Insert a record stated at the current counter; returns its uid."""
        uid = self.next_uid
        self.next_uid += 1
        self.records[uid] = rec
        self.size += 1
        self.context_sum += rec.context0
        gkey = rec.group_key
        if gkey is not None:
            count = self.group_members.get(gkey, 0)
            if count:
                self.shared_read_savings += rec.group_prefix_tokens
            self.group_members[gkey] = count + 1
        if self.uniform:
            if not rec.reserved:
                self.new_block_phase[(rec.counter0 - rec.private_tokens0) % self.block_size] += 1
            heapq.heappush(self.finish_heap, (rec.counter0 + rec.output_len - rec.generated0, uid))
        return uid

    def state(self, rec: Running) -> tuple[int, int, int, int]:
        """(context, generated, private tokens, private blocks held) of a record at the current counter."""
        d = self.counter - rec.counter0
        priv = rec.private_tokens0 + d
        held = rec.held_blocks0 if (rec.reserved or not self.uniform) else -(-priv // self.block_size)
        return rec.context0 + d, rec.generated0 + d, priv, held

    def remove(self, uid: int) -> tuple[Running, int, int, int]:
        """Take a sequence out; returns (record, context, generated, private blocks held)."""
        rec = self.records.pop(uid)
        ctx, gen, priv, held = self.state(rec)
        self.size -= 1
        self.context_sum -= ctx
        gkey = rec.group_key
        if gkey is not None:
            count = self.group_members[gkey] - 1
            if count:
                self.shared_read_savings -= rec.group_prefix_tokens
                self.group_members[gkey] = count
            else:
                del self.group_members[gkey]
        if self.uniform and not rec.reserved:
            self.new_block_phase[(rec.counter0 - rec.private_tokens0) % self.block_size] -= 1
        return rec, ctx, gen, held

    def need_blocks(self) -> int:
        """New blocks the next decode step needs (uniform mode)."""
        return self.new_block_phase[self.counter % self.block_size]

    def advance(self) -> list[int]:
        """Count one decode step (uniform mode); returns the uids now done."""
        self.counter += 1
        self.context_sum += self.size
        done = []
        heap = self.finish_heap
        while heap and heap[0][0] <= self.counter:
            uid = heapq.heappop(heap)[1]
            if uid in self.records:
                done.append(uid)
        return done

    def latest(self) -> int | None:
        """The uid of the most recently admitted sequence (the preemption victim)."""
        if not self.records:
            return None
        return max(self.records, key=lambda u: self.records[u].admit_order)

    def contexts(self) -> list[tuple[int, Running]]:
        """(context, record) of every sequence at the current counter, in uid order."""
        t = self.counter
        return [(r.context0 + t - r.counter0, r) for r in self.records.values()]
