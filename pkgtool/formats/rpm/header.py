"""RPM v4 header structures: typed entries packed into an immutable region, and the 96-byte lead.

Layout (rpm's lib/header.c, headerExport): magic, index count, data size,
the index (16 bytes an entry, sorted by tag, the region tag first), then the
data store, each value aligned to its type's width.  The region trailer (a
copy of the region's index entry whose offset is minus the index size) is
the last 16 bytes of the store, so the whole header is one immutable region.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

HEADER_MAGIC = b"\x8e\xad\xe8\x01\x00\x00\x00\x00"
LEAD_MAGIC = b"\xed\xab\xee\xdb"
SIGNATURE_REGION = 62  # RPMTAG_HEADERSIGNATURES
IMMUTABLE_REGION = 63  # RPMTAG_HEADERIMMUTABLE


class Type(IntEnum):
    INT16 = 3
    INT32 = 4
    INT64 = 5
    STRING = 6
    BIN = 7
    STRING_ARRAY = 8
    I18NSTRING = 9


_ALIGN = {Type.INT16: 2, Type.INT32: 4, Type.INT64: 8}
_INT_CODE = {Type.INT16: "H", Type.INT32: "I", Type.INT64: "Q"}
_ENTRY = struct.Struct(">iiii")


@dataclass(frozen=True)
class Entry:
    tag: int
    type: Type
    count: int
    data: bytes


def _cstr(value: str) -> bytes:
    raw = value.encode("utf-8", "surrogateescape")
    if b"\0" in raw:
        raise ValueError("NUL byte in an RPM header string")
    return raw + b"\0"


class Header:
    """Collects entries (one per tag) and exports them as a header blob."""

    def __init__(self) -> None:
        self._entries: dict[int, Entry] = {}

    def __contains__(self, tag: int) -> bool:
        return tag in self._entries

    def _put(self, tag: int, typ: Type, count: int, data: bytes) -> None:
        if tag in self._entries:
            raise ValueError(f"RPM header tag {tag} set twice")
        self._entries[tag] = Entry(tag, typ, count, data)

    def string(self, tag: int, value: str) -> None:
        self._put(tag, Type.STRING, 1, _cstr(value))

    def i18n(self, tag: int, value: str) -> None:
        self._put(tag, Type.I18NSTRING, 1, _cstr(value))

    def strings(self, tag: int, values: Sequence[str]) -> None:
        joined = "\0".join(values)
        if joined.count("\0") != max(len(values) - 1, 0):
            raise ValueError("NUL byte in an RPM header string")
        data = joined.encode("utf-8", "surrogateescape") + b"\0" if values else b""
        self._put(tag, Type.STRING_ARRAY, len(values), data)

    def ints(self, tag: int, typ: Type, values: Sequence[int]) -> None:
        self._put(tag, typ, len(values), struct.pack(f">{len(values)}{_INT_CODE[typ]}", *values))

    def int32(self, tag: int, *values: int) -> None:
        self.ints(tag, Type.INT32, values)

    def binary(self, tag: int, value: bytes) -> None:
        self._put(tag, Type.BIN, len(value), bytes(value))

    def export(self, region: int) -> bytes:
        """The header blob with every entry inside the immutable region ``region``."""
        entries = sorted(self._entries.values(), key=lambda e: e.tag)
        nindex = len(entries) + 1
        index = [b""]  # the region's own entry, filled in below
        store = bytearray()
        for e in entries:
            align = _ALIGN.get(e.type, 1)
            store.extend(b"\0" * (-len(store) % align))
            index.append(_ENTRY.pack(e.tag, e.type, len(store), e.count))
            store.extend(e.data)
        index[0] = _ENTRY.pack(region, Type.BIN, len(store), 16)
        store.extend(_ENTRY.pack(region, Type.BIN, -16 * nindex, 16))
        return HEADER_MAGIC + struct.pack(">II", nindex, len(store)) + b"".join(index) + bytes(store)


def lead(name: str) -> bytes:
    """The 96-byte lead of a binary package: only the magic and the name matter to rpm today."""
    raw = name.encode("utf-8", "surrogateescape")[:65]
    return (
        LEAD_MAGIC
        + bytes((3, 0))  # format 3.0
        + struct.pack(">HH", 0, 0)  # binary package, archnum (unused)
        + raw.ljust(66, b"\0")
        + struct.pack(">HH", 1, 5)  # osnum linux, signature type "header-style"
        + b"\0" * 16
    )


def pad8(data_len: int) -> bytes:
    """Zero bytes that bring the signature header to an 8-byte boundary."""
    return b"\0" * (-data_len % 8)
