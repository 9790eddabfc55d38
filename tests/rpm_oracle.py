"""rpmfile as an independent reader of the .rpm files the tests build, held against pkgtool's own reader.

rpmfile parses headers with its own tables and reads the cpio payload; it is
not safe for untrusted files (it scans for magic bytes and trusts counts),
which is why pkgtool keeps its own bounds-checked reader.  Here it only reads
packages the tests built, and every fact both readers see must agree: names,
modes, owners, sizes, digests, link targets, file flags, relations,
scriptlets, and the payload's files with their bytes.
"""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import rpmfile

from pkgtool.formats.rpm.header import (
    DIGEST_ALGOS,
    FILE_CONFIG,
    FILE_NOREPLACE,
    OPERATOR_FLAGS,
    RELATION_TAGS,
    SCRIPT_TAGS,
)
from pkgtool.formats.rpm.reader import read_header, read_rpm
from pkgtool.model import ConfigKind, EntryKind

# rpmfile's names for the relation tags (its table keys), per map relation kind.
_RELATIONS = {
    "requires": ("requirename", "requireflags", "requireversion"),
    "recommends": ("recommendname", "recommendflags", "recommendversion"),
    "suggests": ("suggestname", "suggestflags", "suggestversion"),
    "conflicts": ("conflictname", "conflictflags", "conflictversion"),
    "provides": ("provides", "provideflags", "provideversion"),
    "replaces": ("obsoletes", "obsoleteflags", "obsoleteversion"),
}
_SCRIPTS = {"pre": "prein", "post": "postin", "preun": "preun", "postun": "postun"}
# Reading a payload decompresses it all; beyond this size only the header is compared.
PAYLOAD_LIMIT = 64 << 20
# The payload compressions rpmfile reads (rpm reads an uncompressed payload too; rpmfile does not).
_READABLE = {b"gzip", b"xz", b"zstd", b"bzip2"}


def _text(value) -> str:
    if isinstance(value, list):  # rpmfile gives a one-element string array as a list
        (value,) = value
    return value.decode("utf-8", "surrogateescape") if value is not None else ""


def _texts(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bytes):  # a string array of one, decoded as a plain string
        value = [value]
    return [v.decode("utf-8", "surrogateescape") for v in value]


def _ints(value) -> list[int]:
    if value is None:
        return []
    return [value] if isinstance(value, int) else list(value)


def rpmfile_view(path: Path) -> dict:
    """What rpmfile reads from ``path``, in plain Python types."""
    with rpmfile.open(str(path)) as rpm:
        h = rpm.headers
        dirnames, basenames, indexes = _texts(h.get("dirnames")), _texts(h.get("basenames")), _ints(h.get("dirindexes"))
        paths = [dirnames[i] + b for i, b in zip(indexes, basenames, strict=True)] or _texts(h.get("oldfilenames"))
        n = len(paths)
        columns = {
            "mode": _ints(h.get("filemodes")),
            "owner": _texts(h.get("fileusername")),
            "group": _texts(h.get("filegroupname")),
            "size": _ints(h.get("filesizes")) or [None] * n,  # LONGFILESIZES (INT64) is beyond rpmfile
            "digest": _texts(h.get("filemd5s")),  # FILEDIGESTS, named by its first algorithm
            "link": _texts(h.get("filelinktos")),
            "flags": _ints(h.get("fileflags")),
        }
        for name, col in columns.items():
            assert len(col) == n, f"{path}: rpmfile reads {n} files but {len(col)} {name} values"
        files = {p: {k: col[i] for k, col in columns.items()} for i, p in enumerate(paths)}
        relations = {}
        for kind, (names, flags, versions) in _RELATIONS.items():
            triples = zip(_texts(h.get(names)), _ints(h.get(flags)), _texts(h.get(versions)), strict=True)
            relations[kind] = sorted(triples)
        payload = None
        # rpmfile reads neither an uncompressed payload nor the large-file cpio format (LONGFILESIZES).
        readable = h.get("archive_compression") in _READABLE and "longfilesizes" not in h
        if readable and path.stat().st_size <= PAYLOAD_LIMIT:
            payload = {}
            for m in rpm.getmembers():  # files and links; rpmfile skips directories
                data = rpm.extractfile(m).read()
                payload["/" + m.name.removeprefix("./")] = (m.mode, m.issymlink, data)
        return {
            "name": _text(h.get("name")),
            "version": _text(h.get("version")),
            "release": _text(h.get("release")),
            "arch": _text(h.get("arch")),
            "summary": _text(h.get("summary")),
            "epoch": _ints(h.get("serial")),
            "digest_algo": DIGEST_ALGOS.get((_ints(h.get("filedigestalgo")) or [1])[0], ""),
            "files": files,
            "relations": relations,
            "scripts": {name: _text(h[key]) for name, key in _SCRIPTS.items() if key in h},
            "payload": payload,
        }


