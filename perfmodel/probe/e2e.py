"""End-to-end check: time a real transformers decoder (random weights) and compare with perfmodel.estimate.

One greedy `generate()` call with exactly n new tokens; a streamer stamps each token: TTFT is the
time to the first new token, TPOT the median time between consecutive tokens after it (a disturbed
step does not move it). Each is reduced over repeats by `--stat` (default: the least disturbed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from perfmodel.analytic import estimate
from perfmodel.cost.engine import EngineProfile
from perfmodel.errors import PerfModelError
from perfmodel.probe.backends import get_backend
from perfmodel.probe.bench import CLOCKS
from perfmodel.probe.bundle import Bundle, new_bundle_id, utc_now
from perfmodel.probe.env import environment
from perfmodel.probe.hf_models import build_model, family_of, shrink
from perfmodel.probe.overhead import generate_fn
from perfmodel.probe.runner import check_clock
from perfmodel.specs.catalog import load_model
from perfmodel.specs.device import Device
from perfmodel.specs.model import ModelArch

DEFAULT_CONFIGS = ((1, 128), (1, 512), (1, 2048), (4, 128), (4, 512), (16, 128), (16, 256))
DEFAULT_MODELS = ("llama-3.2-1b:layers=4:hidden=512:vocab=32000", "llama-3.2-1b:layers=8:hidden=1024:vocab=32000")
"""Two Llama sizes (29 M and 117 M parameters, fp32) that run in minutes on a laptop CPU."""


def models_for(refs: Sequence[str]) -> list[str]:
    """The e2e model list, `default` expanding to :data:`DEFAULT_MODELS`."""
    out: list[str] = []
    for ref in refs:
        out += list(DEFAULT_MODELS) if ref in ("", "default") else [ref]
    return out


@dataclass(frozen=True)
class ModelChoice:
    """A catalog model and how to shrink it: `qwen3-0.6b:layers=4:hidden=512:vocab=32000`."""

    ref: str
    layers: int | None = None
    hidden: int | None = None
    vocab: int | None = None

    @classmethod
    def parse(cls, text: str, **defaults: int | None) -> ModelChoice:
        ref, *opts = text.split(":")
        values: dict[str, int | None] = dict(defaults)
        for opt in opts:
            key, _, value = opt.partition("=")
            if key not in ("layers", "hidden", "vocab") or not value.isdigit():
                raise PerfModelError(f"bad e2e model option '{opt}' in '{text}'; "
                                     "use MODEL[:layers=N][:hidden=N][:vocab=N]")
            values[key] = int(value)
        return cls(ref, values.get("layers"), values.get("hidden"), values.get("vocab"))

    def arch(self) -> ModelArch:
        """The shrunken architecture (refusing families transformers cannot build here first)."""
        base = load_model(self.ref)
        family_of(base)
        return shrink(base, layers=self.layers, hidden=self.hidden, vocab=self.vocab)


@dataclass(frozen=True)
class Target:
    """A device and engine to predict with, under a label (e.g. spec-only, calibrated)."""

    label: str
    device: Device
    engine: str | EngineProfile


@dataclass
class E2ERow:
    model: str
    params: float
    batch: int
    input_len: int
    output_len: int
    dtype: str
    ttft_s: float
    tpot_s: float
    ttft_samples_s: list[float]
    tpot_samples_s: list[float]
    predicted: dict[str, dict[str, Any]] = field(default_factory=dict)

    def rel_err(self, label: str, metric: str) -> float:
        return self.predicted[label][metric] / getattr(self, metric) - 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_configs(text: str) -> list[tuple[int, int]]:
    """'1x128,4x512' → [(1, 128), (4, 512)] (batch × input length)."""
    configs = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        b, _, s = item.partition("x")
        if not (b.isdigit() and s.isdigit()) or int(b) < 1 or int(s) < 1:
            raise PerfModelError(f"bad e2e config '{item}'; use BATCHxINPUT_LEN, e.g. 1x128,4x512")
        configs.append((int(b), int(s)))
    return configs


def measure(model: Any, batch: int, input_len: int, output_len: int, device: str, repeats: int,
            clock: Callable[[], float] = time.perf_counter) -> tuple[list[float], list[float]]:
    """Per repeat: TTFT and mean decode-step seconds of one generate() call (after a warm-up call).

    A streamer stamps the clock as each token reaches the host, so one call gives both numbers
    without differencing two noisy runs.
    """
    from transformers.generation.streamers import BaseStreamer

    sync = _sync(device)

    class Stamps(BaseStreamer):
        def __init__(self) -> None:
            self.times: list[float] = []

        def put(self, value: Any) -> None:
            sync()
            self.times.append(clock())

        def end(self) -> None:
            return None

    ttft, tpot = [], []
    for i in range(repeats + 1):
        stamps = Stamps()
        run = generate_fn(model, batch, input_len, output_len, device, streamer=stamps)
        sync()
        start = clock()
        run()
        if i == 0:
            continue  # warm-up: allocator, caches, lazy initialisation
        first, last = stamps.times[1], stamps.times[-1]  # times[0] is the prompt, pushed before prefill
        ttft.append(first - start)
        del last
        tpot.append(float(np.median(np.diff(stamps.times[1:]))))
    return ttft, tpot


def _sync(device: str) -> Callable[[], None]:
    from perfmodel.probe.backend_torch import device_module

    mod = device_module(device)
    return mod.synchronize if mod is not None and hasattr(mod, "synchronize") else (lambda: None)


def predict(arch: ModelArch, target: Target, batch: int, input_len: int, output_len: int, dtype: str
            ) -> dict[str, Any]:
    est = estimate(arch, target.device, batch=batch, input_len=input_len, output_len=output_len,
                   weight_dtype=dtype, act_dtype=dtype, kv_dtype=dtype, engine=target.engine)
    return {"ttft_s": est.ttft_s, "tpot_s": est.tpot_s, "provenance": est.provenance["device_calibration"],
            "engine": est.inputs["engine"]}


def run_e2e(models: Sequence[ModelChoice], targets: Sequence[Target], *,
            configs: Sequence[tuple[int, int]] = DEFAULT_CONFIGS, output_len: int = 16, dtype: str = "fp32",
            device: str = "cpu", threads: int | None = None, repeats: int = 3, clock: str = "wall",
            stat: str = "median", on_row: Callable[[E2ERow], None] | None = None) -> list[E2ERow]:
    """Measure every model × config on `device` and predict each with every target."""
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError:
        raise PerfModelError("the e2e check needs torch and transformers: pip install 'perfmodel[probe]'") from None
    if output_len < 2:
        raise PerfModelError("--output-len must be >= 2 to measure TPOT")
    if stat not in ("median", "min") or repeats < 1:
        raise PerfModelError(f"--stat must be median or min and --repeats >= 1 (got {stat!r}, {repeats})")
    check_clock(clock, device, threads)
    reduce = np.min if stat == "min" else np.median
    old_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    rows: list[E2ERow] = []
    try:
        for choice in models:
            arch = choice.arch()
            model = build_model(arch, dtype=dtype, device=device)
            for batch, input_len in configs:
                ttft, tpot = measure(model, batch, input_len, output_len, device, repeats, CLOCKS[clock])
                row = E2ERow(model=arch.id, params=float(arch.total_params()), batch=batch, input_len=input_len,
                             output_len=output_len, dtype=dtype, ttft_s=float(reduce(ttft)),
                             tpot_s=float(reduce(tpot)), ttft_samples_s=ttft, tpot_samples_s=tpot)
                for target in targets:
                    row.predicted[target.label] = predict(arch, target, batch, input_len, output_len, dtype)
                rows.append(row)
                if on_row:
                    on_row(row)
            del model
    finally:
        torch.set_num_threads(old_threads)
    return rows


def summary(rows: Sequence[E2ERow], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Median and worst |relative error| of TTFT and TPOT per target."""
    out = {}
    for label in labels:
        stats = {}
        for metric in ("ttft_s", "tpot_s"):
            errs = np.abs([r.rel_err(label, metric) for r in rows])
            stats[f"{metric[:4]}_median_abs_err"] = float(np.median(errs)) if len(errs) else float("nan")
            stats[f"{metric[:4]}_p90_abs_err"] = float(np.percentile(errs, 90)) if len(errs) else float("nan")
            stats[f"{metric[:4]}_max_abs_err"] = float(np.max(errs)) if len(errs) else float("nan")
        out[label] = stats
    return out


