"""pkgtool.archive.tar and the gzip members of pkgtool.archive.source_tarball: the same bytes as tarfile, streamed."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
import threading
import types
import zlib
from pathlib import Path

import pytest

from pkgtool.archive import source_tarball as tarballs
from pkgtool.archive import tar as tarwriter
from pkgtool.archive import tar_digests
from pkgtool.archive.source_tarball import GzipMembers, SourceMember, write_members_tarball
from pkgtool.archive.tar import TarFormat, TarWriter
from pkgtool.errors import PkgtoolError

EPOCH = 1736121600


def _info(name: str, mode: int, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = "") -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.mtime = EPOCH
    ti.mode, ti.type, ti.size, ti.linkname = mode, kind, size, link
    return ti


@pytest.fixture
def files(tmp_path: Path) -> dict[str, bytes]:
    contents = {
        "small": b"hello\n",
        "empty": b"",
        "block": b"b" * 512,
        "big": os.urandom(3 * 40960 + 7),  # larger than the buffer used below
    }
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    return contents


# Members: (name, kind, source file or link target, mode).
MEMBERS = [
    ("./", "dir", "", 0o755),
    ("./usr/", "dir", "", 0o755),
    ("./usr/small", "file", "small", 0o644),
    ("./usr/empty", "file", "empty", 0o600),
    ("./usr/block", "file", "block", 0o755),
    ("./usr/big", "file", "big", 0o644),
    ("./" + "long/" * 30 + "name", "file", "small", 0o644),  # > 100 bytes: GNU longlink / PAX path
    ("./caf\u00e9", "file", "small", 0o644),  # non-ASCII: a PAX record in PAX, raw UTF-8 in GNU
    ("./bad\udcff", "file", "small", 0o644),  # undecodable on disk (surrogateescape)
    ("./" + "d" * 98, "file", "small", 0o4755),  # exactly 100 bytes, setuid kept
    ("./link", "symlink", "t" * 150, 0o777),  # long target: GNU longlink / PAX linkpath
    ("./short-link", "symlink", "usr/small", 0o777),
]


@pytest.mark.parametrize("fmt", list(TarFormat))
def test_output_equals_tarfile_byte_for_byte(fmt, files, tmp_path):
    ours, theirs = io.BytesIO(), io.BytesIO()
    digests = {}
    with (
        TarWriter(ours, fmt, EPOCH, buffer_size=2 * tarfile.RECORDSIZE) as w,
        tarfile.open(fileobj=theirs, mode="w", format=fmt.value) as t,
    ):
        for name, kind, arg, mode in MEMBERS:
            if kind == "dir":
                w.add_dir(name, mode)
                t.addfile(_info(name, mode, tarfile.DIRTYPE))
            elif kind == "symlink":
                w.add_symlink(name, arg, mode)
                t.addfile(_info(name, mode, tarfile.SYMTYPE, link=arg))
            else:
                added = w.add_file(name, str(tmp_path / arg), mode, md5=True)
                digests[name] = added
                with open(tmp_path / arg, "rb") as fh:
                    t.addfile(_info(name, mode, size=len(files[arg])), fh)
        w.add_bytes("./made-here", b"abc", 0o640)
        t.addfile(_info("./made-here", 0o640, size=3), io.BytesIO(b"abc"))
    assert ours.getvalue() == theirs.getvalue()
    assert len(ours.getvalue()) % tarfile.RECORDSIZE == 0
    big = digests["./usr/big"]
    assert (big.size, big.md5) == (len(files["big"]), hashlib.md5(files["big"]).hexdigest())
    assert digests["./usr/empty"].md5 == hashlib.md5(b"").hexdigest()


@pytest.mark.parametrize("fmt", list(TarFormat))
def test_sizes_beyond_the_octal_field_are_written_as_tarfile_does(fmt):
    # 8 GiB and more: base-256 in GNU, a PAX size record in PAX (no such file is read here).
    ours = io.BytesIO()
    w = TarWriter(ours, fmt, EPOCH)
    w._header("./huge", 0o644, 8**11 + 5, tarfile.REGTYPE, "")
    w._flush()
    expected = _info("./huge", 0o644, size=8**11 + 5).tobuf(fmt.value, "utf-8", "surrogateescape")
    assert ours.getvalue() == expected
    header = tarfile.TarInfo.frombuf(expected[-512:], "utf-8", "surrogateescape")
    assert header.size == (8**11 + 5 if fmt is TarFormat.GNU else 0)  # PAX: the size is in the record
    assert fmt is TarFormat.GNU or b"size=8589934597\n" in expected


def test_an_empty_archive_equals_tarfiles():
    ours, theirs = io.BytesIO(), io.BytesIO()
    TarWriter(ours, TarFormat.GNU, EPOCH).close()
    tarfile.open(fileobj=theirs, mode="w", format=tarfile.GNU_FORMAT).close()
    assert ours.getvalue() == theirs.getvalue() == bytes(tarfile.RECORDSIZE)


def test_missing_and_special_files_are_typed_errors(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    w = TarWriter(io.BytesIO(), TarFormat.GNU, EPOCH)
    with pytest.raises(PkgtoolError, match="not a regular file"):
        w.add_file("./fifo", str(fifo))  # refused at once, never blocks on the open
    with pytest.raises(PkgtoolError, match="cannot read"):
        w.add_file("./gone", str(tmp_path / "gone"))


def test_a_file_shrinking_under_the_writer_is_a_typed_error(tmp_path, monkeypatch):
    (tmp_path / "f").write_bytes(b"x" * 100)
    real_fstat = os.fstat

    def larger(fd):  # the size seen before reading is more than the file holds
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, *st[1:6], st.st_size + 1000, *st[7:]))

    monkeypatch.setattr(tarwriter.os, "fstat", larger)
    w = TarWriter(io.BytesIO(), TarFormat.GNU, EPOCH)
    with pytest.raises(PkgtoolError, match="shrank"):
        w.add_file("./f", str(tmp_path / "f"))


def test_tee_gets_the_same_bytes(tmp_path, files):
    fd = os.open(tmp_path / "copy", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with TarWriter(io.BytesIO(), TarFormat.PAX, EPOCH, buffer_size=tarfile.RECORDSIZE) as w:
            w.add_file("big", str(tmp_path / "big"), tee=fd)
    finally:
        os.close(fd)
    assert (tmp_path / "copy").read_bytes() == files["big"]


# ---------------------------------------------------------------- gzip members


def _members(data: bytes) -> int:
    count = 0
    while data:
        d = zlib.decompressobj(31)
        d.decompress(data)
        assert d.eof
        data = d.unused_data
        count += 1
    return count


def test_gzip_members_are_valid_gzip_and_independent_of_the_thread_count(monkeypatch):
    monkeypatch.setattr(tarballs, "GZIP_MEMBER", 4096)
    data = os.urandom(3000) * 7 + b"tail"  # not a whole number of members
    outs = []
    for threads in (1, 3):
        out = io.BytesIO()
        with GzipMembers(out, threads=threads) as gz:
            for i in range(0, len(data), 1000):  # writes that straddle the member cuts
                gz.write(memoryview(data)[i : i + 1000])
        outs.append(out.getvalue())
    assert outs[0] == outs[1]
    assert gzip.decompress(outs[0]) == data
    assert _members(outs[0]) == -(-len(data) // 4096)


def test_empty_gzip_members_stream_is_one_empty_member():
    out = io.BytesIO()
    GzipMembers(out).close()
    assert gzip.decompress(out.getvalue()) == b"" and _members(out.getvalue()) == 1


def test_an_error_inside_writes_nothing_more(tmp_path):
    out = io.BytesIO()
    with pytest.raises(RuntimeError), GzipMembers(out) as gz:
        gz.write(b"x" * 10)
        raise RuntimeError("boom")
    assert out.getvalue() == b""


# ---------------------------------------------------------------- source tarball and its tree


def test_tarball_and_tree_hold_the_same_files_whatever_the_umask(tmp_path, files):
    (tmp_path / "big").chmod(0o700)
    members = [
        SourceMember("sub", "", 0o755),
        SourceMember("sub/big", str(tmp_path / "big"), 0o755),
        SourceMember("sub/small", str(tmp_path / "small"), 0o644),
    ]
    tree = tmp_path / "tree"
    tree.mkdir()
    old = os.umask(0o077)
    try:
        dest = write_members_tarball(members, tmp_path / "x.tar.gz", "top", EPOCH, tree=tree)
    finally:
        os.umask(old)
    with tarfile.open(dest) as tar:
        listed = {m.name: (m.mode, m.mtime, m.uname) for m in tar.getmembers()}
        assert tar.extractfile("top/sub/big").read() == files["big"]
    assert listed == {
        "top": (0o755, EPOCH, "root"),
        "top/sub": (0o755, EPOCH, "root"),
        "top/sub/big": (0o755, EPOCH, "root"),
        "top/sub/small": (0o644, EPOCH, "root"),
    }
    assert stat.S_IMODE((tree / "sub").stat().st_mode) == 0o755
    for rel, mode in (("sub/big", 0o755), ("sub/small", 0o644)):
        st = (tree / rel).stat()
        assert (stat.S_IMODE(st.st_mode), st.st_mtime) == (mode, EPOCH)
        assert not (tree / rel).samefile(tmp_path / rel.split("/")[1])  # a copy, not a link
    assert (tree / "sub/big").read_bytes() == files["big"]


# ---------------------------------------------------------------- add_members (the batch loop)


def _one_by_one(w: TarWriter, members, root: Path) -> list[tuple[int, str]]:
    out = []
    for name, kind, mode, arg in members:
        if kind == tarwriter.DIRTYPE:
            w.add_dir(name, mode)
        elif kind == tarwriter.SYMTYPE:
            w.add_symlink(name, arg, mode)
        elif isinstance(arg, bytes):
            w.add_bytes(name, arg, mode)
            out.append((len(arg), hashlib.md5(arg).hexdigest()))
        else:
            added = w.add_file(name, str(root / arg), mode, md5=True)
            out.append((added.size, added.md5))
    return out


@pytest.mark.parametrize("fmt", list(TarFormat))
def test_add_members_equals_the_single_calls(fmt, tmp_path):
    # Sizes around the buffer's end: a member that ends exactly on it, one a byte short, one a byte over.
    buffer_size = 2 * tarfile.RECORDSIZE
    sizes = [0, 1, 511, 512, 513, buffer_size - 2 * 512, buffer_size - 512 - 1, buffer_size - 512, 3 * buffer_size + 5]
    for size in sizes:
        (tmp_path / f"f{size}").write_bytes(os.urandom(size))
    members = [("./", tarfile.DIRTYPE, 0o755, "")]
    for i, size in enumerate(sizes * 2):  # twice: each size meets the buffer end at another offset
        members.append((f"./d/f{i}", tarfile.REGTYPE, 0o644 if i % 3 else 0o4755, f"f{size}"))
    members += [
        ("./" + "n" * 120, tarfile.REGTYPE, 0o644, "f1"),  # long name: GNU longlink / PAX path
        ("./caf\u00e9", tarfile.REGTYPE, 0o600, "f513"),  # non-ASCII: a PAX record in PAX
        ("./made", tarfile.REGTYPE, 0o640, b"made here\n"),
        ("./link", tarfile.SYMTYPE, 0o777, "d/f1"),
    ]
    ours, theirs = io.BytesIO(), io.BytesIO()
    with TarWriter(ours, fmt, EPOCH, buffer_size=buffer_size) as w:
        got = w.add_members(
            [
                (n, k, m, a if k != tarfile.REGTYPE or isinstance(a, bytes) else str(tmp_path / a))
                for n, k, m, a in members
            ],
            md5=True,
        )
    with TarWriter(theirs, fmt, EPOCH, buffer_size=buffer_size) as w:
        expected = _one_by_one(w, members, tmp_path)
    assert ours.getvalue() == theirs.getvalue()
    assert got == expected
    with tarfile.open(fileobj=io.BytesIO(ours.getvalue())) as tar:
        big = tar.extractfile(f"./d/f{len(sizes) - 1}").read()
    assert big == (tmp_path / f"f{sizes[-1]}").read_bytes()


def test_add_members_without_md5_and_its_typed_errors(tmp_path):
    (tmp_path / "a").write_bytes(b"abc")
    os.mkfifo(tmp_path / "fifo")
    w = TarWriter(io.BytesIO(), TarFormat.GNU, EPOCH)
    assert w.add_members([("./a", tarfile.REGTYPE, 0o644, str(tmp_path / "a"))]) == [(3, "")]
    with pytest.raises(PkgtoolError, match="not a regular file"):
        w.add_members([("./fifo", tarfile.REGTYPE, 0o644, str(tmp_path / "fifo"))])
    with pytest.raises(PkgtoolError, match="cannot read"):
        w.add_members([("./gone", tarfile.REGTYPE, 0o644, str(tmp_path / "gone"))])
    with pytest.raises(PkgtoolError, match="not a regular file"):
        w.add_members([("./dir", tarfile.REGTYPE, 0o644, str(tmp_path))])


@pytest.mark.parametrize("size", [100, 5 * tarfile.RECORDSIZE])  # in one read, and in several
def test_a_file_growing_under_the_writer_is_a_typed_error(tmp_path, monkeypatch, size):
    (tmp_path / "f").write_bytes(b"x" * size)
    real_fstat = os.fstat

    def smaller(fd):  # the size seen before reading is less than the file holds
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, *st[1:6], st.st_size - 10, *st[7:]))

    monkeypatch.setattr(tarwriter.os, "fstat", smaller)
    w = TarWriter(io.BytesIO(), TarFormat.GNU, EPOCH, buffer_size=2 * tarfile.RECORDSIZE)
    with pytest.raises(PkgtoolError, match="grew"):
        w.add_file("./f", str(tmp_path / "f"), md5=True)


# ---------------------------------------------------------------- MODE_OF_SOURCE (source tarballs)


@pytest.mark.parametrize(("on_disk", "expected"), [(0o644, 0o644), (0o600, 0o644), (0o700, 0o755), (0o4751, 0o755)])
def test_mode_of_source_is_the_files_exec_bit_normalised(tmp_path, on_disk, expected):
    # The source tarball's rule (0755 if any execute bit, else 0644), read from the open file:
    # the same bytes as tarfile given that mode, from the batch loop and from add_file alike.
    src = tmp_path / "f"
    src.write_bytes(b"data\n")
    src.chmod(on_disk)
    batch, single, theirs = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with TarWriter(batch, TarFormat.PAX, EPOCH) as w:
        assert w.add_members([("top/f", tarfile.REGTYPE, tarwriter.MODE_OF_SOURCE, str(src))]) == [(5, "")]
    with TarWriter(single, TarFormat.PAX, EPOCH) as w:
        assert w.add_file("top/f", str(src), tarwriter.MODE_OF_SOURCE).mode == expected
    with tarfile.open(fileobj=theirs, mode="w", format=tarfile.PAX_FORMAT) as t, open(src, "rb") as fh:
        t.addfile(_info("top/f", expected, size=5), fh)
    assert batch.getvalue() == single.getvalue() == theirs.getvalue()


@pytest.mark.parametrize("tree", [False, True])
def test_a_source_that_is_not_a_regular_file_fails_the_tarball_and_leaves_nothing(tmp_path, tree):
    # source_members no longer stats: the writer's open refuses a FIFO (without blocking) or
    # a missing file, and the atomic write leaves no tarball behind.
    (tmp_path / "ok").write_bytes(b"ok")
    os.mkfifo(tmp_path / "fifo")
    out = tmp_path / "out"
    out.mkdir()
    for bad, message in (("fifo", "not a regular file"), ("gone", "cannot read")):
        members = [
            SourceMember("ok", str(tmp_path / "ok"), tarwriter.MODE_OF_SOURCE),
            SourceMember(bad, str(tmp_path / bad), tarwriter.MODE_OF_SOURCE),
        ]
        unpacked = tmp_path / f"tree-{bad}"
        unpacked.mkdir()
        with pytest.raises(PkgtoolError, match=message):
            write_members_tarball(members, out / "x.tar.gz", "top", EPOCH, tree=unpacked if tree else None)
        assert list(out.iterdir()) == []


def _md5_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "tar-md5"]


@pytest.mark.parametrize("thread_min", [0, 1500])  # every file to the thread; about half of them
def test_add_members_digests_from_the_thread_match_files_across_many_buffers(tmp_path, monkeypatch, thread_min):
    # Many full buffers go to the hashing thread while the writer fills spare ones: each digest
    # must still be of its own file's bytes, and the tar the same as one written without digests.
    monkeypatch.setattr(tar_digests, "THREAD_MD5_MIN", thread_min)
    in_thread: list[int] = []  # the size of each file hashed by the tar-md5 thread

    def md5(data=b""):
        if threading.current_thread().name == "tar-md5":
            in_thread.append(len(data))
        return hashlib.md5(data)

    monkeypatch.setattr(tar_digests, "hashlib", types.SimpleNamespace(md5=md5))
    buffer_size = 2 * tarfile.RECORDSIZE
    files = {f"f{i}": os.urandom(i * 97 % 3000) for i in range(200)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    members = [(f"./{n}", tarfile.REGTYPE, 0o644, str(tmp_path / n)) for n in files]
    hashed, plain = io.BytesIO(), io.BytesIO()
    with TarWriter(hashed, TarFormat.GNU, EPOCH, buffer_size=buffer_size) as w:
        got = w.add_members(members, md5=True)
    with TarWriter(plain, TarFormat.GNU, EPOCH, buffer_size=buffer_size) as w:
        w.add_members(members)
    assert got == [(len(d), hashlib.md5(d).hexdigest()) for d in files.values()]
    assert hashed.getvalue() == plain.getvalue()
    assert _md5_threads() == []
    big = [len(d) for d in files.values() if len(d) >= thread_min]
    # The thread hashed files of full buffers; never a smaller one (nor, with 0, the last buffer's).
    assert 0 < len(in_thread) <= len(big) and len(in_thread) < len(files)
    assert min(in_thread) >= thread_min and set(in_thread) <= set(big)


def test_add_members_error_ends_the_hashing_thread(tmp_path, monkeypatch):
    monkeypatch.setattr(tar_digests, "THREAD_MD5_MIN", 0)
    (tmp_path / "a").write_bytes(b"a" * 4000)
    members = [("./a", tarfile.REGTYPE, 0o644, str(tmp_path / "a"))] * 50
    members.append(("./gone", tarfile.REGTYPE, 0o644, str(tmp_path / "gone")))
    w = TarWriter(io.BytesIO(), TarFormat.GNU, EPOCH, buffer_size=2 * tarfile.RECORDSIZE)
    with pytest.raises(PkgtoolError, match="cannot read .*gone"):
        w.add_members(members, md5=True)
    assert _md5_threads() == []
