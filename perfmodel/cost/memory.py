"""Device memory: weights, KV cache, activations, engine reserve; fit checks and the largest batch."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike

from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import EngineProfile
from perfmodel.cost.operators import kv_elements_per_token_per_layer_per_device, kv_heads_per_device
from perfmodel.specs.device import System
from perfmodel.specs.model import ModelArch
from perfmodel.units import GB


def replicated_params_per_device(model: ModelArch, tp: int) -> float:
    """Parameters every tensor-parallel rank holds in full (the operators do not shard them).

    Norm weights, the MoE router, MLA's low-rank `q_a_proj` / `kv_a_proj` (and their norms), and the
    K/V projections of the KV heads a rank keeps once tp exceeds the KV heads.
    """
    h, L = model.hidden_size, model.num_layers
    final_norm = h * (2 if model.norm == "layernorm" else 1)
    params = float(L * model.norm_params_per_layer() + final_norm)
    if model.mla:
        m = model.mla
        if m.q_lora_rank:
            params += L * (h * m.q_lora_rank + m.q_lora_rank)
        params += L * (h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank)
    else:
        params += L * _kv_proj_params_per_head(model) * kv_heads_per_device(model, tp)
    if model.moe:
        params += model.num_moe_layers * h * model.moe.num_experts
    return params


def _kv_proj_params_per_head(model: ModelArch) -> float:
    d = model.dim_per_head
    return 2.0 * d * (model.hidden_size + (1 if model.attention_bias else 0))


def weight_bytes_per_device(model: ModelArch, precision: Precision, par: Parallelism) -> float:
    """Parameters held by one device: sharded weights split over tp, replicated ones in full
    (:func:`replicated_params_per_device`), the lm_head (or a tied embedding table) in
    `precision.head`; layers split evenly over pp stages."""
    tp = par.tp
    head = float(model.vocab_size * model.hidden_size if model.tie_embeddings else model.lm_head_params())
    full_replicated = replicated_params_per_device(model, 1)  # the same set before any splitting
    sharded = model.total_params() - full_replicated - head
    per_device = (sharded / tp + replicated_params_per_device(model, tp)) * precision.weight.bytes
    per_device += head / tp * precision.head.bytes
    return per_device / par.pp


def model_weight_bytes(model: ModelArch, precision: Precision) -> float:
    """All of the model's weight bytes in their stored formats (one copy, no parallelism)."""
    return weight_bytes_per_device(model, precision, Parallelism())


def kv_write_bytes(model: ModelArch, precision: Precision, new_tokens: ArrayLike,
                   par: Parallelism | None = None) -> np.ndarray:
    """KV-cache bytes one device writes for `new_tokens` new tokens (array in, array out)."""
    return np.asarray(new_tokens, dtype=np.float64) * float(kv_bytes(model, precision, 1.0, par))


def kv_bytes(model: ModelArch, precision: Precision, tokens: ArrayLike, par: Parallelism | None = None) -> np.ndarray:
    """KV cache bytes for sequences of `tokens` each (summed), per device; windowed layers keep W tokens.

    With `par=None` this is the whole model's cache on one device (the usual "KV size" figure).
    """
    par = par or Parallelism()
    n = np.asarray(tokens, dtype=np.float64)
    per_layer = kv_elements_per_token_per_layer_per_device(model, par.tp) * precision.kv.bytes
    n_window = model.num_window_layers
    full = (model.num_layers - n_window) * np.sum(n, axis=-1) if n.ndim else (model.num_layers - n_window) * n
    windowed = 0.0
    if n_window:
        capped = np.minimum(n, model.sliding_window.size)
        windowed = n_window * (np.sum(capped, axis=-1) if n.ndim else capped)
    return per_layer * (full + windowed) / par.pp


