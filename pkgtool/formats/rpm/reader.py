"""Read a .rpm's header into an ArtifactInfo, without touching its payload.

The header is parsed here, with every count and offset checked against hard
caps and the file size before anything is read, so a hostile or truncated
file gives an ArtifactError instead of a huge allocation or a traceback.
(rpmfile's own parser scans for magic bytes and trusts the counts it finds.)
File digests come from the header; the payload is never decompressed.
"""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ...errors import ArtifactError
from ...model import ArtifactInfo, ConfigKind, EntryKind, Family, Observed, ResolvedRelation
from ...rootfs.paths import kind_of
from . import header as rh
from .scriptlets import GROUPADD, USERADD

ACCOUNT_TOOLS = frozenset({GROUPADD, USERADD})

# Dependencies rpm or rpmbuild add by themselves, not written in a layout's relations.
SENSE_GENERATED = rh.SENSE_RPMLIB | rh.SENSE_CONFIG | rh.SENSE_FIND | rh.SENSE_INTERP | rh.SENSE_SCRIPTS
_OPERATORS = {bits: op for op, bits in rh.OPERATOR_FLAGS.items()}


@dataclass(frozen=True)
class Dependency:
    """One raw dependency of the header, with its RPMSENSE flags."""

    name: str
    flags: int
    version: str

    @property
    def op(self) -> str:
        return _OPERATORS.get(self.flags & (rh.SENSE_LESS | rh.SENSE_GREATER | rh.SENSE_EQUAL), "")


@dataclass(frozen=True)
class RpmHeader:
    """The decoded main header: tag number -> value (str, int tuple, str tuple or bytes)."""

    path: str
    tags: Mapping[int, object]
    payload_offset: int

    def string(self, tag: int, default: str = "") -> str:
        value = self.tags.get(tag)
        if isinstance(value, tuple) and value and isinstance(value[0], str):
            return value[0]
        return value if isinstance(value, str) else default

    def strings(self, tag: int) -> tuple[str, ...]:
        value = self.tags.get(tag, ())
        if isinstance(value, str):
            return (value,)
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, tuple) else ()

    def ints(self, tag: int) -> tuple[int, ...]:
        value = self.tags.get(tag, ())
        return tuple(v for v in value if isinstance(v, int)) if isinstance(value, tuple) else ()

    def dependencies(self, kind: str) -> tuple[Dependency, ...]:
        name_tag, flags_tag, version_tag = rh.RELATION_TAGS[kind]
        names, flags, versions = self.strings(name_tag), self.ints(flags_tag), self.strings(version_tag)
        if not (len(names) == len(flags) == len(versions)):
            raise ArtifactError(f"{self.path}: {kind} tags of the header disagree in length")
        return tuple(Dependency(n, f, v) for n, f, v in zip(names, flags, versions, strict=True))

    def scripts(self) -> dict[str, str]:
        return {name: self.string(tag) for name, (tag, _, _) in rh.SCRIPT_TAGS.items() if tag in self.tags}


def read_header(path: Path) -> RpmHeader:
    """Parse the lead, the signature header and the main header of ``path``; never the payload."""
    path = Path(path)
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as fh:
            lead = _read_exact(fh, rh.LEAD_SIZE, path, "the lead")
            if lead[:4] != rh.LEAD_MAGIC:
                raise ArtifactError(f"{path}: not an RPM package (wrong magic {lead[:4].hex()})")
            _read_header_struct(fh, path, size, "signature header")
            pad = -fh.tell() % rh.SIGNATURE_ALIGN
            _read_exact(fh, pad, path, "the signature padding")
            tags = _read_header_struct(fh, path, size, "main header")
            return RpmHeader(str(path), tags, fh.tell())
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read: {exc.strerror}") from None


def is_source_rpm(path: Path) -> bool:
    """True for a .src.rpm: the lead's type field (bytes 6-7) is 1 for source packages, 0 for binary ones."""
    with open(path, "rb") as fh:
        lead = fh.read(8)
    return lead[:4] == rh.LEAD_MAGIC and int.from_bytes(lead[6:8], "big") == 1


def read_rpm(path: Path) -> ArtifactInfo:
    """Read an .rpm into an ArtifactInfo: metadata, every file's attributes, relations, scriptlets."""
    header = read_header(path)
    return ArtifactInfo(
        path=str(path),
        format=Family.RPM,
        name=header.string(rh.NAME),
        version=header.string(rh.VERSION),
        release=header.string(rh.RELEASE),
        arch=header.string(rh.ARCH),
        summary=header.string(rh.SUMMARY),
        entries=observed_entries(header),
        relations=map_relations(header),
        scripts=header.scripts(),
        epoch=(header.ints(rh.EPOCH) or (None,))[0],
    )


