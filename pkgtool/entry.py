"""Console entry point: answers --version before importing anything heavy (typer, jinja2)."""

from __future__ import annotations

import signal
import sys


def _interrupted_early(_signum, _frame):
    # Ctrl-C while typer and friends are still importing: the same one line and exit 130 as later on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stderr.write("pkgtool: interrupted\n")
    raise SystemExit(130)


def main() -> None:
    signal.signal(signal.SIGINT, _interrupted_early)
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        sys.stdout.write(f"pkgtool {__version__}\n")
        return
    from .cli import main as cli_main

    try:
        cli_main()
    finally:
        # The result is written and reported: a late Ctrl-C must not turn it into a death by signal
        # (at exit Python puts SIG_DFL back for its own handlers, but leaves SIG_IGN alone).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
