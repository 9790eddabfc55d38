"""Write a binary RPM (v4 format) from a Resolved, streaming the payload.

Order of work: the payload is written first, compressed, into a temporary
file beside the destination (file digests and sizes are known only once the
files were read); then the main header is built from them, the signature
header from the main header and the payload, and lead + signature + header +
payload are written into the atomic temporary file, the payload by
copy_file_range.  Each source file is read once.

The header holds what rpmbuild writes for the generated spec (see
formats/rpm/spec.py) and what rpm needs to install and verify the package: the
same paths, modes, owners, flags, relations, scriptlets and changelog.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from ... import __version__
from ...atomic import atomic_file
from ...errors import ArtifactError
from ...links import link_text
from ...model import VERIFY_ATTRS, ConfigKind, Entry, EntryKind, Resolved
from ...templating import one_line
from . import header as rh
from .autodeps import auto_requires
from .facts import UINT32_MAX, changelog_items, changelog_timestamp, identity_tags, implied_provides
from .names import rpm_arch, rpm_release
from .payload import MAX_NEWC_SIZE, CpioWriter, NeedsLargeFiles, PayloadDigests, codec
from .scriptlets import pre_requires, rpm_scriptlets

RESERVED_SPACE = 4128  # what rpmbuild leaves for signatures added later

# Payload compression -> (PAYLOADCOMPRESSOR, rpmlib feature it needs); 'none' writes neither tag
# (rpm then reads the payload through gzdio, which passes uncompressed data through).
PAYLOAD_CODECS = {
    "zstd": ("zstd", ("PayloadIsZstd", "5.4.18-1")),
    "xz": ("xz", ("PayloadIsXz", "5.2-1")),
    "gzip": ("gzip", None),
    "none": ("", None),
}
RPMLIB_ALWAYS = (("CompressedFileNames", "3.0.4-1"), ("FileDigests", "4.6.0-1"), ("PayloadFilesHavePrefix", "4.0-1"))
LARGE_FILES = ("LargeFiles", "4.12.0-1")  # needed by LONGFILESIZES and the stripped cpio format
# %{_isa} of rpm's platform macros: the arch-qualified self-provide "name(x86-64)".
ISA = {"x86_64": "x86-64", "aarch64": "aarch-64", "i686": "x86-32", "ppc64le": "ppc-64", "s390x": "s390-64"}


class FileTable:
    """The header's per-file columns, in payload order (columns, not records: 20,000 files are cheap)."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.modes: list[int] = []  # st_mode with the file type
        self.sizes: list[int] = []
        self.digests: list[str] = []
        self.links: list[str] = []
        self.users: list[str] = []
        self.groups: list[str] = []
        self.flags: list[int] = []
        self.verify: list[int] = []  # FILEVERIFYFLAGS
        self.langs: list[str] = []  # FILELANGS


# ---------------------------------------------------------------- names


def evr(resolved: Resolved, release: str) -> str:
    pkg = resolved.package
    base = f"{pkg.version}-{release}"
    return f"{pkg.epoch}:{base}" if pkg.epoch is not None else base


def _file_flags(e: Entry) -> int:
    flags = 0
    if e.config is not ConfigKind.NONE:
        flags |= rh.FILE_CONFIG
    if e.config is ConfigKind.NOREPLACE:
        flags |= rh.FILE_NOREPLACE
    if e.license:
        flags |= rh.FILE_LICENSE
    elif e.doc:
        flags |= rh.FILE_DOC
    return flags


def _verify_flags(e: Entry) -> int:
    """RPMVERIFY_ALL without the bits of the entry's `not` attributes, as rpmbuild's %verify(not ...) stores it."""
    flags = rh.VERIFY_ALL
    for attr in e.no_verify:
        flags &= ~(1 << VERIFY_ATTRS.index(attr))
    return flags


# ---------------------------------------------------------------- payload


def write_payload(resolved: Resolved, src_dir: Path, out) -> tuple[FileTable, PayloadDigests]:
    """Stream every owned entry into ``out`` as compressed cpio; return the header's file columns and the digests.

    A file of 4 GiB or more is found only while streaming; the payload is then
    written again from the start in rpm's large-file format (rare, and it
    spares every other build a stat of each file beforehand).
    """
    try:
        return _write_payload(resolved, src_dir, out, large=False)
    except NeedsLargeFiles:
        out.seek(0)
        out.truncate()
        return _write_payload(resolved, src_dir, out, large=True)


