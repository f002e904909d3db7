"""The bad-input corpus (malformed files written here, not shipped) and a checked CLI runner.

Every CLI run must end in a clean result: exit 0 with finite numbers (strict JSON where asked), or
a one-line error with exit 2/3 — never a traceback.
"""

from __future__ import annotations

import json
import re
import traceback
from pathlib import Path

import pytest
import typer
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

from perfmodel.cli import app

COMMAND = typer.main.get_command(app)  # built once: typer's runner rebuilds it on every call

settings.register_profile("fuzz", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

NON_FINITE = re.compile(r"(?<![\w.])(nan|-?inf|-?infinity)(?![\w])", re.IGNORECASE)
DEVICE = "kind: gpu\nmemory: {capacity_gb: 80, bandwidth_gb_s: 3350}\ncompute_tflops: {bf16: 989}\n"
MODEL = ("num_layers: 2\nhidden_size: 64\nnum_heads: 4\nnum_kv_heads: 2\nintermediate_size: 128\n"
         "vocab_size: 100\n")
HF = {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
      "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 100}
SCENARIO = ("model: qwen3-0.6b\nhardware: h100-sxm-80gb\nworkload:\n  requests: 5\n"
            "  arrival: {process: poisson, rate_per_s: 10}\n  input_tokens: {dist: fixed, value: 64}\n"
            "  output_tokens: {dist: fixed, value: 8}\n")


E2E_HEADER = ("hardware,num_devices,engine,model,weight_dtype,kv_dtype,batch,input_len,output_len,quantity,value,"
              "reliability,source\n")


def _hf(**changes) -> str:
    data = {**HF, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...})


def _bundle(time_s, **extra) -> str:
    """A bundle of one GEMM sample whose times are all `time_s` (a float, or a JSON literal such as NaN)."""
    sample = ('{"kernel": "gemm", "params": {"m": 64, "n": 64, "k": 64, "dtype": "fp32"}, "flops": 524288.0, '
              f'"bytes": 0.0, "inner": 1, "times_s": [{time_s}], "median_s": {time_s}, "p10_s": {time_s}, '
              f'"p90_s": {time_s}}}')
    fields = {"format": '"perfmodel-calibration-bundle"', "schema_version": "1", "bundle_id": '"fuzz"',
              "created_utc": '"2026-01-01T00:00:00+00:00"', "backend": '"numpy"', "device": '"cpu"',
              "threads": "1", "budget_s": "1", **extra}
    head = ", ".join(f'"{k}": {v}' for k, v in fields.items())
    return f'{{{head}, "benchmarks": {{"gemm": {{"name": "gemm", "samples": [{sample}]}}}}}}'


# name -> file content (str: UTF-8 text; bytes: written as is). Each is wrong in one way.
YAML_CORPUS: dict[str, str | bytes] = {
    "binary.yaml": bytes(range(256)) * 4,
    "utf16.yaml": DEVICE.encode("utf-16"),
    "latin1.yaml": "name: caf\xe9\n".encode("latin-1") + DEVICE.encode(),
    "empty.yaml": "",
    "list.yaml": "- 1\n- 2\n",
    "scalar.yaml": "42\n",
    "syntax.yaml": "kind: gpu\n  memory: [\n",
    "deep-list.yaml": "a: " + "[" * 3000 + "]" * 3000 + "\n",
    "deep-map.yaml": "a: " + "{b: " * 200 + "1" + "}" * 200 + "\n",
    "alias-bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8)),
    "inf.yaml": DEVICE.replace("capacity_gb: 80", "capacity_gb: .inf"),
    "nan.yaml": DEVICE.replace("bandwidth_gb_s: 3350", "bandwidth_gb_s: .nan"),
    "overflow.yaml": DEVICE.replace("bf16: 989", "bf16: 1.0e+400"),
    "negative.yaml": DEVICE.replace("capacity_gb: 80", "capacity_gb: -80"),
    "zero.yaml": DEVICE.replace("bandwidth_gb_s: 3350", "bandwidth_gb_s: 0"),
    "string-number.yaml": DEVICE.replace("capacity_gb: 80", "capacity_gb: eighty"),
    "model-zero-layers.yaml": MODEL.replace("num_layers: 2", "num_layers: 0"),
    "model-huge.yaml": MODEL.replace("hidden_size: 64", "hidden_size: " + "9" * 300),
    "model-heads.yaml": MODEL.replace("num_kv_heads: 2", "num_kv_heads: 3"),
    "model-nan.yaml": MODEL.replace("vocab_size: 100", "vocab_size: .nan"),
    "scenario-no-classes.yaml": SCENARIO.replace("  requests: 5\n", "  requests: 5\n  classes: []\n"),
    "scenario-seed.yaml": "seed: -1\n" + SCENARIO,
    "scenario-rate-nan.yaml": SCENARIO.replace("rate_per_s: 10", "rate_per_s: .nan"),
    "scenario-rate-tiny.yaml": SCENARIO.replace("rate_per_s: 10", "rate_per_s: 1.0e-300"),
    "scenario-requests.yaml": SCENARIO.replace("requests: 5", "requests: 100000000000"),
    "scenario-output-huge.yaml": SCENARIO.replace("value: 8", "value: 1000000000000"),
    "scenario-tp.yaml": "tp: 3\n" + SCENARIO,
    "scenario-pp.yaml": "pp: 1000\n" + SCENARIO,
    "scenario-empty-trace.yaml": SCENARIO.replace("{process: poisson, rate_per_s: 10}",
                                                  "{process: trace, path: /dev/null}"),
}
JSON_CORPUS: dict[str, str | bytes] = {
    "hf-string/config.json": _hf(hidden_size="abc"),
    "hf-nan/config.json": _hf(hidden_size=float("nan")),
    "hf-infinity/config.json": _hf(vocab_size=float("inf")),
    "hf-missing/config.json": _hf(vocab_size=...),
    "hf-missing-layers/config.json": _hf(num_hidden_layers=...),
    "hf-bool/config.json": _hf(num_attention_heads=True),
    "hf-fraction/config.json": _hf(hidden_size=64.5),
    "hf-list/config.json": _hf(num_key_value_heads=[2]),
    "hf-null/config.json": _hf(intermediate_size=None, num_hidden_layers=None),
    "hf-negative/config.json": _hf(num_hidden_layers=-2),
    "hf-huge/config.json": _hf(hidden_size=10**200),
    "hf-moe/config.json": _hf(num_local_experts=8),
    "hf-window/config.json": _hf(sliding_window="big"),
    "hf-toplist/config.json": "[1, 2, 3]",
    "hf-truncated/config.json": _hf()[:40],
    "hf-binary/config.json": b"\x00\x01\x02{" * 10,
    "bundle-zero.json": _bundle(0),
    "bundle-negative.json": _bundle(-1e-3),
    "bundle-nan.json": _bundle("NaN"),
    "bundle-truncated.json": _bundle(1e-3)[:120],
    "bundle-one-sample.json": _bundle(1e-4),
    "bundle-threads.json": _bundle(1e-4, threads="-4"),
    "bundle-budget-inf.json": _bundle(1e-4, budget_s="Infinity"),
    "bundle-deep.json": "[" * 100000 + "]" * 100000,
}
CSV_CORPUS: dict[str, str | bytes] = {
    "empty.csv": "",
    "blank-lines.csv": "\n\n\n",
    "header-only.csv": "hardware,model,batch,input_len,output_len,quantity,value\n",
    "binary.csv": bytes(range(256)) * 4,
    "utf16.csv": "a,b\n1,2\n".encode("utf-16"),
    "ragged.csv": 'a,b\n1,2,3,4\n"unterminated\n',
    "wrong-columns.csv": "x,y\n1,2\n",
    "nan-values.csv": (E2E_HEADER
                       + "h100-sxm-80gb,1,vllm,llama-3.1-8b,bf16,bf16,1,128,128,ttft_s,nan,A,x\n"),
    "unknown-model.csv": (E2E_HEADER + "h100-sxm-80gb,1,vllm,no-such-model,bf16,bf16,1,128,128,ttft_s,0.05,A,x\n"),
    "unknown-device.csv": (E2E_HEADER
                           + "no-such-gpu,1,vllm,llama-3.1-8b,bf16,bf16,1,128,128,ttft_s,0.05,A,x\n"),
    "negative-values.csv": (E2E_HEADER
                            + "h100-sxm-80gb,1,vllm,llama-3.1-8b,bf16,bf16,-1,128,128,ttft_s,-0.05,A,x\n"),
    "trials-nan.csv": "model,question_id,trial_id,correct,generated_tokens\nqwen3-0.6b,q1,t1,1,nan\n",
    "trials-strings.csv": "model,question_id,trial_id,correct,generated_tokens\nqwen3-0.6b,q1,t1,yes,many\n",
    "trials-huge.csv": "model,question_id,trial_id,correct,generated_tokens\nqwen3-0.6b,q1,t1,1,1e15\n",
    "lengths-negative.txt": "-5\n3\n",
    "lengths-huge.txt": "1000000000000\n",
    "lengths-text.txt": "many\n",
    "lengths-nan.txt": "nan\n",
}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, Path]:
    """Every corpus file written under one temporary folder: name -> path."""
    root = tmp_path_factory.mktemp("corpus")
    paths = {}
    for name, content in {**YAML_CORPUS, **JSON_CORPUS, **CSV_CORPUS}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        paths[name] = path
    return paths


