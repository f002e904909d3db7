"""Catalogs of devices, systems and models: resolve an id, a path or a spec object."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from perfmodel.errors import SpecError, UnknownIdError
from perfmodel.specs.device import Device, System
from perfmodel.specs.hf_config import looks_like_hf_config, model_from_hf_config
from perfmodel.specs.loader import build_spec, check_tree, is_file, read_mapping
from perfmodel.specs.model import ModelArch

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=8)
def catalog_dir(name: str) -> Path:
    """Folder of a shipped catalog: the repo checkout first, then the copy inside an installed wheel."""
    for candidate in (_PACKAGE_DIR.parent / name, _PACKAGE_DIR / "_catalog" / name):
        if candidate.is_dir():
            return candidate
    return _PACKAGE_DIR.parent / name


def catalog_entries(folder: Path) -> dict[str, Path]:
    """Catalog entries of a folder (id -> path); re-read only when the folder changes."""
    try:
        mtime_ns = folder.stat().st_mtime_ns
    except OSError:
        return {}
    return dict(_list_yaml(folder, mtime_ns))


@lru_cache(maxsize=32)
def _list_yaml(folder: Path, mtime_ns: int) -> tuple[tuple[str, Path], ...]:
    del mtime_ns  # part of the cache key only
    return tuple((p.stem, p) for p in sorted(folder.glob("*.yaml")))


def device_files() -> dict[str, Path]:
    return catalog_entries(catalog_dir("hardware_specs"))


def device_aliases() -> dict[str, str]:
    """Alias -> catalog id, from the devices' `aliases:` fields."""
    folder = catalog_dir("hardware_specs")
    try:
        mtime_ns = folder.stat().st_mtime_ns
    except OSError:
        return {}
    return _aliases(folder, mtime_ns)


@lru_cache(maxsize=4)
def _aliases(folder: Path, mtime_ns: int) -> dict[str, str]:
    del mtime_ns  # part of the cache key only
    table = {}
    for device_id, path in catalog_entries(folder).items():
        for alias in read_mapping(path).get("aliases") or []:
            table[str(alias).lower()] = device_id
    return table


def system_files() -> dict[str, Path]:
    return catalog_entries(catalog_dir("hardware_specs") / "systems")


def model_files() -> dict[str, Path]:
    return catalog_entries(catalog_dir("workloads") / "models")


def plan_files() -> dict[str, Path]:
    """Shipped capacity-planning specs (id -> path) in workloads/plans/."""
    return catalog_entries(catalog_dir("workloads") / "plans")


