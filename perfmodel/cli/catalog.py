"""`perfmodel hardware | model | engine`: the catalogs of devices, systems, models and engine profiles."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from perfmodel.cli.common import check_output, err, fail, out, print_json
from perfmodel.errors import PerfModelError

hardware_app = typer.Typer(no_args_is_help=True, help="Device and system catalog.")
model_app = typer.Typer(no_args_is_help=True, help="Model architecture catalog.")
engine_app = typer.Typer(no_args_is_help=True, help="Engine profiles.")


def _catalog_table(title: str, rows: list[tuple[str, ...]], columns: tuple[str, ...]) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    out.print(table)


@hardware_app.command("list")
def hardware_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List catalog devices and systems."""
    from perfmodel.specs.catalog import device_files, load_device, load_system, system_files

    devices = [load_device(i) for i in device_files()]
    systems = [load_system(i) for i in system_files()]
    if as_json:
        print_json({"devices": [d.id for d in devices], "systems": [s.id for s in systems]})
        return
    _catalog_table("devices", [
        (d.id, d.kind, d.name or "", f"{d.memory.capacity_gb:g} GB", f"{d.memory.bandwidth_gb_s:g} GB/s",
         ", ".join(f"{k} {v:g}" for k, v in d.compute_tflops.items())) for d in devices],
        ("id", "kind", "name", "memory", "bandwidth", "peak TFLOP/s"))
    _catalog_table("systems", [(s.id, s.name or "", f"{s.num_devices} × {s.device.id}") for s in systems],
                   ("id", "name", "devices"))


@hardware_app.command("show")
def hardware_show(ref: str) -> None:
    """Print one device or system spec as YAML."""
    import yaml

    from perfmodel.specs.catalog import load_device, load_system, system_files

    try:
        spec = load_system(ref) if ref in system_files() else load_device(ref)
    except PerfModelError as exc:
        fail(exc)
    out.print(yaml.safe_dump(spec.model_dump(exclude_none=True), sort_keys=False), highlight=False)


@hardware_app.command("detect")
def hardware_detect(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the YAML here")] = None,
) -> None:
    """Describe this machine's CPU as a device YAML (estimates, labelled as such)."""
    import yaml

    from perfmodel.specs.detect import detect_local_cpu
    from perfmodel.specs.device import Device

    check_output(output, "-o")
    spec = detect_local_cpu()
    Device.model_validate(spec)
    text = yaml.safe_dump(spec, sort_keys=False)
    if output is None:
        sys.stdout.write(text)
        return
    tmp = output.with_suffix(output.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(output)
    err.print(f"wrote {output}")


@model_app.command("list")
def model_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List catalog models with parameter counts."""
    from perfmodel.specs.catalog import load_model, model_files

    models = [load_model(i) for i in model_files()]
    if as_json:
        print_json([m.id for m in models])
        return
    _catalog_table("models", [
        (m.id, m.name or "", f"{m.total_params() / 1e9:.2f} B", f"{m.active_params() / 1e9:.2f} B",
         "MLA" if m.mla else f"{m.num_heads}/{m.kv_heads}", f"MoE {m.moe.num_experts}×top{m.moe.experts_per_token}"
         if m.moe else "dense") for m in models],
        ("id", "name", "params", "active", "heads q/kv", "mlp"))


@model_app.command("show")
def model_show(ref: str) -> None:
    """Print one model architecture as YAML, with derived counts."""
    import yaml

    from perfmodel.cost.config import Precision
    from perfmodel.cost.memory import kv_bytes
    from perfmodel.specs.catalog import load_model

    try:
        m = load_model(ref)
    except PerfModelError as exc:
        fail(exc)
    data = m.model_dump(exclude_none=True)
    data["derived"] = {"total_params": m.total_params(), "active_params": m.active_params(),
                       "kv_bytes_per_token_bf16": float(kv_bytes(m, Precision.of("bf16"), 1))}
    out.print(yaml.safe_dump(data, sort_keys=False), highlight=False)


@engine_app.command("list")
def engine_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List engine profiles: software versions, the hardware their data covers, and whether each is fitted."""
    from perfmodel.cost.engine import DEFAULT_ENGINE, engine_files, load_engine

    engines = [load_engine(n) for n in engine_files()]
    if as_json:
        print_json({e.name: {"calibrated": e.calibrated, "default": e.name == DEFAULT_ENGINE, "family": e.family,
                             "software": e.software, "hardware": list(e.hardware), "description": e.description}
                    for e in engines})
        return
    rows = [(e.name + (" (default)" if e.name == DEFAULT_ENGINE else ""), "fitted" if e.calibrated else "prior",
             e.software or "", ", ".join(e.hardware) or "none", e.description) for e in engines]
    _catalog_table("engines", rows, ("name", "status", "software", "data covers", "description"))

