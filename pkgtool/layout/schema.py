"""A JSON Schema (draft 2020-12) of pkgtool.toml, built from the loader's own vocabulary.

The tables and their keys are grammar.py's tuples (the ones the loader checks
unknown keys against), the value grammars its regular expressions, the events,
relation kinds and plugin kinds the model's: adding a key to the loader without
saying its value's shape here fails ``json_schema()`` (and tests/test_schema.py).
The schema checks shape only; what needs the tree or the profiles (a patch that
exists, a changelog order, a known distro id) stays the loader's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..arches import SPELLINGS
from ..model import PLUGIN_KINDS, RELATION_KINDS, SCHEMA_VERSION, SCRIPT_EVENTS, VERIFY_ALIASES, VERIFY_ATTRS
from .grammar import (
    ARCH_RE,
    ATTR_KEYS,
    CHANGELOG_KEYS,
    CHANGELOG_VERSION_RE,
    DATE_RE,
    DIR_KEYS,
    DISTRO_ID_RE,
    FILE_KEYS,
    GROUP_KEYS,
    ID_RANGE,
    KERNEL_ARGS_RE,
    LANG_RE,
    LINT_KEYS,
    MAINTAINER_RE,
    MAX_SUMMARY,
    MODE_RE,
    NAME_RE,
    OWNER_RE,
    PACKAGE_KEYS,
    PACKAGE_REQUIRED,
    PATCH_KEYS,
    PYTHON_KEYS,
    RELATION_NAME_RE,
    RELEASE_RE,
    RULE_ID_RE,
    SECTION_KEYS,
    SECTION_RE,
    SUBPACKAGE_KEYS,
    SYMLINK_KEYS,
    TMPFILE_KEYS,
    TMPFILE_NAME_RE,
    TOP_KEYS,
    TREE_KEYS,
    UNIT_KEYS,
    UNIT_NAME_RE,
    USER_KEYS,
    VAR_NAME_RE,
    VERSION_RE,
)
from .variants import IDENTITY

SCHEMA_ID = "https://pkgtool.invalid/schema/pkgtool.schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _full(pattern: re.Pattern[str]) -> str:
    # The loader uses fullmatch; JSON Schema's pattern searches, so anchor it.
    return f"^(?:{pattern.pattern})$"


# One line, not blank, no NUL: FieldReader.text.
_LINE = {"type": "string", "pattern": "^[^\\n\\r\\x00]*[^\\s\\x00][^\\n\\r\\x00]*$"}
_TEXT = {"type": "string", "pattern": "^[^\\x00]*\\S[^\\x00]*$"}
_MODE = {"type": "string", "pattern": _full(MODE_RE), "description": 'an octal string such as "0644"'}
_OWNER = {"type": "string", "pattern": _full(OWNER_RE)}
_RULES = {"type": "array", "items": {"type": "string", "pattern": _full(RULE_ID_RE)}}
_LINES = {"type": "array", "items": _LINE}
_BOOL = {"type": "boolean"}
_ARCH = {"type": "string", "pattern": _full(ARCH_RE), "enum": sorted(SPELLINGS)}
_KIND = {"enum": list(PLUGIN_KINDS)}
# A relation: "" (any version) or an operator and a version (packages.py checks placeholders).
_CONSTRAINT = {
    "type": "string",
    "pattern": "^\\s*(?:(?:<<|>>|<=|>=|<|>|=)\\s*[A-Za-z0-9{][^\\n\\r\\x00]*)?$",
    "description": 'a constraint such as ">= 1.2", or "" for any version',
}

# The shape of each key's value, by table; a key the loader knows and this does not is an error.
_PACKAGE = {
    "name": {"type": "string", "pattern": _full(NAME_RE)},
    "version": {"type": "string", "pattern": _full(VERSION_RE)},
    "release": {"type": "string", "pattern": _full(RELEASE_RE)},
    "epoch": {"type": "integer", "minimum": 0},
    "summary": {**_LINE, "maxLength": MAX_SUMMARY},
    "description": _TEXT,
    "license": _LINE,
    "url": {"type": "string", "pattern": "^\\S+$"},
    "vendor": _LINE,
    "maintainer": {"type": "string", "pattern": _full(MAINTAINER_RE)},
    "arch": _ARCH,
    "kind": _KIND,
    "section": {"type": "string", "pattern": _full(SECTION_RE)},
    "node_kernel_args": {"type": "string", "pattern": _full(KERNEL_ARGS_RE)},
}
_CONTENT = {
    "src": _LINE,
    "dst": _LINE,
    "path": _LINE,
    "target": _LINE,
    "mode": _MODE,
    "dir-mode": _MODE,
    "owner": _OWNER,
    "group": _OWNER,
    "exclude": _LINES,
    "doc": _BOOL,
    "license": _BOOL,
    "template": _BOOL,
    "config": {"enum": [True, False, "replace", "noreplace"]},
    "allow": _RULES,
    "package": _LINE,
    "lang": {"type": "string", "pattern": _full(LANG_RE)},
    "verify": {
        "type": "array",
        "items": {"enum": [f"not {a}" for a in (*VERIFY_ATTRS, *VERIFY_ALIASES)]},
    },
    "ghost": _BOOL,
    "absolute": _BOOL,
}
# A fixed uid/gid a package may ask for (grammar.ID_RANGE).
_ID = {"type": "integer", "minimum": ID_RANGE.start, "maximum": ID_RANGE.stop - 1}
_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...], dict[str, Any]]] = {
    # name -> (the loader's keys, the required ones, shapes)
    "tree": (TREE_KEYS, ("src", "dst"), _CONTENT),
    "file": (FILE_KEYS, ("dst",), _CONTENT),  # and src unless a ghost: _GHOST_SRC
    "dir": (DIR_KEYS, ("path",), _CONTENT),
    "symlink": (SYMLINK_KEYS, ("path", "target"), _CONTENT),
    "attr": (ATTR_KEYS, ("path",), _CONTENT),
    "patch": (PATCH_KEYS, ("file",), {"file": _LINE, "strip": {"type": "integer", "minimum": 0}}),
    "changelog": (
        CHANGELOG_KEYS,
        CHANGELOG_KEYS,
        {
            "version": {"type": "string", "pattern": _full(CHANGELOG_VERSION_RE)},
            # TOML's local date; editors show it as a string, as does the test's conversion.
            "date": {"type": "string", "pattern": _full(DATE_RE), "format": "date"},
            "author": _PACKAGE["maintainer"],
            "changes": {**_LINES, "minItems": 1},
        },
    ),
    "unit": (
        UNIT_KEYS,
        ("src",),
        {
            "src": _LINE,
            "name": {"type": "string", "pattern": _full(UNIT_NAME_RE)},
            "enable": _BOOL,
            "on-upgrade": {"enum": ["restart", "none"]},
            "preset": {"enum": ["enable", "disable"]},
        },
    ),
    "tmpfile": (TMPFILE_KEYS, ("src",), {"src": _LINE, "name": {"type": "string", "pattern": _full(TMPFILE_NAME_RE)}}),
    "user": (
        USER_KEYS,
        ("name",),
        {
            "name": _OWNER,
            "uid": _ID,
            "group": _OWNER,
            "groups": {"type": "array", "items": _OWNER},
            "home": _LINE,
            "shell": _LINE,
            "system": _BOOL,
            "comment": _LINE,
        },
    ),
    "group": (GROUP_KEYS, ("name",), {"name": _OWNER, "gid": _ID, "system": _BOOL}),
    "subpackage": (
        SUBPACKAGE_KEYS,
        ("name", "summary"),
        {
            "name": _LINE,
            "summary": _PACKAGE["summary"],
            "description": _TEXT,
            "arch": _ARCH,
            "kind": _KIND,
            **{kind: {"$ref": "#/$defs/relations"} for kind in RELATION_KINDS},
            "scripts": {"$ref": "#/$defs/scripts"},
        },
    ),
}


# A [[file]] needs src, except a ghost, which must not have one (tables.file).
_GHOST_SRC = {
    "if": {"properties": {"ghost": {"const": True}}, "required": ["ghost"]},
    "then": {"not": {"required": ["src"]}},
    "else": {"required": ["src"]},
}


def _table(keys: tuple[str, ...], required: tuple[str, ...], shapes: dict[str, Any], what: str) -> dict[str, Any]:
    missing = [k for k in keys if k not in shapes]
    if missing:
        raise KeyError(f"schema: no value shape for {what} keys {missing}")
    out: dict[str, Any] = {
        "type": "object",
        "properties": {k: shapes[k] for k in keys},
        "additionalProperties": False,
    }
    if required:
        out["required"] = list(required)
    return out


def _override_item(kind: str, table: dict[str, Any]) -> dict[str, Any]:
    """An array item of a [distro.<id>] override: nothing required, or ``remove = true`` with its identity."""
    key = IDENTITY.get(kind, ("name", ""))[0]
    props = {**table["properties"], "remove": {"const": True}}
    return {
        "type": "object",
        "properties": props,
        "additionalProperties": False,
        "dependentRequired": {"remove": [key]},
    }


def _sections(override: bool) -> dict[str, Any]:
    """The schema of each section of SECTION_KEYS; an override's drop keys with ``false`` (schema 2)."""
    dropped = (lambda s: {"anyOf": [s, {"const": False}]}) if override else (lambda s: s)
    out: dict[str, Any] = {
        "package": {"$ref": "#/$defs/package-override" if override else "#/$defs/package"},
        "scripts": {"$ref": "#/$defs/scripts-override" if override else "#/$defs/scripts"},
        "lint": {"$ref": "#/$defs/lint"},
        "python": {"$ref": "#/$defs/python"},
        "vars": {
            "type": "object",
            "propertyNames": {"pattern": _full(VAR_NAME_RE)},
            "additionalProperties": dropped(_LINE),
        },
    }
    for kind in RELATION_KINDS:
        out[kind] = {"$ref": "#/$defs/relations-override" if override else "#/$defs/relations"}
    for kind in _TABLES:
        item = f"#/$defs/{kind}-override" if override else f"#/$defs/{kind}"
        out[kind] = {"type": "array", "items": {"$ref": item}}
    missing = [k for k in SECTION_KEYS if k not in out]
    if missing:
        raise KeyError(f"schema: no shape for sections {missing}")
    return {k: out[k] for k in SECTION_KEYS}


