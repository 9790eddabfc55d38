"""Reproducible source tarballs (RPM Source0, Debian orig.tar.gz): sorted, root-owned, mtimes clamped."""

from __future__ import annotations

import gzip
import os
import stat
import tarfile
from collections.abc import Iterable
from pathlib import Path

from .atomic import atomic_file
from .model import Resolved


def source_files(resolved: Resolved) -> list[str]:
    """Every file of the layout root that a source package needs, relative and sorted."""
    rels = {e.source for e in resolved.files if e.source}
    rels.update(resolved.layout.scripts.values())
    rels.update(p.file for p in resolved.layout.patches)
    rels.add(resolved.layout.source_file.name)
    return sorted(rels)


def write_source_tarball(resolved: Resolved, dest: Path, top: str, files: Iterable[str] | None = None) -> Path:
    """Write ``dest`` (.tar.gz) holding ``top/<rel>`` for each source file; byte-identical for equal input."""
    root = resolved.root
    rels = sorted(set(files)) if files is not None else source_files(resolved)
    epoch = resolved.source_date_epoch
    dirs: set[str] = set()
    for rel in rels:
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    with atomic_file(Path(dest)) as tmp:
        with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
                tar.addfile(_dir_info(top, epoch))
                for name in sorted(dirs | set(rels)):
                    if name in dirs:
                        tar.addfile(_dir_info(f"{top}/{name}", epoch))
                        continue
                    src = root / name
                    st = os.stat(src)
                    if not stat.S_ISREG(st.st_mode):
                        continue
                    info = tarfile.TarInfo(f"{top}/{name}")
                    info.size = st.st_size
                    info.mode = 0o755 if st.st_mode & 0o111 else 0o644
                    _normalise(info, epoch)
                    with open(src, "rb") as fh:
                        tar.addfile(info, fh)
    return Path(dest)


def _dir_info(name: str, epoch: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    _normalise(info, epoch)
    return info


def _normalise(info: tarfile.TarInfo, epoch: int) -> None:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mtime = epoch
    info.pax_headers = {}
