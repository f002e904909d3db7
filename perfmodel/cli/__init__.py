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
from perfmodel.cli import catalog, estimate, plan, probe, simulate, tts, validate
from perfmodel.cli.common import err, install_flag_display
from perfmodel.errors import PerfModelError

install_flag_display()
app = typer.Typer(add_completion=False, no_args_is_help=True, help="Predict LLM inference cost on described hardware.",
                  context_settings={"help_option_names": ["-h", "--help"]})


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"perfmodel {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit")] = False,
) -> None:
    """Predict LLM inference cost on described hardware."""
    from perfmodel.deprecation import DeprecatedNameWarning

    warnings.filterwarnings("always", category=DeprecatedNameWarning)


app.command("estimate")(estimate.estimate_command)
app.add_typer(catalog.hardware_app, name="hardware")
app.add_typer(catalog.model_app, name="model")
app.add_typer(catalog.engine_app, name="engine")
app.command("validate")(validate.validate_command)
app.command("calibrate-engines")(validate.calibrate_engines_command)
app.add_typer(tts.tts_app, name="tts")
app.command("simulate")(simulate.simulate_command)
app.command("probe")(probe.probe_command)
app.command("calibrate")(probe.calibrate_command)
app.command("plan")(plan.plan_command)


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
    try:
        app(args=bare_e2e(sys.argv[1:]))
    except PerfModelError as exc:  # errors raised outside a command body
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