def observed_entries(header: RpmHeader) -> tuple[Observed, ...]:
    paths = _file_paths(header)
    n = len(paths)
    modes = header.ints(rh.FILEMODES)
    users, groups = header.strings(rh.FILEUSERNAME), header.strings(rh.FILEGROUPNAME)
    sizes = header.ints(rh.LONGFILESIZES) or header.ints(rh.FILESIZES)
    digests, links = header.strings(rh.FILEDIGESTS), header.strings(rh.FILELINKTOS)
    flags = header.ints(rh.FILEFLAGS)
    for name, values in (("modes", modes), ("owners", users), ("groups", groups), ("sizes", sizes)):
        if len(values) != n:
            raise ArtifactError(f"{header.path}: the header lists {n} files but {len(values)} file {name}")
    algo = rh.DIGEST_ALGOS.get((header.ints(rh.FILEDIGESTALGO) or (1,))[0], "")
    out = []
    for i, path in enumerate(paths):
        mode = modes[i] & 0xFFFF
        kind = kind_of(mode)
        flag = flags[i] if i < len(flags) else 0
        digest = digests[i] if i < len(digests) and kind is EntryKind.FILE else ""
        out.append(
            Observed(
                path=path,
                kind=kind,
                mode=stat.S_IMODE(mode),
                owner=users[i],
                group=groups[i],
                size=sizes[i] if kind is EntryKind.FILE else 0,
                digest=digest,
                digest_algo=algo if digest else "",
                target=(links[i] if i < len(links) else "") if kind is EntryKind.SYMLINK else None,
                config=_config(flag),
            )
        )
    return tuple(sorted(out, key=lambda o: o.path))


def is_generated(dep: Dependency, kind: str, header: RpmHeader) -> bool:
    """Dependencies that rpm or pkgtool add by themselves, not written in a layout's relations."""
    if dep.flags & SENSE_GENERATED or dep.name.startswith("rpmlib("):
        return True
    if kind == "provides":
        name = header.string(rh.NAME)
        epoch = header.ints(rh.EPOCH)
        evr = f"{header.string(rh.VERSION)}-{header.string(rh.RELEASE)}"
        evrs = {evr, f"{epoch[0]}:{evr}" if epoch else evr}
        # The package's self-provide ("name = v-r") and its arch-qualified twin ("name(x86-64) = v-r").
        if dep.op == "=" and dep.version in evrs and (dep.name == name or dep.name.startswith(f"{name}(")):
            return True
    return False


def script_require_kind(dep: Dependency) -> str:
    """The map's requires-pre ... kind of a Requires(pre) ... the map wrote; '' for any other dependency.

    Only a dependency whose flags are one RPMSENSE_SCRIPT_* bit (and an operator): rpm's own
    interpreter and rpmlib requirements carry further bits, and the account tools %pre needs are
    pkgtool's (scriptlets.pre_requires), not the map's.
    """
    rest = dep.flags & ~(rh.SENSE_LESS | rh.SENSE_GREATER | rh.SENSE_EQUAL)
    for kind, sense in rh.SCRIPT_REQUIRE_SENSES.items():
        if rest == sense and not (kind == "requires-pre" and dep.name in ACCOUNT_TOOLS):
            return kind
    return ""


def map_relations(header: RpmHeader) -> dict[str, tuple[ResolvedRelation, ...]]:
    """The header's relations under the map's kinds, without generated ones, sorted by name."""
    found: dict[str, list[ResolvedRelation]] = {}
    for kind in rh.RELATION_TAGS:
        for d in header.dependencies(kind):
            as_kind = script_require_kind(d) if kind == "requires" else ""
            if as_kind or not is_generated(d, kind, header):
                found.setdefault(as_kind or kind, []).append(ResolvedRelation(name=d.name, op=d.op, version=d.version))
    return {kind: tuple(sorted(set(rels), key=lambda r: (r.name, r.op, r.version))) for kind, rels in found.items()}


# ---------------------------------------------------------------- parsing


def _read_exact(fh, n: int, path: Path, what: str) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise ArtifactError(f"{path}: truncated RPM package (file ends inside {what})")
    return data


