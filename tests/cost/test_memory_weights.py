"""Per-device weight memory: sharded weights split over tp, replicated ones in full, GGUF lm_head."""

from __future__ import annotations

import pytest

from perfmodel.cost.batch import BatchStats
from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import load_engine
from perfmodel.cost.memory import memory_report, weight_bytes_per_device
from perfmodel.cost.operators import step_operators
from perfmodel.specs.catalog import load_model, resolve_system
from perfmodel.specs.dtypes import get_dtype, gguf_output_dtype


def test_deepseek_v3_tp8_hand_count() -> None:
    # config.json: hidden 7168, 61 layers (3 dense), 128 heads, q_lora 1536, kv_lora 512, rope 64, nope 128,
    # v 128, 256 routed experts of 2048 + 1 shared, dense FFN 18432, vocab 129280
    h, L, tp = 7168, 61, 8
    replicated = L * (2 * h + h * 1536 + 1536 + h * (512 + 64) + 512) + 58 * h * 256 + h
    sharded = (L * (1536 * 128 * 192 + 512 * 128 * 256 + 128 * 128 * h) + 3 * 3 * h * 18432
               + 58 * (256 + 1) * 3 * h * 2048 + 2 * 129280 * h)
    expected = (sharded / tp + replicated) * 2.0
    model = load_model("deepseek-v3")
    assert sharded + replicated == model.total_params()
    assert weight_bytes_per_device(model, Precision.of("bf16"), Parallelism(tp=tp)) == pytest.approx(expected)


def test_mixtral_tp4_hand_count() -> None:
    # hidden 4096, 32 layers, 32 query / 8 KV heads of 128, 8 experts of 14336, vocab 32000
    h, L, tp = 4096, 32, 4
    replicated = L * (2 * h + h * 8) + h  # norms, router, final norm
    kv = L * 2 * h * (8 // tp) * 128  # each rank keeps 2 of the 8 KV heads
    sharded = L * (2 * h * 32 * 128 + 8 * 3 * h * 14336) + 2 * 32000 * h
    model = load_model("mixtral-8x7b")
    assert weight_bytes_per_device(model, Precision.of("bf16"), Parallelism(tp=tp)) == pytest.approx(
        (sharded / tp + replicated + kv) * 2.0)


def test_kv_heads_replicated_beyond_tp() -> None:
    # llama-3.1-70b has 8 KV heads: at tp 16 every rank keeps one whole KV head (K and V projections)
    model = load_model("llama-3.1-70b")
    h, L = 8192, 80
    at16 = weight_bytes_per_device(model, Precision.of("bf16"), Parallelism(tp=16))
    at8 = weight_bytes_per_device(model, Precision.of("bf16"), Parallelism(tp=8))
    kv_full = L * 2 * h * 8 * 128
    norms = (2 * L + 1) * h
    other = model.total_params() - kv_full - norms
    assert at16 == pytest.approx((other / 16 + norms + L * 2 * h * 128) * 2.0)
    assert at8 == pytest.approx((other / 8 + norms + L * 2 * h * 128) * 2.0)


def test_memory_matches_operator_weights_for_mla_and_router() -> None:
    # one decode token per expert group: the per-layer projection weights the operators read are the ones held
    model, par = load_model("deepseek-v3"), Parallelism(tp=8)
    ops = {op.name: op for op in step_operators(model, BatchStats.uniform(1, 1, 10), Precision.of("bf16"), par)}
    h = 7168
    q_kv = h * 1536 + 1536 * 16 * 192 + h * 576 + 512 * 16 * 256
    assert float(ops["qkv_proj"].weight_bytes) == pytest.approx(q_kv * 2.0)
    assert float(ops["moe_router"].weight_bytes) == pytest.approx(h * 256 * 2.0)


@pytest.mark.parametrize(("weight", "head"), [("q4_0", "q6_k"), ("q4_k_m", "q6_k"), ("q5_k_m", "q6_k"),
                                              ("q3_k_m", "q6_k"), ("q8_0", "q8_0"), ("bf16", "bf16"),
                                              ("fp16", "fp16")])
def test_gguf_output_dtype(weight: str, head: str) -> None:
    assert gguf_output_dtype(get_dtype(weight)).name == head


def test_q6_k_bits() -> None:
    assert get_dtype("q6_k").bits == 6.5625


def test_llama_cpp_lm_head_at_q6_k_in_operators_and_memory() -> None:
    # llama-3.1-8b: lm_head 128256 × 4096 (untied); q4_k_m is 4.85 bits, Q6_K 6.5625 bits
    model, system = load_model("llama-3.1-8b"), resolve_system("rtx-4090", 1)
    prec, par = Precision.of("q4_k_m"), Parallelism()
    lm_head = 128256 * 4096
    llama = load_engine("llama.cpp")
    plain = llama.model_copy(update={"gguf_output_q6k": False})
    ops = {op.name: op for op in step_operators(model, BatchStats.uniform(1, 1, 10), llama.stored_precision(prec),
                                                par)}
    assert float(ops["lm_head"].weight_bytes) == pytest.approx(lm_head * 6.5625 / 8)
    assert float(ops["mlp_up"].weight_bytes) == pytest.approx(4096 * 2 * 14336 * 4.85 / 8)
    kw = dict(batch=1, seq_len=100, step_tokens=100)
    with_head = memory_report(model, system, prec, par, llama, **kw).weights_bytes
    without = memory_report(model, system, prec, par, plain, **kw).weights_bytes
    assert with_head - without == pytest.approx(lm_head * (6.5625 - 4.85) / 8)
    assert without == pytest.approx(model.total_params() * 4.85 / 8)


def test_lm_head_q6_k_slows_decode_by_its_bytes() -> None:
    from perfmodel.cost.step import step_cost

    model, system = load_model("llama-3.1-8b"), resolve_system("rtx-4090", 1)
    llama = load_engine("llama.cpp")
    plain = llama.model_copy(update={"gguf_output_q6k": False})
    stats = BatchStats.uniform(1, 1, 10)

    def lm_head_row(engine):
        cost = step_cost(model, system, stats, Precision.of("q4_0"), Parallelism(), engine)
        return next(op for op in cost.ops if op.name == "lm_head")

    assert float(lm_head_row(llama).weight_bytes) / float(lm_head_row(plain).weight_bytes) == pytest.approx(
        6.5625 / 4.5)
    # q8_0 keeps its own format: no change
    q8 = [step_cost(model, system, stats, Precision.of("q8_0"), Parallelism(), e).time_s for e in (llama, plain)]
    assert float(q8[0]) == pytest.approx(float(q8[1]))


def test_tied_embeddings_table_at_head_dtype() -> None:
    # qwen3-0.6b ties its embeddings: llama.cpp stores the single table (the output matrix) at Q6_K
    model = load_model("qwen3-0.6b")
    assert model.tie_embeddings
    prec = Precision.of("q4_0")
    table = model.vocab_size * model.hidden_size
    base = weight_bytes_per_device(model, prec, Parallelism())
    head = weight_bytes_per_device(model, load_engine("llama.cpp").stored_precision(prec), Parallelism())
    assert head - base == pytest.approx(table * (6.5625 - 4.5) / 8)
