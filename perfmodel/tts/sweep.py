"""Cost sweeps: models × strategies × N × generation lengths in one table (for plots and notebooks)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from perfmodel.cost.engine import EngineProfile
from perfmodel.deprecation import warn_renamed
from perfmodel.errors import PerfModelError
from perfmodel.specs.device import Device, System
from perfmodel.strategies.alive import DEFAULT_RESOLUTION
from perfmodel.strategies.attention import DENSE, AttentionSpec
from perfmodel.strategies.base import Strategy
from perfmodel.strategies.lengths import FixedLength
from perfmodel.strategies.sampling import BestOfN, FirstFinish, SelfConsistency, Single
from perfmodel.strategies.task import TaskCost, make_setup, make_target, price_tasks

SWEEP_STRATEGIES = ("best-of-n", "self-consistency", "first-finish", "single")
SWEEP_COLUMNS = ["model", "strategy", "attention", "n", "output_len", "flops", "eflops", "bytes", "weight_read_bytes",
                 "kv_read_bytes", "latency_s", "energy_j", "cost_usd", "attention_share", "attention_time_s",
                 "gemm_time_s", "other_time_s", "peak_memory_bytes"]


def _strategy(name: str, n: int, output_len: int) -> Strategy:
    lengths = FixedLength(output_len)
    if name == "best-of-n":
        return BestOfN(n=n, lengths=lengths)
    if name == "self-consistency":
        return SelfConsistency(n=n, lengths=lengths)
    if name == "first-finish":
        return FirstFinish(k=n, m=1, lengths=lengths)
    if name == "single":
        return Single(lengths=lengths)
    raise PerfModelError(f"unknown sweep strategy '{name}'; use one of {', '.join(SWEEP_STRATEGIES)}")


def row(model: str, name: str, attention: AttentionSpec, n: int, output_len: int, cost: TaskCost) -> dict:
    """One sweep row from a priced task."""
    return {"model": model, "strategy": name, "attention": attention.label(), "n": n, "output_len": output_len,
            **{k: getattr(cost, k) for k in SWEEP_COLUMNS[5:]}}


def cost_table(
    models: Sequence[str],
    hardware: str | Device | System,
    *,
    strategies: Sequence[str] = ("best-of-n",),
    n_values: Sequence[int] = (1, 2, 4, 8, 16, 32),
    output_lens: Sequence[int] = (4096,),
    input_len: int = 512,
    attentions: Sequence[AttentionSpec] = (DENSE,),
    weight_dtype: str = "bf16",
    kv_dtype: str | None = None,
    engine: str | EngineProfile | None = None,
    resolution: int | None = DEFAULT_RESOLUTION // 2,
    gen_lens: Sequence[int] | None = None,
    prompt_len: int | None = None,
) -> pd.DataFrame:
    """Cost of every (model, strategy, attention, N, fixed output length); one cost-core call per model.

    `gen_lens` and `prompt_len` are the deprecated spellings of `output_lens` and `input_len`.
    """
    if gen_lens is not None:
        warn_renamed("gen_lens", "output_lens")
        output_lens = gen_lens
    if prompt_len is not None:
        warn_renamed("prompt_len", "input_len")
        input_len = prompt_len
    rows = []
    for model in models:
        for attention in attentions:
            target = make_target(model, hardware, attention=attention, weight_dtype=weight_dtype,
                                 kv_dtype=kv_dtype, engine=engine)
            configs = [(name, 1 if name == "single" else n, g) for name in strategies for g in output_lens
                       for n in (n_values if name != "single" else (1,))]
            strats = [_strategy(name, n, g) for name, n, g in configs]
            setups = [make_setup(target, s, input_len, resolution) for s in strats]
            for (name, n, g), cost in zip(configs, price_tasks(setups, strats), strict=True):
                rows.append(row(target.model.id, name, attention, n, g, cost))
    return pd.DataFrame(rows, columns=SWEEP_COLUMNS)
