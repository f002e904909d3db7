"""Translate a Hugging Face ``config.json`` into a :class:`ModelArch`."""

from __future__ import annotations

from typing import Any

from perfmodel.errors import SpecError
from perfmodel.specs.loader import build_spec
from perfmodel.specs.model import ModelArch

_PLAIN_MLP_TYPES = {"gptj", "opt", "bloom", "falcon", "gpt2", "gpt_neox", "phi"}
# transformers config classes whose tie_word_embeddings defaults to True
_TIED_BY_DEFAULT = {"opt", "bloom", "falcon", "gemma", "gemma2", "gemma3", "gpt2"}


def _first(cfg: dict[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        if cfg.get(key) is not None:
            return cfg[key]
    return default


def looks_like_hf_config(data: dict[str, Any]) -> bool:
    """True for a mapping in Hugging Face config.json form rather than perfmodel's schema."""
    return "model_type" in data or "architectures" in data or "num_hidden_layers" in data


def _kv_heads(cfg: dict[str, Any], heads: int) -> int:
    kv = _first(cfg, "num_key_value_heads", "num_kv_heads", "n_head_kv")
    if kv is not None:
        return _whole(kv, "num_key_value_heads")
    if cfg.get("multi_query"):
        return 1
    return heads


def _sliding_window(cfg: dict[str, Any], layers: int) -> dict[str, int] | None:
    window = cfg.get("sliding_window")
    if not window or cfg.get("use_sliding_window") is False:
        return None
    layer_types = cfg.get("layer_types")
    if layer_types:
        count = sum(1 for t in layer_types if "sliding" in str(t))
    elif cfg.get("sliding_window_pattern"):
        count = layers - layers // max(_whole(cfg["sliding_window_pattern"], "sliding_window_pattern"), 1)
    else:
        count = layers
    return {"size": _whole(window, "sliding_window"), "layers": count} if count else None


def _moe(cfg: dict[str, Any], ffn: int) -> dict[str, int] | None:
    experts = _first(cfg, "num_local_experts", "num_experts", "n_routed_experts")
    if not experts:
        return None
    shared = int(_first(cfg, "n_shared_experts", default=0) or 0)
    shared_width = _first(cfg, "shared_expert_intermediate_size", "moe_intermediate_size", default=0)
    if cfg.get("shared_expert_intermediate_size") and not shared:
        shared = 1  # Qwen2-MoE style: one shared expert of the given width
    return {
        "num_experts": int(experts),
        "experts_per_token": int(_first(cfg, "num_experts_per_tok", "experts_per_token", "top_k")),
        "expert_intermediate_size": int(_first(cfg, "moe_intermediate_size", default=ffn)),
        "num_shared_experts": shared,
        "shared_expert_intermediate_size": int(shared_width) if shared else 0,
        "first_dense_layers": int(_first(cfg, "first_k_dense_replace", default=0)),
    }


def model_from_hf_config(cfg: dict[str, Any], *, source: str, model_id: str) -> ModelArch:
    """Build a ModelArch from config.json fields of the common decoder families.

    A field of the wrong type (a string, a list, a non-integral or non-finite number) raises
    :class:`SpecError` naming it.
    """
    try:
        return _from_hf_config(cfg, source=source, model_id=model_id)
    except _BadField as exc:
        raise SpecError(f"must be a whole number (got {exc.value!r})", source=source, field=exc.field) from None
    except (TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise SpecError(f"has a field of the wrong type ({exc})", source=source) from None


class _BadField(Exception):
    def __init__(self, field: str, value: Any):
        self.field, self.value = field, value


def _whole(value: Any, field: str) -> int:
    """An integer from a config value (int, or a float/str holding a whole number)."""
    if isinstance(value, bool) or value is None:
        raise _BadField(field, value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _BadField(field, value) from None
    if not number.is_integer():
        raise _BadField(field, value)
    return int(number)


def _from_hf_config(cfg: dict[str, Any], *, source: str, model_id: str) -> ModelArch:
    model_type = str(cfg.get("model_type", "")).lower()
    hidden = _first(cfg, "hidden_size", "n_embd", "d_model")
    layers = _first(cfg, "num_hidden_layers", "n_layer", "num_layers")
    heads = _first(cfg, "num_attention_heads", "n_head", "num_heads")
    for name, value in (("hidden_size", hidden), ("num_hidden_layers", layers), ("num_attention_heads", heads)):
        if value is None:
            raise SpecError("is required in a Hugging Face config.json", source=source, field=name)
    hidden = _whole(hidden, "hidden_size")
    layers = _whole(layers, "num_hidden_layers")
    heads = _whole(heads, "num_attention_heads")
    ffn = _whole(_first(cfg, "intermediate_size", "ffn_dim", "n_inner", "ffn_hidden_size", default=4 * hidden),
                 "intermediate_size")
    vocab = _first(cfg, "vocab_size", "padded_vocab_size")
    if vocab is None:
        raise SpecError("is required in a Hugging Face config.json", source=source, field="vocab_size")
    plain = model_type in _PLAIN_MLP_TYPES
    data: dict[str, Any] = {
        "id": model_id,
        "name": cfg.get("_name_or_path") or model_id,
        "family": model_type or None,
        "num_layers": layers,
        "hidden_size": hidden,
        "num_heads": heads,
        "num_kv_heads": _kv_heads(cfg, heads),
        "head_dim": cfg.get("head_dim"),
        "intermediate_size": ffn,
        "vocab_size": _whole(vocab, "vocab_size"),
        "mlp": "plain" if plain else "gated",
        "activation": str(_first(cfg, "hidden_act", "activation_function", "activation", default="silu")),
        "norm": "layernorm" if plain else "rmsnorm",
        "tie_embeddings": bool(cfg.get("tie_word_embeddings", model_type in _TIED_BY_DEFAULT)),
        "attention_bias": bool(_first(cfg, "attention_bias", "qkv_bias", "bias",
                                      default=model_type in {"qwen2", "opt", "bloom", "gpt2"})),
        "mlp_bias": bool(_first(cfg, "mlp_bias", "bias", default=model_type in {"opt", "bloom", "gptj", "gpt2"})),
        "parallel_attention": bool(cfg.get("parallel_attn", model_type in {"gptj"})),
        "position_embedding": {"opt": "learned", "gpt2": "learned", "bloom": "alibi"}.get(
            model_type, "alibi" if cfg.get("alibi") else "rope"),
        "max_position_embeddings": _first(cfg, "max_position_embeddings", "n_positions", "seq_length"),
        "sliding_window": _sliding_window(cfg, layers),
        "moe": _moe(cfg, ffn),
    }
    if cfg.get("kv_lora_rank"):
        data["mla"] = {k: cfg.get(k) for k in
                       ("q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")}
        data["head_dim"] = None
    return build_spec(ModelArch, data, source)
