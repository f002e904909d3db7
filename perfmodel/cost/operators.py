"""FLOPs and bytes of every operator of one engine step, per device, as numpy arrays.

Shapes follow the model after tensor-parallel sharding: query heads, FFN width and vocab are split
over `tp` devices; KV heads are split while there are enough of them and replicated beyond; an MLA
latent cache is replicated. Each :class:`Op` holds the work of one invocation and the number of
layers it runs in (its `count`), so time = count × roofline(op).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from perfmodel.cost.batch import BatchStats, FloatArray
from perfmodel.cost.config import Parallelism, Precision
from perfmodel.specs.model import ModelArch

GEMM, ATTENTION, ELEMENTWISE = "gemm", "attention", "elementwise"


@dataclass(frozen=True)
class Op:
    """One operator: per-invocation work on one device, and how many layers run it."""

    name: str
    kind: str
    count: float
    flops: FloatArray
    bytes: FloatArray
    rows: FloatArray | float = 1.0  # GEMM M dimension (tokens per weight matrix), for efficiency
    in_layers: bool = True  # False for embedding / lm_head / sampling (once per step)
    weight_bytes: FloatArray | float = 0.0  # the part of `bytes` that is parameters
    kv_bytes: FloatArray | float = 0.0  # the part of `bytes` that is KV cache (read and written)
    kv_group: float = 1.0  # query heads sharing one KV head on this device (grouped-query attention)
    n_in: float = 0.0  # GEMM input features (the K dimension), for measured skinny-GEMM rates
    routed_experts: bool = False  # the grouped GEMM of routed MoE experts (an engine's MoE kernel quality applies)
    seqs: FloatArray | float = 1.0  # sequences in the step (attention), for measured attention rates
    kv_tokens: FloatArray | float = 0.0  # cached plus new tokens attention reads, summed over sequences
    elements: FloatArray | float = 0.0  # elements an elementwise op touches, for measured per-element costs
    fresh_bytes: FloatArray | float = 0.0  # bytes of each large output tensor an eager framework allocates
    fresh_count: float = 0.0  # how many tensors of `fresh_bytes` it allocates per invocation


def kv_heads_per_device(model: ModelArch, tp: int) -> float:
    """KV heads each device stores: split while possible, replicated once tp exceeds them."""
    return max(model.kv_heads / tp, 1.0)


def kv_elements_per_token_per_layer_per_device(model: ModelArch, tp: int) -> float:
    """Cached elements per token per layer held by one device."""
    if model.mla:
        return float(model.kv_elements_per_token_per_layer)  # the latent is not split by heads
    return 2.0 * kv_heads_per_device(model, tp) * model.dim_per_head


def distinct_experts(num_experts: int, experts_per_token: int, tokens: FloatArray) -> FloatArray:
    """Expected distinct experts hit by `tokens` tokens routed uniformly: E·(1 − (1 − k/E)^T)."""
    miss = 1.0 - experts_per_token / num_experts
    return num_experts * (1.0 - np.power(miss, np.asarray(tokens, dtype=np.float64)))


def _gemm(name: str, count: float, tokens: FloatArray, n_in: float, n_out: float,
          prec: Precision, weight_elements: float | None = None, weight_bytes_per_element: float | None = None,
          outputs: tuple[float, float] = (0.0, 0.0)) -> Op:
    """`outputs`: (width, how many) of the separate output tensors an eager framework writes."""
    w_elems = n_in * n_out if weight_elements is None else weight_elements
    flops = 2.0 * tokens * w_elems
    weight_bytes = w_elems * (prec.weight.bytes if weight_bytes_per_element is None else weight_bytes_per_element)
    nbytes = weight_bytes + tokens * (n_in + n_out) * prec.act.bytes
    width, n_out_tensors = outputs
    return Op(name, GEMM, count, flops, nbytes, rows=tokens, weight_bytes=weight_bytes, n_in=n_in,
              fresh_bytes=tokens * width * prec.act.bytes, fresh_count=n_out_tensors)


# Elementwise work per element (FLOPs) and memory passes (tensors of the activation dtype read or written).
NORM_FLOPS = 5.0
"""RMS/LayerNorm: square, sum, scale by the inverse root, multiply by the weight, (shift)."""
NORM_PASSES = 3.0
"""Norm: read the input, write the output, and read the residual it is fused with."""
ROPE_FLOPS = 3.0
"""Rotary embedding: two multiplies and one add per rotated element."""
ROPE_PASSES = 2.0
"""Rotary embedding: read and write the rotated part of q and k."""
ACTIVATION_FLOPS = 8.0
"""Gated activation (SiLU/GELU of the gate times the up projection), per output element."""
SAMPLING_FLOPS = 5.0
"""Sampling per logit: temperature, max, exp, sum and compare."""
SAMPLING_BYTES = 8.0
"""Sampling per logit: the fp32 logit read and written once."""
# Tensors an eager framework (Hugging Face transformers on PyTorch) allocates per call, each the size of
# the op's output: a residual add and an RMSNorm as written in Python (add, square, normalise, scale);
# a rotary embedding (q·cos, rotate-half, ·sin, sum); the attention output and its transposed copy; the
# gated activation (activation, product). They matter where fresh memory is costly (see `fresh_bytes`).
NORM_TENSORS = 4.0
ROPE_TENSORS = 4.0
ATTENTION_TENSORS = 2.0
ACTIVATION_TENSORS_GATED = 2.0


def _elementwise(name: str, count: float, elements: FloatArray, flops_per_element: float,
                 bytes_per_element: float, in_layers: bool = True, outputs: tuple[FloatArray, float] = (0.0, 0.0)
                 ) -> Op:
    """`outputs`: (bytes, how many) of the output-sized tensors an eager framework allocates."""
    return Op(name, ELEMENTWISE, count, flops_per_element * elements, bytes_per_element * elements,
              in_layers=in_layers, elements=elements, fresh_bytes=outputs[0], fresh_count=outputs[1])


def attention_ops(model: ModelArch, s: BatchStats, prec: Precision, par: Parallelism) -> list[Op]:
    """Norm, projections, RoPE, attention (full and windowed layers) and the output projection."""
    h, tp, T = model.hidden_size, par.tp, s.new_tokens
    nq = model.num_heads / tp
    ab, kvb = prec.act.bytes, prec.kv.bytes
    L = float(model.num_layers)
    ops = [_elementwise("attn_norm", L, T * h, NORM_FLOPS, NORM_PASSES * ab, outputs=(T * h * ab, NORM_TENSORS))]
    if model.mla:
        m = model.mla
        qk = m.qk_nope_head_dim + m.qk_rope_head_dim
        q_w = h * m.q_lora_rank + m.q_lora_rank * nq * qk if m.q_lora_rank else h * nq * qk
        kv_w = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank * nq * (m.qk_nope_head_dim + m.v_head_dim)
        ops.append(_gemm("qkv_proj", L, T, h, nq * qk, prec, weight_elements=q_w + kv_w))
        rope_heads = nq + 1.0
        rope_dim = m.qk_rope_head_dim
    else:
        nkv = kv_heads_per_device(model, tp)
        d = model.dim_per_head
        ops.append(_gemm("qkv_proj", L, T, h, (nq + 2.0 * nkv) * d, prec, outputs=(nq * d, 1.0)))
        rope_heads, rope_dim = nq + nkv, d
    if model.position_embedding == "rope":
        ops.append(_elementwise("rope", L, T * rope_heads * rope_dim, ROPE_FLOPS, ROPE_PASSES * ab,
                                outputs=(T * nq * rope_dim * ab, ROPE_TENSORS)))

    kv_elem = kv_elements_per_token_per_layer_per_device(model, tp)
    q_out_elems = nq * (model.qk_head_dim + model.v_head_dim)
    if model.mla:
        m = model.mla
        absorbed = 2.0 * nq * (2.0 * m.kv_lora_rank + m.qk_rope_head_dim)
        expanded = 2.0 * nq * (model.qk_head_dim + model.v_head_dim)
        flops_per_pair = np.where(s.decode_only > 0, absorbed, expanded)
    else:
        flops_per_pair = 2.0 * nq * (model.qk_head_dim + model.v_head_dim)

    def attention(name: str, count: float, pairs: FloatArray, kv_read: FloatArray) -> Op:
        kv = (kv_read + T) * kv_elem * kvb
        return Op(name, ATTENTION, count, flops_per_pair * pairs, kv + T * q_out_elems * ab, rows=T, kv_bytes=kv,
                  kv_group=group, seqs=s.num_seqs, kv_tokens=kv_read + T,
                  fresh_bytes=T * nq * model.v_head_dim * ab, fresh_count=ATTENTION_TENSORS)

    group = 1.0 if model.mla else nq / kv_heads_per_device(model, tp)

    n_window = float(model.num_window_layers)
    if L - n_window > 0:
        ops.append(attention("attention", L - n_window, s.attn_pairs, s.kv_read_tokens))
    if n_window > 0:
        ops.append(attention("attention_window", n_window, s.attn_pairs_window, s.kv_read_tokens_window))
    ops.append(_gemm("o_proj", L, T, nq * model.v_head_dim, h, prec, outputs=(h, 1.0)))
    return ops


def mlp_ops(model: ModelArch, s: BatchStats, prec: Precision, par: Parallelism) -> list[Op]:
    """Dense MLP layers, then MoE layers (router, routed experts by distinct-expert traffic, shared)."""
    h, tp, T, ab = model.hidden_size, par.tp, s.new_tokens, prec.act.bytes
    mats = model.mlp_matrices
    ops: list[Op] = []
    if not model.parallel_attention:
        ops.append(_elementwise("mlp_norm", float(model.num_layers), T * h, NORM_FLOPS, NORM_PASSES * ab,
                                outputs=(T * h * ab, NORM_TENSORS)))
    n_dense = float(model.num_dense_mlp_layers)
    if n_dense > 0:
        f = model.intermediate_size / tp
        ops.append(_gemm("mlp_up", n_dense, T, h, (mats - 1) * f, prec, outputs=(f, mats - 1.0)))
        act_tensors = ACTIVATION_TENSORS_GATED if mats == 3 else 1.0
        ops.append(_elementwise("mlp_act", n_dense, T * f, ACTIVATION_FLOPS, (mats * ab),
                                outputs=(T * f * ab, act_tensors)))
        ops.append(_gemm("mlp_down", n_dense, T, f, h, prec, outputs=(h, 1.0)))
    if model.moe:
        moe = model.moe
        n_moe = float(model.num_moe_layers)
        ops.append(_gemm("moe_router", n_moe, T, h, moe.num_experts, prec))
        k, fe = moe.experts_per_token, moe.expert_intermediate_size
        hit = distinct_experts(moe.num_experts, k, T)
        expert_w = mats * h * fe
        assignments = T * k
        flops = 2.0 * assignments * expert_w / tp
        weight_bytes = hit * expert_w * prec.weight.bytes / tp
        nbytes = weight_bytes + assignments * (2.0 * h + mats * fe / tp) * ab
        rows = np.where(hit > 0, assignments / np.maximum(hit, 1e-9), 0.0)
        ops.append(Op("moe_experts", GEMM, n_moe, flops, nbytes, rows=rows, weight_bytes=weight_bytes, n_in=h,
                      routed_experts=True))
        if moe.num_shared_experts:
            width = moe.num_shared_experts * moe.shared_expert_intermediate_size / tp
            ops.append(_gemm("moe_shared_experts", n_moe, T, h, mats * width, prec,
                             weight_elements=mats * h * width))
    return ops


def head_ops(model: ModelArch, s: BatchStats, prec: Precision, par: Parallelism) -> list[Op]:
    """Embedding lookup, final norm, lm_head on sampled positions only, and sampling."""
    h, T, S, ab = model.hidden_size, s.new_tokens, s.sampled_tokens, prec.act.bytes
    vocab = model.vocab_size / par.tp
    lm_head = _gemm("lm_head", 1.0, S, h, vocab, prec, weight_bytes_per_element=prec.head.bytes)
    embed_b = prec.head.bytes if model.tie_embeddings else prec.weight.bytes  # a tied table is the lm_head
    embedding = _elementwise("embedding", 1.0, T * h, 0.0, embed_b + ab, in_layers=False)
    return [
        Op(embedding.name, embedding.kind, 1.0, embedding.flops, embedding.bytes, in_layers=False,
           weight_bytes=T * h * embed_b),
        _elementwise("final_norm", 1.0, S * h, NORM_FLOPS, NORM_PASSES * ab, in_layers=False),
        Op(lm_head.name, GEMM, 1.0, lm_head.flops, lm_head.bytes, rows=S, in_layers=False,
           weight_bytes=lm_head.weight_bytes, n_in=h),
        _elementwise("sampling", 1.0, S * vocab, SAMPLING_FLOPS, SAMPLING_BYTES, in_layers=False),
    ]


def step_operators(model: ModelArch, s: BatchStats, prec: Precision, par: Parallelism, *,
                   fused_epilogues: bool = False) -> list[Op]:
    """All operators of one step, per device.

    With `fused_epilogues` activations never leave the chip: every op moves only its weights and
    KV cache (elementwise ops move nothing), the traffic of a perfectly fused speed-of-light kernel.
    """
    ops = attention_ops(model, s, prec, par) + mlp_ops(model, s, prec, par) + head_ops(model, s, prec, par)
    if fused_epilogues:
        ops = [replace(op, bytes=op.weight_bytes + op.kv_bytes + np.zeros(np.shape(op.bytes))) for op in ops]
    return ops
