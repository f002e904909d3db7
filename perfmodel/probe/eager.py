"""Eager-PyTorch building blocks as Hugging Face transformers runs them, timed in interleaved rounds.

What an eager decoder step spends its time in, measured in the backend the engine uses:
- `linear`: `F.linear` over rows M = 1…64 (decode) and 128…4096 (prefill) for 512…4096 input
  features; the weight cycles through copies filling 4× the last-level cache, so a decode step
  reads it cold as it does in a real model;
- `lm_head`: the same over the rows a step sends through the output projection (one per sequence,
  M = 1…64) on vocabulary-wide weights (32000 outputs), which stream at their own rate;
- `sdpa_prefill`: transformers' SDPA attention (causal, grouped-query) over sequence length and batch;
- `sdpa_decode`: one decode step of attention: the KV-cache concatenation the dynamic cache does
  plus one-query SDPA, over batch and context;
- `glue`: the per-layer elementwise work between the GEMMs (residual add + RMSNorm, rotary
  embedding, SiLU·mul), over tokens;
- `alloc`: writing a freshly allocated tensor against writing a reused one, below and above the
  size where the C allocator maps new pages for every tensor (32 MiB in glibc): the page faults
  large eager activations pay on every call; the cost core adds it per large output tensor.

Points are grouped and each group is timed in rounds (one sample of every point per round), so
background load spreads over points instead of biasing one; fits use a low statistic.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from perfmodel.probe.backends import DTYPE_BYTES
from perfmodel.probe.bench import spread_order, time_interleaved
from perfmodel.probe.bundle import Sample
from perfmodel.probe.context import BenchContext
from perfmodel.probe.env import last_level_cache_bytes

NAME = "eager"
SHARE = 0.5
DECODE_ROWS = (1, 2, 4, 8, 16, 32, 64)
PREFILL_ROWS = (128, 256, 512, 1024, 2048)
# (out, in) features: the feed-forward shapes of a layer (up N = 4K, down K = 4N), where a dense layer
# spends about three quarters of its GEMM FLOPs
LINEAR_WEIGHTS = ((2048, 512), (4096, 1024), (1024, 4096))
LM_HEAD_VOCAB = 32000
LM_HEAD_IN = (512, 1024, 4096)
HEADS, KV_HEADS, HEAD_DIM = 8, 2, 64
PREFILL_SEQ = (128, 256, 512, 1024, 2048)
PREFILL_BATCH = (1, 4, 16)
MAX_PREFILL_TOKENS = 8192
DECODE_CONTEXT = (128, 512, 2048)
DECODE_BATCH = (1, 4, 16)
GLUE_TOKENS = (1, 16, 128, 512, 2048, 4096)
ALLOC_MIB = (16, 64)
"""Tensor sizes for the fresh-allocation points: below and above glibc's largest mmap threshold."""
GLUE_HIDDEN = 1024
GLUE_FFN = 4096
ROUNDS_PER_REPEAT = 3
"""Rounds per timed sample of the policy (21 at full budget): the median of each point then spans
a minute or more of the machine's drift rather than a few seconds."""
GROUP = 8


def applies(backend_name: str) -> bool:
    return backend_name == "torch"


def eager_dtype(device: str) -> str:
    """fp32 on CPUs, bf16 on accelerators (what the engine runs models in there)."""
    return "fp32" if device == "cpu" else "bf16"


def points(backend: Any, env: dict[str, Any]) -> list[tuple[str, dict[str, int]]]:
    """(kernel, params) in coverage-first order within each kernel."""
    if not applies(backend.name):
        return []
    out: list[tuple[str, dict[str, int]]] = [("alloc", {"mib": mib, "fresh": fresh}) for mib in ALLOC_MIB
                                             for fresh in (1, 0)]
    for n, k in LINEAR_WEIGHTS:
        out += [("linear", {"m": m, "n": n, "k": k}) for m in spread_order(DECODE_ROWS + PREFILL_ROWS)]
    for k in LM_HEAD_IN:
        out += [("lm_head", {"m": m, "n": LM_HEAD_VOCAB, "k": k}) for m in spread_order(DECODE_ROWS)]
    out += [("sdpa_prefill", {"batch": b, "seq": s}) for b in PREFILL_BATCH for s in PREFILL_SEQ
            if b * s <= MAX_PREFILL_TOKENS]
    out += [("sdpa_decode", {"batch": b, "context": c}) for b in DECODE_BATCH for c in DECODE_CONTEXT]
    out += [(f"glue_{part}", {"tokens": t}) for part in ("norm", "rope", "act") for t in GLUE_TOKENS]
    return out


