"""What a probe backend offers: kernels built once per benchmark point, returned as closures."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol

from perfmodel.errors import PerfModelError

Kernel = Callable[[], object]

STREAM_KERNELS = ("read", "copy", "triad")
STREAM_TRAFFIC = {"read": 1.0, "copy": 2.0, "triad": 3.0}  # bytes moved per byte of one array
ELEMENTWISE_KERNELS = ("add", "silu_mul", "rmsnorm", "softmax")
# (FLOPs, arrays of the row shape moved) per element
ELEMENTWISE_WORK = {"add": (1.0, 3.0), "silu_mul": (5.0, 3.0), "rmsnorm": (4.0, 2.0), "softmax": (5.0, 2.0)}
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1, "fp64": 8}


class Backend(Protocol):
    """A way to run kernels on one device. Every builder returns a zero-argument closure to time."""

    name: str
    device: str
    threads: int

    def sync(self) -> None: ...

    def close(self) -> None: ...

    def gemm_dtypes(self) -> list[str]: ...

    def gemm(self, m: int, n: int, k: int, dtype: str) -> Kernel: ...

    def stream(self, kernel: str, array_bytes: int) -> Kernel: ...

    def elementwise(self, kernel: str, rows: int, cols: int, dtype: str) -> Kernel: ...

    def attention(self, batch: int, heads: int, kv_heads: int, q_len: int, kv_len: int, head_dim: int,
                  causal: bool, dtype: str) -> Kernel | None: ...

    def tiny_ops(self) -> dict[str, Kernel]: ...

    def host_copy(self, nbytes: int, direction: str, pinned: bool) -> Kernel | None: ...

    def describe(self) -> dict[str, Any]: ...


def available_threads() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def get_backend(name: str, device: str = "cpu", threads: int | None = None) -> Backend:
    """`numpy` (CPU only) or `torch` (any torch device: cpu, cuda, mps, xpu…)."""
    threads = threads or available_threads()
    if name == "numpy":
        if device != "cpu":
            raise PerfModelError(f"the numpy backend runs on the CPU only (got --device {device}); "
                                 "use --backend torch for accelerators")
        from perfmodel.probe.backend_numpy import NumpyBackend

        return NumpyBackend(threads=threads)
    if name == "torch":
        try:
            import torch  # noqa: F401
        except ImportError:
            raise PerfModelError("the torch backend needs PyTorch: pip install 'perfmodel[probe]'") from None
        from perfmodel.probe.backend_torch import TorchBackend

        return TorchBackend(device=device, threads=threads)
    raise PerfModelError(f"unknown backend '{name}'; use numpy or torch")


def default_backend() -> tuple[str, str | None]:
    """torch when importable (the backend eager engines run on), else numpy with a note saying so."""
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        return "torch", None
    return "numpy", ("torch is not installed: probing with the numpy backend (install 'perfmodel[probe]' to "
                     "measure the kernels eager PyTorch runs)")
