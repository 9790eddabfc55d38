"""Read a .deb for verify and inspect, safely: streamed, never extracted, hostile input -> ArtifactError.

The ar container is parsed here (it is tiny); control.tar and data.tar are
read as streams through the member's declared size, so a payload is never
held in memory whole.  Control fields are parsed with python-debian.
Owners recorded by pkgtool's ``dpkg-statoverride`` lines in postinst are
applied, since that is what the installed package will show.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import posixpath
import shlex
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import zstandard
from debian.deb822 import Deb822, PkgRelation

from ...errors import ArtifactError
from ...model import ArtifactInfo, ConfigKind, EntryKind, Family, Observed, ResolvedRelation

AR_MAGIC = b"!<arch>\n"
_AR_HEADER = 60
_MAX_CONTROL_MEMBER = 16 << 20  # one file inside control.tar
_MAX_TAR_METADATA = 1 << 20  # a GNU long name or a pax header
_CHUNK = 1 << 16
# The member names dpkg-deb accepts (and pkgtool can decompress).
_CONTROL_MEMBERS = frozenset({"control.tar", "control.tar.gz", "control.tar.xz", "control.tar.zst"})
_DATA_MEMBERS = frozenset({"data.tar", "data.tar.gz", "data.tar.xz", "data.tar.zst", "data.tar.bz2"})
SCRIPT_NAMES = ("preinst", "postinst", "prerm", "postrm", "config", "triggers")

# Debian relation field -> the map's relation kind; 'breaks' is render.deb.implied_breaks's, kept apart so
# that verify can tell a Breaks derived from [replaces] from a [conflicts].
FIELD_KINDS: tuple[tuple[str, str], ...] = (
    ("Pre-Depends", "requires"),
    ("Depends", "requires"),
    ("Recommends", "recommends"),
    ("Suggests", "suggests"),
    ("Conflicts", "conflicts"),
    ("Breaks", "breaks"),
    ("Provides", "provides"),
    ("Replaces", "replaces"),
)
# '<' and '>' are the obsolete spellings of '<=' and '>='.
_OPS = {"<<": "<", ">>": ">", "<=": "<=", ">=": ">=", "=": "=", "<": "<=", ">": ">="}
_ERRORS = (
    tarfile.TarError,
    EOFError,
    lzma.LZMAError,
    zstandard.ZstdError,
    zlib.error,
    OSError,
    ValueError,
    UnicodeError,
)


def read_deb(path: str | Path) -> ArtifactInfo:
    """Metadata, payload entries (md5 of the real content), relations and scripts of a .deb."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            return _read(path, fh)
    except ArtifactError as exc:
        # Errors from deep inside (an inner tar member) still name the package they came from.
        if str(exc).startswith(f"{path}:"):
            raise
        raise ArtifactError(f"{path}: {exc}") from None
    except FileNotFoundError:
        raise ArtifactError(f"{path}: no such file") from None
    except _ERRORS as exc:
        raise ArtifactError(f"{path}: not a readable .deb ({exc.__class__.__name__}: {exc})") from None


# ---------------------------------------------------------------- ar


class _Bounded:
    """Read at most ``size`` bytes of ``fh``; a file that ends sooner is truncated."""

    def __init__(self, fh: BinaryIO, size: int, what: str):
        self.fh, self.left, self.what = fh, size, what

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > self.left:
            n = self.left
        if n > 1 << 26:
            n = 1 << 26  # callers loop; never one giant read
        data = self.fh.read(n)
        if len(data) < n:
            raise ArtifactError(f"{self.what} is truncated")
        self.left -= len(data)
        return data

    def readable(self) -> bool:
        return True

    def drain(self) -> None:
        while self.left:
            self.read(_CHUNK)


def _ar_members(path: Path, fh: BinaryIO) -> Iterator[tuple[str, _Bounded]]:
    file_size = os.fstat(fh.fileno()).st_size
    if fh.read(8) != AR_MAGIC:
        raise ArtifactError(f"{path}: not a .deb (no ar magic)")
    while True:
        header = fh.read(_AR_HEADER)
        if not header:
            return
        if len(header) < _AR_HEADER or header[58:60] != b"`\n":
            raise ArtifactError(f"{path}: damaged or truncated ar header")
        name = header[0:16].decode("ascii", "replace").rstrip()
        name = name[:-1] if name.endswith("/") else name
        size_text = header[48:58].decode("ascii", "replace").strip()
        if not size_text.isdigit():
            raise ArtifactError(f"{path}: ar member {name!r} has a bad size field")
        size = int(size_text)
        if size > file_size - fh.tell():
            raise ArtifactError(f"{path}: ar member {name!r} declares {size} bytes, more than the file holds")
        member = _Bounded(fh, size, f"{path}: ar member {name!r}")
        yield name, member
        member.drain()
        if size % 2:
            fh.read(1)


