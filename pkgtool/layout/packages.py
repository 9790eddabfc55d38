"""Readers of what makes a binary package: relation tables and [[subpackage]]; and the `package =` claims.

A sub-package is named in full (`vdsm-hook-foo`) or by a suffix appended to
the main name (`-hook-foo`); contents say which package owns them with
`package = NAME` in either spelling, normalised here to the full name.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from ..diagnostics import Diagnostic, Severity
from ..model import OWN_PLACEHOLDERS, RELATION_KINDS, SCRIPT_EVENTS, Location, Package, Relation, SubPackage
from .fields import BAD, FieldReader, _Src
from .grammar import (
    CONSTRAINT_RE,
    CONSTRAINT_VERSION_RE,
    NAME_RE,
    OPERATOR_HINTS,
    OPERATORS,
    RELATION_NAME_RE,
    SUBPACKAGE_KEYS,
    _did_you_mean,
)
from .tomlpos import KeyPath, format_path

_OWN = re.compile(r"\{([A-Za-z0-9_]*)\}")


class PackagesReader(FieldReader):
    """Relations (with the package's own {version}, {release}, {evr}) and sub-packages."""

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
        unknown = [n for n in _OWN.findall(version) if n not in OWN_PLACEHOLDERS]
        if unknown:
            hint = _did_you_mean(unknown[0], OWN_PLACEHOLDERS) or "known: {version}, {release}, {evr}"
            return self.err(
                "unknown-placeholder", src.path, f"{key} {value!r}: unknown placeholder {{{unknown[0]}}}", hint
            )
        # The own-version placeholders stand for a version: the rest must still read as one.
        if not CONSTRAINT_VERSION_RE.fullmatch(_OWN.sub("0", version)):
            return self.err("bad-value", src.path, f"{key} {value!r}: {version!r} is not a version")
        return Relation(name, OPERATORS[op], version, self.loc(src.path)) if ok else BAD

    def relations(self, fields: Mapping[str, _Src]) -> tuple[Relation, ...]:
        out = [self.relation(src) for src in fields.values()]
        return tuple(r for r in out if r is not BAD)

    # -- [[subpackage]]

    def subpackage(self, f: dict[str, _Src], path: KeyPath, main: Package | None) -> SubPackage | None:
        name = self.required(f, "name", path, self.text)
        summary = self.required(f, "summary", path, self.summary)
        description = self.optional(f, "description", lambda s: self.text(s, one_line=False), None)
        arch = self.optional(f, "arch", self.arch, None)  # either family's spelling, kept canonical
        kind = self.optional(f, "kind", self.kind, None)
        relations = {}
        for rel_kind in RELATION_KINDS:
            if rel_kind in f:
                src = f[rel_kind]
                if not isinstance(src.value, dict):
                    self.bad_type(src.value, src.path, "a table of name = constraint")
                    continue
                relations[rel_kind] = self.relations({k: _Src(v, (*src.path, k)) for k, v in src.value.items()})
        scripts = self.scripts(f["scripts"]) if "scripts" in f else {}
        if BAD in (name, summary) or main is None:
            return None
        full = main.name + name if name.startswith("-") else name
        if not NAME_RE.fullmatch(full):
            self.err("bad-name", (*path, "name"), f"sub-package name {full!r} is not a valid package name")
            return None
        return SubPackage(
            name=full,
            summary=summary,
            description=summary if description is None else description,
            arch=main.arch if arch is None else arch,
            kind=main.kind if kind is None else kind,
            relations=relations,
            scripts=scripts,
            loc=self.loc(path),
        )

    def subpackages(self, src: _Src | None, main: Package | None) -> tuple[SubPackage, ...]:
        if src is None:
            return ()
        items = self.table_items(src, lambda f, p: self.subpackage(f, p, main), SUBPACKAGE_KEYS)
        out: list[SubPackage] = []
        seen = {main.name} if main is not None else set()
        for path, sub in items:
            if sub.name in seen:
                self.err("conflict", (*path, "name"), f"package name {sub.name!r} is used twice", "rename one")
                continue
            seen.add(sub.name)
            out.append(sub)
        return tuple(out)

    def claimed(self, specs: tuple, main: Package | None, subs: tuple[SubPackage, ...]) -> tuple:
        """The specs with `package =` normalised to the full name; an unknown name is reported."""
        if main is None:
            return specs
        names = [main.name, *(s.name for s in subs)]
        out = []
        for spec in specs:
            raw = spec.package
            full = main.name + raw if raw.startswith("-") else raw
            if full == main.name:
                full = ""
            elif full and full not in names:
                loc = spec.loc or Location(self.display)
                hint = _did_you_mean(full, names) or f"packages of this map: {', '.join(names)}"
                where = Location(loc.file, f"{loc.key}.package", loc.line)
                self.diags.append(
                    Diagnostic(
                        "unknown-package", Severity.ERROR, f"package {raw!r} is no package of this map", where, hint
                    )
                )
                continue
            out.append(dataclasses.replace(spec, package=full) if full != raw else spec)
        return tuple(out)

    # Implemented by the map reader (tables.py); declared so sub-packages share them.
    def table_items(self, src: _Src, build: Any, keys: tuple[str, ...]) -> list:  # pragma: no cover
        raise NotImplementedError

    def scripts(self, src: _Src) -> dict[str, str]:
        fields = self.fields(src, SCRIPT_EVENTS, "[scripts]")
        if fields is None:
            return {}
        out = {event: self.path_text(s) for event, s in fields.items()}
        return {k: v for k, v in out.items() if v is not BAD}
