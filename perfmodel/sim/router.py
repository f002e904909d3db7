"""Routers: which replica of a pool gets a request (a registry, name -> class).

To add a router, subclass :class:`Router`, set `name`, implement `pick` (and `clone` if it keeps
state), and add the class to `ROUTERS`.

Routers see replica state at the moment of the decision (outstanding requests, KV blocks in use,
prompt tokens queued); ties go to the lowest replica index, so runs are deterministic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from perfmodel.sim.replica import Replica


class Router:
    """Base class: `pick` returns the chosen replica."""

    name: ClassVar[str] = "base"

    def pick(self, replicas: list[Replica], req: int) -> Replica:  # pragma: no cover - interface
        raise NotImplementedError

    def clone(self) -> Router:
        return self


class RoundRobin(Router):
    name = "round-robin"

    def __init__(self) -> None:
        self.next = 0

    def pick(self, replicas: list[Replica], req: int) -> Replica:
        r = replicas[self.next % len(replicas)]
        self.next += 1
        return r

    def clone(self) -> RoundRobin:
        c = RoundRobin()
        c.next = self.next
        return c


class LeastOutstanding(Router):
    """Fewest requests routed and not yet finished (the usual proxy default)."""

    name = "least-outstanding"

    def pick(self, replicas: list[Replica], req: int) -> Replica:
        best = replicas[0]
        for r in replicas[1:]:
            if r.outstanding < best.outstanding:
                best = r
        return best


class KVAware(Router):
    """Lowest projected KV utilization: blocks in use plus blocks the queued prompts will need."""

    name = "kv-aware"

    def pick(self, replicas: list[Replica], req: int) -> Replica:
        def load(r: Replica) -> tuple[float, int]:
            blocks = r.pool.used + r.waiting_tokens / r.block_size
            return blocks / r.pool.capacity, r.outstanding

        return min(replicas, key=load)


ROUTERS: dict[str, type[Router]] = {cls.name: cls for cls in (RoundRobin, LeastOutstanding, KVAware)}
