"""The grammar of profile values that reach an output, checked once where a profile is loaded.

A project's own distros/*.toml is input like its map: these values land in the spec, in
`rpmbuild --define`, in debian/control and debian/changelog without a further escape.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .errors import ProfileError
from .model import Location


def profile_error(loc: Location, msg: str, hint: str = "") -> ProfileError:
    """``FILE:LINE: KEY: msg``: one problem, so one line (the load stops at the first)."""
    return ProfileError(f"{loc}: {msg}", hint=hint)


# Every profile value that reaches an output, by type: what it may hold there.  A project's
# own distros/*.toml is input like its map, and these values land in the spec, in
# `rpmbuild --define`, in debian/control and debian/changelog without a further escape.
_DIST_TAG = re.compile(r"(\.[A-Za-z0-9_.+~]+)?")
# A macro reference by name only: no arguments, no %(...) shell, no %{lua:...}.
_MACRO_REF = re.compile(r"%\{[A-Za-z_][A-Za-z0-9_]*\}")
# Debian policy 5.6.11: major.minor.patch[.minor-patch].
_STANDARDS_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+(\.[0-9]+)?")
# A package name in an rpm or a Debian relation (rpm's file and `name(...)` provides included).
_DEP_NAME = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_.+~:()/-]*")
# Directories reach spec lines, shell words and %global: a plain absolute path.
_DIR = re.compile(r"/|(/[A-Za-z0-9_.+~@-]+)+")
# debian/changelog's distribution field: dist names separated by single spaces.
_DISTRIBUTION = re.compile(r"[a-z0-9][a-z0-9.+-]*( [a-z0-9][a-z0-9.+-]*)*")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# export ci writes these into YAML and shell lines: an image reference, a python name, and
# commands of plain words (no quotes, $, ;, |, & or globs), so no quoting can be got wrong.
_CI_IMAGE = re.compile(r"[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?")
_CI_PYTHON = re.compile(r"python3(\.[0-9]+)?")
_CI_COMMAND = re.compile(r"[A-Za-z0-9_./=+:@,-]+( [A-Za-z0-9_./=+:@,-]+)*")


def check_values(d: dict, at: Callable[..., Location]) -> None:
    """Refuse a value that would not reach its output as the data it is (see the patterns above)."""

    def need(ok: bool, parts: tuple[str, ...], value: object, what: str) -> None:
        if not ok:
            raise profile_error(at(*parts), f"{value!r} is not {what}")

    for key in ("release", "description"):
        value = d.get(key, "")
        need(not CONTROL.search(value), (key,), value, "one line of text")
    dist_tag = d.get("dist_tag", "")
    need(bool(_DIST_TAG.fullmatch(dist_tag)), ("dist_tag",), dist_tag, "a dist tag ('.' then letters, digits, _ . + ~)")
    sv = d.get("standards_version", "")
    need(
        not sv or bool(_STANDARDS_VERSION.fullmatch(sv)),
        ("standards_version",),
        sv,
        "a Debian Standards-Version (like 4.6.2)",
    )
    for name, value in d.get("dirs", {}).items():
        segments = value.split("/")
        ok = bool(_DIR.fullmatch(value)) and "." not in segments and ".." not in segments
        need(ok, ("dirs", name), value, "a plain absolute path (letters, digits, _ . + ~ @ -)")
    for name, value in d.get("rpm_macros", {}).items():
        # '' removes an inherited macro.
        need(
            not value or bool(_MACRO_REF.fullmatch(value)),
            ("rpm_macros", name),
            value,
            "a macro reference like %{_bindir}",
        )
    for name, value in d.get("names", {}).items():
        need(not value or bool(_DEP_NAME.fullmatch(value)), ("names", name), value, "a package name")
    for pattern in (*d.get("system_dirs", []), *d.get("auto_config_dirs", [])):
        if CONTROL.search(pattern):
            key = "system_dirs" if pattern in d.get("system_dirs", []) else "auto_config_dirs"
            raise profile_error(at(key), f"{pattern!r} holds a control character")
    for key, pattern, what in (
        ("ci_image", _CI_IMAGE, "a container image (like debian:12)"),
        ("ci_python", _CI_PYTHON, "a Python command (python3 or python3.N)"),
    ):
        value = d.get(key, "")
        need(not value or bool(pattern.fullmatch(value)), (key,), value, what)
    for command in d.get("ci_install", []):
        need(bool(_CI_COMMAND.fullmatch(command)), ("ci_install",), command, "a command of plain words")
    extra = d.get("extra", {})
    if "changelog_distribution" in extra:
        value = extra["changelog_distribution"]
        ok = isinstance(value, str) and bool(_DISTRIBUTION.fullmatch(value))
        need(ok, ("extra", "changelog_distribution"), value, "a Debian distribution name")
    # Python byte-code: the interpreter's name and compileall's arguments come from these.
    if "python3_version" in extra:
        value = extra["python3_version"]
        ok = isinstance(value, str) and bool(re.fullmatch(r"3\.[0-9]{1,2}", value))
        need(ok, ("extra", "python3_version"), value, "a Python 3 version like 3.12")
    if "python_bytecode_opt" in extra:
        value = extra["python_bytecode_opt"]
        ok = isinstance(value, list) and all(type(v) is int and v in (0, 1, 2) for v in value)
        need(ok, ("extra", "python_bytecode_opt"), value, "a list of optimisation levels 0, 1, 2")
    if "python_bytecode_invalidation" in extra:
        value = extra["python_bytecode_invalidation"]
        ok = value in ("timestamp", "checked-hash", "unchecked-hash")
        need(ok, ("extra", "python_bytecode_invalidation"), value, "timestamp, checked-hash or unchecked-hash")
    if "mangle_shebangs" in extra:
        need(
            type(extra["mangle_shebangs"]) is bool,
            ("extra", "mangle_shebangs"),
            extra["mangle_shebangs"],
            "true or false",
        )
