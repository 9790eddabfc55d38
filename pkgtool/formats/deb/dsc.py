"""Write a Debian source package natively: orig tarball, debian.tar.xz, .dsc and a source-only .changes.

What ``dpkg-source -b`` (format 3.0 (quilt)) and ``dpkg-genchanges -S`` write,
without them: the orig tarball is generate's (same bytes), the debian tarball
holds the generated debian/ tree (sorted, root-owned, mtime SOURCE_DATE_EPOCH,
xz), and the .dsc fields come from that tree's debian/control, as dpkg-source
takes them (tests/test_source_packages.py compares the .dsc with dpkg-source's, field
by field).  The .changes has dpkg-genchanges -S's fields but no .buildinfo; it is
unsigned (debsign signs it) and its Date is SOURCE_DATE_EPOCH (dpkg-genchanges takes
the changelog's), so the four files are byte-identical for the same input.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import stat
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path

from debian import deb822

from ...archive.tar import TarFormat, TarWriter
from ...archive.xz import XzWriter
from ...atomic import atomic_file, atomic_file_set, temp_dir, write_bytes_atomic
from ...model import Resolved
from .debian_dir import generate_deb, orig_name
from .facts import changelog_distribution, deb_version, file_version

DSC_FORMAT = "3.0 (quilt)"
CHANGES_FORMAT = "1.8"
XZ_PRESET = 6  # dpkg-source's default


@dataclass(frozen=True)
class SourceFile:
    """One file a .dsc or .changes lists, with its checksums."""

    name: str
    size: int
    md5: str
    sha1: str
    sha256: str


def _checksums(path: Path) -> SourceFile:
    md5, sha1, sha256 = hashlib.md5(), hashlib.sha1(), hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            size += len(chunk)
            for h in (md5, sha1, sha256):
                h.update(chunk)
    return SourceFile(path.name, size, md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest())


def write_debian_tarball(debian: Path, dest: Path, epoch: int) -> Path:
    """``debian/`` and everything under it, sorted by name, root-owned, mtime ``epoch``, xz-compressed."""
    members: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(debian):
        dirnames.sort()
        rel = Path(dirpath).relative_to(debian.parent).as_posix()
        members.append((rel, Path(dirpath)))
        members += [(f"{rel}/{n}", Path(dirpath) / n) for n in filenames]
    members.sort(key=lambda m: m[0].encode())
    with atomic_file(dest) as tmp, open(tmp, "wb") as raw:
        with XzWriter(raw, XZ_PRESET) as z, TarWriter(z, TarFormat.GNU, epoch) as tar:
            for name, path in members:
                st = os.lstat(path)
                if stat.S_ISDIR(st.st_mode):
                    tar.add_dir(name, 0o755)
                elif stat.S_ISREG(st.st_mode):
                    tar.add_file(name, str(path), 0o755 if st.st_mode & 0o100 else 0o644)
    return dest


def _file_lines(files: list[SourceFile], attr: str) -> str:
    return "".join(f"\n {getattr(f, attr)} {f.size} {f.name}" for f in files)


def render_dsc(control: list[deb822.Deb822], version: str, files: list[SourceFile]) -> bytes:
    source, binaries = control[0], control[1:]
    archs = sorted({b["Architecture"] for b in binaries}, key=lambda a: (a != "any", a))
    dsc = deb822.Deb822()
    dsc["Format"] = DSC_FORMAT
    dsc["Source"] = source["Source"]
    dsc["Binary"] = ", ".join(b["Package"] for b in binaries)
    dsc["Architecture"] = " ".join(archs)
    dsc["Version"] = version
    dsc["Maintainer"] = source["Maintainer"]
    if "Homepage" in source:
        dsc["Homepage"] = source["Homepage"]
    dsc["Standards-Version"] = source["Standards-Version"]
    dsc["Build-Depends"] = source["Build-Depends"]
    section, priority = source.get("Section", "misc"), source.get("Priority", "optional")
    dsc["Package-List"] = "".join(
        f"\n {b['Package']} deb {b.get('Section', section)} {b.get('Priority', priority)} arch={b['Architecture']}"
        for b in binaries
    )
    dsc["Checksums-Sha1"] = _file_lines(files, "sha1")
    dsc["Checksums-Sha256"] = _file_lines(files, "sha256")
    dsc["Files"] = _file_lines(files, "md5")
    return dsc.dump().encode("utf-8")


def render_changes(resolved: Resolved, control: list[deb822.Deb822], changelog: str, files: list[SourceFile]) -> bytes:
    # The fields dpkg-genchanges -S writes: a source-only upload has no Binary or Description.
    source = control[0]
    section, priority = source.get("Section", "misc"), source.get("Priority", "optional")
    date = _dt.datetime.fromtimestamp(resolved.source_date_epoch, _dt.UTC)
    # The newest changelog entry: its trailer names who made the change.
    newest = changelog.split("\n\n -- ", 1)
    changed_by = newest[1].split(">", 1)[0] + ">" if len(newest) == 2 else source["Maintainer"]
    body = newest[0].rstrip("\n").split("\n") if len(newest) == 2 else []
    ch = deb822.Deb822()
    ch["Format"] = CHANGES_FORMAT
    ch["Date"] = format_datetime(date)
    ch["Source"] = source["Source"]
    ch["Architecture"] = "source"
    ch["Version"] = deb_version(resolved)
    ch["Distribution"] = changelog_distribution(resolved)
    ch["Urgency"] = "medium"
    ch["Maintainer"] = source["Maintainer"]
    ch["Changed-By"] = changed_by
    ch["Changes"] = "".join("\n " + (line if line.strip() else ".") for line in body)
    ch["Checksums-Sha1"] = _file_lines(files, "sha1")
    ch["Checksums-Sha256"] = _file_lines(files, "sha256")
    # A .changes' Files also names each file's section and priority.
    ch["Files"] = "".join(f"\n {f.md5} {f.size} {section} {priority} {f.name}" for f in files)
    return ch.dump().encode("utf-8")


def write_source_package(resolved: Resolved, out_dir: Path) -> list[Path]:
    """Write the .dsc, orig and debian tarballs and the _source.changes into ``out_dir``; return them, .dsc first.

    The four are written into a private directory and moved into ``out_dir`` together
    (atomic_file_set), so a failure or Ctrl-C never leaves a .dsc without its tarballs.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pkg = resolved.package
    base = f"{pkg.name}_{file_version(resolved)}"
    names = [f"{base}.dsc", orig_name(resolved), f"{base}.debian.tar.xz", f"{base}_source.changes"]
    with (
        temp_dir(prefix=f".{names[0]}.pkgtool-work-", dir=out_dir) as work,
        atomic_file_set(out_dir, names[0]) as final,
    ):
        tree, orig = generate_deb(resolved, Path(work))
        debian = tree / "debian"
        debian_tar = write_debian_tarball(debian, final / names[2], resolved.source_date_epoch)
        os.replace(orig, final / names[1])
        control = list(deb822.Deb822.iter_paragraphs((debian / "control").read_text(encoding="utf-8")))
        changelog = (debian / "changelog").read_text(encoding="utf-8")
        files = [_checksums(final / names[1]), _checksums(debian_tar)]
        write_bytes_atomic(final / names[0], render_dsc(control, deb_version(resolved), files))
        changes = render_changes(resolved, control, changelog, [_checksums(final / names[0]), *files])
        write_bytes_atomic(final / names[3], changes)
    return [out_dir / name for name in names]