def _copies(nbytes: float, llc: int) -> int:
    """Copies of a weight that fill 4× the last-level cache (at most 64)."""
    return int(min(64, max(1, math.ceil(4 * llc / max(nbytes, 1.0)))))


def _sdpa(torch: Any) -> Callable[..., Any]:
    """transformers' SDPA attention function when importable, else plain grouped-query SDPA."""
    try:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward
    except ImportError:
        sdpa_attention_forward = None

    class Stub(torch.nn.Module):
        is_causal = True
        num_key_value_groups = HEADS // KV_HEADS
        training = False

    stub = Stub()
    if sdpa_attention_forward is not None:
        return lambda q, k, v, causal: sdpa_attention_forward(stub, q, k, v, None, is_causal=causal)
    f = torch.nn.functional
    return lambda q, k, v, causal: f.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)


def _glue(torch: Any, part: str, tokens: int, rand: Callable[..., Any]) -> tuple[Callable[[], Any], float]:
    """One layer's share of elementwise work of kind `part`, and the elements it counts."""
    f = torch.nn.functional
    if part == "norm":  # residual add, then RMSNorm as transformers writes it (fp32 variance)
        x, r, w = rand(1, tokens, GLUE_HIDDEN), rand(1, tokens, GLUE_HIDDEN), rand(GLUE_HIDDEN)

        def norm() -> Any:
            h = x + r
            h32 = h.to(torch.float32)
            var = h32.pow(2).mean(-1, keepdim=True)
            return w * (h32 * torch.rsqrt(var + 1e-6)).to(h.dtype)

        return norm, float(tokens * GLUE_HIDDEN)
    if part == "rope":
        q, k = rand(1, HEADS, tokens, HEAD_DIM), rand(1, KV_HEADS, tokens, HEAD_DIM)
        cos, sin = rand(1, 1, tokens, HEAD_DIM), rand(1, 1, tokens, HEAD_DIM)

        def rot(t: Any) -> Any:
            return torch.cat((-t[..., HEAD_DIM // 2:], t[..., : HEAD_DIM // 2]), dim=-1)

        return (lambda: (q * cos + rot(q) * sin, k * cos + rot(k) * sin)), float(tokens * (HEADS + KV_HEADS) * HEAD_DIM)
    g, u = rand(1, tokens, GLUE_FFN), rand(1, tokens, GLUE_FFN)
    return (lambda: f.silu(g) * u), float(tokens * GLUE_FFN)


def kernel_for(backend: Any, env: dict[str, Any], kernel: str, p: dict[str, int], dtype: str
               ) -> tuple[Callable[[], Any], float, float]:
    """(callable, FLOPs, bytes) of one point; bytes are weight bytes (linear), KV bytes (attention)
    or elements (glue)."""
    torch = backend.torch
    gen = torch.Generator(device="cpu").manual_seed(0)
    tdtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]

    def rand(*shape: int) -> Any:
        return (torch.rand(*shape, generator=gen) - 0.5).to(device=backend.device, dtype=tdtype)

    size = DTYPE_BYTES[dtype]
    if kernel in ("linear", "lm_head"):
        m, n, k = p["m"], p["n"], p["k"]
        x = rand(m, k)
        ws = [rand(n, k) for _ in range(_copies(n * k * size, last_level_cache_bytes(env)))]
        state = {"i": 0}
        linear = torch.nn.functional.linear

        def run() -> Any:
            state["i"] = (state["i"] + 1) % len(ws)
            return linear(x, ws[state["i"]])

        return run, 2.0 * m * n * k, float(n * k * size)
    if kernel == "alloc":
        elements = p["mib"] * 2**20 // size
        src, dst = rand(elements), rand(elements)
        fresh = (lambda: src * 2.0) if p["fresh"] else (lambda: torch.mul(src, 2.0, out=dst))
        return fresh, 0.0, float(elements * size)
    sdpa = _sdpa(torch)
    if kernel == "sdpa_prefill":
        b, s = p["batch"], p["seq"]
        q, k_, v = rand(b, HEADS, s, HEAD_DIM), rand(b, KV_HEADS, s, HEAD_DIM), rand(b, KV_HEADS, s, HEAD_DIM)
        pairs = s * (s + 1) / 2.0
        return (lambda: sdpa(q, k_, v, True)), b * pairs * 4.0 * HEADS * HEAD_DIM, float(
            b * 2 * KV_HEADS * s * HEAD_DIM * size)
    if kernel == "sdpa_decode":
        b, c = p["batch"], p["context"]
        kc, vc = rand(b, KV_HEADS, c, HEAD_DIM), rand(b, KV_HEADS, c, HEAD_DIM)
        q, k1, v1 = rand(b, HEADS, 1, HEAD_DIM), rand(b, KV_HEADS, 1, HEAD_DIM), rand(b, KV_HEADS, 1, HEAD_DIM)

        def step() -> Any:  # the dynamic cache appends by concatenation, then attention reads it all
            kk, vv = torch.cat([kc, k1], dim=-2), torch.cat([vc, v1], dim=-2)
            return sdpa(q, kk, vv, False)

        return step, b * (c + 1) * 4.0 * HEADS * HEAD_DIM, float(b * 2 * KV_HEADS * (c + 1) * HEAD_DIM * size)
    fn, elements = _glue(torch, kernel.removeprefix("glue_"), p["tokens"], rand)
    return fn, 0.0, elements


def groups(todo: list[tuple[str, dict[str, int]]]) -> list[list[tuple[str, dict[str, int]]]]:
    """The allocation points alone and first (before other points leave freed memory the allocator
    could hand out again), then the rest in groups of GROUP."""
    alloc = [pt for pt in todo if pt[0] == "alloc"]
    rest = [pt for pt in todo if pt[0] != "alloc"]
    return ([alloc] if alloc else []) + [rest[i:i + GROUP] for i in range(0, len(rest), GROUP)]


def run(ctx: BenchContext) -> None:
    """Time the points group by group, each group in interleaved rounds."""
    if not applies(ctx.backend.name):
        ctx.result.status, ctx.result.note = "skipped", "needs the torch backend"
        return
    dtype = eager_dtype(ctx.backend.device)
    for group in groups(points(ctx.backend, ctx.env)):
        ctx.check_time()
        built = [kernel_for(ctx.backend, ctx.env, kernel, p, dtype) for kernel, p in group]
        timings = time_interleaved([b[0] for b in built], sync=ctx.backend.sync,
                                   rounds=ROUNDS_PER_REPEAT * ctx.policy.repeats,
                                   min_sample_s=ctx.policy.min_sample_s, deadline_s=ctx.deadline_s,
                                   clock=ctx.clock)
        for (kernel, p), (_, flops, nbytes), timing in zip(group, built, timings, strict=True):
            ctx.record(Sample.of(kernel, timing, flops=flops, bytes=nbytes, dtype=dtype, **p))
        del built


def summarize(samples: list[Sample]) -> dict[str, Any]:
    """Best FLOP/s per kernel and the spread (p90 ÷ min) of the samples."""
    best: dict[str, float] = {}
    spread = []
    for s in samples:
        if s.flops:
            best[s.kernel] = max(best.get(s.kernel, 0.0), s.flops / min(s.times_s))
        spread.append(s.p90_s / min(s.times_s))
    spread.sort()
    return {"best_flops_per_s": best,
            "spread_p90_over_min": {"median": spread[len(spread) // 2], "worst": spread[-1]} if spread else {}}
