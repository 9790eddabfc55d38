"""The names pkgtool keeps for its own bookkeeping inside an install root.

A package must never deploy one of them: a file planted under the journal's
name, a temp sibling's name or the records directory would be taken for
pkgtool's own (a forged journal "recovered" by the next install).  resolve
refuses them with ``bookkeeping_reason``; install and recovery use the same
names from here.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re

JOURNAL_PREFIX = ".pkgtool-journal."  # ROOT/.pkgtool-journal.NAME
# Install manifests: RECORDS_DIR/NAME.json, one hidden directory at the top of the root, so
# nothing else in the root can be mistaken for package content.
RECORDS_DIR = "/.pkgtool"
MANIFEST_FORMAT = "pkgtool-install-manifest"
# Every temp name pkgtool makes carries ".pkgtool-" (install's ".NAME.pkgtool-new-PID-N" and
# "-old-" siblings, atomic output's ".NAME.pkgtool-tmp-XXXX", the journal itself).
_MARK = ".pkgtool-"
_TMP = re.compile(r"\.(?P<name>.+)\.pkgtool-(?P<tag>new|old)-(?P<pid>[0-9]+)-(?P<n>[0-9]+)")
NAME_MAX = 255  # bytes of one path component on Linux filesystems

_counter = itertools.count()


def journal_name(package: str) -> str:
    return JOURNAL_PREFIX + package


def manifest_path(package: str) -> str:
    return f"{RECORDS_DIR}/{package}.json"


def bookkeeping_reason(path: str) -> str | None:
    """Why deployed ``path`` (absolute, normalised) is one of pkgtool's own names, or None."""
    if path == RECORDS_DIR or path.startswith(RECORDS_DIR + "/"):
        return f"is under {RECORDS_DIR}, where pkgtool keeps its install records"
    if _MARK in path:
        name = next(part for part in path.split("/") if _MARK in part)
        return f"has a component ({name!r}) named like pkgtool's journal and temporary files ('{_MARK}')"
    return None


def _short(name: str) -> str:
    # A name near the limit: keep a readable head and a digest, so the sibling stays unique and legal.
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:16]
    return os.fsencode(name)[:100].decode("utf-8", "ignore") + "~" + digest


def might_be_bookkeeping(text: str) -> bool:
    """False when no path in ``text`` (many paths, joined) can be one of pkgtool's names: a fast pre-check."""
    return _MARK in text or RECORDS_DIR in text


def tmp_name(name: str, tag: str) -> str:
    """A temp sibling of ``name`` for one install ('new' content, 'old' backup); unique in this process."""
    tail = f".pkgtool-{tag}-{os.getpid()}-{next(_counter)}"
    if len(os.fsencode(name)) + len(tail) + 1 > NAME_MAX:
        name = _short(name)
    return f".{name}{tail}"


def is_tmp_of(tmp: str, name: str, tag: str) -> bool:
    """True when ``tmp`` is a name tmp_name(name, tag) can return: recovery touches nothing else."""
    m = _TMP.fullmatch(tmp)
    return m is not None and m.group("tag") == tag and m.group("name") in (name, _short(name))
