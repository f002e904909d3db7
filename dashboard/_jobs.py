"""Long work off the page's script thread: a progress bar, a Cancel button, and the result kept when it ends.

A job is a thread held in the session state under a name (one per page), so it survives reruns and page
switches. The work function receives its :class:`Job`: `job.update(fraction, text)` reports progress and
raises `pm.Cancelled` once Cancel was pressed (pass it as a progress callback); work in a subprocess goes
through :func:`run_subprocess`, which terminates the child's process group on Cancel. The page draws
:func:`watch`, a fragment that redraws the bar every `POLL_S` and reruns the whole page when the job ends.
Finished results are also kept across sessions (:func:`remember` / :func:`recall`), so a shared URL or a
reload shows them at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

import perfmodel as pm

JOBS = "_jobs"  # session state: name -> Job
POLL_S = 0.5  # how often a running job's bar is redrawn
STOP_WAIT_S = 10.0  # how long Cancel waits for the work to stop before the page is redrawn
KEEP_RESULTS = 8  # finished results kept per name across sessions


@dataclass
class Job:
    """One piece of long work: its inputs' key, progress, and how it ended."""

    name: str
    key: Hashable
    fraction: float = 0.0
    text: str = "starting…"
    state: str = "running"  # running, done, failed or cancelled
    result: Any = None
    error: str = ""
    started_s: float = field(default_factory=time.monotonic)
    ended_s: float | None = None
    taken: bool = False  # set by a page once it has moved the result elsewhere (e.g. into its inputs)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def elapsed_s(self) -> float:
        return (self.ended_s or time.monotonic()) - self.started_s

    def report(self, fraction: float, text: str | None = None) -> None:
        """Record progress (0–1) without checking for Cancel."""
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        if text is not None:
            self.text = text

    def update(self, fraction: float, text: str | None = None) -> None:
        """Record progress; raises `pm.Cancelled` once Cancel was pressed (use it as a progress callback)."""
        if self._stop.is_set():
            raise pm.Cancelled("cancelled")
        self.report(fraction, text)

    def cancel(self) -> None:
        self._stop.set()

    def wait(self, timeout_s: float) -> bool:
        """Wait for the work to end; True when it has."""
        if self._thread is not None:
            self._thread.join(timeout_s)
        return not self.running


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _run(job: Job, work: Callable[[Job], Any]) -> None:
    try:
        job.result = work(job)
        job.report(1.0)
        job.state = "done"
        remember(job.name, job.key, job.result)
    except pm.Cancelled:
        job.state = "cancelled"
    except pm.PerfModelError as exc:
        job.error, job.state = _first_line(exc), "failed"
    except Exception as exc:  # noqa: BLE001 - a bug, still shown in one line rather than killing the page
        job.error, job.state = f"internal error ({type(exc).__name__}): {_first_line(exc)}", "failed"
    finally:
        job.ended_s = time.monotonic()


def _jobs() -> dict[str, Job]:
    return st.session_state.setdefault(JOBS, {})


def get(name: str) -> Job | None:
    """The session's latest job of that name (running or ended), if any."""
    return _jobs().get(name)


def start(name: str, key: Hashable, work: Callable[[Job], Any], text: str = "starting…") -> Job:
    """Run `work(job)` in a background thread; a running job of the same name is cancelled first."""
    old = get(name)
    if old is not None and old.running:
        old.cancel()
    job = Job(name=name, key=key, text=text)
    job._thread = threading.Thread(target=_run, args=(job, work), name=f"dashboard-{name}", daemon=True)
    _jobs()[name] = job
    job._thread.start()
    return job


@st.cache_resource(show_spinner=False)
def _store() -> tuple[threading.Lock, dict[str, OrderedDict]]:
    return threading.Lock(), {}


def remember(name: str, key: Hashable, value: Any) -> None:
    """Keep a finished result for every session (the last `KEEP_RESULTS` per name)."""
    lock, store = _store()
    with lock:
        kept = store.setdefault(name, OrderedDict())
        kept[key] = value
        kept.move_to_end(key)
        while len(kept) > KEEP_RESULTS:
            kept.popitem(last=False)


def recall(name: str, key: Hashable) -> Any:
    """A finished result for these inputs, from this or another session; None when there is none."""
    lock, store = _store()
    with lock:
        return store.get(name, {}).get(key)


@st.fragment(run_every=POLL_S)
def _watch(name: str, cancel_label: str) -> None:
    job = get(name)
    if job is None or not job.running:
        st.rerun()  # the job ended: redraw the whole page with its result
        return
    text = "cancelling…" if job.cancel_requested else job.text
    st.progress(job.fraction, text=f"{text} ({job.elapsed_s:.0f} s)")
    if st.button(cancel_label, key=f"{name}_cancel", disabled=job.cancel_requested):
        job.cancel()
        job.wait(STOP_WAIT_S)
        st.rerun()


def watch(name: str, cancel_label: str = "Cancel") -> None:
    """The progress bar and Cancel button of the running job `name`, redrawn until it ends."""
    _watch(name, cancel_label)


def run_subprocess(job: Job, cmd: Sequence[str], *, on_line: Callable[[str], None] | None = None,
                   on_tick: Callable[[float], None] | None = None, limit_s: float | None = None) -> int:
    """Run `cmd` for `job`: each stdout line goes to `on_line`, `on_tick(elapsed_s)` runs every 0.2 s.
    Cancel (or passing `limit_s`) terminates the child's whole process group; Cancel raises `pm.Cancelled`.
    Returns the exit status; a failure's last stderr line is kept in `job.error`."""
    proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    errors: list[str] = []

    def read(stream: Any, sink: Callable[[str], None] | None) -> None:
        for line in stream:
            if sink is not None:
                sink(line.rstrip("\n"))

    readers = [threading.Thread(target=read, args=(proc.stdout, on_line), daemon=True),
               threading.Thread(target=read, args=(proc.stderr, errors.append), daemon=True)]
    for r in readers:
        r.start()
    start_s = time.monotonic()
    try:
        while proc.poll() is None:
            elapsed = time.monotonic() - start_s
            if job.cancel_requested or (limit_s is not None and elapsed > limit_s):
                break
            if on_tick is not None:
                on_tick(elapsed)
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            _stop(proc)
    for r in readers:
        r.join(2.0)
    if job.cancel_requested:
        raise pm.Cancelled("cancelled")
    lines = [e for e in errors if e.strip()]
    job.error = lines[-1].strip() if lines else ""
    return int(proc.returncode)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the child's process group, SIGKILL if it is still there after 5 s."""
    for sig, wait_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue
