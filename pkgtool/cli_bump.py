"""`pkgtool bump`: a new changelog entry (and version or release) in the map, like dch / rpmdev-bumpspec."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli_output import say
from .cli_support import DirArg, JsonOpt, emit_json, fail, source_date_epoch
from .errors import PkgtoolError


def bump(
    directory: DirArg = Path("."),
    message: Annotated[str, typer.Option("--message", "-m", help="The change, one line.")] = ...,  # type: ignore[assignment]
    version: Annotated[str | None, typer.Option("--version", help="The new upstream version.")] = None,
    release: Annotated[
        str | None, typer.Option("--release", help="The new release (default: 1 for a new version, else kept).")
    ] = None,
    author: Annotated[
        str | None,
        typer.Option("--author", help="'Name <mail>' (default: DEBFULLNAME/DEBEMAIL, else git user.name/email)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a [[changelog]] entry at the top, dated SOURCE_DATE_EPOCH or today; comments and order are kept."""
    try:
        from .bump import bump as do_bump

        done = do_bump(directory, message, version, release, author, source_date_epoch())
    except PkgtoolError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json({"ok": True, **done.to_dict()})
    else:
        say(f"{done.path}: {done.version}-{done.release}")
        say(done.entry.rstrip("\n"))