def assert_rpmfile_agrees(path: Path) -> None:
    """Every fact of a binary .rpm that both rpmfile and pkgtool's reader give is the same."""
    path = Path(path)
    theirs = rpmfile_view(path)
    ours = read_rpm(path)
    header = read_header(path)
    assert (ours.name, ours.version, ours.release, ours.arch, ours.summary) == (
        theirs["name"],
        theirs["version"],
        theirs["release"],
        theirs["arch"],
        theirs["summary"],
    ), path
    assert ([ours.epoch] if ours.epoch is not None else []) == theirs["epoch"], path
    assert ours.scripts == theirs["scripts"], path
    assert set(theirs["scripts"]) <= set(SCRIPT_TAGS)

    files = theirs["files"]
    assert sorted(files) == [o.path for o in ours.entries], path
    for o in ours.entries:
        f = files[o.path]
        where = f"{path}: {o.path}"
        kind = {stat.S_IFREG: EntryKind.FILE, stat.S_IFDIR: EntryKind.DIR, stat.S_IFLNK: EntryKind.SYMLINK}.get(
            stat.S_IFMT(f["mode"])
        )
        assert (o.kind, o.mode, o.owner, o.group) == (kind, stat.S_IMODE(f["mode"]), f["owner"], f["group"]), where
        config = ConfigKind.NONE
        if f["flags"] & FILE_CONFIG:
            config = ConfigKind.NOREPLACE if f["flags"] & FILE_NOREPLACE else ConfigKind.CONFIG
        assert o.config is config, where
        if o.kind is EntryKind.FILE:
            assert (o.digest, o.digest_algo) == (f["digest"], theirs["digest_algo"]), where
            if f["size"] is not None:
                assert o.size == f["size"], where
        if o.kind is EntryKind.SYMLINK:
            assert o.target == f["link"], where

    for kind in RELATION_TAGS:
        raw = sorted((d.name, d.flags, d.version) for d in header.dependencies(kind))
        assert raw == theirs["relations"][kind], f"{path}: {kind}"
        assert all(d.op in OPERATOR_FLAGS for d in header.dependencies(kind))

    payload = theirs["payload"]
    if payload is None:
        return
    by_path = {o.path: o for o in ours.entries}
    assert set(payload) == {p for p, o in by_path.items() if o.kind is not EntryKind.DIR}, path
    for p, (mode, is_link, data) in payload.items():
        o = by_path[p]
        assert is_link is (o.kind is EntryKind.SYMLINK), f"{path}: {p}"
        if is_link:
            assert data.decode("utf-8", "surrogateescape") == o.target, f"{path}: {p}"
            continue
        assert mode == o.mode & 0o777, f"{path}: {p}"
        assert len(data) == o.size, f"{path}: {p}"
        assert hashlib.new(o.digest_algo, data).hexdigest() == o.digest, f"{path}: {p}"
