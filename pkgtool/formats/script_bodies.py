"""How a packager's [scripts] body runs, the same in every format.

The one semantics (docs/rpm.md, docs/debian.md): the body is fed verbatim to
its own interpreter (its shebang, or /bin/sh) through a quoted here-document.
No shell option of the generated script reaches it (no ``set -e`` from
Debian's wrapper, nothing from rpm's), it gets no arguments, its ``exit``
ends only itself, and a non-zero exit status fails the scriptlet or
maintainer script with that status.  Generated code (accounts, owners)
runs around it in the format's own script.
"""

from __future__ import annotations

import posixpath
import re
import shlex

_SHELLS = {"sh", "bash", "dash", "ksh", "zsh", "ash"}


def interpreter(text: str) -> str:
    """The command that reads the script on stdin: its shebang's interpreter, or /bin/sh."""
    first = text.split("\n", 1)[0]
    words = first[2:].split() if first.startswith("#!") else []
    if not words:
        return "/bin/sh -s"
    cmd = " ".join(shlex.quote(w) for w in words)
    name = posixpath.basename(words[-1] if posixpath.basename(words[0]) == "env" else words[0])
    return f"{cmd} -s" if name in _SHELLS else f"{cmd} -"


def heredoc_marker(text: str, event: str) -> str:
    """A here-document terminator that no line of ``text`` equals."""
    base = "PKGTOOL_" + re.sub(r"[^A-Z0-9]", "_", event.upper())
    lines = set(text.splitlines())
    marker, n = base, 0
    while marker in lines:
        n += 1
        marker = f"{base}_{n}"
    return marker


def run_verbatim(text: str, event: str) -> str:
    """Shell lines that run ``text`` in its interpreter and pass a failure on as ``exit STATUS``."""
    if not text.endswith("\n"):
        text += "\n"
    marker = heredoc_marker(text, event)
    return f"{interpreter(text)} <<'{marker}' || exit $?\n{text}{marker}"
