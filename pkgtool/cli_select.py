"""Start-up: run the application with only the command being run turned into a click command.

Typer turns every registered command into a click one (signature read, type hints evaluated) on
each run, about 20 ms for all of pkgtool's; one command costs well under 1 ms.
"""

from __future__ import annotations

import copy

import typer
from typer.main import get_command_name

# The root options that may come before a command: flags only (no value), so the first other
# word names the command.  tests/test_import_budget.py holds this to the root callback's options.
ROOT_FLAGS = frozenset({"--quiet", "-q", "--verbose", "-v", "--no-color"})


def command_name(args: list[str]) -> str | None:
    """The command word of a command line, or None when something else (--help, --version) comes first."""
    for word in args:
        if word not in ROOT_FLAGS:
            return None if word.startswith("-") else word
    return None


def app_for(app: typer.Typer, args: list[str]) -> typer.Typer:
    """``app`` with only the command (or command group) named in ``args`` registered.

    No command, --help or --version first, or an unknown name: ``app`` itself, so the root help,
    "No such command" and its suggestions read exactly as before.
    """
    name = command_name(args)
    commands = [c for c in app.registered_commands if (c.name or get_command_name(c.callback.__name__)) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    only = copy.copy(app)  # shallow: the module's app keeps every command (tests, shell completion)
    only.registered_commands, only.registered_groups = commands, groups
    return only
