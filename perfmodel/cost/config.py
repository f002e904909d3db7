"""Per-estimate settings the cost core needs besides model, system and batch."""

from __future__ import annotations

from dataclasses import dataclass

from perfmodel.errors import PerfModelError
from perfmodel.specs.dtypes import DType, get_dtype


@dataclass(frozen=True)
class Precision:
    """Separate storage formats for weights, activations and the KV cache."""

    weight: DType
    act: DType
    kv: DType
    lm_head: DType | None = None
    """Format of the output (lm_head) matrix when it differs from the other weights."""

    @property
    def head(self) -> DType:
        """The lm_head weight format (the weight format unless set)."""
        return self.lm_head or self.weight

    def with_lm_head(self, dtype: DType) -> Precision:
        """The same precision with the lm_head matrix stored in `dtype`."""
        return Precision(self.weight, self.act, self.kv, None if dtype == self.weight else dtype)

    @classmethod
    def of(cls, weight: str = "bf16", act: str | None = None, kv: str | None = None) -> Precision:
        """Build from names; activations default to the weight format when it is a compute format
        (fp8 → W8A8) and to bf16 otherwise; the KV cache defaults to the activation format."""
        w = get_dtype(weight, field="weight_dtype")
        if act is None:
            act = weight if w.name in {"fp32", "bf16", "fp16", "fp8", "int8"} else "bf16"
        a = get_dtype(act, field="act_dtype")
        if a.weight_only:
            raise PerfModelError(f"act_dtype '{a.name}' is a weight-only format; use bf16, fp16, fp8 or int8")
        k = get_dtype(kv or ("bf16" if a.name in {"int8"} else a.name), field="kv_dtype")
        return cls(w, a, k)

    def label(self) -> str:
        head = f" head:{self.lm_head.name}" if self.lm_head else ""
        return f"W:{self.weight.name}{head} A:{self.act.name} KV:{self.kv.name}"


@dataclass(frozen=True)
class Parallelism:
    """Tensor, pipeline and expert parallel degrees of one replica.

    Experts are spread over `ep` devices inside the tensor-parallel group (ep divides tp);
    `microbatches` splits a step across pipeline stages (1: one batch flows through all stages).
    """

    tp: int = 1
    pp: int = 1
    ep: int = 1
    microbatches: int = 1

    def __post_init__(self) -> None:
        for name in ("tp", "pp", "ep", "microbatches"):
            if getattr(self, name) < 1:
                raise PerfModelError(f"{name} must be >= 1 (got {getattr(self, name)})")
        if self.tp % self.ep:
            raise PerfModelError(f"ep ({self.ep}) must divide tp ({self.tp}): experts are spread "
                                 "inside the tensor-parallel group")

    @property
    def num_devices(self) -> int:
        return self.tp * self.pp