def _read_header_struct(fh, path: Path, file_size: int, what: str) -> dict[int, object]:
    intro = _read_exact(fh, rh.INTRO.size, path, f"the {what}")
    magic, nindex, hsize = rh.INTRO.unpack(intro)
    if magic != rh.HEADER_MAGIC:
        raise ArtifactError(f"{path}: corrupt RPM package (no {what} magic at offset {fh.tell() - rh.INTRO.size})")
    if nindex > rh.MAX_TAGS or hsize > rh.MAX_DATA:
        raise ArtifactError(f"{path}: corrupt RPM package ({what} claims {nindex} tags and {hsize} bytes)")
    entry = rh.INDEX_ENTRY.size
    if fh.tell() + entry * nindex + hsize > file_size:
        raise ArtifactError(f"{path}: truncated RPM package (the {what} runs past the end of the file)")
    index = _read_exact(fh, entry * nindex, path, f"the {what}")
    store = _read_exact(fh, hsize, path, f"the {what}")
    tags: dict[int, object] = {}
    for i in range(nindex):
        tag, typ, offset, count = rh.INDEX_ENTRY.unpack_from(index, entry * i)
        if offset < 0 or offset > hsize or count < 0 or count > hsize:
            raise ArtifactError(f"{path}: corrupt RPM package (tag {tag} of the {what} points outside it)")
        if tag in tags:
            # rpm finds a tag by binary search: which of two copies it sees is not ours to guess.
            raise ArtifactError(f"{path}: corrupt RPM package (tag {tag} appears twice in the {what})")
        tags[tag] = _decode(store, typ, offset, count, path, tag)
    return tags


def _decode(store: bytes, typ: int, offset: int, count: int, path: Path, tag: int) -> object:
    if typ in rh.INT_CODES:
        width, code = rh.INT_WIDTHS[typ], rh.INT_CODES[typ]
        end = offset + width * count
        if end > len(store):
            raise ArtifactError(f"{path}: corrupt RPM package (tag {tag} runs past its header)")
        return struct.unpack_from(f">{count}{code}", store, offset)
    if typ in (rh.Type.NULL, rh.Type.CHAR, rh.Type.BIN):
        if offset + count > len(store):
            raise ArtifactError(f"{path}: corrupt RPM package (tag {tag} runs past its header)")
        return bytes(store[offset : offset + count])
    if typ in (rh.Type.STRING, rh.Type.STRING_ARRAY, rh.Type.I18NSTRING):
        out = []
        pos = offset
        for _ in range(1 if typ == rh.Type.STRING else count):
            end = store.find(b"\0", pos)
            if end < 0:
                raise ArtifactError(f"{path}: corrupt RPM package (string of tag {tag} is not terminated)")
            out.append(store[pos:end].decode("utf-8", "surrogateescape"))
            pos = end + 1
        return out[0] if typ == rh.Type.STRING else tuple(out)
    raise ArtifactError(f"{path}: corrupt RPM package (tag {tag} has unknown type {typ})")


def _file_paths(header: RpmHeader) -> tuple[str, ...]:
    paths = header.strings(rh.OLDFILENAMES)
    if not paths:
        basenames, dirnames, indexes = (
            header.strings(rh.BASENAMES),
            header.strings(rh.DIRNAMES),
            header.ints(rh.DIRINDEXES),
        )
        if len(basenames) != len(indexes) or any(i >= len(dirnames) for i in indexes):
            raise ArtifactError(f"{header.path}: corrupt RPM package (file name tags disagree)")
        paths = tuple(dirnames[i] + b for i, b in zip(indexes, basenames, strict=True))
    # Both marks of a source package, the header's tag and the lead's type: a binary package claiming one is not let off.
    source = bool(header.ints(rh.SOURCEPACKAGE)) and is_source_rpm(Path(header.path))
    for name in paths:
        # A source package's files are flat names (rpm unpacks them into %_sourcedir): one plain component.
        if source and "/" not in name and name not in ("", ".", "..") and "\0" not in name:
            continue
        # A name that is relative or climbs with '..' would leave the package root when installed.
        if not name.startswith("/") or ".." in name.split("/") or "\0" in name:
            raise ArtifactError(f"{header.path}: file name {name!r} leaves the package root; refusing this package")
    return paths


def _config(flag: int) -> ConfigKind:
    if not flag & rh.FILE_CONFIG:
        return ConfigKind.NONE
    return ConfigKind.NOREPLACE if flag & rh.FILE_NOREPLACE else ConfigKind.CONFIG
