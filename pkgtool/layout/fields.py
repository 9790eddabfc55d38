"""Readers of one value of the map: each checks its grammar and reports a located diagnostic.

``FieldReader`` holds the reporting (file, key path, line) and every scalar
reader; tables.py adds the readers of arrays of tables and of the whole map.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..arches import SPELLINGS, canonical
from ..diagnostics import Diagnostic, Severity
from ..model import PLUGIN_KINDS, VERIFY_ALIASES, VERIFY_ATTRS, ConfigKind, Location, Package
from .grammar import (
    ARCH_RE,
    DATE_RE,
    KERNEL_ARGS_RE,
    LANG_RE,
    MAINTAINER_RE,
    MAX_SUMMARY,
    MODE_RE,
    NAME_RE,
    OWNER_RE,
    RELEASE_RE,
    RULE_ID_RE,
    SECTION_RE,
    VERSION_RE,
    _did_you_mean,
    toml_type,
)
from .tomlpos import KeyPath, Positions, format_path


class _Bad:
    """Marker for a value that was reported and has no usable conversion."""


BAD = _Bad()


@dataclass(frozen=True)
class _Src:
    """A raw value and the key path it was written at."""

    value: Any
    path: KeyPath


class FieldReader:
    """Reporting, table keys, and the readers of one value (scalars, lists, [package])."""

    def __init__(self, display: str, positions: Positions):
        self.display = display
        self.positions = positions
        self.diags: list[Diagnostic] = []

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

    def rule_id(self, src: _Src) -> Any:
        # The shape only: lint, which owns the rules, reports an id it does not know.
        value = self.text(src)
        if value is BAD:
            return BAD
        if not RULE_ID_RE.fullmatch(value):
            return self.err(
                "unknown-rule", src.path, f"unknown rule id {value!r}", "`pkgtool explain` lists the rule ids"
            )
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
        if value == "replace":  # the explicit spelling of true: %config without noreplace
            return ConfigKind.CONFIG
        if isinstance(value, str):
            return self.err(
                "bad-value",
                src.path,
                f"{format_path(src.path)} {value!r} is not a config kind",
                'use false, true, "replace" or "noreplace"',
            )
        return self.bad_type(value, src.path, 'false, true, "replace" or "noreplace"')

    def lang(self, src: _Src) -> Any:
        return self.matching(src, LANG_RE, "bad-value", "a locale name", 'such as "de", "pt_BR" or "sr@latin"')

    def verify_attr(self, src: _Src) -> Any:
        """One `not ATTR` of a verify array: the attribute name, canonical (md5 for filedigest)."""
        value = self.text(src)
        if value is BAD:
            return BAD
        word, _, attr = value.partition(" ")
        attr = VERIFY_ALIASES.get(attr.strip(), attr.strip())
        if word != "not" or attr not in VERIFY_ATTRS:
            close = _did_you_mean(attr, VERIFY_ATTRS) if word == "not" else ""
            return self.err(
                "bad-value",
                src.path,
                f"{format_path(src.path)} {value!r} is not 'not ATTRIBUTE'",
                close or f'write "not md5"; the attributes are {", ".join(VERIFY_ATTRS)}',
            )
        return attr

    def verify(self, src: _Src) -> Any:
        attrs = self.string_list(src, self.verify_attr)
        if attrs is BAD:
            return BAD
        return tuple(a for a in VERIFY_ATTRS if a in attrs)  # rpm's order, each once

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
        arch = opt("arch", self.arch, "noarch")
        kind = opt("kind", self.kind, "app")
        section = opt(
            "section",
            lambda s: self.matching(
                s, SECTION_RE, "bad-value", "a section", "a Debian section such as admin or contrib/net: one word"
            ),
            "",
        )
        # Kernel arguments a Node plugin needs (recipe.ks `bootloader --append`): plain words only.
        node_kernel_args = opt(
            "node_kernel_args",
            lambda s: self.matching(
                s, KERNEL_ARGS_RE, "bad-value", "kernel arguments", "words of letters, digits and _ . , : = / + - "
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
            node_kernel_args=node_kernel_args,
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

    def arch(self, src: _Src) -> Any:
        """An architecture in either family's spelling (x86_64 or amd64), kept as the canonical name."""
        value = self.matching(src, ARCH_RE, "bad-value", "an architecture", "noarch, native, or a name such as x86_64")
        if value is BAD:
            return BAD
        name = canonical(value)
        if name is None:
            hint = _did_you_mean(value, SPELLINGS) or f"one of: {', '.join(sorted(SPELLINGS))}"
            return self.err("bad-value", src.path, f"{format_path(src.path)} {value!r} is not an architecture", hint)
        return name

    def kind(self, src: _Src) -> Any:
        value = self.text(src)
        if value is BAD:
            return BAD
        if value not in PLUGIN_KINDS:
            hint = _did_you_mean(value, PLUGIN_KINDS) or f"one of: {', '.join(PLUGIN_KINDS)}"
            return self.err("bad-value", src.path, f"{format_path(src.path)} {value!r} is not a known kind", hint)
        return value

    # -- relations
