"""What every command shares: the consoles, one-line errors, strict JSON, output-path checks, renamed flags."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from perfmodel.errors import PerfModelError

out = Console()
err = Console(stderr=True)


def fail(exc: PerfModelError) -> None:
    """Print a user error as one line and exit with its code (2, or 3 for a configuration that does not fit)."""
    err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=exc.exit_code)


def finite(data: Any) -> Any:
    """`data` with NaN and infinite floats replaced by None (strict JSON has neither)."""
    if isinstance(data, dict):
        return {k: finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [finite(v) for v in data]
    if hasattr(data, "item") and not isinstance(data, str | bytes):
        try:
            data = data.item()
        except (ValueError, TypeError):
            return data
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data


def print_json(data: Any) -> None:
    """One strict-JSON object on stdout (numpy scalars as numbers, NaN and infinities as null)."""
    sys.stdout.write(json.dumps(finite(data), indent=2, default=float, allow_nan=False) + "\n")


def check_output(path: Path | None, flag: str) -> None:
    """Refuse an output path whose folder does not exist or cannot be written (before any work is done)."""
    if path is None:
        return
    folder = path.expanduser().parent
    if path.expanduser().is_dir():
        fail(PerfModelError(f"{flag} {path}: is a folder; give a file name"))
    if not folder.is_dir():
        fail(PerfModelError(f"{flag} {path}: folder {folder} does not exist; create it first"))
    if not os.access(folder, os.W_OK):
        fail(PerfModelError(f"{flag} {path}: folder {folder} is not writable"))


def check_output_dir(path: Path | None, flag: str) -> None:
    """Refuse an output folder whose parent does not exist (the folder itself may be created)."""
    if path is None:
        return
    if path.expanduser().exists() and not path.expanduser().is_dir():
        fail(PerfModelError(f"{flag} {path}: exists and is not a folder"))
    if not path.expanduser().exists():
        check_output(path, flag)


def engine_notice(name: str | None) -> None:
    """One line on stderr when an engine name has no profile and the generic one stands in."""
    if not name or name.endswith((".yaml", ".yml")):
        return
    from perfmodel.cost.engine import canonical_engine_name, engine_files

    if canonical_engine_name(name) not in engine_files():
        err.print(f"[yellow]note:[/] no engine profile named '{name}'; using 'generic' (a typical engine). "
                  "See `perfmodel engine list`.", highlight=False, soft_wrap=True)


def renamed_flag(new_value: Any, old_value: Any, new_flag: str, old_flag: str) -> Any:
    """The value of `new_flag`, or of its deprecated spelling `old_flag` (with a one-line warning)."""
    if old_value is None:
        return new_value
    if new_value is not None:
        fail(PerfModelError(f"give {new_flag} only ({old_flag} is its deprecated spelling)"))
    err.print(f"[yellow]warning:[/] {old_flag} is deprecated; use {new_flag} (the old flag goes in the next release)",
              highlight=False, soft_wrap=True)
    return old_value


def install_flag_display() -> None:
    """Show boolean flags without a `<bool>` value placeholder in `--help` (they take no value)."""
    from typer.core import TyperOption

    original = getattr(TyperOption, "display_type_rich", None)
    if original is None or getattr(original, "_perfmodel_flags", False):
        return  # typer releases without the placeholder hook already show flags bare

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else original(self, ctx)

    display_type_rich._perfmodel_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
