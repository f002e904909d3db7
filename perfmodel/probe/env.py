"""Environment metadata for a bundle: CPU, threads, BLAS, library versions, device and driver."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from perfmodel._version import __version__
from perfmodel.probe.backends import Backend, available_threads

DEFAULT_LLC_BYTES = 32 << 20


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, sysctl or platform."""
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        if match:
            return match.group(1).strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True,
                                  timeout=5, check=False).stdout.strip() or platform.processor()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine()


def _size_bytes(text: str) -> int:
    match = re.match(r"(\d+)\s*([KMG]?)", text.strip())
    if not match:
        return 0
    return int(match.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[match.group(2)]


def cpu_caches() -> dict[str, int]:
    """Cache sizes per level in bytes (Linux sysfs; empty elsewhere)."""
    caches: dict[str, int] = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = _size_bytes((index / "size").read_text())
        except OSError:
            continue
        if kind != "Instruction":
            caches[f"L{level}"] = size
    return caches


def last_level_cache_bytes(env: dict[str, Any] | None = None) -> int:
    """Largest cache of the device probed (GPU L2 when the backend reports it)."""
    env = env or {}
    device_l2 = env.get("device", {}).get("l2_cache_bytes")
    if device_l2:
        return int(device_l2)
    caches = env.get("cpu", {}).get("caches") or cpu_caches()
    return max(caches.values(), default=DEFAULT_LLC_BYTES) or DEFAULT_LLC_BYTES


def blas_info() -> list[dict[str, Any]]:
    """Loaded BLAS/OpenMP libraries and their thread counts (threadpoolctl), else numpy's build config."""
    try:
        from threadpoolctl import threadpool_info

        keep = ("user_api", "internal_api", "prefix", "version", "num_threads", "threading_layer", "architecture")
        return [{k: v for k, v in lib.items() if k in keep} for lib in threadpool_info()]
    except ImportError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return [{"user_api": "blas", "internal_api": blas.get("name"), "version": blas.get("version")}]
    except Exception:  # noqa: BLE001 - show_config's layout differs between numpy versions
        return []


def nvidia_driver() -> str | None:
    if not shutil.which("nvidia-smi"):
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0] if out.strip() else None


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version(), "numpy": np.__version__,
                                       "perfmodel": __version__}
    for name in ("scipy", "torch", "transformers"):
        module = sys.modules.get(name)
        versions[name] = getattr(module, "__version__", None) if module else None
    return versions


def environment(backend: Backend) -> dict[str, Any]:
    """Everything needed to tell two bundles' machines apart."""
    logical = os.cpu_count() or 1
    device = backend.describe()
    if backend.name == "torch" and getattr(backend, "is_cuda", False):
        import torch

        props = torch.cuda.get_device_properties(backend.device)
        device["l2_cache_bytes"] = getattr(props, "L2_cache_size", None)
        device["driver"] = nvidia_driver()
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu": {"model": cpu_model(), "logical_cpus": logical, "available_cpus": available_threads(),
                "threads_used": backend.threads, "caches": cpu_caches(), "machine": platform.machine()},
        "blas": blas_info(),
        "versions": _versions(),
        "device": device,
    }
