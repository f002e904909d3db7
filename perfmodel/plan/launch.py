"""Launch commands for a planned configuration, one per pool, for vLLM, SGLang, TensorRT-LLM and llama.cpp.

Flags follow each engine's documented CLI (docs/planner.md lists the versions checked): vLLM 0.10
(`vllm serve`), SGLang 0.4/0.5 (`python -m sglang.launch_server`), TensorRT-LLM 1.0 (`trtllm-serve`),
llama.cpp b5000+ (`llama-server`).
"""

from __future__ import annotations

import json
from typing import Any

QUANT = {"fp8": "fp8", "int8": "int8", "int4": "awq", "nvfp4": "modelopt_fp4"}
GGUF = {"bf16": "BF16", "fp16": "F16", "fp8": "Q8_0", "int8": "Q8_0", "int4": "Q4_K_M", "q8_0": "Q8_0",
        "q4_0": "Q4_0", "q4_k_m": "Q4_K_M"}


def _vllm(model: str, c: dict[str, Any], role: str | None, spec_cfg: dict[str, Any] | None) -> str:
    args = [f"vllm serve {model}", f"--tensor-parallel-size {c['tp']}", f"--pipeline-parallel-size {c['pp']}",
            f"--max-num-seqs {c['max_num_seqs']}", f"--max-num-batched-tokens {c['max_num_batched_tokens']}",
            "--enable-chunked-prefill"]
    if c["ep"] > 1:
        args.append("--enable-expert-parallel")
    if c["weight_dtype"] in QUANT:
        args.append(f"--quantization {QUANT[c['weight_dtype']]}")
    if c["kv_dtype"] in ("fp8", "fp8_e4m3", "fp8_e5m2"):
        args.append("--kv-cache-dtype fp8")
    args.append("--enable-prefix-caching" if c["prefix_caching"] else "--no-enable-prefix-caching")
    if spec_cfg:
        cfg = json.dumps({"model": spec_cfg["draft_model"], "num_speculative_tokens": spec_cfg["num_tokens"]})
        args.append(f"--speculative-config '{cfg}'")
    if role:
        kv_role = "kv_producer" if role == "prefill" else "kv_consumer"
        cfg = json.dumps({"kv_connector": "NixlConnector", "kv_role": kv_role})
        args.append(f"--kv-transfer-config '{cfg}'")
    return " ".join(args)


def _sglang(model: str, c: dict[str, Any], role: str | None, dp: int, spec_cfg: dict[str, Any] | None) -> str:
    args = [f"python -m sglang.launch_server --model-path {model}", f"--tp {c['tp']}", f"--dp {dp}",
            f"--max-running-requests {c['max_num_seqs']}", f"--chunked-prefill-size {c['max_num_batched_tokens']}"]
    if c["pp"] > 1:
        args.append(f"--pp-size {c['pp']}")
    if c["ep"] > 1:
        args.append(f"--ep-size {c['ep']}")
    if c["weight_dtype"] in QUANT:
        args.append(f"--quantization {QUANT[c['weight_dtype']]}")
    if c["kv_dtype"] == "fp8":
        args.append("--kv-cache-dtype fp8_e5m2")
    if not c["prefix_caching"]:
        args.append("--disable-radix-cache")
    if spec_cfg:
        args.append(f"--speculative-algorithm STANDALONE --speculative-draft-model-path {spec_cfg['draft_model']} "
                    f"--speculative-num-draft-tokens {spec_cfg['num_tokens']}")
    if role:
        args.append(f"--disaggregation-mode {role}")
    return " ".join(args)


def _trtllm(model: str, c: dict[str, Any], role: str | None) -> str:
    args = [f"trtllm-serve {model}", "--backend pytorch", f"--tp_size {c['tp']}", f"--pp_size {c['pp']}",
            f"--max_batch_size {c['max_num_seqs']}", f"--max_num_tokens {c['max_num_batched_tokens']}"]
    if c["ep"] > 1:
        args.append(f"--ep_size {c['ep']}")
    if role:
        args.append(f"# {role} server: pair with `trtllm-serve disaggregated` (disagg config YAML)")
    return " ".join(args)


def _llamacpp(model: str, c: dict[str, Any], context_tokens: int) -> str:
    quant = GGUF.get(c["weight_dtype"], "Q8_0")
    return (f"llama-server -m {model}-{quant}.gguf -ngl 999 -c {context_tokens * c['max_num_seqs']} "
            f"-np {c['max_num_seqs']} -b {c['max_num_batched_tokens']} --cont-batching"
            + (" --split-mode layer" if c["tp"] * c["pp"] > 1 else ""))


def launch_commands(hf_id: str, config: dict[str, Any], units: int, context_tokens: int,
                    speculative: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """Engine -> commands (one per pool: aggregated replicas, or prefill and decode pools)."""
    spec_cfg = speculative if config.get("speculative") else None
    x, y = int(config["prefill_workers"]), int(config["decode_workers"])
    pools = [(None, units)] if not x else [("prefill", x * units), ("decode", y * units)]
    out: dict[str, list[str]] = {"vllm": [], "sglang": [], "trtllm": [], "llama.cpp": []}
    for role, n in pools:
        tag = f"# {role or 'replica'} × {n}: " if n > 1 or role else ""
        out["vllm"].append(tag + _vllm(hf_id, config, role, spec_cfg))
        out["sglang"].append(tag + _sglang(hf_id, config, role, n if not role else 1, spec_cfg))
        out["trtllm"].append(tag + _trtllm(hf_id, config, role))
    out["llama.cpp"].append(("" if units == 1 else f"# replica × {units}: ") + _llamacpp(hf_id, config,
                                                                                          context_tokens))
    return out