def _looks_like_path(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml", ".json")) or "/" in ref or is_file(ref)


def _path_or_error(ref: str) -> Path:
    path = Path(ref).expanduser()
    if not is_file(path):
        raise SpecError("file not found; check the path", source=ref)
    return path


def fitted_device_efficiency() -> dict[str, dict[str, float]]:
    """Per-device efficiencies fitted to published measurements (id -> {gemm, bandwidth})."""
    path = catalog_dir("calibration") / "device_efficiency.yaml"
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError:
        return {}
    return _read_fitted(path, mtime_ns)


@lru_cache(maxsize=4)
def _read_fitted(path: Path, mtime_ns: int) -> dict[str, dict[str, float]]:
    del mtime_ns  # part of the cache key only
    return dict(read_mapping(path).get("devices") or {})


@lru_cache(maxsize=256)
def _device_from_path(path: str) -> Device:
    data = read_mapping(Path(path))
    data.setdefault("id", Path(path).stem)
    fitted = fitted_device_efficiency().get(data["id"]) if isinstance(data.get("id"), str) else None
    if fitted and "fitted_efficiency" not in data:
        data["fitted_efficiency"] = {k: v for k, v in fitted.items() if k in ("gemm", "bandwidth")}
    return build_spec(Device, data, path)


@lru_cache(maxsize=256)
def _model_from_path(path: str) -> ModelArch:
    p = Path(path)
    data = read_mapping(p)
    if looks_like_hf_config(data):
        model_id = p.parent.name if p.name == "config.json" else p.stem
        return model_from_hf_config(data, source=path, model_id=model_id)
    data.setdefault("id", p.stem)
    return build_spec(ModelArch, data, path)


@lru_cache(maxsize=64)
def _system_from_path(path: str) -> System:
    data = read_mapping(Path(path))
    data.setdefault("id", Path(path).stem)
    device_ref = data.get("device")
    if not isinstance(device_ref, str):
        raise SpecError("must name a device id or path", source=path, field="device")
    data["device"] = load_device(device_ref)
    return build_spec(System, data, path)


def _ref_text(ref: object, kind: str) -> str:
    """A catalog id or path as text (str or os.PathLike); anything else is a user error."""
    if isinstance(ref, os.PathLike):
        return os.fspath(ref)
    if isinstance(ref, str) and ref.strip():
        return ref.strip() if ref != ref.strip() else ref
    got = "an empty string" if isinstance(ref, str) else f"a {type(ref).__name__}"
    raise SpecError(f"expected a {kind} id, a path to a file, or a spec object; got {got}", field=kind)


def load_device(ref: str | os.PathLike | dict | Device) -> Device:
    """A device from a catalog id, a YAML path, a mapping of its fields, or a Device (returned as is)."""
    if isinstance(ref, Device):
        return ref
    if isinstance(ref, dict):
        check_tree(ref, "device")
        return build_spec(Device, {"id": "custom-device", **ref}, "device")
    ref = _ref_text(ref, "hardware")
    files = device_files()
    if ref not in files:
        ref = ref.lower() if ref.lower() in files else device_aliases().get(ref.lower(), ref)
    if ref in files:
        return _device_from_path(str(files[ref]))
    if _looks_like_path(ref):
        return _device_from_path(str(_path_or_error(ref)))
    raise UnknownIdError("hardware", ref, list(files) + list(system_files()))


def load_system(ref: str | os.PathLike | System) -> System:
    """A multi-device system from a catalog id or a YAML path."""
    if isinstance(ref, System):
        return ref
    ref = _ref_text(ref, "hardware")
    files = system_files()
    if ref in files:
        return _system_from_path(str(files[ref]))
    if _looks_like_path(ref):
        return _system_from_path(str(_path_or_error(ref)))
    raise UnknownIdError("hardware", ref, list(device_files()) + list(files))


def is_system_ref(ref: object) -> bool:
    """True when a hardware reference names a system rather than a single device."""
    if isinstance(ref, System):
        return True
    if isinstance(ref, os.PathLike):
        ref = os.fspath(ref)
    if not isinstance(ref, str):
        return False
    if ref in system_files():
        return True
    if ref in device_files() or ref.lower() in device_aliases() or not _looks_like_path(ref) or not is_file(Path(ref)):
        return False
    if not ref.endswith((".yaml", ".yml", ".json")):
        return False
    return "devices_per_node" in read_mapping(Path(ref))


def resolve_system(ref: str | Device | System, num_devices: int = 1) -> System:
    """The system an estimate runs on: a named system, or `num_devices` copies of a device."""
    if is_system_ref(ref):
        system = load_system(ref)  # type: ignore[arg-type]
        if num_devices > system.num_devices:
            raise SpecError(f"needs {num_devices} devices but the system has {system.num_devices}; "
                            "lower tp×pp or pick a larger system", source=system.id, field="devices_per_node")
        return system
    device = load_device(ref)  # type: ignore[arg-type]
    return System.single(device, num_devices)


_VARIANT_SUFFIXES = ("-instruct", "-chat", "-hf", "-it", "-base", "-fp8", "-awq", "-gptq", "-gguf")


@lru_cache(maxsize=4)
def _hf_repo_index(folder: Path, mtime_ns: int) -> dict[str, str]:
    del mtime_ns  # part of the cache key only
    index = {}
    for model_id, path in catalog_entries(folder).items():
        repo = str(read_mapping(path).get("hf_repo") or "").lower()
        if repo:
            index[repo] = model_id
            index.setdefault(repo.rsplit("/", 1)[-1], model_id)
    return index


def canonical_model_id(ref: str) -> str | None:
    """Catalog id for common spellings: HF repo ids (`meta-llama/Llama-3.1-8B-Instruct`), any case,
    and chat/instruct/quantized variants of a catalog architecture (`llama-2-7b-chat-hf`)."""
    folder = catalog_dir("workloads") / "models"
    try:
        repos = _hf_repo_index(folder, folder.stat().st_mtime_ns)
    except OSError:
        return None
    files = model_files()
    key = ref.strip().lower()
    if key in repos:
        return repos[key]
    name = key.rsplit("/", 1)[-1].removeprefix("meta-")
    while True:
        if name in files:
            return name
        if name in repos:
            return repos[name]
        stripped = next((name.removesuffix(sfx) for sfx in _VARIANT_SUFFIXES if name.endswith(sfx)), name)
        if stripped == name:
            return None
        name = stripped


def load_model(ref: str | os.PathLike | dict | ModelArch) -> ModelArch:
    """A model from a catalog id (or an HF repo id / variant of one), a perfmodel YAML, an HF config.json
    path, a mapping (perfmodel fields or an HF config), or a ModelArch (returned as is)."""
    if isinstance(ref, ModelArch):
        return ref
    if isinstance(ref, dict):
        check_tree(ref, "model")
        if looks_like_hf_config(ref):
            return model_from_hf_dict(ref)
        return build_spec(ModelArch, {"id": "custom-model", **ref}, "model")
    ref = _ref_text(ref, "model")
    files = model_files()
    if ref in files:
        return _model_from_path(str(files[ref]))
    if _looks_like_path(ref) and is_file(Path(ref).expanduser()):
        return _model_from_path(str(ref))
    canonical = canonical_model_id(ref)
    if canonical:
        return _model_from_path(str(files[canonical]))
    if _looks_like_path(ref) and ref.endswith((".yaml", ".yml", ".json")):
        return _model_from_path(str(_path_or_error(ref)))
    raise UnknownIdError("model", ref, files)


def model_from_hf_dict(config: dict, model_id: str = "hf-model") -> ModelArch:
    """A model from an in-memory Hugging Face config mapping (e.g. ``json.load`` of config.json)."""
    if not isinstance(config, dict):
        raise SpecError(f"expected a mapping of config.json fields (got a {type(config).__name__})", source=model_id)
    check_tree(config, model_id)
    return model_from_hf_config(json.loads(json.dumps(config)), source=model_id, model_id=model_id)
