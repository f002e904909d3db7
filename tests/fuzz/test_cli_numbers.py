"""Hypothesis over the numeric flags of estimate, simulate and tts cost: any text a user might type."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

# Text forms of numbers, including the nasty ones.
NUMBER_TEXT = st.one_of(
    st.sampled_from(["nan", "-nan", "inf", "-inf", "0", "-1", "1e308", "1e-300", "1e1000", "99999999999999999999",
                     "1.5", "", " ", "abc", "0x10", "1_000", "--json", "-0", "2**10"]),
    st.integers(-10, 10**13).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
SMALL = st.integers(1, 4).map(str)

settings.load_profile("fuzz")


@given(batch=NUMBER_TEXT, input_len=NUMBER_TEXT, output_len=NUMBER_TEXT, tp=st.one_of(SMALL, NUMBER_TEXT),
       pp=st.one_of(SMALL, NUMBER_TEXT), ep=st.one_of(SMALL, NUMBER_TEXT))
def test_estimate_numbers(cli, batch, input_len, output_len, tp, pp, ep) -> None:
    cli(["estimate", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", "--batch", batch, "--input-len", input_len,
         "--output-len", output_len, "--tp", tp, "--pp", pp, "--ep", ep, "--json"])


@given(tp=st.integers(-2, 200), pp=st.integers(-2, 200))
def test_estimate_parallelism_is_checked_against_the_model(cli, tp, pp) -> None:
    """qwen3-0.6b has 16 query heads, 8 KV heads and 28 layers: other degrees are refused."""
    run = cli(["estimate", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", "--input-len", "64", "--output-len", "4",
               "--tp", str(tp), "--pp", str(pp), "--json"])
    valid = tp >= 1 and pp >= 1 and 16 % tp == 0 and (tp % 8 == 0 if tp >= 8 else 8 % tp == 0) and pp <= 28
    assert (run.code == 0) == valid, run.output


@given(requests=st.one_of(st.integers(1, 6).map(str), NUMBER_TEXT), rate=NUMBER_TEXT,
       seed=st.one_of(st.integers(-5, 2**64).map(str), NUMBER_TEXT))
@settings(max_examples=15)
def test_simulate_overrides(cli, requests, rate, seed) -> None:
    try:
        if int(requests) > 6:
            requests = "6"  # keep each run short; large counts are covered by the limit test
    except ValueError:
        pass
    cli(["simulate", "chat", "--requests", requests, "--rate", rate, "--seed", seed, "--json"])


@given(prompt=NUMBER_TEXT, gen=NUMBER_TEXT, n=st.one_of(SMALL, NUMBER_TEXT), resolution=NUMBER_TEXT,
       strategy=st.sampled_from(["single", "best-of-n", "self-consistency", "first-finish", "revision",
                                 "speculative", "beam", "long-cot"]))
def test_tts_cost_numbers(cli, prompt, gen, n, resolution, strategy) -> None:
    cli(["tts", "cost", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", "-s", strategy, "--input-len", prompt,
         "--output-len", gen, "--samples", n, "--resolution", resolution, "--json"])


@given(sigma=NUMBER_TEXT, alpha=NUMBER_TEXT, gamma=NUMBER_TEXT, budget=NUMBER_TEXT, balance=NUMBER_TEXT,
       sparse=st.sampled_from(["none", "window", "topk", "block-topk", "bogus"]), kv_budget=NUMBER_TEXT)
def test_tts_cost_more_numbers(cli, sigma, alpha, gamma, budget, balance, sparse, kv_budget) -> None:
    cli(["tts", "cost", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", "-s", "speculative", "--output-len", "256",
         "--output-len-sigma", sigma, "--alpha", alpha, "--gamma", gamma, "--budget", budget,
         "--machine-balance", balance, "--sparse", sparse, "--kv-budget", kv_budget, "--json"])


def test_bad_choices_and_flags(run_all) -> None:
    base = ["estimate", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", "--input-len", "8", "--output-len", "2"]
    runs = [[*base, "--weight-dtype", "int3"], [*base, "--kv-dtype", ""], [*base, "--act-dtype", "q4_0"],
            [*base, "--engine", ""], [*base, "--engine", "../../etc/passwd"], [*base, "--bogus"],
            ["simulate", "chat", "-n", "3", "--rate", "5"], ["validate", "--cv", "planet"],
            ["validate", "--fast"], ["tts", "cost", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", "-s", "bogus"],
            ["tts", "cost", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", "--cost-model", "bogus"],
            ["tts", "frontier", "x.csv", "--budget-unit", "bogus"], ["probe", "--backend", "bogus", "--only", "x"],
            ["probe", "--clock", "bogus", "--only", "gemm"], ["probe", "--budget-s", "nan", "--only", "bogus"],
            ["calibrate", "b.json", "--stat", "bogus"], ["plan", "chat-70b", "--backend", "bogus"],
            ["plan", "chat-70b", "--workers", "-3", "--backend", "serial"], ["hardware"], ["model", "show"],
            ["nonsense"], []]
    failures = run_all(runs)
    assert not failures, "\n".join(failures)
