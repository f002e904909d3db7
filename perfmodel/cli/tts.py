"""`perfmodel tts cost | frontier`: test-time scaling cost of a task, accuracy-versus-cost frontiers.

User mistakes print one line and exit 2. The cost core is imported when a command runs, not at start-up.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from perfmodel.cli.common import check_output, engine_notice, fail, out, print_json, renamed_flag
from perfmodel.errors import PerfModelError

if TYPE_CHECKING:
    from perfmodel.strategies import LengthDist, Strategy

BUDGET_UNIT_NAMES = ("eflops", "flops", "seconds", "dollars", "joules")
"""The keys of :data:`perfmodel.tts.frontier.BUDGET_UNITS` (named here so `--help` needs no cost core)."""
tts_app = typer.Typer(no_args_is_help=True, help="Test-time scaling: cost of a task, accuracy-versus-cost frontiers.")
STRATEGY_NAMES = ("single", "best-of-n", "self-consistency", "long-cot", "beam", "first-finish", "revision",
                  "speculative")
def _ints(text: str | None, what: str) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise PerfModelError(f"{what} must be comma-separated integers, e.g. 1,2,4,8 (got '{text}')") from None


def lengths_from_options(output_len: int | None, output_lengths: Path | None, sigma: float | None) -> LengthDist:
    """--output-len L (fixed, or the median of a lognormal with --output-len-sigma) or --output-lengths FILE."""
    from perfmodel.checks import MAX_GENERATION_TOKENS
    from perfmodel.strategies import EmpiricalLengths, FixedLength, LognormalLengths

    if output_lengths is not None:
        if output_len is not None:
            raise PerfModelError("give either --output-len or --output-lengths, not both")
        return EmpiricalLengths.from_file(output_lengths)
    tokens = output_len if output_len is not None else 4096
    if sigma is not None:
        cap = min(max(32768, 8 * tokens), MAX_GENERATION_TOKENS)
        return LognormalLengths(median_tokens=tokens, sigma=sigma, max_tokens_cap=cap)
    return FixedLength(tokens)


def build_strategy(name: str, *, n: int | None, m: int, lengths: LengthDist, budget: int | None, verifier: str | None,
                   share_prefix: bool, width: int, expansion: int, tokens_per_step: int, depth: int, turns: int,
                   feedback_tokens: int, draft: str, gamma: int, alpha: float, draft_hardware: str | None) -> Strategy:
    """A strategy object from CLI options."""
    from perfmodel.strategies import (
        BeamSearch,
        BestOfN,
        FirstFinish,
        LongCoT,
        OutcomeRewardModel,
        Revision,
        SelfConsistency,
        Single,
        Speculative,
    )

    if name not in STRATEGY_NAMES:
        raise PerfModelError(f"unknown strategy '{name}'; use one of {', '.join(STRATEGY_NAMES)}")
    samples = n if n is not None else (1 if name in ("single", "long-cot", "speculative") else 8)
    common = {"lengths": lengths, "budget_tokens": budget}
    if name == "single":
        return Single(lengths=lengths, budget_tokens=budget)
    if name == "long-cot":
        return LongCoT(**common)
    if name == "best-of-n":
        return BestOfN(n=samples, share_prefix=share_prefix,
                       verifier=OutcomeRewardModel(verifier) if verifier else None, **common)
    if name == "self-consistency":
        return SelfConsistency(n=samples, share_prefix=share_prefix, **common)
    if name == "first-finish":
        return FirstFinish(k=samples, m=m, share_prefix=share_prefix, **common)
    if name == "beam":
        return BeamSearch(width=width, expansion=expansion, tokens_per_step=tokens_per_step, depth=depth, prm=verifier)
    if name == "revision":
        return Revision(turns=turns, feedback_tokens=feedback_tokens, **common)
    inner = Single(**common) if samples == 1 else BestOfN(n=samples, share_prefix=share_prefix, **common)
    return Speculative(inner=inner, draft=draft, gamma=gamma, alpha=alpha, draft_hardware=draft_hardware)


def _metrics_table(result) -> Table:
    t = Table(title=f"{result.inputs['strategy']} · {result.inputs['model']} on {result.inputs['hardware']} "
                    f"({result.cost_model})", show_header=False)
    usd = "–" if result.cost_usd is None else f"${result.cost_usd:.4f}"
    energy = "–" if result.energy_j is None else f"{result.energy_j:,.0f} J"
    for label, value in (
        ("latency", f"{result.latency_s:.3f} s"), ("FLOPs", f"{result.flops:.3e}"),
        (f"eFLOPs (I = {result.machine_balance_flop_per_byte:.0f} FLOP/B)", f"{result.eflops:.3e}"),
        ("bytes moved", f"{result.bytes:.3e}"), ("  weights read", f"{result.weight_read_bytes:.3e}"),
        ("  KV read", f"{result.kv_read_bytes:.3e}"), ("  KV written", f"{result.kv_write_bytes:.3e}"),
        ("attention share of eFLOPs", f"{result.attention_share:.1%}"), ("energy", energy), ("cost", usd),
        ("peak memory", f"{result.peak_memory_bytes / 1e9:.2f} GB" + ("" if result.fits else " (does not fit)")),
        ("generated tokens", f"{result.generated_tokens:,.0f}"),
    ):
        t.add_row(label, value)
    return t


@tts_app.command("cost")
def cost_command(
    model: Annotated[str, typer.Option("--model", "-m", help="Model id, YAML path or HF config.json")],
    hardware: Annotated[str, typer.Option("--hardware", "-H", help="Device or system id, or YAML path")],
    strategy: Annotated[str, typer.Option("--strategy", "-s", help="|".join(STRATEGY_NAMES))] = "single",
    samples: Annotated[int | None, typer.Option("--samples", help="Samples (best-of-n, self-consistency, "
                                                "first-finish k)")] = None,
    m: Annotated[int, typer.Option("--m", help="first-finish: stop after the first m finish")] = 1,
    input_len: Annotated[int | None, typer.Option("--input-len", help="Prompt tokens [default: 512]")] = None,
    output_len: Annotated[int | None, typer.Option("--output-len", help="Generated tokens per sample "
                                                   "[default: 4096]")] = None,
    output_lengths: Annotated[Path | None, typer.Option("--output-lengths", help="File of generated lengths")] = None,
    output_len_sigma: Annotated[float | None, typer.Option("--output-len-sigma", help="Lognormal sigma")] = None,
    old_n: Annotated[int | None, typer.Option("--n", hidden=True)] = None,
    old_prompt_len: Annotated[int | None, typer.Option("--prompt-len", hidden=True)] = None,
    old_gen_len: Annotated[int | None, typer.Option("--gen-len", hidden=True)] = None,
    old_gen_lengths: Annotated[Path | None, typer.Option("--gen-lengths", hidden=True)] = None,
    old_gen_len_sigma: Annotated[float | None, typer.Option("--gen-len-sigma", hidden=True)] = None,
    budget: Annotated[int | None, typer.Option("--budget", help="Generation budget: lengths capped at it")] = None,
    sparse: Annotated[str, typer.Option("--sparse", help="none|window|topk|block-topk")] = "none",
    kv_budget: Annotated[int | None, typer.Option("--kv-budget", help="Keys attended per query (sparse)")] = None,
    block_size: Annotated[int, typer.Option("--block-size", help="block-topk block size")] = 64,
    local_window: Annotated[int, typer.Option("--local-window", help="block-topk local window")] = 0,
    kv_dtype: Annotated[str | None, typer.Option("--kv-dtype")] = None,
    weight_dtype: Annotated[str, typer.Option("--weight-dtype")] = "bf16",
    act_dtype: Annotated[str | None, typer.Option("--act-dtype")] = None,
    tp: Annotated[int, typer.Option("--tp")] = 1,
    pp: Annotated[int, typer.Option("--pp")] = 1,
    engine: Annotated[str | None, typer.Option("--engine")] = None,
    cost_model: Annotated[str, typer.Option("--cost-model", help="perfmodel|kinetics")] = "perfmodel",
    machine_balance: Annotated[float | None, typer.Option(
        "--machine-balance", metavar="FLOP_PER_BYTE",
        help="Override I in eFLOPs = FLOPs + I·bytes (default: device peak ÷ bandwidth; Kinetics uses 562.5 on B200)",
    )] = None,
    verifier: Annotated[str | None, typer.Option("--verifier", help="Reward model (best-of-n, beam)")] = None,
    no_share_prefix: Annotated[bool, typer.Option("--no-share-prefix", help="No prompt KV sharing")] = False,
    width: Annotated[int, typer.Option("--width", help="beam: beams kept")] = 4,
    expansion: Annotated[int, typer.Option("--expansion", help="beam: candidates per beam")] = 4,
    tokens_per_step: Annotated[int, typer.Option("--tokens-per-step", help="beam: tokens per step")] = 256,
    depth: Annotated[int, typer.Option("--depth", help="beam: steps")] = 8,
    turns: Annotated[int, typer.Option("--turns", help="revision: turns")] = 3,
    feedback_tokens: Annotated[int, typer.Option("--feedback-tokens", help="revision: tokens added per turn")] = 64,
    draft: Annotated[str, typer.Option("--draft", help="speculative: draft model id or 'ngram'")] = "ngram",
    gamma: Annotated[int, typer.Option("--gamma", help="speculative: draft length")] = 4,
    alpha: Annotated[float, typer.Option("--alpha", help="speculative: acceptance rate")] = 0.7,
    draft_hardware: Annotated[str | None, typer.Option("--draft-hardware", help="speculative: draft device")] = None,
    resolution: Annotated[int, typer.Option("--resolution", help="Context bins per decode (0: every step)")] = 64,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object in SI units")] = False,
    phases: Annotated[bool, typer.Option("--phases", help="Also print the per-phase table")] = False,
) -> None:
    """Cost of one prompt through one strategy: FLOPs, bytes, eFLOPs, seconds, joules, dollars."""
    from perfmodel.strategies import attention_from_options, task_cost

    samples = renamed_flag(samples, old_n, "--samples", "--n")
    input_len = renamed_flag(input_len, old_prompt_len, "--input-len", "--prompt-len")
    output_len = renamed_flag(output_len, old_gen_len, "--output-len", "--gen-len")
    output_lengths = renamed_flag(output_lengths, old_gen_lengths, "--output-lengths", "--gen-lengths")
    output_len_sigma = renamed_flag(output_len_sigma, old_gen_len_sigma, "--output-len-sigma", "--gen-len-sigma")
    engine_notice(engine)
    try:
        lengths = lengths_from_options(output_len, output_lengths, output_len_sigma)
        strat = build_strategy(strategy, n=samples, m=m, lengths=lengths, budget=budget, verifier=verifier,
                               share_prefix=not no_share_prefix, width=width, expansion=expansion,
                               tokens_per_step=tokens_per_step, depth=depth, turns=turns,
                               feedback_tokens=feedback_tokens, draft=draft, gamma=gamma, alpha=alpha,
                               draft_hardware=draft_hardware)
        att = attention_from_options(sparse, kv_budget=kv_budget, block_size=block_size, local_window=local_window)
        result = task_cost(model, hardware, strat, input_len=512 if input_len is None else input_len, attention=att,
                           weight_dtype=weight_dtype,
                           kv_dtype=kv_dtype, act_dtype=act_dtype, tp=tp, pp=pp, engine=engine,
                           cost_model=cost_model, resolution=resolution or None, machine_balance=machine_balance)
    except PerfModelError as exc:
        fail(exc)
    if as_json:
        print_json(result.to_dict())
        return
    out.print(_metrics_table(result))
    if phases:
        sys.stdout.write(result.phases.to_string(index=False, float_format=lambda x: f"{x:.4g}") + "\n")


@tts_app.command("frontier")
def frontier_command(
    trials: Annotated[Path, typer.Argument(help="Trials CSV (see docs)")],
    hardware: Annotated[str, typer.Option("--hardware", "-H")] = "h100-sxm-80gb",
    models: Annotated[str | None, typer.Option("--models", help="Comma-separated model ids (default: all)")] = None,
    strategies: Annotated[str | None, typer.Option("--strategies", help="Comma-separated frontier strategies")] = None,
    n_values: Annotated[str | None, typer.Option("--n-values", help="Comma-separated N")] = None,
    budgets: Annotated[str | None, typer.Option("--budgets", help="Comma-separated length budgets")] = None,
    budget_unit: Annotated[str, typer.Option("--budget-unit", help="|".join(BUDGET_UNIT_NAMES))] = "eflops",
    input_len: Annotated[int | None, typer.Option("--input-len", help="Prompt tokens (default: the data's "
                                                  "input_len column, else 256)")] = None,
    old_prompt_len: Annotated[int | None, typer.Option("--prompt-len", hidden=True)] = None,
    sparse: Annotated[str, typer.Option("--sparse")] = "none",
    kv_budget: Annotated[int | None, typer.Option("--kv-budget")] = None,
    block_size: Annotated[int, typer.Option("--block-size")] = 64,
    local_window: Annotated[int, typer.Option("--local-window")] = 0,
    kv_dtype: Annotated[str | None, typer.Option("--kv-dtype")] = None,
    verifier_model: Annotated[str | None, typer.Option("--verifier-model", help="ORM to charge")] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the frontier to this CSV")] = None,
    points_csv: Annotated[Path | None, typer.Option("--points-csv", help="Write all points")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Best accuracy reachable for each budget over models × strategies × N × length budgets."""
    from perfmodel.strategies import attention_from_options
    from perfmodel.tts.frontier import BUDGET_UNITS, DEFAULT_N, frontier

    input_len = renamed_flag(input_len, old_prompt_len, "--input-len", "--prompt-len")
    check_output(csv, "--csv")
    check_output(points_csv, "--points-csv")
    try:
        if budget_unit not in BUDGET_UNITS:
            raise PerfModelError(f"unknown --budget-unit '{budget_unit}'; use one of {', '.join(BUDGET_UNITS)}")
        att = attention_from_options(sparse, kv_budget=kv_budget, block_size=block_size, local_window=local_window)
        result = frontier(trials, hardware, models=models.split(",") if models else None,
                          strategies=strategies.split(",") if strategies else None,
                          n_values=_ints(n_values, "--n-values") or DEFAULT_N,
                          length_budgets=_ints(budgets, "--budgets"), input_len=input_len, attention=att,
                          kv_dtype=kv_dtype, verifier_model=verifier_model)
    except PerfModelError as exc:
        fail(exc)
    front = result.frontiers[budget_unit]
    cols = ["budget", "accuracy", "model", "strategy", "n", "length_budget", "eflops", "flops", "latency_s",
            "cost_usd", "energy_j"]
    if csv is not None:
        front[cols].to_csv(csv, index=False)
    if points_csv is not None:
        result.points.to_csv(points_csv, index=False)
    threshold = result.thresholds[budget_unit]
    if as_json:
        print_json({"budget_unit": budget_unit, "frontier": front[cols].to_dict(orient="records"),
                    "threshold": threshold})
        return
    sys.stdout.write(front[cols].to_string(index=False, float_format=lambda x: f"{x:.4g}") + "\n")
    if threshold:
        out.print(f"size threshold ({budget_unit}): {threshold['model']} — above it, test-time compute beats a "
                   "bigger model", highlight=False)
