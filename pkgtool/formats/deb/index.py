"""A .deb's stanza in an APT Packages index, as dpkg-scanpackages writes it.

The control file is read with the reader's own streamed ar and tar parsing (never
extracted) and parsed strictly: one stanza, no duplicate fields, names and versions
that Debian policy allows.  A package whose Package, Version, Architecture or Source
could climb out of a pool directory (``../../x``) is refused here, before any name is
made of them.  Fields come out in dpkg's order for a Packages index (known fields
first, the rest sorted by name), so the output equals ``dpkg-scanpackages``'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ...errors import ArtifactError
from . import reader

# dpkg's order of the fields it knows in a Packages stanza (Dpkg::Control::FieldsCore, CTRL_INDEX_PKG).
INDEX_ORDER = (
    "Package",
    "Package-Type",
    "Source",
    "Version",
    "Kernel-Version",
    "Built-For-Profiles",
    "Auto-Built-Package",
    "Architecture",
    "Subarchitecture",
    "Installer-Menu-Item",
    "Build-Essential",
    "Essential",
    "Protected",
    "Origin",
    "Bugs",
    "Maintainer",
    "Installed-Size",
    "Pre-Depends",
    "Depends",
    "Recommends",
    "Suggests",
    "Enhances",
    "Conflicts",
    "Breaks",
    "Replaces",
    "Provides",
    "Built-Using",
    "Static-Built-Using",
    "Filename",
    "Size",
    "MD5sum",
    "SHA1",
    "SHA256",
    "Section",
    "Priority",
    "Multi-Arch",
    "Homepage",
    "Description",
    "Tag",
    "Task",
)
_RANK = {name.lower(): i for i, name in enumerate(INDEX_ORDER)}
# Fields the index writes itself; a control file that carries them does not get to choose them.
INDEX_OWNED = frozenset({"filename", "size", "md5sum", "sha1", "sha256", "sha512"})

PACKAGE_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+")  # Policy 5.6.1
VERSION = re.compile(r"(?:[0-9]+:)?[0-9A-Za-z][0-9A-Za-z.+~-]*")  # Policy 5.6.12, without ':' after an epoch
ARCH = re.compile(r"[a-z0-9][a-z0-9-]*")
_FIELD_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII without ':' and space (deb822)
_SOURCE = re.compile(r"(?P<name>\S+)(?:\s+\((?P<version>[^()\s]+)\))?")
_DOTS = re.compile(r"\.+")  # a continuation line of dots only is written with one dot more
MAX_CONTROL = 1 << 20


@dataclass(frozen=True)
class DebIndexEntry:
    """What an APT repository needs of one .deb: checked names and the control fields in file order."""

    package: str
    version: str  # with its epoch, as in the control file
    architecture: str
    source: str  # the source package's name (the binary's own when there is no Source field)
    fields: tuple[tuple[str, str], ...]  # (name, value) as parsed; continuation lines joined by '\n'

    @property
    def file_name(self) -> str:
        """NAME_VERSION_ARCH.deb, the epoch left out (as dpkg-name and the archive name files)."""
        return f"{self.package}_{self.version.partition(':')[2] or self.version}_{self.architecture}.deb"

    @property
    def pool_dir(self) -> str:
        """Below pool/COMPONENT/: the source's initial ('lib' + one letter for lib*) and the source name."""
        src = self.source
        initial = src[:4] if src.startswith("lib") and len(src) > 3 else src[0]
        return f"{initial}/{src}"

    def stanza(self, filename: str, size: int, md5: str, sha1: str, sha256: str) -> str:
        """The Packages stanza, fields in dpkg's order, followed by its blank line."""
        # Whitespace-only fields are dropped, as dpkg drops them from an index.
        values = {n: v for n, v in self.fields if n.lower() not in INDEX_OWNED and v.strip()}
        values.update({"Filename": filename, "Size": str(size), "MD5sum": md5, "SHA1": sha1, "SHA256": sha256})
        names = sorted(values, key=lambda n: (0, _RANK[n.lower()], "") if n.lower() in _RANK else (1, 0, n))
        return "".join(_field_text(name, values[name]) for name in names) + "\n"


