"""Read a built package of any registered format, chosen by its magic bytes, never by its name."""

from __future__ import annotations

from pathlib import Path

from ..errors import ArtifactError
from ..model import ArtifactInfo
from . import all_formats


def read_artifact(path: Path | str, *, binary_only: bool = False) -> ArtifactInfo:
    """Read a package (.rpm, .deb) into an ArtifactInfo.

    ``binary_only`` refuses a source package (a .src.rpm): it lists sources, not deployed
    paths, so holding it against the map would report every path.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read: {exc.strerror}") from None
    formats = all_formats()
    for fmt in formats:
        if fmt.sniff(head):
            return fmt.read(path, binary_only=binary_only)
    names = " or ".join(fmt.suffix for fmt in formats)
    raise ArtifactError(f"{path}: not an {names} package (unknown magic bytes {head[:8].hex()})")
