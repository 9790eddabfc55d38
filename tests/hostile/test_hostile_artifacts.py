"""`inspect` and `verify` of hostile .deb and .rpm files: a clear error, nothing extracted, bounded memory.

The files are crafted here at run time: a .deb is an ar archive we write by
hand (so its members can lie), a .rpm is a real native build whose header
bytes are then altered in place.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import zstandard
from hostile_harness import check_run, cli, markers, snapshot

from pkgtool.formats.rpm import header as rpm_header

pytestmark = pytest.mark.damaged_rpms  # every test here damages a built package on purpose

MAP = """schema = 1
[package]
name = "victim"
version = "1.0"
summary = "Victim package for hostile artifacts"
description = "Built, then damaged."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"

[[file]]
src = "payload.txt"
dst = "/usr/share/victim/ABCDEFGHIJKLMNOP"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = tmp_path / "project"
    p.mkdir()
    (p / "pkgtool.toml").write_text(MAP)
    (p / "payload.txt").write_text("payload\n")
    return p


@pytest.fixture
def good_rpm(project: Path, tmp_path: Path) -> Path:
    check_run(cli(["build", str(project), "-d", "fedora", "-o", str(tmp_path / "rpm")]), exit_code=0)
    return next((tmp_path / "rpm").glob("*.rpm"))


# ---------------------------------------------------------------- .deb crafting