# ---------------------------------------------------------------- tar


class _SafeTarInfo(tarfile.TarInfo):
    """Refuses long-name and pax headers big enough to exhaust memory."""

    def _proc_member(self, tarfile_obj):  # type: ignore[no-untyped-def]
        big = self.size > _MAX_TAR_METADATA
        if big and self.type in (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE):
            raise ArtifactError(f"tar header block of {self.size} bytes is too large")
        return super()._proc_member(tarfile_obj)


@contextmanager
def _decompressed(name: str, raw: _Bounded) -> Iterator[BinaryIO]:
    if name.endswith(".xz"):
        stream: BinaryIO = lzma.LZMAFile(raw, "rb")  # type: ignore[arg-type]  # noqa: SIM115 (closed below)
    elif name.endswith(".zst"):
        stream = zstandard.ZstdDecompressor().stream_reader(raw, closefd=False)  # type: ignore[assignment]
    elif name.endswith(".gz"):
        stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    elif name.endswith(".bz2"):
        stream = bz2.BZ2File(raw, "rb")  # type: ignore[arg-type]
    elif name.endswith(".tar"):
        yield raw  # type: ignore[misc]
        return
    else:
        raise ArtifactError(f"unknown compression of ar member {name!r}")
    try:
        yield stream
    finally:
        stream.close()


