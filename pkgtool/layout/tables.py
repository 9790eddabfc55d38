"""Readers of the map's tables and arrays of tables, and of the whole map with its [distro.<id>] variants."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..model import (
    RELATION_KINDS,
    SCHEMA_VERSION,
    SCRIPT_EVENTS,
    AttrRule,
    ChangelogEntry,
    ConfigKind,
    DirSpec,
    FileSpec,
    Layout,
    OnUpgrade,
    PatchSpec,
    Preset,
    SymlinkSpec,
    TreeSpec,
    UnitSpec,
)
from .accounts import AccountsReader
from .fields import BAD, _Src
from .grammar import (
    ATTR_KEYS,
    CHANGELOG_KEYS,
    CHANGELOG_VERSION_RE,
    DIR_KEYS,
    FILE_KEYS,
    GROUP_KEYS,
    LINT_KEYS,
    MERGED_SECTIONS,
    PACKAGE_KEYS,
    PATCH_KEYS,
    PATCH_NAME,
    PYTHON_KEYS,
    SYMLINK_KEYS,
    TMPFILE_KEYS,
    TREE_KEYS,
    UNIT_KEYS,
    UNIT_NAME_RE,
    USER_KEYS,
    VAR_NAME_RE,
    _did_you_mean,
)
from .packages import PackagesReader
from .tomlpos import KeyPath, format_path
from .variants import Variants, _Items, _Merged


class Validator(PackagesReader, AccountsReader, Variants):
    """The whole map: arrays of tables, sections, variants; ``diags`` collects every problem."""

    # -- contents

    def table_items(self, src: _Src, build: Callable[[dict[str, _Src], KeyPath], Any], keys: tuple[str, ...]) -> list:
        """(path, built) for each valid element of an array of tables."""
        if isinstance(src, _Items):
            items = src.items
        elif not isinstance(src.value, list):
            name = src.path[-1]
            hint = f"write [[{name}]] (an array of tables), not [{name}]" if isinstance(src.value, dict) else ""
            self.bad_type(src.value, src.path, "an array of tables", hint)
            return []
        else:
            items = tuple(_Src(item, (*src.path, i)) for i, item in enumerate(src.value))
        out = []
        for item in items:
            path = item.path
            fields = self.fields(item, keys, f"[[{src.path[-1]}]]")
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
            package=self.optional(f, "package", self.text, ""),
        )
        if BAD in (src, dst):
            return None
        return TreeSpec(src=src, dst=dst, loc=self.loc(path), **spec)

    def file(self, f: dict[str, _Src], path: KeyPath) -> FileSpec | None:
        ghost = self.optional(f, "ghost", self.boolean, False)
        if ghost and "src" in f:
            src = self.err(
                "bad-value", (*path, "src"), f"{format_path(path)} is a ghost: it ships no content", "remove src"
            )
        else:
            src = "" if ghost else self.required(f, "src", path, self.path_text)
        dst = self.required(f, "dst", path, self.path_text)
        spec = dict(
            mode=self.optional(f, "mode", self.mode, None),
            owner=self.optional(f, "owner", self.owner, "root"),
            group=self.optional(f, "group", self.owner, "root"),
            config=self.optional(f, "config", self.config, ConfigKind.NONE),
            doc=self.optional(f, "doc", self.boolean, False),
            license=self.optional(f, "license", self.boolean, False),
            allow=self.optional(f, "allow", self.allow, ()),
            package=self.optional(f, "package", self.text, ""),
            template=self.optional(f, "template", self.boolean, False),
            lang=self.optional(f, "lang", self.lang, ""),
            no_verify=self.optional(f, "verify", self.verify, ()),
            ghost=ghost,
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
            package=self.optional(f, "package", self.text, ""),
            ghost=self.optional(f, "ghost", self.boolean, False),
        )
        if where is BAD:
            return None
        return DirSpec(path=where, loc=self.loc(path), **spec)

    def symlink(self, f: dict[str, _Src], path: KeyPath) -> SymlinkSpec | None:
        where = self.required(f, "path", path, self.path_text)
        target = self.required(f, "target", path, self.path_text)
        allow = self.optional(f, "allow", self.allow, ())
        package = self.optional(f, "package", self.text, "")
        absolute = self.optional(f, "absolute", self.boolean, False)
        if BAD in (where, target):
            return None
        return SymlinkSpec(
            path=where, target=target, allow=allow, package=package, loc=self.loc(path), absolute=absolute
        )

    def unit(self, f: dict[str, _Src], path: KeyPath) -> UnitSpec | None:
        src = self.required(f, "src", path, self.path_text)
        default = src.rsplit("/", 1)[-1] if isinstance(src, str) else ""
        name = self.optional(f, "name", lambda s: self.unit_name(s), None)
        if name is None and src is not BAD:
            name = self.unit_name(_Src(default, (*path, "src")))
        enable = self.optional(f, "enable", self.boolean, True)
        on_upgrade = self.optional(f, "on-upgrade", self.on_upgrade, OnUpgrade.RESTART)
        preset = self.optional(f, "preset", lambda s: self.choice(s, Preset, "a preset action"), None)
        if BAD in (src, name, preset):
            return None
        return UnitSpec(name=name, src=src, enable=enable, on_upgrade=on_upgrade, loc=self.loc(path), preset=preset)

    def unit_name(self, src: _Src) -> Any:
        hint = "a unit file name such as 'foo.service' (give name = ... when src is named otherwise)"
        return self.matching(src, UNIT_NAME_RE, "bad-value", "a systemd unit name", hint)

    def on_upgrade(self, src: _Src) -> Any:
        return self.choice(src, OnUpgrade, "an upgrade action")

    def choice(self, src: _Src, enum: type[StrEnum], what: str) -> Any:
        choices = [o.value for o in enum]
        if isinstance(src.value, str) and src.value in choices:
            return enum(src.value)
        if isinstance(src.value, str):
            hint = _did_you_mean(src.value, choices) or f"use one of {', '.join(map(repr, choices))}"
            return self.err("bad-value", src.path, f"{format_path(src.path)} {src.value!r} is not {what}", hint)
        return self.bad_type(src.value, src.path, "a string")

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

    def merged_scripts(self, src: _Merged) -> dict[str, str]:
        """[scripts] of the map (merged with a variant's): event -> script path; sub-packages use ``scripts``."""
        out = {event: self.path_text(s) for event, s in src.fields.items()}
        return {k: v for k, v in out.items() if v is not BAD}

    def vars(self, src: _Merged) -> dict[str, str]:
        """[vars]: a project's own placeholders; resolve expands their values (profile directories in them)."""
        out = {}
        for name, s in src.fields.items():
            if not VAR_NAME_RE.fullmatch(name):
                self.err("bad-value", s.path, f"{name!r} is not a variable name", "lower case letters, digits and _")
                continue
            value = self.text(s)
            if value is not BAD:
                out[name] = value
        return out

    def lint(self, src: _Src) -> tuple[str, ...]:
        fields = self.fields(src, LINT_KEYS, "[lint]")
        if fields is None:
            return ()
        return self.optional(fields, "allow", self.allow, ())

    def python(self, src: _Src) -> tuple[str, ...]:
        fields = self.fields(src, PYTHON_KEYS, "[python]")
        if fields is None:
            return ()
        return self.optional(fields, "compile", lambda s: self.string_list(s, self.path_text), ())

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
                if key == "package":
                    fields = self.fields(src, PACKAGE_KEYS, what_table)
                elif key == "scripts":
                    fields = self.fields(src, SCRIPT_EVENTS, what_table)
                else:
                    fields = self.relation_fields(src)
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
        units = arr("unit", self.unit, UNIT_KEYS)
        users = arr("user", self.user, USER_KEYS)
        groups = arr("group", self.group, GROUP_KEYS)
        tmpfiles = arr("tmpfile", self.tmpfile, TMPFILE_KEYS)
        changelog = self.changelog(sections["changelog"]) if "changelog" in sections else ()
        scripts = self.merged_scripts(sections["scripts"]) if sections.get("scripts") is not None else {}
        variables = self.vars(sections["vars"]) if sections.get("vars") is not None else {}
        lint_allow = self.lint(sections["lint"]) if "lint" in sections else ()
        python_compile = self.python(sections["python"]) if "python" in sections else ()
        subs = self.subpackages(sections.get("subpackage"), package)
        trees, files, dirs, symlinks = (self.claimed(x, package, subs) for x in (trees, files, dirs, symlinks))
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
            python_compile=python_compile,
            python_loc=self.loc(sections["python"].path) if "python" in sections else None,
            subpackages=subs,
            units=units,
            users=users,
            tmpfiles=tmpfiles,
            groups=groups,
            vars=variables,
            var_locs={k: self.loc(sections["vars"].fields[k].path) for k in variables},
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