class Outcome:
    """A finished CLI run, already checked for the clean-exit rules."""

    def __init__(self, args: list[str], result) -> None:
        self.args, self.result = args, result
        self.code = result.exit_code
        self.output = result.output


def check_run(args: list[str]) -> Outcome:
    """Run the CLI in-process; fail the test on a traceback, an odd exit code or non-finite output."""
    result = CliRunner().invoke(COMMAND, [str(a) for a in args])
    exc = result.exception
    shown = " ".join(str(a) for a in args)
    if exc is not None and not isinstance(exc, SystemExit):
        where = traceback.extract_tb(exc.__traceback__)[-1]
        raise AssertionError(f"traceback ({type(exc).__name__}: {str(exc)[:200]} at {where.filename}:{where.lineno}) "
                             f"from: perfmodel {shown[:300]}") from exc
    assert result.exit_code in (0, 2, 3), f"exit {result.exit_code} from: perfmodel {shown}\n{result.output}"
    assert "Traceback" not in result.output, shown
    if result.exit_code == 0:
        printed = result.stdout
        for arg in sorted(map(str, args), key=len, reverse=True):  # paths echoed back are not numbers
            printed = printed.replace(arg, "") if len(arg) > 3 else printed
        assert not NON_FINITE.search(printed), f"non-finite number in output of: perfmodel {shown}"
        if "--json" in args:
            json.loads(result.stdout, parse_constant=_refuse_constant)
    else:
        assert "error" in result.output.lower() or "usage" in result.output.lower(), shown
    return Outcome(list(map(str, args)), result)


def _refuse_constant(name: str):
    raise AssertionError(f"{name} in JSON output")


@pytest.fixture(scope="session")
def cli():
    """The checked runner: `cli(args) -> Outcome`."""
    return check_run


@pytest.fixture(scope="session")
def run_all():
    """Run many argument lists; return the failures (one line each) instead of stopping at the first."""
    def run(arg_lists: list[list]) -> list[str]:
        failures = []
        for args in arg_lists:
            try:
                check_run(args)
            except AssertionError as exc:
                failures.append(str(exc).splitlines()[0][:400])
        return failures
    return run
