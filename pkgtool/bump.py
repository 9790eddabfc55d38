"""`pkgtool bump`: a new [[changelog]] entry at the top, and a new version/release, like dch or rpmdev-bumpspec.

The map is edited as text, line by line at the lines the loader's position scanner
(layout.tomlpos) gives, so its comments, blank lines and key order stay byte for
byte; only the version and release lines change and the new entry is inserted.
The result is loaded again before this returns; a map that would not load is put back.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_bytes_atomic
from .diagnostics import Diagnostic, Severity
from .errors import LayoutError, UsageError
from .layout.grammar import MAINTAINER_RE, RELEASE_RE, VERSION_RE
from .layout.load import MAP_NAME, display_path, load_layout
from .layout.tomlpos import scan
from .model import Location

# `version = "1.0"  # comment`: the key, its string value, and whatever follows on the line.
_VALUE_LINE = re.compile(r"""^(?P<key>\s*(?P<name>[A-Za-z_-]+)\s*=\s*)(?P<value>"[^"\n]*"|'[^'\n]*')(?P<rest>.*)$""")


@dataclass(frozen=True)
class Bump:
    path: Path
    version: str
    release: str
    entry: str  # the [[changelog]] block inserted

    def to_dict(self) -> dict:
        return {"path": str(self.path), "version": self.version, "release": self.release, "entry": self.entry}


def vercmp(a: str, b: str) -> int:
    """rpmvercmp's order, enough for versions the loader accepts: digits beat letters, numbers compare as numbers.

    A '~' sorts before anything (1.0~rc1 < 1.0), as rpm and dpkg agree.
    """
    if a == b:
        return 0
    pa, pb = a.split("~", 1), b.split("~", 1)
    if pa[0] != pb[0]:
        sa, sb = re.findall(r"\d+|[A-Za-z]+", pa[0]), re.findall(r"\d+|[A-Za-z]+", pb[0])
        for x, y in zip(sa, sb, strict=False):
            if x == y:
                continue
            if x.isdigit() != y.isdigit():
                return 1 if x.isdigit() else -1
            if x.isdigit():
                return 1 if int(x) > int(y) else -1
            return 1 if x > y else -1
        if len(sa) != len(sb):
            return 1 if len(sa) > len(sb) else -1
        return 0
    if len(pa) != len(pb):  # the same base: the one without a tilde is newer
        return 1 if len(pa) == 1 else -1
    return vercmp(pa[1], pb[1])


def find_author(given: str | None, env: Mapping[str, str], cwd: Path) -> str | None:
    """--author, else DEBFULLNAME + DEBEMAIL (as dch), else git's user.name + user.email; None when none is set."""
    if given:
        return given
    mail, name = env.get("DEBEMAIL", "").strip(), env.get("DEBFULLNAME", "").strip()
    both = re.fullmatch(r"(.*?)\s*<(.*)>", mail)
    if both:  # DEBEMAIL="Name <mail>", as dch reads it: DEBFULLNAME, when set, still names
        name, mail = name or both[1].strip(), both[2].strip()
    if mail and name:
        return f"{name} <{mail}>"
    name, email = _git_config("user.name", cwd, env), _git_config("user.email", cwd, env)
    return f"{name} <{email}>" if name and email else None