def activation_bytes(model: ModelArch, precision: Precision, par: Parallelism,
                     step_tokens: ArrayLike, sampled_tokens: ArrayLike) -> np.ndarray:
    """Peak transient memory of one step: a few hidden-sized buffers, the FFN intermediate, logits."""
    t = np.asarray(step_tokens, dtype=np.float64)
    width = model.intermediate_size
    if model.moe:
        width = max(width, model.moe.experts_per_token * model.moe.expert_intermediate_size)
    per_token = (4.0 * model.hidden_size + 2.0 * width / par.tp) * precision.act.bytes
    logits = np.asarray(sampled_tokens, dtype=np.float64) * model.vocab_size / par.tp * 4.0
    return t * per_token + logits


def reserve_bytes(system: System, engine: EngineProfile) -> float:
    """Memory the engine keeps for itself (runtime context, allocator slack)."""
    cap = system.device.capacity_bytes
    return engine.memory_reserve_fraction * cap + engine.memory_reserve_gb * GB


@dataclass(frozen=True)
class KVBudget:
    """Per-device bytes left for the KV cache once weights, engine reserve and activations are placed."""

    capacity_bytes: float
    weights_bytes: float
    reserve_bytes: float
    activation_bytes: float

    @property
    def free_bytes(self) -> float:
        return self.capacity_bytes - self.weights_bytes - self.reserve_bytes - self.activation_bytes


def kv_budget(model: ModelArch, system: System, precision: Precision, par: Parallelism, engine: EngineProfile,
              *, step_tokens: int, max_seqs: int, draft: tuple[ModelArch, Parallelism] | None = None) -> KVBudget:
    """Memory a serving replica can give its KV cache: capacity minus the weights (target and optional
    draft model, in the engine's stored formats), the engine's reserve and the activations of the
    largest step (`step_tokens` tokens over `max_seqs` sequences)."""
    precision = engine.stored_precision(precision)
    weights = weight_bytes_per_device(model, precision, par)
    if draft is not None:
        weights += weight_bytes_per_device(draft[0], precision, draft[1])
    act = float(activation_bytes(model, precision, par, step_tokens, max_seqs))
    return KVBudget(system.device.capacity_bytes, weights, reserve_bytes(system, engine), act)


@dataclass(frozen=True)
class MemoryReport:
    """Per-device memory in bytes."""

    weights_bytes: float
    kv_cache_bytes: float
    activation_bytes: float
    reserve_bytes: float
    total_bytes: float
    capacity_bytes: float
    fits: bool

    def to_dict(self) -> dict[str, float | bool]:
        return asdict(self)


def memory_report(model: ModelArch, system: System, precision: Precision, par: Parallelism,
                  engine: EngineProfile, *, batch: int, seq_len: int, step_tokens: int) -> MemoryReport:
    """Memory of `batch` sequences of `seq_len` tokens whose largest step processes `step_tokens`."""
    precision = engine.stored_precision(precision)
    weights = weight_bytes_per_device(model, precision, par)
    kv = float(batch * kv_bytes(model, precision, seq_len, par))
    act = float(activation_bytes(model, precision, par, step_tokens, batch))
    reserve = reserve_bytes(system, engine)
    total = weights + kv + act + reserve
    cap = system.device.capacity_bytes
    return MemoryReport(weights, kv, act, reserve, total, cap, bool(total <= cap))


def max_batch_size(model: ModelArch, system: System, precision: Precision, par: Parallelism,
                   engine: EngineProfile, *, input_len: int, output_len: int) -> int:
    """Largest static batch whose weights, KV cache and prefill activations fit (0 if none does)."""
    precision = engine.stored_precision(precision)
    free = system.device.capacity_bytes - reserve_bytes(system, engine) - weight_bytes_per_device(
        model, precision, par)
    per_seq = float(kv_bytes(model, precision, input_len + output_len, par)) + float(
        activation_bytes(model, precision, par, input_len, 1))
    if free <= 0 or per_seq <= 0:
        return 0
    return int(np.floor(free / per_seq))
