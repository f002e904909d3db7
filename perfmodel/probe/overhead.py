"""Fixed costs: per-call dispatch of tiny ops, and an eager framework's per-step and per-layer overhead.

The framework part runs Hugging Face `generate()` on a tiny decoder (hidden 64, vocab 256) with 1, 2
and 4 layers, one and 17 new tokens, batch 1, 4 and 16: the work is negligible, so the times are the
engine's fixed costs per request, per step, per layer and per sequence. All points are
all timed in the same interleaved rounds (see `bench.time_interleaved`).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from perfmodel.probe.bundle import Sample
from perfmodel.probe.context import BenchContext

NAME = "overhead"
SHARE = 0.1
FRAMEWORK_LAYERS = (1, 2, 4)
FRAMEWORK_NEW_TOKENS = (1, 17)
FRAMEWORK_BATCHES = (1, 4, 16)
FRAMEWORK_ROUNDS_PER_REPEAT = 3
FRAMEWORK_PROMPT = 16
TINY_ARCH = {"id": "probe-tiny-llama", "family": "llama", "num_layers": 1, "hidden_size": 64, "num_heads": 2,
             "num_kv_heads": 1, "head_dim": 32, "intermediate_size": 128, "vocab_size": 256}


def has_framework(backend_name: str) -> bool:
    return backend_name == "torch" and importlib.util.find_spec("transformers") is not None


def points(backend_name: str) -> int:
    framework = len(FRAMEWORK_LAYERS) * len(FRAMEWORK_NEW_TOKENS) * len(FRAMEWORK_BATCHES)
    return 4 + (framework if has_framework(backend_name) else 0)


def generate_fn(model: Any, batch: int, prompt_len: int, new_tokens: int, device: str, streamer: Any = None) -> Any:
    """A closure running greedy `generate()` for exactly `new_tokens` tokens."""
    import torch

    ids = torch.randint(2, model.config.vocab_size, (batch, prompt_len), generator=torch.Generator().manual_seed(0))
    ids = ids.to(device)
    mask = torch.ones_like(ids)

    def run() -> Any:
        with torch.inference_mode():
            return model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=new_tokens,
                                  min_new_tokens=new_tokens, pad_token_id=0, streamer=streamer)

    return run


def _framework(ctx: BenchContext) -> None:
    """Every model and configuration in the same rounds, so load changes cannot bias layers against each other."""
    from perfmodel.probe.bench import time_interleaved
    from perfmodel.probe.hf_models import build_model
    from perfmodel.specs.model import ModelArch

    grid, fns = [], []
    for layers in FRAMEWORK_LAYERS:
        ctx.check_time()
        arch = ModelArch.model_validate({**TINY_ARCH, "num_layers": layers})
        model = build_model(arch, dtype="fp32", device=ctx.backend.device)
        for batch in FRAMEWORK_BATCHES:
            for new in FRAMEWORK_NEW_TOKENS:
                grid.append((layers, batch, new))
                fns.append(generate_fn(model, batch, FRAMEWORK_PROMPT, new, ctx.backend.device))
    rounds = FRAMEWORK_ROUNDS_PER_REPEAT * ctx.policy.repeats
    timings = time_interleaved(fns, sync=ctx.backend.sync, rounds=rounds, min_sample_s=0.0, max_inner=1,
                               deadline_s=ctx.deadline_s, clock=ctx.clock)
    for (layers, batch, new), timing in zip(grid, timings, strict=True):
        ctx.record(Sample.of("hf_generate", timing, layers=layers, batch=batch, prompt_len=FRAMEWORK_PROMPT,
                             new_tokens=new, hidden=TINY_ARCH["hidden_size"], vocab=TINY_ARCH["vocab_size"]))


def run(ctx: BenchContext) -> None:
    for name, fn in ctx.backend.tiny_ops().items():
        ctx.check_time()
        ctx.measure("dispatch", fn, op=name)
    if has_framework(ctx.backend.name):
        _framework(ctx)


def summarize(samples: list[Sample]) -> dict[str, Any]:
    summary: dict[str, Any] = {f"dispatch_{s.params['op']}_s": s.median_s for s in samples if s.kernel == "dispatch"}
    gen = {(s.params["layers"], s.params["batch"], s.params["new_tokens"]): s.median_s
           for s in samples if s.kernel == "hf_generate"}
    last = FRAMEWORK_NEW_TOKENS[-1]
    steps = {k[:2]: (gen[(*k[:2], last)] - v) / (last - 1) for k, v in gen.items()
             if k[2] == 1 and (*k[:2], last) in gen}
    if steps:
        summary["hf_decode_step_s"] = {f"L{k[0]}_b{k[1]}": v for k, v in sorted(steps.items())}
    return summary