def read_index_entry(path: Path) -> DebIndexEntry:
    """The checked control fields of the .deb at ``path``; ArtifactError, naming the file and field, if unfit."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            text = _control_text(path, fh)
    except ArtifactError as exc:
        if str(exc).startswith(f"{path}:"):
            raise
        raise ArtifactError(f"{path}: {exc}") from None
    except reader._ERRORS as exc:
        raise ArtifactError(f"{path}: not a readable .deb ({exc.__class__.__name__}: {exc})") from None
    fields = parse_control(text, f"{path}: control")
    return _entry(path, fields)


def _control_text(path: Path, fh) -> str:
    members = reader._ar_members(path, fh)
    first = next(members, None)
    if first is None or first[0] != "debian-binary":
        raise ArtifactError(f"{path}: first ar member is not debian-binary")
    for name, member in members:
        if name.startswith("_"):
            continue
        if name not in reader._CONTROL_MEMBERS:
            raise ArtifactError(f"{path}: ar member {name!r} where dpkg expects control.tar")
        with reader._decompressed(name, member) as stream:
            control = reader._read_control(stream)
        raw = control.get("control")
        if raw is None:
            break
        if len(raw) > MAX_CONTROL:
            raise ArtifactError(f"{path}: control file of {len(raw)} bytes is too large")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ArtifactError(f"{path}: control file is not UTF-8 (byte {exc.start})") from None
    raise ArtifactError(f"{path}: no control file")


def parse_control(text: str, where: str) -> list[tuple[str, str]]:
    """One deb822 stanza, parsed as dpkg parses it; ArtifactError naming ``where`` and the line otherwise."""
    fields: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    lines = text.split("\n")
    ended = False
    for number, line in enumerate(lines, 1):
        if not line.strip():
            ended = bool(fields)
            continue
        if ended:
            raise ArtifactError(f"{where}:{number}: a second stanza; a package's control file holds one")
        if line[0] in " \t":
            if not fields:
                raise ArtifactError(f"{where}:{number}: a continuation line before any field")
            rest = line.rstrip()[1:]
            fields[-1][1].append(rest[1:] if _DOTS.fullmatch(rest) else rest)
            continue
        name, colon, value = line.partition(":")
        if not colon or not _FIELD_NAME.fullmatch(name) or name.startswith("-"):
            raise ArtifactError(f"{where}:{number}: not a 'Field: value' line: {line[:60]!r}")
        if name.lower() in seen:
            raise ArtifactError(f"{where}:{number}: field {name} appears twice")
        seen.add(name.lower())
        fields.append((name, [value.strip()]))
    if not fields:
        raise ArtifactError(f"{where}: empty control file")
    return [(name, "\n".join(parts)) for name, parts in fields]


def _entry(path: Path, fields: list[tuple[str, str]]) -> DebIndexEntry:
    by_name = {name.lower(): value for name, value in fields}

    def checked(field: str, pattern: re.Pattern[str], value: str | None = None) -> str:
        text = by_name.get(field.lower(), "") if value is None else value
        if not text:
            raise ArtifactError(f"{path}: control field {field} is missing")
        if not pattern.fullmatch(text):
            raise ArtifactError(f"{path}: control field {field} is {text[:80]!r}, not a valid Debian {field.lower()}")
        return text

    package = checked("Package", PACKAGE_NAME)
    version = checked("Version", VERSION)
    arch = checked("Architecture", ARCH)
    source = package
    if "source" in by_name:
        match = _SOURCE.fullmatch(by_name["source"])
        if not match:
            raise ArtifactError(f"{path}: control field Source is {by_name['source'][:80]!r}, not 'NAME [(VERSION)]'")
        source = checked("Source", PACKAGE_NAME, match["name"])
        if match["version"]:
            checked("Source", VERSION, match["version"])
    return DebIndexEntry(package, version, arch, source, tuple(fields))


def _field_text(name: str, value: str) -> str:
    first, *rest = value.split("\n")
    out = f"{name}: {first}\n" if first else f"{name}:\n"
    for line in rest:
        line = line.rstrip()
        out += f" .{line}\n" if not line or _DOTS.fullmatch(line) else f" {line}\n"
    return out
