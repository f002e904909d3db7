"""Regenerate docs/reference/cli.md from the CLI's own --help output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

COMMANDS = [[], ["estimate"], ["simulate"], ["plan"], ["tts", "cost"], ["tts", "frontier"], ["probe"], ["calibrate"],
            ["validate"], ["calibrate-engines"], ["hardware", "list"], ["hardware", "show"], ["hardware", "detect"],
            ["model", "list"], ["model", "show"], ["engine", "list"]]
RUN = "import sys; sys.argv[0] = 'perfmodel'; from perfmodel.cli import main; main()"
HEAD = """# CLI reference

Generated from `perfmodel COMMAND --help` (regenerate with `python docs/gen_cli.py`). A user mistake
prints one line naming the file, field and fix, and exits with code 2.
"""


def main() -> None:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "100"}
    parts = [HEAD]
    for cmd in COMMANDS:
        out = subprocess.run([sys.executable, "-c", RUN, *cmd, "--help"], capture_output=True, text=True, env=env,
                             check=True).stdout
        text = "\n".join(line.rstrip() for line in out.strip("\n").splitlines())
        parts.append(f"## perfmodel {' '.join(cmd)}".rstrip() + "\n\n```text\n" + text + "\n```\n")
    Path(__file__).with_name("reference").joinpath("cli.md").write_text("\n".join(parts))


if __name__ == "__main__":
    main()
