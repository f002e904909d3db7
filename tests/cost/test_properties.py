"""Invariants of the cost core, checked over many random configurations (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import perfmodel as pm
from perfmodel.cost import BatchStats, Parallelism, Precision, step_cost

MODELS = ["llama-3.1-8b", "qwen3-0.6b", "mistral-7b", "qwen3-30b-a3b", "deepseek-v3", "gpt-j-6b"]
ENGINES = ["research-2023", "ideal", "vllm", "trtllm", "llama.cpp", "hf-transformers"]
model_ids = st.sampled_from(MODELS)
engines = st.sampled_from(ENGINES)
settings.register_profile("perfmodel", max_examples=40, deadline=None)
settings.load_profile("perfmodel")


def _cost(model_id, b, c, s, engine="default", tp=1, prec=None):
    model = pm.load_model(model_id)
    system = pm.resolve_system("h100-sxm-80gb", tp)
    return step_cost(model, system, BatchStats.uniform(b, c, s, window=model.sliding_window.size
                                                       if model.sliding_window else None),
                     prec or Precision.of("bf16"), Parallelism(tp=tp), pm.load_engine(engine))


@given(model_ids, engines, st.integers(1, 512), st.integers(1, 64), st.integers(0, 32768))
def test_time_monotone_in_batch(model_id, engine, b, c, s) -> None:
    assert _cost(model_id, b + 1, c, s, engine).time_s >= _cost(model_id, b, c, s, engine).time_s


@given(model_ids, engines, st.integers(1, 256), st.integers(0, 32768), st.integers(1, 4096))
def test_time_monotone_in_context(model_id, engine, b, s, ds) -> None:
    assert _cost(model_id, b, 1, s + ds, engine).time_s >= _cost(model_id, b, 1, s, engine).time_s


@given(st.sampled_from(["llama-3.1-8b", "qwen3-0.6b", "qwen3-30b-a3b"]), st.integers(1, 16),
       st.integers(1, 2048), st.integers(1, 512), st.integers(1, 256))
def test_e2e_monotone_in_output_len(model_id, b, inp, out, extra) -> None:
    a = pm.estimate(model_id, "h100-sxm-80gb", batch=b, input_len=inp, output_len=out)
    z = pm.estimate(model_id, "h100-sxm-80gb", batch=b, input_len=inp, output_len=out + extra)
    assert z.e2e_s > a.e2e_s


@given(st.sampled_from(["llama-3.1-8b", "qwen3-0.6b", "gpt-j-6b", "mistral-7b"]), st.integers(1, 1024),
       st.integers(1, 1024), st.integers(0, 8192))
def test_dense_weight_bytes_do_not_grow_with_batch(model_id, b1, b2, s) -> None:
    """Matmul weights are read once per step whatever the batch (the embedding gather is per token)."""
    def matmul_weight_bytes(b):
        return sum(float(o.weight_bytes) for o in _cost(model_id, b, 1, s).ops if o.name != "embedding")

    assert np.isclose(matmul_weight_bytes(b1), matmul_weight_bytes(b2), rtol=1e-12)


@given(st.integers(1, 64), st.integers(1, 64))
def test_moe_weight_bytes_grow_with_batch(b, extra) -> None:
    assert _cost("qwen3-30b-a3b", b + extra, 1, 100).weight_bytes > _cost("qwen3-30b-a3b", b, 1, 100).weight_bytes


@given(model_ids, st.integers(1, 256), st.integers(1, 2048), st.integers(0, 8192))
def test_tp2_never_more_than_halves_compute(model_id, b, c, s) -> None:
    one = _cost(model_id, b, c, s, engine="ideal", tp=1)
    two = _cost(model_id, b, c, s, engine="ideal", tp=2)
    kernels = lambda cost: sum(float(o.compute_s) for o in cost.ops if o.kind not in ("comm", "overhead"))  # noqa: E731
    assert kernels(two) >= 0.5 * kernels(one) * (1 - 1e-12)
    assert float(two.time_s) >= 0.5 * float(one.time_s) * (1 - 1e-12)


@given(st.sampled_from(["llama-3.1-8b", "qwen3-0.6b", "mistral-7b"]), st.integers(1, 64),
       st.integers(1, 4096), st.integers(2, 2048))
def test_decode_step_sum_equals_closed_form(model_id, b, inp, out) -> None:
    """Summing the vectorized decode steps gives the closed-form attention FLOPs and KV reads."""
    est = pm.estimate(model_id, "h100-sxm-80gb", batch=b, input_len=inp, output_len=out)
    m = pm.load_model(model_id)
    n = out - 1  # decode steps; step i has context inp + i and attends inp + i + 1 keys
    w = m.sliding_window.size if m.sliding_window else None
    keys = np.arange(inp + 1, inp + n + 1, dtype=np.float64)
    if w:
        keys = np.minimum(keys, w)
    closed_keys = keys.sum() if w else n * inp + n * (n + 1) / 2
    fpp = 2 * m.num_heads * (m.qk_head_dim + m.v_head_dim)
    attn = [o for o in est.decode.ops if o.name.startswith("attention")]
    assert np.isclose(sum(float(np.sum(o.flops)) for o in attn), b * fpp * closed_keys * m.num_layers, rtol=1e-9)
    kv_per_token_layer = m.kv_elements_per_token_per_layer * 2
    # reads keys-1 cached + writes 1 (when uncapped: reads the whole context, writes the new token)
    reads = (np.minimum(np.arange(inp + 1, inp + n + 1), w + 0) if w else np.arange(inp + 1, inp + n + 1)).sum()
    assert np.isclose(sum(float(np.sum(o.kv_bytes)) for o in attn),
                      b * kv_per_token_layer * m.num_layers * (reads + n), rtol=1e-9)
    assert np.isclose(est.e2e_s - est.ttft_s, float(np.sum(est.decode.time_s)), rtol=1e-9)
