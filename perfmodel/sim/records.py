"""The simulator's named records: queue entries, prompts being prefilled, running sequences, steps.

Records with a life of their own are slotted dataclasses; the values made once per engine step (its
pricing key, plan and timing) are named tuples, which are cheaper to build. `Running`, `Waiting` and
`Transfer` records are never changed once made (a change makes a new record), so cloning a replica
for look-ahead copies only the containers that hold them; `Prefilling`, `SampleGroup` and
`PrefixEntry` records change as steps complete and are copied by `clone()`.

Prefix-cache entries are keyed by tuples: (`CLASS_PREFIX`, class id) for a request class's shared
system prompt, (`GROUP_PREFIX`, request) for the prompt of a best-of-N group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

CLASS_PREFIX = "c"
GROUP_PREFIX = "g"

# kinds of waiting entries
NEW = "new"  # a request that has not started
RESUME = "resume"  # a preempted sequence (recomputes its prompt plus the tokens it generated)
RECEIVED = "received"  # a request whose prompt KV arrived from a prefill replica (decode pool)


@dataclass(slots=True)
class Waiting:
    """An entry of a replica's waiting queue."""

    kind: str  # NEW, RESUME or RECEIVED
    req: int
    seq: int = -1  # RESUME: the sequence to resume
    generated: int = 0  # RESUME: tokens it had generated
    ready_s: float = 0.0  # RECEIVED: when its KV arrived (its first token's time)


@dataclass(slots=True)
class Prefilling:
    """A prompt admitted to a replica whose KV is being computed, possibly over several chunked steps."""

    uid: int
    kind: str  # the Waiting kind it came from
    req: int
    seq: int  # its sequence; -1 for a best-of-N prompt, which forks into its samples when done
    target_tokens: int  # context to compute: the prompt (plus generated tokens when resuming)
    computed_tokens: int  # context already in the KV cache (shared prefix included)
    shared_blocks: int  # full blocks reused from a prefix-cache entry
    prefix_keys: tuple  # prefix-cache entries it references
    private_blocks: int  # blocks it holds privately
    generated: int  # RESUME: tokens the sequence had generated
    admit_order: int  # admission counter (the latest admitted is preempted first)
    samples: int  # sequences the prompt starts (best-of-N)

    def clone(self) -> Prefilling:
        return Prefilling(self.uid, self.kind, self.req, self.seq, self.target_tokens, self.computed_tokens,
                          self.shared_blocks, self.prefix_keys, self.private_blocks, self.generated,
                          self.admit_order, self.samples)


@dataclass(slots=True)
class Running:
    """A decoding sequence as it was when it joined the decode set (at decode counter `counter0`).

    Every decode step adds one token, so its state at counter t is the `*0` fields plus t - counter0
    (uniform mode); with speculative decoding the record is replaced every step (see `rebased`).
    """

    seq: int
    req: int
    context0: int  # cached context tokens
    generated0: int  # tokens generated
    counter0: int  # decode counter at which the fields above hold
    output_len: int  # tokens it generates in all
    private_tokens0: int  # context tokens in its private blocks (not in a shared prefix)
    shared_blocks: int  # prefix blocks it reads from shared entries
    prefix_keys: tuple  # prefix-cache entries it references
    group_key: tuple | None  # prefix group whose KV it reads once per step with the other members
    group_prefix_tokens: int  # tokens of that shared prefix
    admit_order: int
    first_emit_s: float  # when it joined the decode set (its first token, or its resume point)
    held_blocks0: int  # private blocks held (reserved or speculative mode; else follows from tokens)
    reserved: bool  # static batching: its blocks were reserved up front for its whole life
    joined_counter: int  # decode counter at which it joined (kept when the record is rebased)

    def rebased(self, tokens: int, counter: int, held_blocks: int) -> Running:
        """This sequence after a step that emitted `tokens` tokens, stated at decode counter `counter`."""
        return Running(self.seq, self.req, self.context0 + tokens, self.generated0 + tokens, counter,
                       self.output_len, self.private_tokens0 + tokens, self.shared_blocks, self.prefix_keys,
                       self.group_key, self.group_prefix_tokens, self.admit_order, self.first_emit_s, held_blocks,
                       self.reserved, self.joined_counter)


@dataclass(slots=True)
class SampleGroup:
    """The samples of one best-of-N request on a replica."""

    needed: int  # samples that must finish for the request to complete (first-finish m, else N)
    alive: int  # samples not yet finished or cancelled
    finished: int  # samples that finished
    done: bool  # the request completed; the other samples are cancelled
    prefix_keys: tuple  # prefix entries of the prompt (class prefix, then the group's own)
    shared_blocks: int  # full prompt blocks all samples share

    def clone(self) -> SampleGroup:
        return SampleGroup(self.needed, self.alive, self.finished, self.done, self.prefix_keys, self.shared_blocks)


@dataclass(slots=True)
class PrefixEntry:
    """Full KV blocks shared by several sequences, with a reference count and a last-use stamp."""

    blocks: int
    refs: int
    last_use: int

    def clone(self) -> PrefixEntry:
        return PrefixEntry(self.blocks, self.refs, self.last_use)


class StepKey(NamedTuple):
    """The exact batch-composition sums of one engine step of one model (the pricing cache key).

    A tuple so that it hashes fast: a replica config id and the eight
    :class:`~perfmodel.cost.BatchStats` fields, all integers."""

    cfg: int
    num_seqs: int
    new_tokens: int
    sampled_tokens: int
    attn_pairs: int
    attn_pairs_window: int
    kv_read_tokens: int
    kv_read_tokens_window: int
    decode_only: int


@dataclass(slots=True)
class Chunk:
    """Prompt tokens of one prefilling item computed in a step."""

    uid: int  # the Prefilling item
    tokens: int
    final: bool  # the prompt is complete after this step


class StepPlan(NamedTuple):
    """One engine step: its pricing keys, how many decodes run (0 or the whole decode set), its chunks."""

    keys: tuple[StepKey, ...]  # one per model priced (a draft model's steps follow the target's)
    num_decodes: int
    chunks: tuple[Chunk, ...]


class InFlightStep(NamedTuple):
    """The step a replica is executing."""

    plan: StepPlan
    start_s: float
    end_s: float
    cost: tuple[float, float, float]  # (seconds, FLOPs, bytes)
    kv_blocks_used: int  # blocks in use during the step


# Builds a named tuple from a tuple of its fields without Python-level argument handling: used where
# one is made every engine step (`new_record(StepKey, (cfg, ...))`).
new_record = tuple.__new__


@dataclass(slots=True)
class Transfer:
    """A prompt's KV cache on its way from a prefill replica to a decode replica."""

    end_s: float
    src: int
    dst: int
    req: int
    start_s: float
    nbytes: float
