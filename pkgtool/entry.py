"""Console entry point: answers --version before importing anything heavy (typer, jinja2)."""

from __future__ import annotations

import sys


def _stop_signals() -> tuple:
    # Ctrl-C, a CI cancel, a closed terminal: what cli.py handles once it is imported (atomic.STOP_SIGNALS).
    # Imported here, not at the top: `signal` builds its enums, ~5 ms of a bare `pkgtool --version`.
    import signal

    return (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _interrupted_early(signum, _frame):
    import signal

    # A stop while typer and friends are still importing: the same one line and exit code as later on.
    for sig in _stop_signals():
        signal.signal(sig, signal.SIG_IGN)
    name = "" if signum == signal.SIGINT else f" ({signal.Signals(signum).name})"
    sys.stderr.write(f"pkgtool: interrupted{name}\n")
    raise SystemExit(128 + signum)


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        sys.stdout.write(f"pkgtool {__version__}\n")
        return
    import signal

    for sig in _stop_signals():
        signal.signal(sig, _interrupted_early)
    try:
        from .cli import main as cli_main
    except RuntimeError as exc:
        # A stop that lands while a class body is being built reaches us wrapped (__set_name__).
        if isinstance(exc.__cause__, SystemExit):
            raise exc.__cause__ from None
        raise

    try:
        cli_main()
    finally:
        # The result is written and reported: a late Ctrl-C must not turn it into a death by signal
        # (at exit Python puts SIG_DFL back for its own handlers, but leaves SIG_IGN alone).
        for sig in _stop_signals():
            signal.signal(sig, signal.SIG_IGN)
