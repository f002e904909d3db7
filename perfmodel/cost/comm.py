"""Collectives on a link, α–β model: t = latency terms + bytes / (bandwidth × efficiency)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from perfmodel.cost.batch import FloatArray
from perfmodel.specs.device import LinkSpec


def ring_allreduce_s(message_bytes: ArrayLike, n: int, link: LinkSpec, efficiency: float = 1.0) -> FloatArray:
    """Ring all-reduce of `message_bytes` over `n` devices: 2(n−1)·α + 2(n−1)/n · M / BW."""
    m = np.asarray(message_bytes, dtype=np.float64)
    if n <= 1:
        return np.zeros_like(m)
    steps = 2.0 * (n - 1)
    return steps * link.latency_s + steps / n * m / (link.bw_bytes_per_s * efficiency)


def one_shot_allreduce_s(message_bytes: ArrayLike, n: int, link: LinkSpec, efficiency: float = 1.0) -> FloatArray:
    """One-shot all-reduce (every device reads all peers' buffers at once): α + (n−1)·M / BW."""
    m = np.asarray(message_bytes, dtype=np.float64)
    if n <= 1:
        return np.zeros_like(m)
    return link.latency_s + (n - 1) * m / (link.bw_bytes_per_s * efficiency)


def two_shot_allreduce_s(message_bytes: ArrayLike, n: int, link: LinkSpec, efficiency: float = 1.0) -> FloatArray:
    """Two-shot all-reduce (a reduce-scatter, then an all-gather, each in one step): 2α + 2(n−1)/n · M / BW."""
    m = np.asarray(message_bytes, dtype=np.float64)
    if n <= 1:
        return np.zeros_like(m)
    return 2.0 * link.latency_s + 2.0 * (n - 1) / n * m / (link.bw_bytes_per_s * efficiency)


def allreduce_s(message_bytes: ArrayLike, n: int, link: LinkSpec, efficiency: float = 1.0) -> FloatArray:
    """All-reduce by the fastest algorithm for the message: one-shot for small messages, two-shot for large.

    Serving engines' custom all-reduce kernels (and NCCL's low-latency protocols) pick the algorithm by
    message size; a ring's 2(n−1) latency terms (:func:`ring_allreduce_s`) are never the fastest choice on
    a switched or fully connected scale-up link.
    """
    return np.minimum(one_shot_allreduce_s(message_bytes, n, link, efficiency),
                      two_shot_allreduce_s(message_bytes, n, link, efficiency))


def all_to_all_s(message_bytes: ArrayLike, n: int, link: LinkSpec, efficiency: float = 1.0) -> FloatArray:
    """All-to-all where each device holds `message_bytes` and keeps 1/n of it: (n−1)·α + (n−1)/n·M/BW."""
    m = np.asarray(message_bytes, dtype=np.float64)
    if n <= 1:
        return np.zeros_like(m)
    return (n - 1) * link.latency_s + (n - 1) / n * m / (link.bw_bytes_per_s * efficiency)


def point_to_point_s(message_bytes: ArrayLike, link: LinkSpec, efficiency: float = 1.0) -> FloatArray:
    """One send: α + M / BW."""
    m = np.asarray(message_bytes, dtype=np.float64)
    return link.latency_s + m / (link.bw_bytes_per_s * efficiency)


def kv_transfer_s(nbytes: float, link: LinkSpec, efficiency: float = 1.0) -> tuple[float, float]:
    """A KV cache handed from one replica to another: (seconds the link is busy sending `nbytes`,
    latency until the last byte lands). Transfers queue on a link for the first part only."""
    return float(nbytes) / (link.bw_bytes_per_s * efficiency), link.latency_s
