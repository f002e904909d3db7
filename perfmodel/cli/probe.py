"""`perfmodel probe | calibrate`: measure this machine, fit the measurements into a calibrated device."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from perfmodel.cli.common import check_output, err, fail, out
from perfmodel.errors import PerfModelError


def _csv(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def probe_command(
    backend: Annotated[str, typer.Option("--backend", help="torch (any torch device; the default when importable) "
                                          "or numpy (CPU)")] = "auto",
    device: Annotated[str, typer.Option("--device", help="torch device: cpu, cuda, cuda:1, mps, xpu…")] = "cpu",
    budget_s: Annotated[float, typer.Option("--budget-s", help="Time budget for all benchmarks, seconds")] = 300.0,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Bundle JSON, written after each benchmark "
                                                 "(default probe-bundle.json; probe-e2e.json with --e2e)")] = None,
    collectives: Annotated[bool, typer.Option("--collectives", help="All-reduce between 2 processes")] = False,
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads (default: all available)")] = None,
    clock: Annotated[str, typer.Option("--clock", help="wall, or thread (CPU time; --threads 1 on cpu)")] = "wall",
    only: Annotated[str | None, typer.Option("--only", help="Comma-separated benchmarks, e.g. gemm,memory")] = None,
    e2e: Annotated[list[str] | None, typer.Option("--e2e", help="End-to-end check of MODEL[:layers=N][:hidden=N]"
                                                   "[:vocab=N] (repeatable; bare --e2e or `default`: two Llama "
                                                   "sizes); runs instead of the benchmarks")] = None,
    layers: Annotated[int | None, typer.Option("--layers", help="e2e: shrink every model to N layers")] = None,
    hidden: Annotated[int | None, typer.Option("--hidden", help="e2e: shrink every model to this width")] = None,
    vocab: Annotated[int | None, typer.Option("--vocab", help="e2e: vocabulary size")] = None,
    configs: Annotated[str, typer.Option("--configs", help="e2e: BATCHxINPUT_LEN list")]
    = "1x128,1x512,1x2048,4x128,4x512,16x128,16x256",
    output_len: Annotated[int, typer.Option("--output-len", help="e2e: new tokens per request")] = 16,
    dtype: Annotated[str, typer.Option("--dtype", help="e2e: weights, activations and KV dtype")] = "fp32",
    repeats: Annotated[int, typer.Option("--repeats", help="e2e: timed generate() calls per config")] = 3,
    stat: Annotated[str, typer.Option("--stat", help="e2e: median or min over repeats")] = "min",
    max_error: Annotated[float, typer.Option("--max-error", help="e2e: exit 1 when the calibrated median |error| "
                                             "of TTFT or TPOT exceeds this")] = 0.10,
    max_p90_error: Annotated[float, typer.Option("--max-p90-error", help="e2e: exit 1 when the calibrated p90 "
                                                 "|error| exceeds this")] = 0.20,
    hardware: Annotated[str | None, typer.Option("--hardware", "-H", help="e2e: spec-only device (default: "
                                                  "this CPU, detected)")] = None,
    calibrated: Annotated[str | None, typer.Option("--calibrated", help="e2e: calibrated device YAML or probe "
                                                    "bundle (default: probe-bundle.json when present)")] = None,
    engine: Annotated[str | None, typer.Option("--engine", help="e2e: engine for the calibrated device (default: "
                                               "the one fitted with it)")] = None,
) -> None:
    """Measure this machine into a calibration bundle, or (--e2e) check predictions against a real decoder."""
    from perfmodel.probe import ProbeOptions, RichProgress, run_probe, write_bundle
    from perfmodel.probe.report import bundle_table, e2e_summary_lines, e2e_table

    check_output(output, "-o")

    try:
        if e2e:
            from perfmodel.probe.e2e import (
                ModelChoice,
                e2e_bundle,
                errors_exceed,
                models_for,
                parse_configs,
                run_e2e,
                targets_for,
                thread_mismatch,
            )

            output = output or Path("probe-e2e.json")
            models = [ModelChoice.parse(m, layers=layers, hidden=hidden, vocab=vocab) for m in models_for(e2e)]
            targets = targets_for(hardware, calibrated, engine)
            bundle = e2e_bundle(device, threads, clock)
            for line in thread_mismatch(targets, bundle.threads):
                err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)
            labels = [t.label for t in targets]

            def on_row(row) -> None:
                bundle.e2e.append(row.to_dict())
                write_bundle(bundle, output)
                err.print(f"{row.model} b{row.batch} s{row.input_len}: TTFT {row.ttft_s * 1e3:.1f} ms, TPOT "
                          f"{row.tpot_s * 1e3:.2f} ms", highlight=False)

            rows = run_e2e(models, targets, configs=parse_configs(configs), output_len=output_len, dtype=dtype,
                           device=device, threads=threads, repeats=repeats, clock=clock, stat=stat, on_row=on_row)
            out.print(e2e_table(rows, labels))
            for line in e2e_summary_lines(rows, labels):
                out.print(line, highlight=False)
            failed = errors_exceed(rows, labels[-1], max_error, max_p90_error)
            if failed:
                err.print(f"[bold red]error:[/] {failed}", highlight=False, soft_wrap=True)
                raise typer.Exit(code=1)
            return
        output = output or Path("probe-bundle.json")
        if backend == "auto":
            from perfmodel.probe.backends import default_backend

            backend, note = default_backend()
            if note:
                err.print(note, highlight=False)
        opts = ProbeOptions(backend=backend, device=device, budget_s=budget_s, output=output,
                            collectives=collectives, threads=threads, only=_csv(only), clock=clock)
        with RichProgress(err) as progress:
            bundle = run_probe(opts, progress)
    except KeyboardInterrupt:
        err.print(f"interrupted: the samples measured so far are in {output}")
        raise typer.Exit(code=130) from None
    except PerfModelError as exc:
        fail(exc)
    out.print(bundle_table(bundle))
    err.print(f"wrote {output}")


def calibrate_command(
    bundle: Annotated[Path, typer.Argument(help="Calibration bundle from `perfmodel probe`")],
    hardware: Annotated[str | None, typer.Option("--hardware", "-H", help="Base device id or YAML (default: this "
                                                  "CPU, detected)")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Calibrated device YAML")] = None,
    engine_out: Annotated[Path | None, typer.Option("--engine-out", help="Fitted engine profile (default: "
                                                     "<output>-engine.yaml next to -o)")] = None,
    engine_base: Annotated[str, typer.Option("--engine-base", help="Engine the profile starts from")]
    = "hf-transformers",
    reference_dtype: Annotated[str | None, typer.Option(
        "--reference-dtype", help="dtype whose efficiency becomes the device's (default: fp32 on CPUs, bf16 elsewhere)")
    ] = None,
    stat: Annotated[str, typer.Option("--stat", help="Fit each point's median, p25 (lower quartile) or min "
                                                     "(least disturbed) seconds")]
    = "median",
    device_id: Annotated[str | None, typer.Option("--id", help="Id of the calibrated device")] = None,
) -> None:
    """Fit a probe bundle into a calibrated device YAML and the engine profile fitted with it.

    The device YAML carries the engine (and names its file), so `--hardware device.yaml` alone
    predicts the probed framework; an explicit `--engine` of another engine still wins.
    """
    import yaml

    from perfmodel.calibrate.probe_fit import calibrate_bundle, write_yaml
    from perfmodel.probe.report import fit_table

    if engine_out is None and output is not None:
        engine_out = output.with_name(f"{output.stem}-engine.yaml")
    check_output(output, "-o")
    check_output(engine_out, "--engine-out")
    try:
        result = calibrate_bundle(bundle, hardware, device_id=device_id or (output.stem if output else None),
                                  reference_dtype=reference_dtype, engine_base=engine_base,
                                  engine_name=engine_out.stem if engine_out else None, stat=stat)
    except PerfModelError as exc:
        fail(exc)
    out.print(fit_table(result.fit.quality_rows()))
    calib = result.device["calibration"]
    err.print(f"gemm_efficiency {calib['gemm_efficiency']} ({calib['reference_dtype']}), bandwidth_efficiency "
              f"{calib.get('bandwidth_efficiency', '—')}, kernel overhead {calib['kernel_overhead_us']} µs",
              highlight=False)
    if engine_out is not None:
        result.device["calibration"]["engine_file"] = str(engine_out.resolve())
    if output is None:
        sys.stdout.write(yaml.safe_dump(result.device, sort_keys=False, allow_unicode=True))
    else:
        write_yaml(result.device, output)
        err.print(f"wrote {output}")
    if engine_out is not None:
        write_yaml(result.engine, engine_out)
        err.print(f"wrote {engine_out}")