def _git_config(key: str, cwd: Path, env: Mapping[str, str]) -> str:
    try:
        proc = subprocess.run(
            ["git", "config", "--get", key], cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def _error(rule: str, source: Path, key: str, line: int | None, message: str, hint: str) -> UsageError:
    """A refusal located in the map, with the loader's rule ids (`pkgtool explain` knows them)."""
    diag = Diagnostic(rule, Severity.ERROR, message, Location(display_path(source), key, line), hint)
    return UsageError(message, diagnostics=[diag])  # the hint is the diagnostic's: said once


def _set_value(lines: list[str], line: int, value: str, source: Path, key: str) -> None:
    m = _VALUE_LINE.match(lines[line - 1]) if line else None
    if not m or m["name"] != key.rsplit(".", 1)[-1]:
        raise _error(
            "bad-value",
            source,
            key,
            line,
            f"cannot edit {key}: not a one-line string on its own line",
            "edit it by hand",
        )
    lines[line - 1] = f"{m['key']}{json.dumps(value)}{m['rest']}"


def bump(
    project_dir: Path,
    message: str,
    version: str | None = None,
    release: str | None = None,
    author: str | None = None,
    epoch: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Bump:
    """Add a changelog entry (newest first) and set [package] version/release when given; return what was done.

    A new version without --release starts the release again at "1", as rpmdev-bumpspec -n does.
    """
    env = os.environ if env is None else env
    layout = load_layout(project_dir)
    source = Path(layout.source_file)
    pkg = layout.package
    text = source.read_bytes().decode("utf-8")  # as it is: read_text would turn CRLF into LF
    pos = scan(text)
    if "\n" in message or not message.strip():
        raise UsageError("the change (-m) must be one non-empty line")
    new_version = version or pkg.version
    new_release = release or ("1" if version and version != pkg.version else pkg.release)
    for what, value, rx in (("version", new_version, VERSION_RE), ("release", new_release, RELEASE_RE)):
        if not rx.fullmatch(value):
            raise UsageError(f"{what} {value!r} is not valid", hint=f"a {what} is letters, digits, '.', '+', '~'")
    order = vercmp(new_version, pkg.version) or vercmp(new_release, pkg.release)
    if order < 0:
        line = pos.exact(("package", "version"))
        raise _error(
            "bad-value",
            source,
            "package.version",
            line,
            f"{new_version}-{new_release} is lower than the current {pkg.version}-{pkg.release}",
            "a bump never goes back; give a higher --version or --release",
        )
    who = find_author(author, env, source.parent)
    first = pos.exact(("changelog", 0))
    if who is None:
        raise _error(
            "missing-key",
            source,
            "changelog[0].author",
            first,
            "no author for the changelog entry",
            "give --author 'Name <mail>', or set DEBFULLNAME and DEBEMAIL, or git config user.name/user.email",
        )
    if not MAINTAINER_RE.fullmatch(who):
        raise UsageError(f"author {who!r} is not 'Name <mail>'", hint="such as --author 'Jane Doe <jane@example.org>'")
    when = _dt.datetime.fromtimestamp(epoch, _dt.UTC).date() if epoch is not None else _dt.date.today()

    nl = "\r\n" if "\r\n" in text else "\n"  # a map written on Windows stays CRLF
    lines = text.split(nl)
    if version:
        _set_value(lines, pos.exact(("package", "version")) or 0, new_version, source, "package.version")
    release_line = pos.exact(("package", "release"))
    if release_line:
        _set_value(lines, release_line, new_release, source, "package.release")
    elif new_release != "1":  # the loader's default: a release of 1 needs no line
        vline = pos.exact(("package", "version")) or 0
        m = _VALUE_LINE.match(lines[vline - 1]) if vline else None
        if not m or m["name"] != "version":
            raise _error(
                "bad-value", source, "package.version", vline or None, "cannot add a release line", "add it by hand"
            )
        lines.insert(vline, f"{m['key'].split('version')[0]}release = {json.dumps(new_release)}")
        first = first + 1 if first and first > vline else first
    entry = (
        f'[[changelog]]\nversion = {json.dumps(f"{new_version}-{new_release}")}\ndate = "{when.isoformat()}"\n'
        f"author = {json.dumps(who)}\nchanges = [{json.dumps(message.strip())}]\n"
    )
    if first and lines[first - 1].strip().replace(" ", "") != "[[changelog]]":
        raise _error(
            "bad-value",
            source,
            "changelog",
            first,
            "cannot add an entry: the changelog is not written as [[changelog]] tables",
            "write each entry as a [[changelog]] table, or add this one by hand",
        )
    if first:  # before the newest entry, the blank line after it keeping the two apart
        lines[first - 1 : first - 1] = [*entry.rstrip("\n").split("\n"), ""]
    else:
        while lines and lines[-1] == "":
            lines.pop()
        lines += ["", *entry.rstrip("\n").split("\n"), ""]
    new_text = nl.join(lines)
    original = source.read_bytes()
    mode = source.stat().st_mode & 0o7777
    write_bytes_atomic(source, new_text.encode("utf-8"), mode)
    try:
        load_layout(source if source.name == MAP_NAME else project_dir)
    except LayoutError:
        write_bytes_atomic(source, original, mode)  # never leave a map that does not load
        raise
    return Bump(source, new_version, new_release, entry)
