"""Readers of what verify compares: an installed root, a .rpm, a .deb."""

from __future__ import annotations

from pathlib import Path

from ..errors import ArtifactError
from ..model import ArtifactInfo

RPM_MAGIC = b"\xed\xab\xee\xdb"
DEB_MAGIC = b"!<arch>\n"


def read_artifact(path: Path | str, *, binary_only: bool = False) -> ArtifactInfo:
    """Read a .rpm or .deb, chosen by its magic bytes, never by its name.

    ``binary_only`` refuses a .src.rpm: it lists sources, not deployed paths, so holding it against the
    map would report every path.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read: {exc.strerror}") from None
    if magic[:4] == RPM_MAGIC:
        from .rpm.reader import is_source_rpm, read_rpm

        if binary_only and is_source_rpm(path):
            raise ArtifactError(f"{path}: a source package (.src.rpm); verify the binary .rpm built from it")
        return read_rpm(path)
    if magic == DEB_MAGIC:
        from .deb.reader import read_deb

        return read_deb(path)
    raise ArtifactError(f"{path}: not an .rpm or .deb package (unknown magic bytes {magic[:8].hex()})")