def _write_payload(resolved: Resolved, src_dir: Path, out, large: bool) -> tuple[FileTable, PayloadDigests]:
    owned = resolved.owned
    table = FileTable()
    # Column by column: one pass per column is cheaper than a call per entry.
    file_kind, dir_kind, link_kind, none = EntryKind.FILE, EntryKind.DIR, EntryKind.SYMLINK, ConfigKind.NONE
    src_root = str(src_dir) + "/"
    modes, args, links = table.modes, [], table.links
    for e in owned:
        if e.kind is file_kind:
            modes.append(0o100000 | (e.mode & 0o7777))
            # An absolute source is generated byte-code (formats/rpm/bytecode.py), never a map's.
            source = e.source or ""
            args.append(source if source.startswith("/") else src_root + source)
            links.append("")
        elif e.kind is dir_kind:
            modes.append(0o040000 | (e.mode & 0o7777))
            args.append("")
            links.append("")
        else:
            target = link_text(e)
            modes.append(0o120777)
            args.append(target)
            links.append(target)
    table.paths = [e.path for e in owned]
    profile = resolved.profile
    cpio = CpioWriter(codec(profile.compression, profile.compression_level), out, resolved.source_date_epoch, large)
    try:
        results = cpio.add_entries(zip(table.paths, modes, args, strict=True))
        digests = cpio.finish()
    except BaseException:
        cpio.abort()
        raise
    table.sizes = [size for size, _ in results]
    table.digests = [digest for _, digest in results]
    # Links belong to root, as rpmbuild's %files without %attr gives them.
    table.users = [e.owner if e.kind is not link_kind else "root" for e in owned]
    table.groups = [e.group if e.kind is not link_kind else "root" for e in owned]
    table.flags = [_file_flags(e) if e.config is not none or e.license or e.doc else 0 for e in owned]
    table.verify = [_verify_flags(e) if e.no_verify else rh.VERIFY_ALL for e in owned]
    table.langs = [e.lang for e in owned]
    if resolved.ghosts:
        _add_ghosts(table, resolved.ghosts)
    return table, digests


def _add_ghosts(table: FileTable, ghosts: tuple[Entry, ...]) -> None:
    """Ghost rows into the header's columns, in path order as rpmbuild sorts them: size 0, no digest, no cpio member."""
    columns = ("paths", "modes", "sizes", "digests", "links", "users", "groups", "flags", "verify", "langs")
    rows = list(zip(*(getattr(table, c) for c in columns), strict=True))
    for g in ghosts:
        kind = 0o040000 if g.kind is EntryKind.DIR else 0o100000
        flags = _file_flags(g) | rh.FILE_GHOST
        verify = _verify_flags(g) & ~rh.VERIFY_NOT_GHOST
        rows.append((g.path, kind | (g.mode & 0o7777), 0, "", "", g.owner, g.group, flags, verify, g.lang))
    rows.sort(key=lambda row: row[0])
    for c, values in zip(columns, zip(*rows, strict=True), strict=True):
        setattr(table, c, list(values))


# ---------------------------------------------------------------- main header


def _relations(
    resolved: Resolved,
    release: str,
    scriptlets: dict[str, str],
    has_config: bool,
    rpmlib: list[tuple[str, str]],
    generated: Sequence[tuple[str, int, str]] = (),
) -> dict[str, list[tuple[str, int, str]]]:
    """kind -> sorted [(name, flags, version)], with what rpmbuild adds by itself (``generated``: autodeps)."""
    pkg = resolved.package
    full = evr(resolved, release)
    out: dict[str, list[tuple[str, int, str]]] = {}
    for kind in rh.RELATION_TAGS:
        out[kind] = [
            (r.name, rh.OPERATOR_FLAGS[r.op], r.version) if r.op and r.version else (r.name, 0, "")
            for r in resolved.relations.get(kind, ())
        ]
    requires, provides = out["requires"], out["provides"]
    for kind, sense in rh.SCRIPT_REQUIRE_SENSES.items():
        requires.extend(
            (r.name, sense | rh.OPERATOR_FLAGS.get(r.op, 0), r.version) for r in resolved.relations.get(kind, ())
        )
    requires.extend(generated)
    for name in scriptlets:
        requires.append(("/bin/sh", rh.SENSE_INTERP | rh.SCRIPT_TAGS[name][2], ""))
    requires.extend((path, rh.SENSE_SCRIPT_PRE, "") for path in pre_requires(resolved))
    requires.extend(
        (f"rpmlib({feature})", rh.SENSE_RPMLIB | rh.SENSE_LESS | rh.SENSE_EQUAL, version) for feature, version in rpmlib
    )
    provides.extend((r.name, rh.SENSE_EQUAL, r.version) for r in implied_provides(resolved, full))
    provides.append((pkg.name, rh.SENSE_EQUAL, full))
    isa = ISA.get(rpm_arch(resolved))
    if isa:
        provides.append((f"{pkg.name}({isa})", rh.SENSE_EQUAL, full))
    if has_config:
        requires.append((f"config({pkg.name})", rh.SENSE_CONFIG | rh.SENSE_EQUAL, full))
        provides.append((f"config({pkg.name})", rh.SENSE_CONFIG | rh.SENSE_EQUAL, full))
    return {kind: sorted(set(rels)) for kind, rels in out.items()}


