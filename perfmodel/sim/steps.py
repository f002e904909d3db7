"""Batch composition of one engine step -> exact keys for the pricer.

`fast_keys` derives the sums from the decode set's running totals in O(#prefill chunks);
`reference_keys` materializes every sequence as a :class:`perfmodel.cost.Batch` and asks the cost
core for its stats (used for sliding-window models, and in check mode to prove both agree).
With speculative decoding a step is k draft steps of the draft model plus one verify step of the
target, in which every decoding sequence processes k+1 tokens; the step's time is their sum.
"""

from __future__ import annotations

import numpy as np

from perfmodel.cost.batch import Batch, BatchStats
from perfmodel.sim.records import StepKey, new_record
from perfmodel.sim.running import DecodeSet

# a prefill chunk of a step: (chunk tokens, cached context before it, sampled positions)
ChunkShape = tuple[int, int, int]


def _add_chunks(chunks: list[ChunkShape]) -> tuple[int, int, int, int, int, int]:
    b = t = s = a = k = 0
    dec = 1
    for c, ctx, sampled in chunks:
        b += 1
        t += c
        s += sampled
        a += c * ctx + c * (c + 1) // 2
        k += ctx + c
        if c > 1:
            dec = 0
    return b, t, s, a, k, dec


def fast_keys(cfg: int, ds: DecodeSet, n_dec: int, chunks: list[ChunkShape], spec_k: int = 0,
              draft_cfg: int | None = None) -> tuple[StepKey, ...]:
    """Keys of a step from running sums: `n_dec` decodes (the whole decode set or none) plus chunks."""
    cb, ct, cs, ca, ck, cdec = _add_chunks(chunks)
    ctx_sum, savings = (ds.context_sum, ds.shared_read_savings) if n_dec else (0, 0)
    if not spec_k:
        a = ctx_sum + n_dec + ca
        k = ctx_sum + n_dec - savings + ck
        return (new_record(StepKey, (cfg, n_dec + cb, n_dec + ct, n_dec + cs, a, a, k, k, cdec)),)
    q = spec_k + 1
    a = q * ctx_sum + n_dec * q * (q + 1) // 2 + ca
    k = ctx_sum + n_dec * q - savings + ck
    verify = StepKey(cfg, n_dec + cb, n_dec * q + ct, n_dec * q + cs, a, a, k, k, 0 if n_dec else cdec)
    keys = [verify]
    for j in range(spec_k if n_dec else 1):
        extra = (cb, ct, cs, ca, ck) if j == 0 else (0, 0, 0, 0, 0)
        if not n_dec and not cb:
            break
        da = ctx_sum + n_dec * (j + 1) + extra[3]
        dk = ctx_sum + n_dec * (j + 1) - savings + extra[4]
        ddec = cdec if j == 0 else 1
        keys.append(StepKey(draft_cfg, n_dec + extra[0], n_dec + extra[1], n_dec + extra[2], da, da, dk, dk, ddec))
    return tuple(keys)


def _key_of(cfg: int, stats: BatchStats) -> StepKey:
    return StepKey(cfg, int(stats.num_seqs), int(stats.new_tokens), int(stats.sampled_tokens), int(stats.attn_pairs),
            int(stats.attn_pairs_window), int(stats.kv_read_tokens), int(stats.kv_read_tokens_window),
            int(stats.decode_only))


def reference_batch(ds: DecodeSet, n_dec: int, chunks: list[ChunkShape], new_per_decode: int = 1,
                    context_shift: int = 0) -> Batch:
    """The step as a per-sequence Batch (decodes first, then chunks, which share no prefix group)."""
    new, ctx, sampled, group, shared = [], [], [], [], []
    ids: dict[tuple, int] = {}
    if n_dec:
        for context, rec in ds.contexts():
            new.append(new_per_decode)
            ctx.append(context + context_shift)
            sampled.append(new_per_decode)
            gkey = rec.group_key
            group.append(ids.setdefault(gkey, len(ids)) if gkey is not None else -1 - len(group))
            shared.append(rec.group_prefix_tokens if gkey is not None else 0)
    for c, context, samp in chunks:
        new.append(c)
        ctx.append(context)
        sampled.append(samp)
        group.append(-1 - len(group))
        shared.append(0)
    return Batch.of(np.array(new, dtype=np.int64), np.array(ctx, dtype=np.int64), sampled, group, shared)


def reference_keys(cfg: int, ds: DecodeSet, n_dec: int, chunks: list[ChunkShape], window: int | None,
                   spec_k: int = 0, draft_cfg: int | None = None, draft_window: int | None = None
                   ) -> tuple[StepKey, ...]:
    """Keys of a step from its per-sequence Batch (the cost core's own sums)."""
    if not spec_k:
        return (_key_of(cfg, reference_batch(ds, n_dec, chunks).stats(window)),)
    keys = [_key_of(cfg, reference_batch(ds, n_dec, chunks, spec_k + 1).stats(window))]
    for j in range(spec_k if n_dec else 1):
        if not n_dec and not chunks:
            break
        batch = reference_batch(ds, n_dec, chunks if j == 0 else [], 1, j)
        keys.append(_key_of(draft_cfg, batch.stats(draft_window)))
    return tuple(keys)
