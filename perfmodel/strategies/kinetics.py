"""The Kinetics cost law (Sadhukhan et al., 2025, "Kinetics: Rethinking Test-Time Scaling Laws").

N samples generate L tokens each after an L_in-token prompt; P active parameters, r = n_q / n_kv,
D = KV elements per token over all layers, β bytes per KV element (2 in the paper). Decode only;
weight reads are dropped (amortized by batching); the prompt KV is shared by the N samples.

    dense      compute = 2·P·N·L + 2·r·N·L_in·D·L + r·N·D·L²
               memory  = β·(L_in·D·L + N·D·L²/2)          (= 2·L_in·D·L + N·D·L² at β = 2)
    top-k B    attended keys per sample A(B) = ∫₀^L min(B, L_in + x) dx = B·L − ½·max(0, B − L_in)²
               compute = 2·P·N·L + 2·r·D·N·A,  memory = β·D·N·A   (no prefix sharing)
    block      B = local + block_size·k; top-k terms plus the search: one representative key per
    top-k      block of the context, r·D FLOPs and D/2 elements each:
               search compute = r·D·N·(L_in·L + L²/2) / b,  search memory = β·(D/2)·(L_in·L + N·L²/2) / b

eFLOPs = compute + I · memory, I = peak FLOP/s ÷ memory B/s. The public scripts add
½·max(0, B − L_in)² in the oracle top-k form; attending min(B, context) keys subtracts it (the
block top-k form already does), so the sign is corrected here (:func:`published_topk_attended`
keeps the published form for comparison). A(B) is clipped to the dense value when B ≥ L_in + L,
where the published expression would fall below dense. The scripts also floor the block count;
the law here uses the exact ratio.

The law is the continuous-generation limit of the sum over decode steps: pricing step i with the
core's exact batch sums at context L_in + i − ½ (:func:`kinetics_step_sum`) gives it exactly; the
integer-context sum differs by O(1/L).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from perfmodel.cost.batch import BatchStats, FloatArray
from perfmodel.specs.model import ModelArch
from perfmodel.strategies.attention import DENSE, AttentionSpec


@dataclass(frozen=True)
class KineticsModel:
    """The four numbers of a model the law needs."""

    params: float  # P, active parameters
    gqa_ratio: float  # r = n_q / n_kv
    kv_elements_per_token: float  # D, all layers
    kv_bytes_per_element: float = 2.0  # β

    @classmethod
    def of(cls, model: ModelArch, kv_bytes_per_element: float = 2.0) -> KineticsModel:
        return cls(float(model.active_params()), model.num_heads / model.kv_heads,
                   float(model.kv_elements_per_token), kv_bytes_per_element)


@dataclass(frozen=True)
class KineticsCost:
    """The law's terms (arrays over generation lengths when given several)."""

    linear_flops: FloatArray
    attention_flops: FloatArray
    search_flops: FloatArray
    kv_bytes: FloatArray
    search_bytes: FloatArray

    @property
    def compute_flops(self) -> FloatArray:
        return self.linear_flops + self.attention_flops + self.search_flops

    @property
    def memory_bytes(self) -> FloatArray:
        return self.kv_bytes + self.search_bytes

    def eflops(self, machine_balance_flop_per_byte: float) -> FloatArray:
        return self.compute_flops + machine_balance_flop_per_byte * self.memory_bytes


def attended_keys(budget: float | None, prompt: ArrayLike, gen: ArrayLike) -> FloatArray:
    """Keys attended by one sample over its generation: ∫₀^L min(B, L_in + x) dx (dense without B)."""
    p, g = np.asarray(prompt, dtype=np.float64), np.asarray(gen, dtype=np.float64)
    dense = p * g + g * g / 2.0
    if budget is None:
        return dense
    sparse = budget * g - 0.5 * np.maximum(0.0, budget - p) ** 2
    return np.where(budget >= p + g, dense, sparse)


def published_topk_attended(budget: float, prompt: ArrayLike, gen: ArrayLike) -> FloatArray:
    """The oracle top-k term as published in the public scripts (wrong sign), for comparison only."""
    p, g = np.asarray(prompt, dtype=np.float64), np.asarray(gen, dtype=np.float64)
    return budget * g + 0.5 * np.maximum(0.0, budget - p) ** 2


def kinetics_cost(km: KineticsModel, n: float, prompt: float, gen: ArrayLike,
                  attention: AttentionSpec = DENSE) -> KineticsCost:
    """The closed form for N samples of `gen` tokens (vectorized over `gen`)."""
    g = np.asarray(gen, dtype=np.float64)
    r, d, beta = km.gqa_ratio, km.kv_elements_per_token, km.kv_bytes_per_element
    linear = 2.0 * km.params * n * g
    budget = attention.budget_tokens
    zero = np.zeros_like(g)
    if budget is None:
        return KineticsCost(linear, r * d * n * (2.0 * prompt * g + g * g), zero,
                            beta * d * (prompt * g + n * g * g / 2.0), zero)
    a = attended_keys(budget, prompt, g)
    search_flops, search_bytes = zero, zero
    block = attention.selection_block_tokens
    if block:
        search_flops = r * d * n * (prompt * g + g * g / 2.0) / block
        search_bytes = beta * (d / 2.0) * (prompt * g + n * g * g / 2.0) / block
    return KineticsCost(linear, 2.0 * r * d * n * a, search_flops, beta * d * n * a, search_bytes)


def kinetics_step_sum(km: KineticsModel, n: int, prompt: int, gen: int,
                      attention: AttentionSpec = DENSE) -> KineticsCost:
    """The same quantities summed over decode steps from the cost core's exact batch sums.

    Step i (0 … L−1) has N sequences of one new token after L_in + i − ½ cached tokens (the
    continuous-generation convention of the law: the midpoint of the step). For dense attention the
    prompt's KV is read once per step for all N (the law's sharing), i.e. (N − 1)·L_in fewer reads
    than N separate copies. Attention costs 2·r·D FLOPs per query-key pair (over all layers) and
    β·D bytes per KV token read.
    """
    r, d, beta = km.gqa_ratio, km.kv_elements_per_token, km.kv_bytes_per_element
    context = prompt + np.arange(gen, dtype=np.float64) - 0.5
    dense = BatchStats.uniform(n, 1, context)
    shared_reads = dense.kv_read_tokens - (n - 1) * prompt  # the prompt read once per step
    budget = attention.budget_tokens
    if budget is None:
        pairs, reads = dense.attn_pairs, shared_reads
    else:
        sparse = BatchStats.uniform(n, 1, context, window=budget)
        pairs, reads = sparse.attn_pairs_window, sparse.kv_read_tokens_window
    search_flops = search_bytes = 0.0
    block = attention.selection_block_tokens
    if block:
        search_flops = float(np.sum(r * d * dense.attn_pairs / block))  # one K dot product per block
        search_bytes = float(np.sum(beta * (d / 2.0) * shared_reads / block))
    return KineticsCost(
        linear_flops=np.float64(2.0 * km.params * np.sum(np.broadcast_to(dense.new_tokens, context.shape))),
        attention_flops=np.float64(2.0 * r * d * np.sum(pairs)),
        search_flops=np.float64(search_flops),
        kv_bytes=np.float64(beta * d * np.sum(reads)),
        search_bytes=np.float64(search_bytes),
    )
