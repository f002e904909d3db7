"""Data types by name, their storage size and the compute peak they run on."""

from __future__ import annotations

from dataclasses import dataclass

from perfmodel.errors import SpecError


@dataclass(frozen=True)
class DType:
    """A storage format: bits per element (block scales included) and the compute family it uses."""

    name: str
    bits: float
    compute: str  # the device peak key an operation in this dtype runs on
    weight_only: bool = False  # GGUF-style formats are dequantized before the multiply

    @property
    def bytes(self) -> float:
        """Bytes per element, block scales included."""
        return self.bits / 8.0


# GGUF block formats carry a 16-bit scale (and sometimes a min) per block of 32 (or 256) values.
DTYPES: dict[str, DType] = {
    d.name: d
    for d in (
        DType("fp32", 32, "fp32"),
        DType("tf32", 32, "tf32"),
        DType("bf16", 16, "bf16"),
        DType("fp16", 16, "fp16"),
        DType("fp8", 8, "fp8"),
        DType("int8", 8, "int8"),
        DType("int4", 4, "int4"),
        DType("fp4", 4, "fp4"),
        DType("nvfp4", 4.5, "fp4"),
        DType("mxfp4", 4.25, "fp4"),
        # GGUF (llama.cpp) block formats: bits per weight including block scales.
        DType("q8_0", 8.5, "int8", weight_only=True),
        DType("q6_k", 6.5625, "int8", weight_only=True),
        DType("q5_0", 5.5, "int8", weight_only=True),
        DType("q5_1", 6.0, "int8", weight_only=True),
        DType("q5_k_s", 5.5, "int8", weight_only=True),
        DType("q5_k_m", 5.69, "int8", weight_only=True),
        DType("q4_0", 4.5, "int8", weight_only=True),
        DType("q4_1", 5.0, "int8", weight_only=True),
        DType("q4_k_s", 4.58, "int8", weight_only=True),
        DType("q4_k_m", 4.85, "int8", weight_only=True),
        DType("iq4_nl", 4.5, "int8", weight_only=True),
        DType("iq4_xs", 4.25, "int8", weight_only=True),
        DType("iq4_kt", 4.0, "int8", weight_only=True),
        DType("q3_k_s", 3.5, "int8", weight_only=True),
        DType("q3_k_m", 3.91, "int8", weight_only=True),
        DType("q2_k", 2.63, "int8", weight_only=True),
    )
}

# When a device lacks the peak for a compute family, the op runs on the next one in this list.
COMPUTE_FALLBACK: dict[str, tuple[str, ...]] = {
    "fp4": ("fp4", "fp8", "bf16", "fp16", "fp32"),
    "int4": ("int4", "int8", "fp16", "bf16", "fp32"),
    "fp8": ("fp8", "bf16", "fp16", "fp32"),
    "int8": ("int8", "fp16", "bf16", "fp32"),
    "bf16": ("bf16", "fp16", "fp32"),
    "fp16": ("fp16", "bf16", "fp32"),
    "tf32": ("tf32", "fp32"),
    "fp32": ("fp32", "tf32", "fp16", "bf16"),
}


DTYPE_ALIASES = {
    "float32": "fp32", "f32": "fp32", "float16": "fp16", "half": "fp16", "f16": "fp16", "bfloat16": "bf16",
    "fp8_e4m3": "fp8", "e4m3": "fp8", "fp8-e4m3": "fp8", "float8": "fp8", "w8a8": "int8", "int8_sq": "int8",
    "awq": "int4", "gptq": "int4", "w4a16": "int4", "int4_awq": "int4", "fp4": "fp4", "q4_k": "q4_k_m",
    "q3_k": "q3_k_m", "q5_k": "q5_k_m",
}


def get_dtype(name: str, *, field: str = "dtype") -> DType:
    """Look up a dtype by name (common spellings accepted), with a one-line error listing valid names."""
    key = str(name).strip().lower()
    key = DTYPE_ALIASES.get(key, key)
    if key not in DTYPES:
        raise SpecError(f"unknown dtype '{name}'; use one of {', '.join(DTYPES)}", field=field)
    return DTYPES[key]


def matmul_compute_family(weight: DType, act: DType) -> str:
    """The peak a matmul runs on.

    Compute formats multiply in the activation dtype: W8A8-FP8 runs on the FP8 peak, W4A16 (AWQ,
    GPTQ) dequantizes and runs on the 16-bit peak. GGUF block formats run on integer dot products
    (llama.cpp quantizes activations to 8 bits on the fly), falling back to 16-bit where the device
    has no int8 peak.
    """
    return weight.compute if weight.weight_only else act.compute


LOW_PRECISION_ATTENTION = {"fp8"}
"""Formats attention kernels compute in when both the activations and the KV cache are stored in them
(FP8 FMHA, FlashAttention-3 / FlashMLA FP8); any other mix computes attention in 16 bits."""


def attention_compute_family(act: DType, kv: DType) -> str:
    """The peak the attention math (Q·Kᵀ, P·V) runs on.

    FP8 activations with an FP8 KV cache (or FP4 activations with an FP8 cache) run FP8 attention; FP8
    GEMM activations with a BF16 cache, or a quantized cache under 16-bit activations, dequantize and run in
    16 bits: W8A8 GEMMs do not make the attention FP8.
    """
    if kv.compute in LOW_PRECISION_ATTENTION and act.compute in ("fp8", "fp4"):
        return kv.compute
    if act.compute in ("bf16", "fp16", "fp32", "tf32"):
        return act.compute
    return "bf16"


def gguf_output_dtype(weight: DType) -> DType:
    """The dtype llama.cpp's quantization presets give the output (lm_head) matrix.

    Every block-quantized preset except q8_0 keeps it at Q6_K (6.5625 bits/weight), q8_0 keeps
    Q8_0, and unquantized weights (f32/f16/bf16) keep their own format (llama.cpp `llama-quant.cpp`,
    output tensor rule; the i-quant 1–3-bit presets, which use Q5_K, are not modelled here).
    """
    if not weight.weight_only or weight.name == "q8_0":
        return weight
    return DTYPES["q6_k"]
