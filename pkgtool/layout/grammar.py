"""The layout map's vocabulary: its keys, the grammar of its values, and TOML type names."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from ..diagnostics import nearest
from ..model import RELATION_KINDS

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
    "node_kernel_args",
)
PACKAGE_REQUIRED = ("name", "version", "summary", "description", "license", "maintainer")
CONTENT_KEYS = ("tree", "file", "dir", "symlink", "attr")
# A patch file name as rpm, quilt and dpkg-source all take it literally.
PATCH_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+~-]*")

# Everything a [distro.<id>] table may override.
SECTION_KEYS = (
    "package",
    *RELATION_KINDS,
    *CONTENT_KEYS,
    "scripts",
    "patch",
    "changelog",
    "lint",
    "subpackage",
    "unit",
    "user",
    "group",
    "tmpfile",
    "vars",
    "python",
)
TOP_KEYS = ("schema", *SECTION_KEYS, "distro")
# Tables of scalars, read key by key (each key keeps its own path) so that overrides can merge them.
MERGED_SECTIONS = ("package", *RELATION_KINDS, "scripts", "vars")

TREE_KEYS = ("src", "dst", "mode", "dir-mode", "owner", "group", "exclude", "doc", "license", "allow", "package")
FILE_KEYS = (
    *("src", "dst", "mode", "owner", "group", "config", "doc", "license", "allow", "template", "package"),
    *("lang", "verify", "ghost"),
)
DIR_KEYS = ("path", "mode", "owner", "group", "allow", "package", "ghost")
SYMLINK_KEYS = ("path", "target", "allow", "package", "absolute")
SUBPACKAGE_KEYS = ("name", "summary", "description", "arch", "kind", *RELATION_KINDS, "scripts")
ATTR_KEYS = ("path", "mode", "owner", "group", "allow")
PATCH_KEYS = ("file", "strip")
UNIT_KEYS = ("src", "name", "enable", "on-upgrade", "preset")
TMPFILE_KEYS = ("src", "name")
TMPFILE_NAME_RE = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]*\.conf")
USER_KEYS = ("name", "uid", "group", "groups", "home", "shell", "system", "comment")
GROUP_KEYS = ("name", "gid", "system")
# Fixed ids a package may ask for: not root's, not nobody's (65534), not the 16-bit -1.
ID_RANGE = range(1, 65534)
# A systemd unit name systemd, rpm and deb-systemd-helper all take as one word (no template instances).
UNIT_NAME_RE = re.compile(r"[A-Za-z0-9:_.-]+\.(service|socket|timer|path|target|mount)")
CHANGELOG_KEYS = ("version", "date", "author", "changes")
LINT_KEYS = ("allow",)
PYTHON_KEYS = ("compile",)

MAX_SUMMARY = 79
# A %lang() locale as rpm and glibc spell them: de, pt_BR, sr@latin, ca_ES@valencia.
LANG_RE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?(@[a-z]+)?")

# A rule id as the lint registry writes them (which ids exist is lint's to say).
RULE_ID_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
NAME_RE = re.compile(r"[a-z0-9][a-z0-9+.-]*")
VERSION_RE = re.compile(r"[0-9][A-Za-z0-9.+~]*")
RELEASE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+~]*")
ARCH_RE = re.compile(r"[a-z0-9_]+")
# A Debian section ([area/]section) or an RPM group: dpkg-genchanges writes it as one word
# of the .changes Files line, so no space, no '$' and nothing a substvar could open.
SECTION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._-]*(/[A-Za-z0-9][A-Za-z0-9+._-]*)?")
# Kernel arguments written into a kickstart's bootloader --append="...": no quotes, no shell.
KERNEL_ARGS_RE = re.compile(r"[A-Za-z0-9_.,:=/+-]+( [A-Za-z0-9_.,:=/+-]+)*")
MAINTAINER_RE = re.compile(r"[^<>@\s][^<>@]*? <[^<>@\s]+@[^<>@\s]+>")
OWNER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?")
RELATION_NAME_RE = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_+.:/()-]*")
CONSTRAINT_RE = re.compile(r"(?P<op>[<>=!~^]+)\s*(?P<version>.*)")
CONSTRAINT_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+~:_-]*")
CHANGELOG_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+~:_-]*")
# A [vars] name: used as {name} in paths and @NAME@ (upper case) in templated files.
VAR_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
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


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = nearest(word, choices)
    return f"did you mean {close!r}?" if close else ""
