"""Read and validate pkgtool.toml into a frozen Layout; every problem of a file is reported at once.

Each diagnostic names the file, the key path (``tree[2].mode``) and the line
(found by pkgtool.tomlpos, since tomllib gives none).  ``[distro.<id>]``
tables are merged into the top level and each variant is validated fully;
a problem written once is reported once, at the place it was written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, Severity, sort_key
from ..errors import LayoutError
from ..model import (
    PLUGIN_KINDS,
    RELATION_KINDS,
    SCHEMA_VERSION,
    SCRIPT_EVENTS,
    AttrRule,
    ChangelogEntry,
    ConfigKind,
    DirSpec,
    FileSpec,
    Layout,
    Location,
    Package,
    PatchSpec,
    Relation,
    SymlinkSpec,
    TreeSpec,
)
from .tomlpos import KeyPath, LimitExceeded, Limits, Positions, check_limits, format_path

MAP_NAME = "pkgtool.toml"

PACKAGE_KEYS = (
    "name",
    "version",
    "release",
    "epoch",
    "summary",
    "description",
    "license",
    "url",
    "vendor",
    "maintainer",
    "arch",
    "kind",
    "section",
)
PACKAGE_REQUIRED = ("name", "version", "summary", "description", "license", "maintainer")
CONTENT_KEYS = ("tree", "file", "dir", "symlink", "attr")
# Everything a [distro.<id>] table may override.
# A patch file name as rpm, quilt and dpkg-source all take it literally.
PATCH_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+~-]*")

SECTION_KEYS = ("package", *RELATION_KINDS, *CONTENT_KEYS, "scripts", "patch", "changelog", "lint")
TOP_KEYS = ("schema", *SECTION_KEYS, "distro")
# Tables of scalars merged key by key in a [distro.<id>] override; the rest are replaced whole.
MERGED_SECTIONS = ("package", *RELATION_KINDS)

TREE_KEYS = ("src", "dst", "mode", "dir-mode", "owner", "group", "exclude", "doc", "license", "allow")
FILE_KEYS = ("src", "dst", "mode", "owner", "group", "config", "doc", "license", "allow")
DIR_KEYS = ("path", "mode", "owner", "group", "allow")
SYMLINK_KEYS = ("path", "target", "allow")
ATTR_KEYS = ("path", "mode", "owner", "group", "allow")
PATCH_KEYS = ("file", "strip")
CHANGELOG_KEYS = ("version", "date", "author", "changes")
LINT_KEYS = ("allow",)

MAX_SUMMARY = 79

NAME_RE = re.compile(r"[a-z0-9][a-z0-9+.-]*")
VERSION_RE = re.compile(r"[0-9][A-Za-z0-9.+~]*")
RELEASE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+~]*")
ARCH_RE = re.compile(r"[a-z0-9_]+")
# A Debian section ([area/]section) or an RPM group: dpkg-genchanges writes it as one word
# of the .changes Files line, so no space, no '$' and nothing a substvar could open.
SECTION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._-]*(/[A-Za-z0-9][A-Za-z0-9+._-]*)?")
MAINTAINER_RE = re.compile(r"[^<>@\s][^<>@]*? <[^<>@\s]+@[^<>@\s]+>")
OWNER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?")
RELATION_NAME_RE = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_+.:/()-]*")
CONSTRAINT_RE = re.compile(r"(?P<op>[<>=!~^]+)\s*(?P<version>.*)")
CONSTRAINT_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+~:_-]*")
CHANGELOG_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+~:_-]*")
DISTRO_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
MODE_RE = re.compile(r"[0-7]{3,4}")

# Operators as written -> the map's operator.  Debian's '<<' and '>>' are accepted
# because packagers type them; '<' and '>' in Debian mean '<=' and '>=' (deprecated),
# but here they always mean strictly less / greater, as in RPM.
OPERATORS = {"<": "<", "<=": "<=", "=": "=", ">=": ">=", ">": ">", "<<": "<", ">>": ">"}
OPERATOR_HINTS = {"==": "=", "=>": ">=", "=<": "<="}

_TOML_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a float"),
    (str, "a string"),
    (dict, "a table"),
    (list, "an array"),
    (dt.datetime, "a date-time"),
    (dt.date, "a date"),
    (dt.time, "a time"),
)


def toml_type(value: object) -> str:
    for typ, name in _TOML_TYPES:
        if isinstance(value, typ):
            return name
    return type(value).__name__


def display_path(path: Path) -> str:
    """The path as the user recognises it: relative to the working directory when under it."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    import difflib  # deferred: only a misspelt key needs it, and every command loads a map

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


