"""`simulate(progress=...)`: the callback sees requests finish, and an exception it raises stops the run."""

from __future__ import annotations

import pytest

import perfmodel as pm


def test_progress_counts_up_to_the_requests() -> None:
    seen: list[tuple[int, int]] = []
    pm.simulate("chat", requests=40, rate=20.0, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (40, 40)
    assert all(total == 40 for _, total in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_raising_cancelled_from_progress_stops_the_simulation() -> None:
    seen: list[int] = []

    def stop_at_ten(done: int, total: int) -> None:
        seen.append(done)
        if done >= 10:
            raise pm.Cancelled("stopped by the caller")

    with pytest.raises(pm.Cancelled, match="stopped by the caller"):
        pm.simulate("chat", requests=200, rate=20.0, progress=stop_at_ten)
    assert seen[-1] == 10  # no request finished after the raise
