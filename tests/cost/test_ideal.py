"""The `ideal` engine is the speed of light: per-op sharp roofline on weights and KV bytes only."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfmodel.analytic import FitWarning, estimate
from perfmodel.cost.batch import BatchStats
from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import engine_files, load_engine
from perfmodel.cost.step import step_cost
from perfmodel.specs.catalog import load_model, resolve_system

# llama-3.1-8b (config.json): hidden 4096, 32 layers, 32 query / 8 KV heads of 128, FFN 14336, vocab 128256.
H, LAYERS, NQ, NKV, D, FFN, VOCAB = 4096, 32, 32, 8, 128, 14336, 128256
PEAK_BF16, HBM = 989.4e12, 3350e9  # h100-sxm-80gb datasheet: dense BF16 FLOP/s, HBM3 B/s


def hand_roofline_s(batch: int, new: int, context: int) -> float:
    """Σ over ops of max(FLOPs / peak, (weight + KV bytes) / bandwidth) for llama-3.1-8b in bf16 on one H100."""
    tokens = batch * new

    def gemm(n_in: float, n_out: float, rows: float) -> float:
        return max(2.0 * rows * n_in * n_out / PEAK_BF16, 2.0 * n_in * n_out / HBM)

    layer = (gemm(H, (NQ + 2 * NKV) * D, tokens) + gemm(NQ * D, H, tokens)
             + gemm(H, 2 * FFN, tokens) + gemm(FFN, H, tokens))
    pairs = batch * (context * new + new * (new + 1) / 2.0)  # causal query-key pairs
    attn_flops = pairs * 2.0 * NQ * (2 * D)  # QK^T and PV
    kv_bytes = (batch * (context + new) + tokens) * 2 * NKV * D * 2.0  # read every key once, write the new ones
    layer += max(attn_flops / PEAK_BF16, kv_bytes / HBM)
    head = gemm(H, VOCAB, batch) + tokens * H * 2.0 / HBM  # lm_head on sampled rows; embedding rows read
    return LAYERS * layer + head


def ideal_step_s(batch: int, new: int, context: int) -> float:
    model, system = load_model("llama-3.1-8b"), resolve_system("h100", 1)
    stats = BatchStats.uniform(batch, new, context)
    cost = step_cost(model, system, stats, Precision.of("bf16"), Parallelism(), load_engine("ideal"))
    return float(cost.time_s)


@pytest.mark.parametrize(("batch", "new", "context"), [(8, 2048, 0), (8, 1, 2048), (1, 1, 128), (64, 1, 4096)])
def test_ideal_matches_hand_roofline(batch: int, new: int, context: int) -> None:
    assert ideal_step_s(batch, new, context) == pytest.approx(hand_roofline_s(batch, new, context), rel=0.01)


def test_ideal_prefill_is_compute_bound_at_peak() -> None:
    # 8 × 2048 tokens: the GEMMs alone need 2·tokens·(weights) FLOPs at the BF16 peak
    gemm_flops = 2.0 * 8 * 2048 * LAYERS * (H * 6144 + H * H + 3 * H * FFN)
    assert ideal_step_s(8, 2048, 0) >= gemm_flops / PEAK_BF16


def test_fused_epilogues_keeps_only_weight_and_kv_traffic() -> None:
    model, system = load_model("llama-3.1-8b"), resolve_system("h100", 1)
    stats = BatchStats.uniform(4, 16, 100)
    unfused = load_engine("ideal").model_copy(update={"fused_epilogues": False})
    fused = step_cost(model, system, stats, Precision.of("bf16"), Parallelism(), load_engine("ideal"))
    plain = step_cost(model, system, stats, Precision.of("bf16"), Parallelism(), unfused)
    assert float(fused.bytes) == pytest.approx(float(fused.weight_bytes + fused.kv_bytes))
    assert float(plain.bytes) > float(fused.bytes)
    assert float(fused.weight_bytes) == pytest.approx(float(plain.weight_bytes))
    norm = next(op for op in fused.ops if op.name == "attn_norm")
    assert float(norm.bytes) == 0.0


SHIPPED = sorted(set(engine_files()) - {"ideal"})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(["llama-3.1-8b", "qwen3-30b-a3b", "gemma-2-9b", "deepseek-v2-lite"]),
    hardware=st.sampled_from(["h100", "a100-sxm-80gb", "apple-m2-max", "rtx-4090"]),
    batch=st.integers(1, 64),
    input_len=st.integers(1, 8192),
    output_len=st.integers(2, 64),
    dtypes=st.sampled_from([("bf16", None), ("fp8", None), ("q4_k_m", None), ("int4", None), ("bf16", "fp8")]),
    tp=st.sampled_from([1, 2]),
)
def test_ideal_is_a_lower_bound(model: str, hardware: str, batch: int, input_len: int, output_len: int,
                                dtypes: tuple[str, str | None], tp: int) -> None:
    kwargs = dict(batch=batch, input_len=input_len, output_len=output_len, weight_dtype=dtypes[0],
                  kv_dtype=dtypes[1], tp=tp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        ideal = estimate(model, hardware, engine="ideal", **kwargs)
        for name in SHIPPED:
            other = estimate(model, hardware, engine=name, **kwargs)
            assert ideal.ttft_s <= other.ttft_s * (1 + 1e-9), name
            assert ideal.tpot_s <= other.tpot_s * (1 + 1e-9), name
            assert np.all(ideal.decode.time_s <= other.decode.time_s * (1 + 1e-9)), name