def main_header(
    resolved: Resolved, files: FileTable, payload: PayloadDigests, generated: Sequence[tuple[str, int, str]] = ()
) -> bytes:
    pkg, profile = resolved.package, resolved.profile
    release = rpm_release(resolved)
    epoch = resolved.source_date_epoch
    h = rh.Header()
    identity_tags(h, pkg.name, pkg, release, epoch, sum(files.sizes))
    if pkg.url:
        h.string(rh.URL, pkg.url)
    h.string(rh.OS, "linux")
    arch = rpm_arch(resolved)
    h.string(rh.ARCH, arch)
    scriptlets = rpm_scriptlets(resolved)
    for name, body in scriptlets.items():
        body_tag, prog_tag, _ = rh.SCRIPT_TAGS[name]
        # rpmbuild drops the trailing newline of a scriptlet body; so do we, to store the same text.
        h.string(body_tag, body.rstrip("\n"))
        h.string(prog_tag, "/bin/sh")

    n = len(files.paths)
    large = any(size >= MAX_NEWC_SIZE for size in files.sizes)
    if n:
        if large:
            h.ints(rh.LONGFILESIZES, rh.Type.INT64, files.sizes)
        else:
            h.ints(rh.FILESIZES, rh.Type.INT32, files.sizes)
        h.ints(rh.FILEMODES, rh.Type.INT16, files.modes)
        h.ints(rh.FILERDEVS, rh.Type.INT16, [0] * n)
        h.ints(rh.FILEMTIMES, rh.Type.INT32, [epoch] * n)
        h.strings(rh.FILEDIGESTS, files.digests)
        h.strings(rh.FILELINKTOS, files.links)
        h.ints(rh.FILEFLAGS, rh.Type.INT32, files.flags)
        h.strings(rh.FILEUSERNAME, files.users)
        h.strings(rh.FILEGROUPNAME, files.groups)
        h.ints(rh.FILEVERIFYFLAGS, rh.Type.INT32, files.verify)
        h.ints(rh.FILEDEVICES, rh.Type.INT32, [1] * n)
        h.ints(rh.FILEINODES, rh.Type.INT32, range(1, n + 1))
        h.strings(rh.FILELANGS, files.langs)
        dirs: dict[str, int] = {}
        indexes, basenames = [], []
        for path in files.paths:
            cut = path.rindex("/") + 1
            indexes.append(dirs.setdefault(path[:cut], len(dirs)))
            basenames.append(path[cut:])
        h.ints(rh.DIRINDEXES, rh.Type.INT32, indexes)
        h.strings(rh.BASENAMES, basenames)
        h.strings(rh.DIRNAMES, list(dirs))
        h.int32(rh.FILEDIGESTALGO, rh.DIGEST_SHA256)
    h.string(rh.SOURCERPM, f"{pkg.source or pkg.name}-{pkg.version}-{release}.src.rpm")

    compressor, feature = PAYLOAD_CODECS[profile.compression]
    rpmlib = list(RPMLIB_ALWAYS) + ([feature] if feature else []) + ([LARGE_FILES] if large else [])
    has_config = any(flags & rh.FILE_CONFIG for flags in files.flags)
    relations = _relations(resolved, release, scriptlets, has_config, rpmlib, generated)
    for kind, (name_tag, flags_tag, version_tag) in rh.RELATION_TAGS.items():
        rels = relations[kind]
        if rels:
            h.strings(name_tag, [r[0] for r in rels])
            h.ints(flags_tag, rh.Type.INT32, [r[1] for r in rels])
            h.strings(version_tag, [r[2] for r in rels])
    h.string(rh.RPMVERSION, f"pkgtool {__version__}")
    changes = changelog_items(resolved)
    if changes:
        h.ints(rh.CHANGELOGTIME, rh.Type.INT32, [changelog_timestamp(date) for date, *_ in changes])
        h.strings(rh.CHANGELOGNAME, [one_line(f"{author} - {version}") for _, author, version, _ in changes])
        h.strings(rh.CHANGELOGTEXT, ["\n".join(f"- {one_line(x)}" for x in items) for *_, items in changes])
    h.string(rh.PAYLOADFORMAT, "cpio")
    if compressor:
        h.string(rh.PAYLOADCOMPRESSOR, compressor)
        h.string(rh.PAYLOADFLAGS, str(profile.compression_level))
    h.string(rh.PLATFORM, f"{arch}-pkgtool-linux")
    h.string(rh.ENCODING, "utf-8")
    h.strings(rh.PAYLOADDIGEST, [payload.sha256])
    h.int32(rh.PAYLOADDIGESTALGO, rh.DIGEST_SHA256)
    h.strings(rh.PAYLOADDIGESTALT, [payload.sha256_uncompressed])
    try:
        return h.export(rh.IMMUTABLE_REGION)
    except ValueError as exc:
        raise ArtifactError(f"{pkg.name}: cannot write the RPM header: {exc}") from None


