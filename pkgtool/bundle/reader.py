"""Read a `.plugin.tar[.gz|.xz]` bundle without extracting it: every member streamed into memory.

Only regular-file members with plain relative names are accepted; a symlink, hardlink, device,
directory, absolute name or name with ``..`` is refused naming the member, before any of its data
is used, so a hostile bundle can never make pkgtool write (or read) outside the bundle itself.
"""

from __future__ import annotations

import hashlib
import lzma
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ArtifactError

MAX_MEMBER = 1 << 30  # a bundled RPM of 1 GiB is no plugin; refused rather than held in memory
MAX_MEMBERS = 10_000
MAX_TOTAL = 2 << 30  # all members together: a decompression bomb stops here, not in memory
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\xfd7zXZ\x00")  # gzip, xz


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _check_name(path: Path, info: tarfile.TarInfo) -> None:
    name = info.name
    parts = name.split("/")
    if name.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\x00" in name:
        raise ArtifactError(f"{path}: member {name!r} climbs out of the bundle (absolute or '..' name)")
    if info.issym() or info.islnk():
        raise ArtifactError(
            f"{path}: member {name!r} is a {'symlink' if info.issym() else 'hardlink'} to "
            f"{info.linkname!r}; a bundle holds regular files only"
        )
    if not info.isreg():
        raise ArtifactError(f"{path}: member {name!r} is not a regular file; a bundle holds regular files only")
    if info.size > MAX_MEMBER:
        raise ArtifactError(f"{path}: member {name!r} is {info.size} bytes, over the {MAX_MEMBER} limit")


def read_members(path: Path) -> dict[str, Member]:
    """Every member of the bundle, by name; refuses hostile, duplicate or truncated members."""
    path = Path(path)
    members: dict[str, Member] = {}
    current = "(header)"
    end = total = 0
    try:
        with tarfile.open(path, "r:*") as tf:
            for info in tf:
                current = info.name
                _check_name(path, info)
                if info.name in members:
                    raise ArtifactError(f"{path}: member {info.name!r} appears twice")
                if len(members) >= MAX_MEMBERS:
                    raise ArtifactError(f"{path}: more than {MAX_MEMBERS} members")
                total += info.size
                if total > MAX_TOTAL:
                    raise ArtifactError(f"{path}: members up to {info.name!r} hold over {MAX_TOTAL} bytes")
                fh = tf.extractfile(info)
                data = fh.read() if fh is not None else b""
                if len(data) != info.size:
                    raise ArtifactError(f"{path}: member {info.name!r} is truncated")
                members[info.name] = Member(info.name, data)
            end = tf.offset  # just past the last member: the end-of-archive blocks must follow
    except FileNotFoundError:
        raise ArtifactError(f"{path}: no such file") from None
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise ArtifactError(f"{path}: damaged or truncated bundle at member {current!r}: {exc}") from None
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read: {exc.strerror or exc}") from None
    _check_end(path, end, current)
    return members


def _check_end(path: Path, end: int, last: str) -> None:
    """A plain tar cut after its last member's data still lists whole members: its end blocks tell."""
    with open(path, "rb") as fh:
        if fh.read(6).startswith(_COMPRESSED_MAGIC):
            return  # the decompressor refuses a cut stream itself
        fh.seek(end)
        tail = fh.read(2 * tarfile.BLOCKSIZE)
    if len(tail) < 2 * tarfile.BLOCKSIZE or tail.strip(b"\0"):
        raise ArtifactError(f"{path}: truncated bundle: no end-of-archive blocks after member {last!r}")
