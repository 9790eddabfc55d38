"""Console entry point: answers --version before importing anything heavy (typer, jinja2)."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        sys.stdout.write(f"pkgtool {__version__}\n")
        return
    from .cli import main as cli_main

    cli_main()
