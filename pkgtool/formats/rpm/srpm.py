"""Write a source RPM (.src.rpm) natively: the generated spec, Source0 tarball, patches and script sources.

What ``rpmbuild -bs`` writes for the same spec (rpm 4.18, compared tag by tag):
a lead of type 1, no SOURCERPM tag, SOURCEPACKAGE = 1, the files flat (DIRNAMES
[""], cpio names without "./"), every file 0644 root:root with the spec flagged
RPMFILE_SPECFILE, SOURCE/PATCH naming the spec's Source and Patch files,
BUILDARCHS for a noarch spec, Requires on the rpmlib features and the map's
build-requires, and a gzip -9 payload (rpm's %_source_payload default, which
every rpm reads).  The rpmlint files are generate's extras, not spec sources.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ... import __version__
from ...atomic import atomic_file, temp_dir
from ...errors import ArtifactError
from ...model import Resolved
from ...templating import one_line
from . import header as rh
from . import payload as rpm_payload
from .facts import changelog_items, changelog_timestamp, identity_tags
from .names import rpm_arch, rpm_release
from .payload import CpioWriter, NeedsLargeFiles, PayloadDigests, codec
from .spec import _write_rpm_sources, patch_names
from .writer import (
    LARGE_FILES,
    RPMLIB_ALWAYS,
    FileTable,
    _append,
    _md5,
    evr,
    signature_header,
)

SOURCE_COMPRESSION, SOURCE_LEVEL = "gzip", 9  # %_source_payload w9.gzdio
RPMLIB_SOURCE = RPMLIB_ALWAYS[:2]  # CompressedFileNames, FileDigests: what rpmbuild -bs requires
FILE_MODE = 0o100644


def srpm_file_name(resolved: Resolved) -> str:
    """NAME-VERSION-RELEASE.src.rpm: the name every binary package's SOURCERPM tag gives."""
    pkg = resolved.package
    return f"{pkg.source or pkg.name}-{pkg.version}-{rpm_release(resolved)}.src.rpm"


def _spec_files(resolved: Resolved, work: Path) -> tuple[list[Path], list[str], list[str]]:
    """Write the spec and its sources into ``work``; return (files sorted by name, Source names, Patch names)."""
    written = _write_rpm_sources(resolved, work)
    pkg = resolved.package
    extras = {f"{pkg.name}.rpmlintrc", f"{pkg.name}-rpmlint.toml"}
    files = sorted((p for p in written if p.name not in extras), key=lambda p: p.name.encode())
    patches = [name for name, _, _ in patch_names(resolved)]
    spec = f"{pkg.name}.spec"
    sources = [p.name for p in written if p.name not in extras and p.name not in patches and p.name != spec]
    return files, sources, patches


def _payload(resolved: Resolved, files: list[Path], out) -> tuple[FileTable, PayloadDigests]:
    """The cpio payload; a file of 4 GiB or more (a huge tarball) writes it again in rpm's large-file format."""
    try:
        return _write_payload(resolved, files, out, large=False)
    except NeedsLargeFiles:
        out.seek(0)
        out.truncate()
        return _write_payload(resolved, files, out, large=True)


def _write_payload(resolved: Resolved, files: list[Path], out, large: bool) -> tuple[FileTable, PayloadDigests]:
    table = FileTable()
    table.paths = [p.name for p in files]
    table.modes = [FILE_MODE] * len(files)
    cpio = CpioWriter(codec(SOURCE_COMPRESSION, SOURCE_LEVEL), out, resolved.source_date_epoch, large, prefix="")
    try:
        results = cpio.add_entries((p.name, FILE_MODE, str(p)) for p in files)
        digests = cpio.finish()
    except BaseException:
        cpio.abort()
        raise
    table.sizes = [size for size, _ in results]
    table.digests = [digest for _, digest in results]
    table.links = [""] * len(files)
    table.users = ["root"] * len(files)
    table.groups = ["root"] * len(files)
    spec = f"{resolved.package.name}.spec"
    table.flags = [rh.FILE_SPECFILE if p.name == spec else 0 for p in files]
    return table, digests