def _member_path(name: str) -> str:
    """'./usr/bin/x' -> '/usr/bin/x'; absolute names and '..' are refused."""
    if name.startswith("/"):
        raise ArtifactError(f"absolute member name {name!r}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArtifactError(f"member name {name!r} leaves the package root")
    return "/" + "/".join(parts)


def _tar_stream(fileobj: BinaryIO) -> tarfile.TarFile:
    return tarfile.open(fileobj=fileobj, mode="r|", tarinfo=_SafeTarInfo)


# ---------------------------------------------------------------- the package


def _read(path: Path, fh: BinaryIO) -> ArtifactInfo:
    members = _ar_members(path, fh)
    first = next(members, None)
    if first is None or first[0] != "debian-binary":
        raise ArtifactError(f"{path}: first ar member is not debian-binary")
    version = first[1].read(16)
    if not version.startswith(b"2."):
        raise ArtifactError(f"{path}: unsupported .deb format {version!r}")
    # dpkg-deb's order, and nothing it would read differently: after debian-binary, members
    # whose name starts with '_' are skipped; the next one must be control.tar.*, the next
    # data.tar.*, and dpkg stops there.  A second control or data member, a member it does
    # not know, or anything after data.tar is refused: dpkg would install one thing and
    # verify would check another.
    control: dict[str, bytes] | None = None
    entries: list[Observed] | None = None
    for name, member in members:
        if name.startswith("_"):
            continue
        if entries is not None:
            raise ArtifactError(f"{path}: ar member {name!r} after data.tar, which dpkg would not read")
        if control is None:
            if name not in _CONTROL_MEMBERS:
                raise ArtifactError(f"{path}: ar member {name!r} where dpkg expects control.tar")
            with _decompressed(name, member) as stream:
                control = _read_control(stream)
        elif name not in _DATA_MEMBERS:
            raise ArtifactError(f"{path}: ar member {name!r} where dpkg expects data.tar")
        else:
            with _decompressed(name, member) as stream:
                entries = _read_data(stream)
    if control is None or "control" not in control:
        raise ArtifactError(f"{path}: no control file")
    if entries is None:
        raise ArtifactError(f"{path}: no data.tar member")
    return _info(path, control, entries)


def _read_control(stream: BinaryIO) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with _tar_stream(stream) as tar:
        for m in tar:
            rel = _member_path(m.name).lstrip("/")
            if not m.isfile() or "/" in rel:
                continue
            if m.size > _MAX_CONTROL_MEMBER:
                raise ArtifactError(f"control member {rel!r} is {m.size} bytes, too large")
            f = tar.extractfile(m)
            assert f is not None
            out[rel] = f.read()
    return out


def _read_data(stream: BinaryIO) -> list[Observed]:
    entries: dict[str, Observed] = {}
    with _tar_stream(stream) as tar:
        for m in tar:
            p = _member_path(m.name)
            if p == "/":
                continue
            mode = m.mode & 0o7777
            owner, group = m.uname or str(m.uid), m.gname or str(m.gid)
            if m.isdir():
                obs = Observed(p, EntryKind.DIR, mode, owner, group)
            elif m.issym():
                obs = Observed(p, EntryKind.SYMLINK, 0o777, owner, group, target=m.linkname)
            elif m.islnk():
                # A hard link: the same content as an earlier member.
                prior = entries.get(_member_path(m.linkname))
                if prior is None or prior.kind is not EntryKind.FILE:
                    raise ArtifactError(f"hard link {p!r} to a missing member {m.linkname!r}")
                obs = Observed(p, EntryKind.FILE, mode, owner, group, prior.size, prior.digest, "md5")
            elif m.isfile():
                f = tar.extractfile(m)
                assert f is not None
                md5 = hashlib.md5()
                while chunk := f.read(_CHUNK):
                    md5.update(chunk)
                obs = Observed(p, EntryKind.FILE, mode, owner, group, m.size, md5.hexdigest(), "md5")
            else:
                raise ArtifactError(f"member {p!r} is a device, fifo or other special file")
            entries[p] = obs
    return list(entries.values())


def _relations(fields: Deb822) -> dict[str, tuple[ResolvedRelation, ...]]:
    out: dict[str, list[ResolvedRelation]] = {}
    for field, kind in FIELD_KINDS:
        text = fields.get(field, "")
        if not text.strip():
            continue
        for group in PkgRelation.parse_relations(text):
            alts = [a for a in group if a.get("name")]
            if not alts:
                continue
            if len(alts) > 1:
                rel = ResolvedRelation(name=" | ".join(PkgRelation.str([alts]).split(" | ")))
            else:
                a = alts[0]
                op, ver = a["version"] or ("", "")
                # python3:any keeps its qualifier: "python3" is another relation (Policy 7.1, Multi-Arch).
                name = a["name"] + (":" + a["archqual"] if a.get("archqual") else "")
                rel = ResolvedRelation(name=name, op=_OPS.get(op, op), version=ver)
            out.setdefault(kind, []).append(rel)
    return {k: tuple(sorted(v, key=lambda r: (r.name, r.op, r.version))) for k, v in out.items()}


def _statoverrides(postinst: str) -> dict[str, tuple[str, str]]:
    """Owners set by ``dpkg-statoverride --update --add USER GROUP MODE PATH`` lines."""
    out: dict[str, tuple[str, str]] = {}
    for line in postinst.splitlines():
        if "dpkg-statoverride" not in line or "--add" not in line:
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        if "--add" in words:
            i = words.index("--add")
            if len(words) >= i + 5:
                user, group, _mode, target = words[i + 1 : i + 5]
                out[posixpath.normpath(target)] = (user, group)
    return out


def _info(path: Path, control: dict[str, bytes], entries: list[Observed]) -> ArtifactInfo:
    fields = Deb822(control["control"].decode("utf-8", "replace"))
    for required in ("Package", "Version", "Architecture"):
        if not fields.get(required):
            raise ArtifactError(f"{path}: control file has no {required} field")
    full = fields["Version"].strip()
    epoch: int | None = None
    if ":" in full:
        head, full = full.split(":", 1)
        epoch = int(head) if head.isdigit() else None
    version, _, release = full.rpartition("-")
    if not version:
        version, release = release, ""
    conf = {
        posixpath.normpath("/" + line.strip().lstrip("/"))
        for line in control.get("conffiles", b"").decode("utf-8", "replace").splitlines()
        if line.strip() and not line.startswith(("remove-on-upgrade ",))
    }
    scripts = {n: control[n].decode("utf-8", "replace") for n in SCRIPT_NAMES if n in control}
    owners = _statoverrides(scripts.get("postinst", ""))
    observed = []
    for e in sorted(entries, key=lambda o: o.path):
        changes: dict = {}
        if e.path in conf and e.kind is EntryKind.FILE:
            changes["config"] = ConfigKind.CONFIG
        if e.path in owners:
            changes["owner"], changes["group"] = owners[e.path]
        observed.append(Observed(**{**e.__dict__, **changes}) if changes else e)
    return ArtifactInfo(
        path=str(path),
        format=Family.DEB,
        name=fields["Package"].strip(),
        version=version,
        release=release,
        arch=fields["Architecture"].strip(),
        summary=fields.get("Description", "").split("\n", 1)[0].strip(),
        entries=tuple(observed),
        relations=_relations(fields),
        scripts=scripts,
        epoch=epoch,
    )