# ---------------------------------------------------------------- signature and file


def signature_header(header: bytes, payload: PayloadDigests, md5: bytes) -> bytes:
    s = rh.Header()
    s.string(rh.SIG_SHA1, hashlib.sha1(header).hexdigest())
    s.string(rh.SIG_SHA256, hashlib.sha256(header).hexdigest())
    size = len(header) + payload.compressed_size
    if size > UINT32_MAX:
        s.ints(rh.SIG_LONGSIZE, rh.Type.INT64, [size])
    else:
        s.int32(rh.SIG_SIZE, size)
    s.binary(rh.SIG_MD5, md5)
    if payload.archive_size > UINT32_MAX:
        s.ints(rh.SIG_LONGARCHIVESIZE, rh.Type.INT64, [payload.archive_size])
    else:
        s.int32(rh.SIG_PAYLOADSIZE, payload.archive_size)
    s.binary(rh.SIG_RESERVEDSPACE, b"\0" * RESERVED_SPACE)
    blob = s.export(rh.SIGNATURE_REGION)
    return blob + rh.pad8(len(blob))


def _md5(header: bytes, payload_fh) -> bytes:
    md5 = hashlib.md5(header)
    payload_fh.seek(0)
    while chunk := payload_fh.read(1 << 20):
        md5.update(chunk)
    return md5.digest()


def _append(dst, src, length: int) -> None:
    """Copy ``length`` bytes of ``src`` (from its start) to the end of ``dst``, in the kernel when it can."""
    src.seek(0)
    dst.flush()
    try:
        left = length
        while left:
            n = os.copy_file_range(src.fileno(), dst.fileno(), left)
            if n == 0:
                break
            left -= n
        if left == 0:
            return
    except OSError:
        pass  # e.g. across file systems on old kernels: fall back to copying in user space
    src.seek(length - left)
    dst.seek(0, os.SEEK_END)
    shutil.copyfileobj(src, dst, 1 << 20)


@contextlib.contextmanager
def _payload_file(dest: Path) -> Iterator:
    """A temporary file beside ``dest`` for the compressed payload, removed whatever happens."""
    with tempfile.TemporaryFile(prefix=f".{dest.name}.payload-", dir=dest.parent) as fh:
        yield fh


def write_rpm(resolved: Resolved, src_dir: Path, dest: Path) -> Path:
    """Write the package to ``dest`` atomically (same input => same bytes)."""
    dest = Path(dest)
    pkg = resolved.package
    try:
        with _payload_file(dest) as payload_fh:
            files, digests = write_payload(resolved, src_dir, payload_fh)
            payload_fh.flush()
            header = main_header(resolved, files, digests, auto_requires(resolved, src_dir))
            signature = signature_header(header, digests, _md5(header, payload_fh))
            with atomic_file(dest) as tmp, open(tmp, "wb") as out:
                out.write(rh.lead(f"{pkg.name}-{pkg.version}-{rpm_release(resolved)}"))
                out.write(signature)
                out.write(header)
                _append(out, payload_fh, digests.compressed_size)
    except OSError as exc:
        raise ArtifactError(f"cannot write {dest}: {exc.strerror or exc}") from None
    return dest
