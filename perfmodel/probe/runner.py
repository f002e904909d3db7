"""Run the microbenchmarks under one time budget, writing the bundle after each one."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from perfmodel.errors import PerfModelError
from perfmodel.probe import attention, collectives, copies, eager, elementwise, gemm, memory, overhead
from perfmodel.probe.backends import Backend, get_backend
from perfmodel.probe.bench import CLOCKS, Budget, TimingPolicy
from perfmodel.probe.bundle import BenchmarkResult, Bundle, new_bundle_id, utc_now, write_bundle
from perfmodel.probe.context import BenchContext, OutOfTime
from perfmodel.probe.env import environment

BENCHMARKS: dict[str, ModuleType] = {m.NAME: m for m in (eager, overhead, gemm, memory, elementwise, attention,
                                                         copies, collectives)}
DEFAULT_BUDGET_S = 300.0


class Progress(Protocol):
    def start(self, name: str, total: int) -> None: ...

    def advance(self, n: int) -> None: ...


class _NoProgress:
    def start(self, name: str, total: int) -> None:
        return None

    def advance(self, n: int) -> None:
        return None


@dataclass(frozen=True)
class ProbeOptions:
    """What `perfmodel probe` runs: backend and device, budget, output, optional collectives."""

    backend: str = "numpy"
    device: str = "cpu"
    budget_s: float = DEFAULT_BUDGET_S
    output: Path | None = None
    collectives: bool = False
    threads: int | None = None
    only: Sequence[str] | None = None
    clock: str = "wall"

    def __post_init__(self) -> None:
        if not (isinstance(self.budget_s, int | float) and math.isfinite(self.budget_s) and self.budget_s > 0):
            raise PerfModelError(f"--budget-s must be a finite number of seconds > 0 (got {self.budget_s!r})")
        if self.threads is not None and not (isinstance(self.threads, int) and 1 <= self.threads <= 4096):
            raise PerfModelError(f"--threads must be a whole number in [1, 4096] (got {self.threads!r})")


def policy_for(budget_s: float) -> TimingPolicy:
    """Fewer, shorter samples under a small budget (CI, tests); the full policy for real probes."""
    if budget_s < 20:
        return TimingPolicy(warmup=1, repeats=3, min_repeats=2, min_sample_s=5e-4, max_point_s=0.25)
    if budget_s < 90:
        return TimingPolicy(warmup=2, repeats=5, min_repeats=3, min_sample_s=1e-3, max_point_s=1.0)
    return TimingPolicy()


def _count(name: str, backend: Backend, env: dict[str, Any]) -> int:
    if name == "gemm":
        return len(gemm.shapes(backend, env))
    if name == "memory":
        return len(memory.points(backend, env))
    if name == "elementwise":
        return len(elementwise.points(backend))
    if name == "attention":
        return len(attention.points(backend))
    if name == "eager":
        return len(eager.points(backend, env))
    if name == "overhead":
        return overhead.points(backend.name)
    if name == "copies":
        return len(copies.points())
    return len(collectives.SIZES)


def selected(opts: ProbeOptions) -> list[str]:
    """Benchmark names in run order."""
    names = list(opts.only) if opts.only else [n for n in BENCHMARKS if n != "collectives" or opts.collectives]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise PerfModelError(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    if "collectives" in names and opts.backend != "torch":
        raise PerfModelError("--collectives needs --backend torch (torch.distributed)")
    check_clock(opts.clock, opts.device, opts.threads)
    return names


def check_clock(clock: str, device: str, threads: int | None) -> None:
    """The thread clock measures only single-threaded CPU work; refuse it elsewhere."""
    if clock not in CLOCKS:
        raise PerfModelError(f"unknown clock '{clock}'; use {' or '.join(CLOCKS)}")
    if clock == "thread" and (threads != 1 or device != "cpu"):
        raise PerfModelError("--clock thread needs --device cpu and --threads 1 (it counts this thread's CPU time)")


def _skip_reason(name: str, backend: Backend) -> str | None:
    if name == "copies" and not copies.applies(backend.device):
        return "device is the CPU: no host↔device copies"
    if name == "eager" and not eager.applies(backend.name):
        return "needs the torch backend (eager-PyTorch building blocks)"
    return None


def _save(bundle: Bundle, path: Path | None) -> None:
    if path is not None:
        write_bundle(bundle, path)


def run_probe(opts: ProbeOptions, progress: Progress | None = None) -> Bundle:
    """Measure this machine. The bundle is written after every benchmark and on interruption.

    Ctrl-C marks the bundle `interrupted`, writes what was measured and re-raises
    KeyboardInterrupt; a benchmark that runs out of its share of the budget is `truncated`.
    """
    progress = progress or _NoProgress()
    names = selected(opts)
    backend = get_backend(opts.backend, opts.device, opts.threads)
    budget = Budget(opts.budget_s)
    policy = policy_for(opts.budget_s)
    env = environment(backend)
    bundle = Bundle(bundle_id=new_bundle_id(backend.name, backend.device), created_utc=utc_now(),
                    backend=backend.name, device=backend.device, threads=backend.threads, budget_s=opts.budget_s,
                    env=env, clock=opts.clock)
    shares_left = sum(BENCHMARKS[n].SHARE for n in names)
    try:
        _save(bundle, opts.output)
        for name in names:
            module = BENCHMARKS[name]
            result = BenchmarkResult(name=name)
            bundle.benchmarks[name] = result
            reason = _skip_reason(name, backend)
            if reason:
                result.status, result.note = "skipped", reason
                shares_left -= module.SHARE
                _save(bundle, opts.output)
                continue
            ctx = BenchContext(backend=backend, result=result, policy=policy, env=env, advance=progress.advance,
                               deadline_s=budget.deadline(module.SHARE, shares_left), clock=CLOCKS[opts.clock])
            shares_left -= module.SHARE
            progress.start(name, _count(name, backend, env))
            _run_one(module, ctx, bundle, budget, opts.output)
        bundle.status = "complete" if all(r.status in ("complete", "skipped") for r in bundle.benchmarks.values()) \
            else "partial"
    except KeyboardInterrupt:
        bundle.status = "interrupted"
        bundle.elapsed_s = budget.elapsed_s()
        _save(bundle, opts.output)
        raise
    finally:
        backend.close()
    bundle.elapsed_s = budget.elapsed_s()
    _save(bundle, opts.output)
    return bundle


def _run_one(module: ModuleType, ctx: BenchContext, bundle: Bundle, budget: Budget, output: Path | None) -> None:
    result = ctx.result
    start = time.perf_counter()
    try:
        module.run(ctx)
    except OutOfTime:
        result.status = "truncated"
    except KeyboardInterrupt:
        result.status = "interrupted"
        raise
    except (RuntimeError, ValueError, OSError, ImportError, PerfModelError) as exc:
        result.status = "failed"
        result.note += f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        result.elapsed_s = time.perf_counter() - start
        result.summary = module.summarize(result.samples) if result.samples else {}
        bundle.elapsed_s = budget.elapsed_s()
        _save(bundle, output)


class RichProgress:
    """A rich progress bar with one line per benchmark."""

    def __init__(self, console: Any = None) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), console=console, transient=False)
        self._task: Any = None

    def __enter__(self) -> RichProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def start(self, name: str, total: int) -> None:
        self._task = self._progress.add_task(name, total=total)

    def advance(self, n: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, n)