# ---------------------------------------------------------------- reading


def _map_file(project_dir: str | Path) -> Path:
    path = Path(project_dir)
    if path.name == MAP_NAME and not path.is_dir():
        return path
    return path / MAP_NAME


def _syntax_error(display: str, message: str, line: int | None, hint: str = "") -> LayoutError:
    diag = Diagnostic(
        "toml-syntax", Severity.ERROR, message, Location(display, "", line), hint or "see https://toml.io/en/v1.0.0"
    )
    return LayoutError(f"{display}: not valid TOML: {message}", diagnostics=[diag])


_TOMLLIB_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


# The largest map read; with ``Limits`` (nesting, array length, keys) checked before the TOML
# parser runs, no map costs more than seconds.  See README "Security".
MAX_MAP_BYTES = 4 << 20
MAP_LIMITS = Limits()


def _too_large(display: str, message: str, line: int | None) -> LayoutError:
    diag = Diagnostic(
        "limit-exceeded",
        Severity.ERROR,
        message,
        Location(display, "", line),
        "pkgtool's limits are in README's Security section; split the map or use [[tree]] for many files",
    )
    return LayoutError(f"{display}: {message}", diagnostics=[diag])


def _parse(path: Path, display: str) -> tuple[dict[str, Any], Positions]:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_MAP_BYTES + 1)
    except FileNotFoundError:
        raise LayoutError(
            f"{display}: no such file",
            hint="run `pkgtool init --kind KIND` to write one, or pass the project directory",
        ) from None
    except OSError as exc:
        raise LayoutError(f"{display}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_MAP_BYTES:
        raise _too_large(display, f"the map is larger than {MAX_MAP_BYTES >> 20} MiB", None)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _syntax_error(display, f"not UTF-8 text (byte {exc.start})", line) from None
    try:
        # Before tomllib, which takes seconds on deep nesting: the scan is linear and stops at a limit.
        positions = check_limits(text, MAP_LIMITS)
    except LimitExceeded as exc:
        raise _too_large(display, f"the map has {exc.message}", exc.line) from None
    try:
        return tomllib.loads(text), positions
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOMLLIB_POS.search(msg)
        if m:
            line: int | None = int(m.group(1))
            msg = f"{msg[: m.start()]} (column {m.group(2)})"
        elif msg.endswith("(at end of document)"):
            line = text.count("\n") + (0 if text.endswith("\n") else 1) or 1
        else:
            line = None
        raise _syntax_error(display, msg, line) from None
    except RecursionError:
        raise _syntax_error(display, "values nested too deeply", None) from None


# ---------------------------------------------------------------- validation


class _Bad:
    """Marker for a value that was reported and has no usable conversion."""


BAD = _Bad()


@dataclass(frozen=True)
class _Src:
    """A raw value and the key path it was written at."""

    value: Any
    path: KeyPath


class _Validator:
    def __init__(self, display: str, positions: Positions):
        self.display = display
        self.positions = positions
        self.diags: list[Diagnostic] = []
        self._rule_ids: frozenset[str] | None = None
        self._rule_ids_loaded = False

    # -- reporting

    def loc(self, path: KeyPath) -> Location:
        return Location(self.display, format_path(path), self.positions.line(path))

    def err(self, rule: str, path: KeyPath, message: str, hint: str = "") -> _Bad:
        self.diags.append(Diagnostic(rule, Severity.ERROR, message, self.loc(path), hint))
        return BAD

    def bad_type(self, value: object, path: KeyPath, expected: str, hint: str = "") -> _Bad:
        key = format_path(path)
        return self.err("bad-type", path, f"{key} must be {expected}, not {toml_type(value)}", hint)

    # -- tables

    def fields(self, src: _Src, allowed: Iterable[str], what: str) -> dict[str, _Src] | None:
        """The keys of a table, each with its own path; unknown keys reported."""
        if not isinstance(src.value, dict):
            self.bad_type(src.value, src.path, "a table")
            return None
        allowed = tuple(allowed)
        out: dict[str, _Src] = {}
        for key, value in src.value.items():
            path = (*src.path, key)
            if key not in allowed:
                hint = _did_you_mean(key, allowed) or f"{what} takes: {', '.join(allowed)}"
                self.err("unknown-key", path, f"unknown key {key!r} in {what}", hint)
                continue
            out[key] = _Src(value, path)
        return out

    def required(self, fields: Mapping[str, _Src], key: str, table_path: KeyPath, conv: Callable[[_Src], Any]) -> Any:
        if key not in fields:
            return self.err(
                "missing-key", (*table_path, key), f"missing required key {format_path((*table_path, key))}"
            )
        return conv(fields[key])

    @staticmethod
    def optional(fields: Mapping[str, _Src], key: str, conv: Callable[[_Src], Any], default: Any) -> Any:
        if key not in fields:
            return default
        out = conv(fields[key])
        return default if out is BAD else out

    # -- scalars

    def text(self, src: _Src, *, one_line: bool = True, empty: bool = False) -> Any:
        value, path = src.value, src.path
        if not isinstance(value, str):
            return self.bad_type(value, path, "a string")
        key = format_path(path)
        if "\x00" in value:
            return self.err("bad-value", path, f"{key} contains a NUL character")
        if one_line and ("\n" in value or "\r" in value):
            return self.err("bad-value", path, f"{key} must be one line", "remove the line break")
        if not empty and not value.strip():
            return self.err("bad-value", path, f"{key} must not be empty")
        return value

    def matching(self, src: _Src, pattern: re.Pattern[str], rule: str, what: str, hint: str = "") -> Any:
        value = self.text(src)
        if value is BAD:
            return BAD
        if not pattern.fullmatch(value):
            return self.err(rule, src.path, f"{format_path(src.path)} {value!r} is not {what}", hint)
        return value

    def path_text(self, src: _Src) -> Any:
        # Shape only: resolve checks safety and placeholders.
        return self.text(src)

    def boolean(self, src: _Src) -> Any:
        if not isinstance(src.value, bool):
            return self.bad_type(src.value, src.path, "true or false")
        return src.value

    def integer(self, src: _Src, minimum: int = 0) -> Any:
        value = src.value
        if isinstance(value, bool) or not isinstance(value, int):
            hint = f"write {value} without quotes" if isinstance(value, str) and value.strip().isdigit() else ""
            return self.bad_type(value, src.path, "an integer", hint)
        if value < minimum:
            return self.err("bad-value", src.path, f"{format_path(src.path)} must be {minimum} or more, not {value}")
        return value

    def mode(self, src: _Src) -> Any:
        value, path = src.value, src.path
        key = format_path(path)
        if isinstance(value, bool):
            return self.bad_type(value, path, 'an octal string such as "0644"')
        if isinstance(value, int):
            digits = str(value)
            guess = f'write "{digits.zfill(4)}" if you meant that octal mode; ' if MODE_RE.fullmatch(digits) else ""
            return self.err(
                "integer-mode",
                path,
                f"{key} is the integer {value}; modes are octal strings",
                f'{guess}`644` and `0o644` are different numbers, so a mode is a string such as "0644"',
            )
        if not isinstance(value, str):
            return self.bad_type(value, path, 'an octal string such as "0644"')
        if MODE_RE.fullmatch(value):
            return int(value, 8)
        if value.lower().startswith("0o") and MODE_RE.fullmatch(value[2:]):
            return self.err("bad-value", path, f"{key} {value!r} has a 0o prefix", f'write "0{value[2:]}"')
        return self.err(
            "bad-value", path, f"{key} {value!r} is not a mode", 'a mode is 3 or 4 octal digits, such as "0644"'
        )

    def owner(self, src: _Src) -> Any:
        return self.matching(src, OWNER_RE, "bad-value", "a user or group name")

    def maintainer(self, src: _Src) -> Any:
        return self.matching(
            src, MAINTAINER_RE, "bad-value", "of the form 'Name <email>'", "such as 'Jane Packager <jane@example.org>'"
        )

    def string_list(self, src: _Src, item: Callable[[_Src], Any], nonempty: bool = False) -> Any:
        if not isinstance(src.value, list):
            hint = f"write [{src.value!r}]" if isinstance(src.value, str) else ""
            return self.bad_type(src.value, src.path, "an array of strings", hint)
        if nonempty and not src.value:
            return self.err("bad-value", src.path, f"{format_path(src.path)} must not be empty")
        out = [item(_Src(v, (*src.path, i))) for i, v in enumerate(src.value)]
        return BAD if any(o is BAD for o in out) else tuple(out)

    def rule_ids(self) -> frozenset[str] | None:
        if not self._rule_ids_loaded:
            self._rule_ids_loaded = True
            try:
                from ..lint.registry import known_rule_ids
            except ImportError:
                self._rule_ids = None  # lint not installed yet: rule ids cannot be checked
            else:
                self._rule_ids = frozenset(known_rule_ids())
        return self._rule_ids

    def rule_id(self, src: _Src) -> Any:
        value = self.text(src)
        if value is BAD:
            return BAD
        known = self.rule_ids()
        if known is not None and value not in known:
            hint = _did_you_mean(value, sorted(known)) or "`pkgtool explain` lists the rule ids"
            return self.err("unknown-rule", src.path, f"unknown rule id {value!r}", hint)
        return value

    def allow(self, src: _Src) -> Any:
        return self.string_list(src, self.rule_id)

    def config(self, src: _Src) -> Any:
        value = src.value
        if value is True:
            return ConfigKind.CONFIG
        if value is False:
            return ConfigKind.NONE
        if value == "noreplace":
            return ConfigKind.NOREPLACE
        if isinstance(value, str):
            return self.err(
                "bad-value",
                src.path,
                f"{format_path(src.path)} {value!r} is not a config kind",
                'use false, true or "noreplace"',
            )
        return self.bad_type(value, src.path, 'false, true or "noreplace"')

    def date(self, src: _Src) -> Any:
        value = src.value
        if isinstance(value, dt.datetime):
            return self.bad_type(value, src.path, "a date", "write only the date: 2025-01-06")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                if DATE_RE.fullmatch(value):
                    return dt.date.fromisoformat(value)
            except ValueError:
                pass
            return self.err(
                "bad-value", src.path, f"{format_path(src.path)} {value!r} is not a date", "write YYYY-MM-DD"
            )
        return self.bad_type(value, src.path, "a date (YYYY-MM-DD)")

    # -- [package]

    def package(self, fields: Mapping[str, _Src], table_path: KeyPath) -> Package | None:
        def req(key: str, conv: Callable[[_Src], Any]) -> Any:
            return self.required(fields, key, table_path, conv)

        def opt(key: str, conv: Callable[[_Src], Any], default: Any) -> Any:
            return self.optional(fields, key, conv, default)

        name = req(
            "name",
            lambda s: self.matching(
                s,
                NAME_RE,
                "bad-name",
                "a valid package name",
                "use lower case letters, digits and + . - ; start with a letter or digit",
            ),
        )
        version = req("version", self.version)
        summary = req("summary", self.summary)
        description = req("description", lambda s: self.text(s, one_line=False))
        license_ = req("license", self.text)
        maintainer = req("maintainer", self.maintainer)
        release = opt("release", self.release, "1")
        epoch = opt("epoch", self.integer, None)
        url = opt("url", lambda s: self.matching(s, re.compile(r"\S+"), "bad-value", "a URL"), "")
        vendor = opt("vendor", self.text, "")
        arch = opt(
            "arch",
            lambda s: self.matching(
                s, ARCH_RE, "bad-value", "an architecture", "noarch, native, or a name such as x86_64"
            ),
            "noarch",
        )
        kind = opt("kind", self.kind, "app")
        section = opt(
            "section",
            lambda s: self.matching(
                s, SECTION_RE, "bad-value", "a section", "a Debian section such as admin or contrib/net: one word"
            ),
            "",
        )
        if BAD in (name, version, summary, description, license_, maintainer):
            return None
        return Package(
            name=name,
            version=version,
            summary=summary,
            description=description,
            license=license_,
            maintainer=maintainer,
            release=release,
            epoch=epoch,
            url=url,
            vendor=vendor,
            arch=arch,
            kind=kind,
            section=section,
        )

    def version(self, src: _Src) -> Any:
        value = src.value
        key = format_path(src.path)
        if not isinstance(value, str):
            return self.bad_type(
                value, src.path, "a string", f'write "{value}"' if isinstance(value, int | float) else ""
            )
        if "-" in value:
            return self.err(
                "bad-version",
                src.path,
                f"{key} {value!r} contains '-'",
                "the packaging revision goes in package.release",
            )
        if not value or any(c.isspace() for c in value) or "\x00" in value:
            return self.err("bad-version", src.path, f"{key} {value!r} is empty or holds whitespace")
        if not VERSION_RE.fullmatch(value):
            return self.err(
                "bad-version",
                src.path,
                f"{key} {value!r} is not a version",
                "start with a digit; use letters, digits and . + ~",
            )
        return value

    def release(self, src: _Src) -> Any:
        if isinstance(src.value, int) and not isinstance(src.value, bool):
            return self.bad_type(src.value, src.path, "a string", f'write "{src.value}"')
        return self.matching(src, RELEASE_RE, "bad-value", "a release", "letters, digits and . + ~ ; no '-'")

    def summary(self, src: _Src) -> Any:
        value = self.text(src)
        if value is BAD:
            return BAD
        if len(value) > MAX_SUMMARY:
            return self.err(
                "bad-value",
                src.path,
                f"{format_path(src.path)} is {len(value)} characters; it must be under 80",
                "move the detail into package.description",
            )
        return value

    def kind(self, src: _Src) -> Any:
        value = self.text(src)
        if value is BAD:
            return BAD
        if value not in PLUGIN_KINDS:
            hint = _did_you_mean(value, PLUGIN_KINDS) or f"one of: {', '.join(PLUGIN_KINDS)}"
            return self.err("bad-value", src.path, f"{format_path(src.path)} {value!r} is not a known kind", hint)
        return value

    # -- relations

    def relation(self, src: _Src) -> Any:
        name = src.path[-1]
        assert isinstance(name, str)
        key = format_path(src.path)
        ok = True
        if "\x00" in name or not RELATION_NAME_RE.fullmatch(name):
            self.err(
                "bad-value",
                src.path,
                f"relation name {name!r} is not a package name",
                "letters, digits and + . _ - : / ( )",
            )
            ok = False
        value = src.value
        if not isinstance(value, str):
            hint = 'write "" for any version, or a constraint such as ">= 1.2"'
            return self.bad_type(value, src.path, 'a constraint string such as ">= 1.2"', hint)
        if "\x00" in value or "\n" in value or "\r" in value:
            return self.err("bad-value", src.path, f"{key} must be one line without NUL")
        text = value.strip()
        if not text:
            return Relation(name, "", "", self.loc(src.path)) if ok else BAD
        m = CONSTRAINT_RE.fullmatch(text)
        if not m:
            return self.err(
                "bad-value", src.path, f"{key} {value!r} has no operator", f'write ">= {text}" or "= {text}"'
            )
        op, version = m.group("op"), m.group("version").strip()
        if op not in OPERATORS:
            better = OPERATOR_HINTS.get(op)
            hint = f"write {better!r}" if better else "operators: < <= = >= > (and Debian's << >>)"
            return self.err("bad-value", src.path, f"{key} {value!r}: unknown operator {op!r}", hint)
        if not CONSTRAINT_VERSION_RE.fullmatch(version):
            return self.err("bad-value", src.path, f"{key} {value!r}: {version!r} is not a version")
        return Relation(name, OPERATORS[op], version, self.loc(src.path)) if ok else BAD

    def relations(self, fields: Mapping[str, _Src]) -> tuple[Relation, ...]:
        out = [self.relation(src) for src in fields.values()]
        return tuple(r for r in out if r is not BAD)

    # -- contents

    def table_items(self, src: _Src, build: Callable[[dict[str, _Src], KeyPath], Any], keys: tuple[str, ...]) -> list:
        """(path, built) for each valid element of an array of tables."""
        if not isinstance(src.value, list):
            name = src.path[-1]
            hint = f"write [[{name}]] (an array of tables), not [{name}]" if isinstance(src.value, dict) else ""
            self.bad_type(src.value, src.path, "an array of tables", hint)
            return []
        out = []
        for i, item in enumerate(src.value):
            path = (*src.path, i)
            fields = self.fields(_Src(item, path), keys, f"[[{src.path[-1]}]]")
            if fields is None:
                continue
            built = build(fields, path)
            if built is not None and built is not BAD:
                out.append((path, built))
        return out

    def table_array(self, src: _Src, build: Callable[[dict[str, _Src], KeyPath], Any], keys: tuple[str, ...]) -> tuple:
        return tuple(built for _, built in self.table_items(src, build, keys))

    def tree(self, f: dict[str, _Src], path: KeyPath) -> TreeSpec | None:
        src = self.required(f, "src", path, self.path_text)
        dst = self.required(f, "dst", path, self.path_text)
        spec = dict(
            mode=self.optional(f, "mode", self.mode, None),
            dir_mode=self.optional(f, "dir-mode", self.mode, None),
            owner=self.optional(f, "owner", self.owner, "root"),
            group=self.optional(f, "group", self.owner, "root"),
            exclude=self.optional(f, "exclude", lambda s: self.string_list(s, self.text), ()),
            doc=self.optional(f, "doc", self.boolean, False),
            license=self.optional(f, "license", self.boolean, False),
            allow=self.optional(f, "allow", self.allow, ()),
        )
        if BAD in (src, dst):
            return None
        return TreeSpec(src=src, dst=dst, loc=self.loc(path), **spec)

    def file(self, f: dict[str, _Src], path: KeyPath) -> FileSpec | None:
        src = self.required(f, "src", path, self.path_text)
        dst = self.required(f, "dst", path, self.path_text)
        spec = dict(
            mode=self.optional(f, "mode", self.mode, None),
            owner=self.optional(f, "owner", self.owner, "root"),
            group=self.optional(f, "group", self.owner, "root"),
            config=self.optional(f, "config", self.config, ConfigKind.NONE),
            doc=self.optional(f, "doc", self.boolean, False),
            license=self.optional(f, "license", self.boolean, False),
            allow=self.optional(f, "allow", self.allow, ()),
        )
        if BAD in (src, dst):
            return None
        return FileSpec(src=src, dst=dst, loc=self.loc(path), **spec)

    def dir(self, f: dict[str, _Src], path: KeyPath) -> DirSpec | None:
        where = self.required(f, "path", path, self.path_text)
        spec = dict(
            mode=self.optional(f, "mode", self.mode, None),
            owner=self.optional(f, "owner", self.owner, "root"),
            group=self.optional(f, "group", self.owner, "root"),
            allow=self.optional(f, "allow", self.allow, ()),
        )
        if where is BAD:
            return None
        return DirSpec(path=where, loc=self.loc(path), **spec)

    def symlink(self, f: dict[str, _Src], path: KeyPath) -> SymlinkSpec | None:
        where = self.required(f, "path", path, self.path_text)
        target = self.required(f, "target", path, self.path_text)
        allow = self.optional(f, "allow", self.allow, ())
        if BAD in (where, target):
            return None
        return SymlinkSpec(path=where, target=target, allow=allow, loc=self.loc(path))

    def attr(self, f: dict[str, _Src], path: KeyPath) -> AttrRule | None:
        where = self.required(f, "path", path, self.path_text)
        if not any(k in f for k in ("mode", "owner", "group", "allow")):
            self.err("missing-key", path, f"{format_path(path)} sets nothing", "give it a mode, owner, group or allow")
        spec = dict(
            mode=self.optional(f, "mode", self.mode, None),
            owner=self.optional(f, "owner", self.owner, None),
            group=self.optional(f, "group", self.owner, None),
            allow=self.optional(f, "allow", self.allow, ()),
        )
        if where is BAD:
            return None
        return AttrRule(path=where, loc=self.loc(path), **spec)

    def patch_file(self, src: _Src) -> Any:
        # The file name reaches `PatchN:` and %autosetup (which expand macros again after the
        # spec's own escape) and debian/patches/series: only plain names are safe in all three.
        value = self.path_text(src)
        if value is BAD:
            return BAD
        name = value.rpartition("/")[2]
        if not PATCH_NAME.fullmatch(name):
            return self.err(
                "unsafe-name",
                src.path,
                f"{format_path(src.path)}: patch file name {name!r} holds characters a spec or a quilt series would read",
                "rename the patch with letters, digits and . _ + ~ - only",
            )
        return value

    def patch(self, f: dict[str, _Src], path: KeyPath) -> PatchSpec | None:
        file = self.required(f, "file", path, self.patch_file)
        strip = self.optional(f, "strip", self.integer, 1)
        if file is BAD:
            return None
        return PatchSpec(file=file, strip=strip, loc=self.loc(path))

    def changelog_entry(self, f: dict[str, _Src], path: KeyPath) -> ChangelogEntry | None:
        version = self.required(
            f,
            "version",
            path,
            lambda s: self.matching(s, CHANGELOG_VERSION_RE, "bad-value", "a VERSION-RELEASE", 'such as "1.0-1"'),
        )
        date = self.required(f, "date", path, self.date)
        author = self.required(f, "author", path, self.maintainer)
        changes = self.required(f, "changes", path, lambda s: self.string_list(s, self.text, nonempty=True))
        if BAD in (version, date, author, changes):
            return None
        return ChangelogEntry(version=version, date=date, author=author, changes=changes, loc=self.loc(path))

    def changelog(self, src: _Src) -> tuple[ChangelogEntry, ...]:
        items = self.table_items(src, self.changelog_entry, CHANGELOG_KEYS)
        for (_, newer), (path, older) in zip(items, items[1:], strict=False):
            if older.date > newer.date:
                self.err(
                    "bad-value",
                    (*path, "date"),
                    f"changelog is not newest first: {older.version} ({older.date}) comes after"
                    f" {newer.version} ({newer.date})",
                    "put the newest entry first",
                )
        return tuple(entry for _, entry in items)

    # -- the other sections

    def scripts(self, src: _Src) -> dict[str, str]:
        fields = self.fields(src, SCRIPT_EVENTS, "[scripts]")
        if fields is None:
            return {}
        out = {event: self.path_text(s) for event, s in fields.items()}
        return {k: v for k, v in out.items() if v is not BAD}

    def lint(self, src: _Src) -> tuple[str, ...]:
        fields = self.fields(src, LINT_KEYS, "[lint]")
        if fields is None:
            return ()
        return self.optional(fields, "allow", self.allow, ())

    # -- the whole map

    def sections(self, doc: dict[str, Any], base: KeyPath, allowed: tuple[str, ...], what: str) -> dict[str, Any]:
        """Section name -> _Src, or for merged sections key -> _Src."""
        out: dict[str, Any] = {}
        for key, value in doc.items():
            path = (*base, key)
            if key not in allowed:
                hint = _did_you_mean(key, allowed) or f"{what} takes: {', '.join(allowed)}"
                self.err("unknown-key", path, f"unknown key {key!r} in {what}", hint)
                continue
            if key in ("schema", "distro"):
                continue
            src = _Src(value, path)
            if key in MERGED_SECTIONS:
                what_table = f"[{key}]"
                fields = self.fields(src, PACKAGE_KEYS, what_table) if key == "package" else self.relation_fields(src)
                # A section that is not a table was reported; it then counts as absent.
                out[key] = None if fields is None else _Merged(path, fields)
            else:
                out[key] = src
        return out

    def relation_fields(self, src: _Src) -> dict[str, _Src] | None:
        if not isinstance(src.value, dict):
            self.bad_type(src.value, src.path, "a table of name = constraint")
            return None
        return {k: _Src(v, (*src.path, k)) for k, v in src.value.items()}

    def build(self, sections: Mapping[str, Any], root: Path, source: Path, schema: int) -> Layout | None:
        pkg = sections.get("package")
        package = None
        if "package" not in sections:
            self.err("missing-key", ("package",), "missing required table [package]")
        elif pkg is not None:
            package = self.package(pkg.fields, pkg.path)
        relations = {
            kind: self.relations(sections[kind].fields) for kind in RELATION_KINDS if sections.get(kind) is not None
        }

        def arr(key: str, build: Callable[[dict[str, _Src], KeyPath], Any], keys: tuple[str, ...]) -> tuple:
            return self.table_array(sections[key], build, keys) if key in sections else ()

        trees = arr("tree", self.tree, TREE_KEYS)
        files = arr("file", self.file, FILE_KEYS)
        dirs = arr("dir", self.dir, DIR_KEYS)
        symlinks = arr("symlink", self.symlink, SYMLINK_KEYS)
        attrs = arr("attr", self.attr, ATTR_KEYS)
        patches = arr("patch", self.patch, PATCH_KEYS)
        changelog = self.changelog(sections["changelog"]) if "changelog" in sections else ()
        scripts = self.scripts(sections["scripts"]) if "scripts" in sections else {}
        lint_allow = self.lint(sections["lint"]) if "lint" in sections else ()
        if package is None:
            return None
        return Layout(
            root=root,
            source_file=source,
            schema=schema,
            package=package,
            relations=relations,
            trees=trees,
            files=files,
            dirs=dirs,
            symlinks=symlinks,
            attrs=attrs,
            scripts=scripts,
            patches=patches,
            changelog=changelog,
            lint_allow=lint_allow,
        )

    def schema(self, doc: dict[str, Any]) -> int | None:
        """The schema number; None stops validation (a newer format than this tool knows)."""
        if "schema" not in doc:
            self.err(
                "missing-key",
                ("schema",),
                "missing required key schema",
                f"write schema = {SCHEMA_VERSION} on the first line",
            )
            return SCHEMA_VERSION
        src = _Src(doc["schema"], ("schema",))
        value = self.integer(src, minimum=1)
        if value is BAD:
            return SCHEMA_VERSION
        if value > SCHEMA_VERSION:
            self.err(
                "schema-too-new",
                ("schema",),
                f"schema {value} is newer than this pkgtool understands (schema {SCHEMA_VERSION})",
                "upgrade pkgtool",
            )
            return None
        return value

    def layout(self, doc: dict[str, Any], root: Path, source: Path) -> Layout | None:
        schema = self.schema(doc)
        if schema is None:
            return None
        top = self.sections(doc, (), TOP_KEYS, "the top level")
        layout = self.build(top, root, source, schema)
        variants: dict[str, Layout] = {}
        for distro_id, table in self.distros(doc):
            override = self.sections(table, ("distro", distro_id), SECTION_KEYS, f"[distro.{distro_id}]")
            variant = self.build(_merge(top, override), root, source, schema)
            if variant is not None:
                variants[distro_id] = variant
        if layout is None:
            return None
        return dataclasses.replace(layout, variants=variants)

    def distros(self, doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        if "distro" not in doc:
            return []
        value = doc["distro"]
        if not isinstance(value, dict):
            self.bad_type(value, ("distro",), "a table of [distro.<id>] tables")
            return []
        out = []
        for distro_id, table in value.items():
            path: KeyPath = ("distro", distro_id)
            if not DISTRO_ID_RE.fullmatch(distro_id):
                self.err("bad-value", path, f"{distro_id!r} is not a distro id", "lower case letters, digits and . _ -")
                continue
            if not isinstance(table, dict):
                self.bad_type(table, path, "a table")
                continue
            out.append((distro_id, table))
        return out


@dataclass(frozen=True)
class _Merged:
    """A table merged key by key: its own path, and each key with the path it was written at."""

    path: KeyPath
    fields: dict[str, _Src]


def _merge(top: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(top)
    for key, value in override.items():
        if isinstance(value, _Merged) and isinstance(out.get(key), _Merged):
            base = out[key]
            out[key] = _Merged(base.path, {**base.fields, **value.fields})
        else:
            out[key] = value
    return out


def _unique(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    out = []
    for d in diags:
        if d not in seen:
            seen.add(d)
            out.append(d)
    return sorted(out, key=sort_key)


def load_layout(project_dir: str | Path) -> Layout:
    """Read ``<project_dir>/pkgtool.toml`` (or that file itself) and validate every key.

    Raises LayoutError with one diagnostic per problem found in the file.
    """
    source = _map_file(project_dir).absolute()
    display = display_path(source)
    doc, positions = _parse(source, display)
    validator = _Validator(display, positions)
    layout = validator.layout(doc, source.parent, source)
    diags = _unique(validator.diags)
    if diags or layout is None:
        count = len(diags)
        raise LayoutError(f"{display}: {count} problem{'s' if count != 1 else ''} in the layout map", diagnostics=diags)
    return layout