def e2e_bundle(device: str, threads: int | None, clock: str) -> Bundle:
    """An empty bundle (environment filled in) for `perfmodel probe --e2e` to append rows to."""
    backend = get_backend("torch", device, threads)
    try:
        env = environment(backend)
    finally:
        backend.close()
    return Bundle(bundle_id=new_bundle_id("e2e", device), created_utc=utc_now(), backend="torch", device=device,
                  threads=backend.threads, clock=clock, budget_s=0.0, env=env)


DEFAULT_BUNDLE = "probe-bundle.json"


def targets_for(hardware: str | Device | None, calibrated: str | Device | None,
                engine: str | EngineProfile | None) -> list[Target]:
    """`spec-only` (the base spec, hf-transformers engine) and `calibrated` (with `engine`, default the
    engine fitted with it). `calibrated` is a device (id, YAML) or a probe bundle (.json), calibrated
    here onto the base spec; with neither, `probe-bundle.json` in this folder when it exists."""
    from pathlib import Path

    from perfmodel.specs.catalog import load_device
    from perfmodel.specs.detect import detect_local_cpu

    base = load_device(hardware) if hardware is not None else Device.model_validate(detect_local_cpu())
    targets = [Target("spec-only", base, "hf-transformers")]
    if calibrated is None and Path(DEFAULT_BUNDLE).is_file():
        calibrated = DEFAULT_BUNDLE
    if isinstance(calibrated, str) and calibrated.endswith(".json"):
        from perfmodel.calibrate.probe_fit import calibrate_bundle

        device = Device.model_validate(calibrate_bundle(calibrated, base, device_id="probe-calibrated").device)
        targets.append(Target("calibrated", device, engine or "hf-transformers"))
    elif calibrated is not None:
        targets.append(Target("calibrated", load_device(calibrated), engine or "hf-transformers"))
    return targets


def thread_mismatch(targets: Sequence[Target], threads: int) -> list[str]:
    """Warnings for calibrated targets probed with another thread count than this run uses."""
    out = []
    for t in targets:
        calib = t.device.calibration
        probed = (getattr(calib, "model_extra", None) or {}).get("threads") if calib else None
        if probed is not None and int(probed) != threads:
            out.append(f"{t.label}: calibrated with {probed} threads but this run uses {threads}; predictions "
                       f"hold for {probed} (re-run `perfmodel probe --threads {threads}`)")
    return out


def errors_exceed(rows: Sequence[E2ERow], label: str, max_median: float, max_p90: float) -> str | None:
    """A one-line reason when `label`'s median or p90 |error| of TTFT or TPOT is above its threshold."""
    if not rows or label != "calibrated":
        return None
    stats = summary(rows, [label])[label]
    bad = [f"{m.upper()} {q} |error| {stats[f'{m}_{q}_abs_err']:.1%} > {limit:.0%}"
           for m in ("ttft", "tpot") for q, limit in (("median", max_median), ("p90", max_p90))
           if stats[f"{m}_{q}_abs_err"] > limit]
    return f"{label}: " + "; ".join(bad) + " (--max-error / --max-p90-error)" if bad else None