def _ar(members: list[tuple[str, bytes]], lie: dict[str, int] | None = None) -> bytes:
    out = [b"!<arch>\n"]
    for name, data in members:
        size = (lie or {}).get(name, len(data))
        out.append(f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{size:<10}`\n".encode())
        out.append(data + (b"\n" if len(data) % 2 else b""))
    return b"".join(out)


def _tar(members: list[tuple[tarfile.TarInfo, bytes]], fmt=tarfile.GNU_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buf.getvalue()


def _info(name: str, kind=tarfile.REGTYPE, **kw) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = kw.pop("mode", 0o644)
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


CONTROL = b"Package: victim\nVersion: 1.0-1\nArchitecture: all\nMaintainer: J <j@example.org>\nDescription: x\n y\n"


def _deb(data_members, control=None, compress=True, lie=None, data_bytes=None) -> bytes:
    ctl = _tar(control or [(_info("./control"), CONTROL)])
    data = data_bytes if data_bytes is not None else _tar(data_members)
    if compress:
        ctl, data = zstandard.compress(ctl), zstandard.compress(data)
        names = ("control.tar.zst", "data.tar.zst")
    else:
        names = ("control.tar", "data.tar")
    return _ar([("debian-binary", b"2.0\n"), (names[0], ctl), (names[1], data)], lie)


def _file(name: str, data: bytes = b"x\n"):
    return (_info(name), data)


HOSTILE_DEBS = {
    "traversal-member": (
        lambda: _deb([_file("./usr/"), _file("./../../tmp/pkgtool-pwned-deb")]),
        "leaves the package root",
    ),
    "absolute-member": (lambda: _deb([_file("/etc/cron.d/pkgtool-pwned")]), "absolute member name"),
    "char-device": (
        lambda: _deb([(_info("./dev/mem", tarfile.CHRTYPE, devmajor=1, devminor=1), b"")]),
        "device, fifo or other special file",
    ),
    "fifo": (lambda: _deb([(_info("./run/fifo", tarfile.FIFOTYPE), b"")]), "device, fifo or other special file"),
    "hardlink-to-missing": (
        lambda: _deb([(_info("./usr/x", tarfile.LNKTYPE, linkname="./etc/shadow"), b"")]),
        "hard link",
    ),
    "ar-size-lie": (
        lambda: _deb([_file("./usr/x")], lie={"data.tar.zst": 10**9}),
        "more than the file holds",
    ),
    "control-first-missing": (
        lambda: _ar([("debian-binary", b"2.0\n"), ("data.tar", _tar([_file("./x")]))]),
        "'data.tar' where dpkg expects control.tar",
    ),
    "wrong-format-version": (
        lambda: _ar([("debian-binary", b"9.9\n")]),
        "unsupported .deb format",
    ),
    "huge-control-member": (
        lambda: _deb(
            [_file("./x")],
            control=[(_info("./control"), CONTROL), (_info("./postinst"), b"#" * ((16 << 20) + 1))],
        ),
        "too large",
    ),
    "huge-pax-header": (
        lambda: _deb(
            [],
            data_bytes=_tar(
                [(_info("./" + "a" * 100, pax_headers={"comment": "c" * (2 << 20)}), b"x")], tarfile.PAX_FORMAT
            ),
        ),
        "too large",
    ),
    "tar-member-size-lie": (
        lambda: _deb([], data_bytes=_tar([_file("./usr/big", b"y" * 4096)])[:1024] + b"\0" * 512),
        "not a readable .deb",
    ),
    "garbage-compressed-data": (
        lambda: _ar(
            [
                ("debian-binary", b"2.0\n"),
                ("control.tar.zst", zstandard.compress(_tar([(_info("./control"), CONTROL)]))),
                ("data.tar.zst", b"\x28\xb5\x2f\xfd" + os.urandom(200)),
            ]
        ),
        "not a readable .deb",
    ),
    "unknown-compression": (
        lambda: _ar([("debian-binary", b"2.0\n"), ("control.tar.lz4", b"x" * 10)]),
        "'control.tar.lz4' where dpkg expects control.tar",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_DEBS))
def test_hostile_deb(case: str, tmp_path: Path, project: Path):
    make, message = HOSTILE_DEBS[case]
    deb = tmp_path / "hostile.deb"
    deb.write_bytes(make())
    before = snapshot(tmp_path)
    for args in (["inspect", str(deb)], ["verify", str(project), str(deb), "-d", "debian"]):
        run = cli(args)
        check_run(run, exit_code=2, contains=["pkgtool: error:", message])
        assert len(run.output.strip().splitlines()) <= 3, run.output
    assert snapshot(tmp_path) == before, "reading an artifact wrote something"
    assert markers() == []


@pytest.mark.parametrize("case", sorted(HOSTILE_DEBS))
def test_hostile_deb_error_names_the_file(case: str, tmp_path: Path):
    deb = tmp_path / "hostile.deb"
    deb.write_bytes(HOSTILE_DEBS[case][0]())
    check_run(cli(["inspect", str(deb)]), exit_code=2, contains=[f"pkgtool: error: {deb}"])


@pytest.mark.parametrize("cut", [7, 8, 70, 200, -10])
def test_truncated_deb(cut: int, tmp_path: Path):
    whole = _deb([_file("./usr/share/x", b"z" * 5000)])
    deb = tmp_path / "cut.deb"
    deb.write_bytes(whole[:cut])
    check_run(cli(["inspect", str(deb)]), exit_code=2, contains=["pkgtool: error:", str(deb)])


def test_wrong_magic(tmp_path: Path):
    for name, data in (("x.deb", b"PK\x03\x04" + b"\0" * 100), ("x.rpm", b"\x7fELF" + b"\0" * 200), ("empty.rpm", b"")):
        p = tmp_path / name
        p.write_bytes(data)
        check_run(cli(["inspect", str(p)]), exit_code=2, contains=["not an .rpm or .deb package"])


def test_deb_bomb_is_streamed_in_bounded_memory(tmp_path: Path):
    """A data.tar holding a 768 MiB file (that compresses to almost nothing) is hashed as a stream."""
    size = 768 << 20

    class Zeros(io.RawIOBase):
        left = size

        def readinto(self, b):
            n = min(len(b), self.left)
            b[:n] = bytes(n)
            self.left -= n
            return n

    compressed = tmp_path / "data.tar.zst"
    with open(compressed, "wb") as fh, zstandard.ZstdCompressor(level=1).stream_writer(fh) as zw:
        with tarfile.open(fileobj=zw, mode="w|", format=tarfile.GNU_FORMAT) as tar:
            ti = _info("./usr/share/bomb")
            ti.size = size
            tar.addfile(ti, Zeros())
    ctl = zstandard.compress(_tar([(_info("./control"), CONTROL)]))
    deb = tmp_path / "bomb.deb"
    deb.write_bytes(
        _ar([("debian-binary", b"2.0\n"), ("control.tar.zst", ctl), ("data.tar.zst", compressed.read_bytes())])
    )
    assert deb.stat().st_size < 1 << 20
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the (big) pytest process.
    code = (
        "import sys\n"
        "from pkgtool.inspection import inspect_artifact\n"
        "info = inspect_artifact(sys.argv[1])\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(info.entries[0].size, hwm)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(deb)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    observed_size, peak_kib = map(int, proc.stdout.split())
    assert observed_size == size
    assert peak_kib < 200 * 1024, f"reading the bomb used {peak_kib} KiB"


# ---------------------------------------------------------------- .rpm damage


def _main_header_offset(data: bytes) -> int:
    """Offset of the main header's magic: after the lead, the signature header and its padding."""
    off = rpm_header.LEAD_SIZE
    nindex, hsize = struct.unpack(">II", data[off + 8 : off + 16])
    off += 16 + 16 * nindex + hsize
    return off + (8 - off % 8) % 8


def _tag_entry(data: bytes, tag: int) -> tuple[int, int, int, int]:
    """(index entry offset, type, data offset in file, count) of ``tag`` in the main header."""
    h = _main_header_offset(data)
    nindex, _hsize = struct.unpack(">II", data[h + 8 : h + 16])
    store = h + 16 + 16 * nindex
    for i in range(nindex):
        pos = h + 16 + 16 * i
        t, typ, off, count = struct.unpack(">iiii", data[pos : pos + 16])
        if t == tag:
            return pos, typ, store + off, count
    raise AssertionError(f"tag {tag} not in header")


def _damaged(good: Path, tmp_path: Path, how: str) -> Path:
    data = bytearray(good.read_bytes())
    h = _main_header_offset(bytes(data))
    if how == "header-claims-too-much":
        data[h + 8 : h + 16] = struct.pack(">II", 0x00FFFFFF, 0x0FFFFFFF)
    elif how == "header-runs-past-end":
        data[h + 12 : h + 16] = struct.pack(">I", 0x00FFFFFF)
    elif how == "tag-offset-outside":
        pos, typ, _, count = _tag_entry(bytes(data), rpm_header.NAME)
        data[pos : pos + 16] = struct.pack(">iiii", rpm_header.NAME, typ, 0x7FFFFFF0, count)
    elif how == "tag-count-huge":
        pos, typ, off, _ = _tag_entry(bytes(data), rpm_header.FILEMODES)
        data[pos + 12 : pos + 16] = struct.pack(">i", 0x7FFFFFFF)
    elif how == "no-header-magic":
        data[h : h + 4] = b"\0\0\0\0"
    elif how == "truncated-header":
        data = data[: h + 40]
    elif how == "truncated-lead":
        data = data[:50]
    out = tmp_path / f"{how}.rpm"
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("header-claims-too-much", "claims"),
        ("header-runs-past-end", "runs past the end of the file"),
        ("tag-offset-outside", "points outside it"),
        ("tag-count-huge", "points outside it"),
        ("no-header-magic", "no main header magic"),
        ("truncated-header", "truncated RPM package"),
        ("truncated-lead", "truncated RPM package"),
    ],
)
def test_hostile_rpm_header(how: str, message: str, good_rpm: Path, project: Path, tmp_path: Path):
    bad = _damaged(good_rpm, tmp_path, how)
    for args in (["inspect", str(bad)], ["verify", str(project), str(bad), "-d", "fedora"]):
        check_run(cli(args), exit_code=2, contains=["pkgtool: error:", message])


def _rewrite_string(data: bytes, old: str, new: str) -> bytes:
    assert len(old) == len(new)
    h = _main_header_offset(data)
    head, tail = data[:h], data[h:]
    assert tail.count(old.encode()) >= 1
    return head + tail.replace(old.encode(), new.encode())


@pytest.mark.parametrize("name", ["../../../../etc/pw", "/../../etc/passwd"[:16].ljust(16, "x")])
def test_rpm_with_traversal_file_name_is_refused(name: str, good_rpm: Path, project: Path, tmp_path: Path):
    """A header naming '..' components is hostile: a clear error, as for a .deb member."""
    bad = tmp_path / "traversal.rpm"
    bad.write_bytes(_rewrite_string(good_rpm.read_bytes(), "ABCDEFGHIJKLMNOP", name.ljust(16, "x")[:16]))
    check_run(cli(["inspect", str(bad)]), exit_code=2, contains=["pkgtool: error:", "leaves the package root"])


def test_rpm_device_entry_is_reported_not_created(good_rpm: Path, project: Path, tmp_path: Path):
    """A character device in the header: inspect lists it as 'other', verify reports the mismatch; nothing made."""
    data = bytearray(good_rpm.read_bytes())
    pos, typ, off, count = _tag_entry(bytes(data), rpm_header.FILEMODES)
    modes = list(struct.unpack(f">{count}H", bytes(data[off : off + 2 * count])))
    i = next(i for i, m in enumerate(modes) if m & 0o170000 == 0o100000)
    modes[i] = 0o020666  # S_IFCHR | 0666
    data[off : off + 2 * count] = struct.pack(f">{count}H", *modes)
    bad = tmp_path / "device.rpm"
    bad.write_bytes(bytes(data))
    before = snapshot(tmp_path)
    check_run(cli(["inspect", str(bad)]), exit_code=0, contains=["other", "/usr/share/victim/ABCDEFGHIJKLMNOP"])
    check_run(
        cli(["verify", str(project), str(bad), "-d", "fedora"]),
        exit_code=1,
        contains=["/usr/share/victim/ABCDEFGHIJKLMNOP"],
    )
    assert snapshot(tmp_path) == before
