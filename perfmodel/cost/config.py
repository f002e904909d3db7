"""Per-estimate settings the cost core needs besides model, system and batch."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perfmodel.errors import PerfModelError
from perfmodel.specs.dtypes import DType, get_dtype

if TYPE_CHECKING:
    from perfmodel.specs.model import ModelArch


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
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                if not (isinstance(value, float) and value.is_integer()):
                    raise PerfModelError(f"{name} must be a whole number (got {value!r})")
                object.__setattr__(self, name, int(value))
            if getattr(self, name) < 1:
                raise PerfModelError(f"{name} must be >= 1 (got {getattr(self, name)})")
        if self.tp % self.ep:
            raise PerfModelError(f"ep ({self.ep}) must divide tp ({self.tp}): experts are spread "
                                 "inside the tensor-parallel group")

    @property
    def num_devices(self) -> int:
        return self.tp * self.pp

    def check_for(self, arch: ModelArch) -> Parallelism:
        """Refuse degrees the model cannot be split into (as serving engines do); returns self.

        tp must divide the attention heads, and the KV heads must divide tp or be divisible by it
        (KV heads are replicated when tp exceeds them); pp cannot exceed the layers; ep cannot
        exceed the experts.
        """
        where = f"model '{arch.id}'"
        if arch.num_heads % self.tp:
            raise PerfModelError(f"tp={self.tp} does not divide the {arch.num_heads} attention heads of {where}; "
                                 f"use a divisor of {arch.num_heads}")
        kv = arch.kv_heads
        if arch.mla is None and (self.tp % kv if self.tp >= kv else kv % self.tp):
            raise PerfModelError(f"tp={self.tp} cannot split the {kv} KV heads of {where}; use a divisor or a "
                                 f"multiple of {kv}")
        if self.pp > arch.num_layers:
            raise PerfModelError(f"pp={self.pp} exceeds the {arch.num_layers} layers of {where}")
        if self.ep > 1 and (arch.moe is None or self.ep > arch.moe.num_experts):
            experts = arch.moe.num_experts if arch.moe else 0
            raise PerfModelError(f"ep={self.ep} but {where} has {experts} experts; use ep <= {max(experts, 1)}")
        return self
