"""Command-line interface: `perfmodel estimate | simulate | tts | plan | probe | calibrate | validate | …`.

One module per command group; each imports the cost core only when its command runs, so `perfmodel
--help` and usage errors return quickly. User mistakes print one line and exit 2 (3 when `--strict`
and the configuration does not fit); no tracebacks.
"""

from __future__ import annotations

import sys
import warnings
from typing import Annotated

import typer

from perfmodel._version import __version__
from perfmodel.cli.common import err, install_flag_display

try:  # typer >= 0.2x carries its own click
    from typer._click.exceptions import ClickException as _ClickException
except ImportError:  # pragma: no cover - older typer on click
    from click.exceptions import ClickException as _ClickException
from perfmodel.errors import PerfModelError

install_flag_display()

# Top-level commands: name -> (module in perfmodel.cli, attribute, a command function or a sub-app).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "estimate": ("estimate", "estimate_command", "command"),
    "hardware": ("catalog", "hardware_app", "group"),
    "model": ("catalog", "model_app", "group"),
    "engine": ("catalog", "engine_app", "group"),
    "validate": ("validate", "validate_command", "command"),
    "calibrate-engines": ("validate", "calibrate_engines_command", "command"),
    "tts": ("tts", "tts_app", "group"),
    "simulate": ("simulate", "simulate_command", "command"),
    "probe": ("probe", "probe_command", "command"),
    "calibrate": ("probe", "calibrate_command", "command"),
    "plan": ("plan", "plan_command", "command"),
}


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"perfmodel {__version__}\n")
        raise typer.Exit()


def _root(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit")] = False,
) -> None:
    """Predict LLM inference cost on described hardware."""
    from perfmodel.deprecation import DeprecatedNameWarning

    warnings.filterwarnings("always", category=DeprecatedNameWarning)


def build_app(only: str | None = None) -> typer.Typer:
    """The CLI app with every command, or with just `only` (what one invocation needs: its module alone is
    imported and its options alone are built, which keeps usage errors fast)."""
    from importlib import import_module

    root = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="Predict LLM inference cost on described hardware.",
                       context_settings={"help_option_names": ["-h", "--help"]})
    root.callback()(_root)
    for name, (module, attr, kind) in COMMANDS.items():
        if only is not None and name != only:
            continue
        target = getattr(import_module(f"perfmodel.cli.{module}"), attr)
        if kind == "group":
            root.add_typer(target, name=name)
        else:
            root.command(name)(target)
    return root


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # the full app, built on first use (tests and `python -m perfmodel.cli`)
        globals()["app"] = built = build_app()
        return built
    raise AttributeError(f"module 'perfmodel.cli' has no attribute {name!r}")


def bare_e2e(argv: list[str]) -> list[str]:
    """`probe --e2e` with no model after it means the default models (`--e2e default`)."""
    out = []
    for i, arg in enumerate(argv):
        out.append(arg)
        if arg == "--e2e" and (i + 1 == len(argv) or argv[i + 1].startswith("-")):
            out.append("default")
    return out


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    err.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


def main() -> None:
    """Entry point: run the CLI, turning any :class:`PerfModelError` into a one-line message."""
    warnings.showwarning = _one_line_warning
    args = bare_e2e(sys.argv[1:])
    only = args[0] if args and (args[0] in COMMANDS or args[0] == "--version") else None
    try:
        code = build_app(only)(args=args, standalone_mode=False)
    except PerfModelError as exc:  # errors raised outside a command body
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
    except _ClickException as exc:  # a usage error: one line, with where to look
        where = exc.ctx.command_path if getattr(exc, "ctx", None) is not None else "perfmodel"
        err.print(f"[bold red]error:[/] {exc.format_message()} (see '{where} -h')", highlight=False,
                  soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        err.print("aborted", highlight=False)
        raise SystemExit(1) from None
    raise SystemExit(code if isinstance(code, int) else 0)
