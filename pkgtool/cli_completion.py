"""`pkgtool completion bash|zsh|fish`: the shell's completion script, from Typer's own completion machinery.

The root app is built with add_completion=False (no --install-completion: it would edit the
user's rc files).  Instead the script is printed for the user to put where the shell reads
it, and the completion requests it makes (_PKGTOOL_COMPLETE=complete_<shell>) are answered
by Typer's completion classes, registered only when such a request comes in.
"""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Annotated

import typer

PROG = "pkgtool"
COMPLETE_VAR = "_PKGTOOL_COMPLETE"


class Shell(StrEnum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def completion(shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.")]) -> None:
    """Print the shell completion script: `pkgtool completion bash > ~/.local/share/bash-completion/completions/pkgtool`."""
    # Typer <0.29 (pinned) keeps the scripts in _completion_shared; the function is what
    # --show-completion prints.
    from typer._completion_shared import get_completion_script

    typer.echo(get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=shell.value))


def answer_completion_requests() -> None:
    """Register Typer's completion classes when the shell asks for completions (and only then: start-up)."""
    if os.environ.get(COMPLETE_VAR):
        from typer._completion_classes import completion_init

        completion_init()