def json_schema() -> dict[str, Any]:
    """The schema as a dict; ``schema_text`` is its committed, deterministic form."""
    defs: dict[str, Any] = {
        "package": _table(PACKAGE_KEYS, PACKAGE_REQUIRED, _PACKAGE, "[package]"),
        "package-override": _table(PACKAGE_KEYS, (), _PACKAGE, "[package]"),
        "relations": {
            "type": "object",
            "propertyNames": {"pattern": _full(RELATION_NAME_RE)},
            "additionalProperties": _CONSTRAINT,
        },
        "relations-override": {
            "type": "object",
            "propertyNames": {"pattern": _full(RELATION_NAME_RE)},
            "additionalProperties": {"anyOf": [_CONSTRAINT, {"const": False}]},
        },
        "scripts": _table(SCRIPT_EVENTS, (), dict.fromkeys(SCRIPT_EVENTS, _LINE), "[scripts]"),
        "scripts-override": _table(
            SCRIPT_EVENTS, (), dict.fromkeys(SCRIPT_EVENTS, {"anyOf": [_LINE, {"const": False}]}), "[scripts]"
        ),
        "lint": _table(LINT_KEYS, (), {"allow": _RULES}, "[lint]"),
        "python": _table(PYTHON_KEYS, (), {"compile": _LINES}, "[python]"),
    }
    for kind, (keys, required, shapes) in _TABLES.items():
        defs[kind] = _table(keys, required, shapes, f"[[{kind}]]")
        defs[f"{kind}-override"] = _override_item(kind, defs[kind])
    defs["file"].update(_GHOST_SRC)
    defs["override"] = {"type": "object", "properties": _sections(True), "additionalProperties": False}
    top = {
        "schema": {"type": "integer", "minimum": 1, "maximum": SCHEMA_VERSION},
        **_sections(False),
        "distro": {
            "type": "object",
            "propertyNames": {"pattern": _full(DISTRO_ID_RE)},
            "additionalProperties": {"$ref": "#/$defs/override"},
        },
    }
    missing = [k for k in TOP_KEYS if k not in top]
    if missing:
        raise KeyError(f"schema: no shape for top-level keys {missing}")
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": "pkgtool.toml",
        "description": "The layout map of pkgtool (docs/layout-map.md). Generated by `pkgtool schema`; do not edit.",
        "type": "object",
        "required": ["schema", "package"],
        "properties": {k: top[k] for k in TOP_KEYS},
        "additionalProperties": False,
        "$defs": defs,
    }


def schema_text() -> str:
    """The schema as committed in schema/pkgtool.schema.json: sorted keys, two-space indent, final newline."""
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
