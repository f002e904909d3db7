"""Where stage 2 runs: a local process pool (default), in-process, or Ray tasks on a local or remote cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from perfmodel.errors import PerfModelError
from perfmodel.plan.verify import verify_config

Task = tuple[dict[str, Any], dict[str, Any], float, float, str | None]
BACKENDS = ("local", "serial", "ray")


def run_tasks(tasks: list[Task], *, backend: str = "local", workers: int | None = None,
              ray_address: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (task index, result) as tasks finish. Results depend only on the task (seeded), never on the
    backend or the order. Closing the iterator (e.g. on Ctrl-C) cancels what has not started."""
    if backend not in BACKENDS:
        raise PerfModelError(f"--backend must be one of {', '.join(BACKENDS)} (got '{backend}')")
    if not tasks:
        return
    if backend == "serial" or (backend == "local" and (workers or 0) == 1):
        for i, task in enumerate(tasks):
            yield i, verify_config(*task)
    elif backend == "local":
        yield from _pool(tasks, workers)
    else:
        yield from _ray(tasks, workers, ray_address)


def _pool(tasks: list[Task], workers: int | None) -> Iterator[tuple[int, dict[str, Any]]]:
    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        futures = {pool.submit(verify_config, *t): i for i, t in enumerate(tasks)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield futures[f], f.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def _ray(tasks: list[Task], workers: int | None, address: str | None) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        import ray
    except ImportError:
        raise PerfModelError("--backend ray needs Ray: pip install 'perfmodel[ray]'") from None
    started = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"address": address} if address else {"num_cpus": workers} if workers else {}
        ray.init(ignore_reinit_error=True, log_to_driver=False, include_dashboard=False, **kwargs)
        started = True
    remote: Callable = ray.remote(num_cpus=1)(verify_config)
    refs = {remote.remote(*t): i for i, t in enumerate(tasks)}
    pending = list(refs)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield refs[ref], ray.get(ref)
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()