def source_header(
    resolved: Resolved, files: FileTable, payload: PayloadDigests, sources: list[str], patches: list[str]
) -> bytes:
    pkg = resolved.package
    release = rpm_release(resolved)
    epoch = resolved.source_date_epoch
    n = len(files.paths)
    h = rh.Header()
    identity_tags(h, pkg.source or pkg.name, pkg, release, epoch, sum(files.sizes))
    if sources:
        h.strings(rh.SOURCE, sources)
    if patches:
        h.strings(rh.PATCH, patches)
    if pkg.url:
        h.string(rh.URL, pkg.url)
    h.string(rh.OS, "linux")
    arch = rpm_arch(resolved)
    h.string(rh.ARCH, arch)
    large = any(size >= rpm_payload.MAX_NEWC_SIZE for size in files.sizes)
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
    h.ints(rh.FILEVERIFYFLAGS, rh.Type.INT32, [rh.VERIFY_ALL] * n)
    # Requires: the map's build-requires (what rpmbuild --rebuild checks), then the rpmlib features.
    requires = sorted(
        {
            (r.name, rh.OPERATOR_FLAGS[r.op], r.version) if r.op and r.version else (r.name, 0, "")
            for r in resolved.relations.get("build-requires", ())
        }
        | {
            (f"rpmlib({f})", rh.SENSE_RPMLIB | rh.SENSE_LESS | rh.SENSE_EQUAL, v)
            for f, v in RPMLIB_SOURCE + ((LARGE_FILES,) if large else ())
        }
    )
    h.strings(rh.PROVIDENAME, [pkg.source or pkg.name])
    h.ints(rh.REQUIREFLAGS, rh.Type.INT32, [r[1] for r in requires])
    h.strings(rh.REQUIRENAME, [r[0] for r in requires])
    h.strings(rh.REQUIREVERSION, [r[2] for r in requires])
    h.string(rh.RPMVERSION, f"pkgtool {__version__}")
    changes = changelog_items(resolved)
    if changes:
        h.ints(rh.CHANGELOGTIME, rh.Type.INT32, [changelog_timestamp(date) for date, *_ in changes])
        h.strings(rh.CHANGELOGNAME, [one_line(f"{author} - {version}") for _, author, version, _ in changes])
        h.strings(rh.CHANGELOGTEXT, ["\n".join(f"- {one_line(x)}" for x in items) for *_, items in changes])
    if arch == "noarch":
        h.strings(rh.BUILDARCHS, ["noarch"])
    h.ints(rh.FILEDEVICES, rh.Type.INT32, [1] * n)
    h.ints(rh.FILEINODES, rh.Type.INT32, range(1, n + 1))
    h.strings(rh.FILELANGS, [""] * n)
    h.int32(rh.SOURCEPACKAGE, 1)
    h.ints(rh.PROVIDEFLAGS, rh.Type.INT32, [rh.SENSE_EQUAL])
    h.strings(rh.PROVIDEVERSION, [evr(resolved, release)])
    h.ints(rh.DIRINDEXES, rh.Type.INT32, [0] * n)
    h.strings(rh.BASENAMES, files.paths)
    h.strings(rh.DIRNAMES, [""])
    h.string(rh.PAYLOADFORMAT, "cpio")
    h.string(rh.PAYLOADCOMPRESSOR, SOURCE_COMPRESSION)
    h.string(rh.PAYLOADFLAGS, str(SOURCE_LEVEL))
    h.int32(rh.FILEDIGESTALGO, rh.DIGEST_SHA256)
    h.string(rh.ENCODING, "utf-8")
    h.strings(rh.PAYLOADDIGEST, [payload.sha256])
    h.int32(rh.PAYLOADDIGESTALGO, rh.DIGEST_SHA256)
    h.strings(rh.PAYLOADDIGESTALT, [payload.sha256_uncompressed])
    try:
        return h.export(rh.IMMUTABLE_REGION)
    except ValueError as exc:
        raise ArtifactError(f"{pkg.name}: cannot write the source RPM header: {exc}") from None


def write_srpm(resolved: Resolved, out_dir: Path) -> Path:
    """Write NAME-VERSION-RELEASE.src.rpm into ``out_dir`` atomically; same input => same bytes."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / srpm_file_name(resolved)
    pkg = resolved.package
    try:
        with (
            temp_dir(prefix=f".{dest.name}.pkgtool-work-", dir=out_dir) as work,
            tempfile.TemporaryFile(prefix=f".{dest.name}.payload-", dir=out_dir) as payload_fh,
        ):
            files, sources, patches = _spec_files(resolved, Path(work))
            table, digests = _payload(resolved, files, payload_fh)
            payload_fh.flush()
            header = source_header(resolved, table, digests, sources, patches)
            signature = signature_header(header, digests, _md5(header, payload_fh))
            with atomic_file(dest) as tmp, open(tmp, "wb") as out:
                out.write(rh.lead(f"{pkg.source or pkg.name}-{pkg.version}-{rpm_release(resolved)}", source=True))
                out.write(signature)
                out.write(header)
                _append(out, payload_fh, digests.compressed_size)
    except OSError as exc:
        raise ArtifactError(f"cannot write {dest}: {exc.strerror or exc}") from None
    return dest
