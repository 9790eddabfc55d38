"""Human output, in one place: colour on a terminal, --quiet and --verbose.

Every line the commands print for a person goes through ``say``; --json output does not (it is
data, never coloured nor hidden).  Colour only when the stream is a terminal, NO_COLOR is unset
or empty (https://no-color.org) and --no-color was not given; severities are coloured where the
text says them (``error:``, ``warning:``, ``info:``), so the text itself stays one format.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from enum import IntEnum

import typer


class Level(IntEnum):
    ERROR = 0  # said even with --quiet
    NORMAL = 1
    DETAIL = 2  # said only with --verbose


@dataclass
class Output:
    """The global options of this run (one process, one command: the root callback sets them)."""

    verbosity: Level = Level.NORMAL
    no_color: bool = False


OUTPUT = Output()

_SGR = {"error": "\x1b[1;31m", "warning": "\x1b[33m", "info": "\x1b[36m"}
_RESET = "\x1b[0m"
# The severity word as Diagnostic.to_text and fail() write it: at the start of a line or after ': '.
_SEVERITY = re.compile(r"(^|: |\s\s)(error|warning|info)(?=: )")


def configure(quiet: bool, verbose: bool, no_color: bool) -> None:
    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose do not go together")
    OUTPUT.verbosity = Level.ERROR if quiet else Level.DETAIL if verbose else Level.NORMAL
    OUTPUT.no_color = no_color


def use_color(err: bool) -> bool:
    stream = sys.stderr if err else sys.stdout
    if OUTPUT.no_color or os.environ.get("NO_COLOR", "") != "":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def colorize(text: str) -> str:
    """Each line's first severity word in its colour."""

    def one(line: str) -> str:
        return _SEVERITY.sub(lambda m: f"{m[1]}{_SGR[m[2]]}{m[2]}{_RESET}", line, count=1)

    return "\n".join(one(line) for line in text.split("\n"))


def wanted(level: Level) -> bool:
    return level <= OUTPUT.verbosity


def say(text: str, err: bool = False, level: Level = Level.NORMAL) -> None:
    if not wanted(level):
        return
    typer.echo(colorize(text) if use_color(err) else text, err=err)
