"""The multi-block, multi-threaded xz encoder: the same bytes for any thread count, read by xz, dpkg and rpm."""

from __future__ import annotations

import lzma
import random
import subprocess
from pathlib import Path

import pytest
from tooling import require_root, require_tools

from pkgtool.archive import xz
from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.project import resolve_dir

EPOCH = 1736121600
SMALL_BLOCK = 64 << 10  # many blocks from little data, so the tests stay fast


def _text(size: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 9))) for _ in range(3000)]
    out = bytearray()
    while len(out) < size:
        out += (" ".join(rng.choices(words, k=12)) + "\n").encode()
    return bytes(out[:size])


def _encode(data: bytes, workers: int, feed: int, preset: int = 6) -> bytes:
    enc = xz.XzEncoder(preset, workers)
    parts = [enc.compress(data[i : i + feed]) for i in range(0, len(data), feed)]
    return b"".join(parts) + enc.flush()


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(xz, "BLOCK_SIZE", SMALL_BLOCK)


def test_same_bytes_for_1_2_16_threads_and_any_feed(small_blocks):
    data = _text(10 * SMALL_BLOCK + 12345)
    outs = {_encode(data, w, feed) for w in (1, 2, 16) for feed in (1000, SMALL_BLOCK + 7, len(data))}
    assert len(outs) == 1
    (out,) = outs
    assert lzma.decompress(out) == data
    # a different level really changes the bytes: the test compares compressed output, not a constant
    assert _encode(data, 2, 4096, preset=1) != out


def test_xz_accepts_the_stream_and_lists_one_block_per_fixed_slice(small_blocks, tmp_path):
    require_tools("xz")
    data = _text(5 * SMALL_BLOCK + 10)
    path = tmp_path / "d.xz"
    path.write_bytes(_encode(data, 2, 3333))
    subprocess.run(["xz", "-t", str(path)], check=True)
    listing = subprocess.run(["xz", "--robot", "-lvv", str(path)], capture_output=True, text=True, check=True).stdout
    blocks = [line.split("\t") for line in listing.splitlines() if line.startswith("block\t")]
    assert [int(b[7]) for b in blocks] == [SMALL_BLOCK] * 5 + [10]  # uncompressed size of each block
    assert {b[12] for b in blocks} == {"cu"}  # both sizes in every block header
    assert "CRC64" in listing
    summary = next(line.split("\t") for line in listing.splitlines() if line.startswith("summary\t"))
    assert summary[2] == "yes"  # sizes in block headers: xz can decompress the blocks in parallel
    out = subprocess.run(["xz", "-dc", str(path)], capture_output=True, check=True).stdout
    assert out == data


@pytest.mark.parametrize("data", [b"", b"abc"])
def test_empty_and_tiny_streams(tmp_path, data):
    out = _encode(data, 4, 1)
    assert lzma.decompress(out) == data
    require_tools("xz")
    (tmp_path / "t.xz").write_bytes(out)
    subprocess.run(["xz", "-t", str(tmp_path / "t.xz")], check=True)


def test_tiny_stream_starts_no_threads(monkeypatch):
    def no_pool(*_a, **_k):
        raise AssertionError("a thread pool for one block")

    monkeypatch.setattr("concurrent.futures.ThreadPoolExecutor", no_pool)
    assert lzma.decompress(_encode(b"x" * 1000, 4, 100)) == b"x" * 1000


def test_workers_are_bounded_by_memory_not_only_cores(monkeypatch):
    monkeypatch.setattr(xz.os, "sched_getaffinity", lambda _pid: set(range(64)))
    assert 1 <= xz.default_workers(9) < xz.default_workers(1) <= 64
    assert xz.default_workers(6) * 12 * xz.BLOCK_SIZE <= xz._ENCODER_BUDGET


# ---------------------------------------------------------------- in packages

PROJECT = """\
schema = 1

[package]
name = "xztest"
version = "1.0"
release = "1"
summary = "xz test"
description = "Blocks."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"
arch = "noarch"

[[tree]]
src = "data/"
dst = "/usr/share/xztest/"
mode = "0644"
doc = false
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("xzproj")
    (root / "pkgtool.toml").write_text(PROJECT)
    (root / "data").mkdir()
    for i in range(6):
        (root / f"data/f{i}.txt").write_bytes(_text(60_000 + i, seed=i))
    return root


def _build_with_workers(monkeypatch, build, project: Path, distro: str, out: Path, workers: int) -> Path:
    monkeypatch.setattr(xz, "default_workers", lambda _preset: workers)
    return build(resolve_dir(project, distro, source_date_epoch=EPOCH), out)


def test_deb_is_byte_identical_for_1_2_16_threads_and_installs(project, tmp_path, monkeypatch, small_blocks):
    debs = [_build_with_workers(monkeypatch, build_deb, project, "debian", tmp_path / str(w), w) for w in (1, 2, 16)]
    assert len({d.read_bytes() for d in debs}) == 1
    require_tools("dpkg-deb", "xz")
    deb = debs[0]
    # data.tar.xz is several blocks
    subprocess.run(["ar", "x", str(deb), "data.tar.xz"], cwd=tmp_path, check=True)
    listing = subprocess.run(["xz", "--robot", "-lv", str(tmp_path / "data.tar.xz")], capture_output=True, text=True)
    blocks = next(line.split("\t") for line in listing.stdout.splitlines() if line.startswith("totals\t"))
    assert int(blocks[2]) > 3
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path / "x")], check=True)
    for i in range(6):
        assert (tmp_path / f"x/usr/share/xztest/f{i}.txt").read_bytes() == (project / f"data/f{i}.txt").read_bytes()
    require_root()
    require_tools("dpkg")
    from test_deb_system import _dpkg_install, _seed_root

    root = tmp_path / "root"
    _seed_root(root)
    _dpkg_install(root, deb)
    assert (root / "usr/share/xztest/f5.txt").read_bytes() == (project / "data/f5.txt").read_bytes()


def test_opensuse_rpm_is_byte_identical_for_1_2_16_threads_and_rpm_reads_it(
    project, tmp_path, monkeypatch, small_blocks
):
    rpms = [
        _build_with_workers(monkeypatch, build_rpm, project, "opensuse-leap", tmp_path / str(w), w) for w in (1, 2, 16)
    ]
    assert len({p.read_bytes() for p in rpms}) == 1
    require_tools("rpm", "rpm2cpio", "cpio")
    pkg = rpms[0]
    assert (
        "digests OK" in subprocess.run(["rpm", "-K", "--nosignature", str(pkg)], capture_output=True, text=True).stdout
    )
    q = subprocess.run(["rpm", "-qp", "--qf", "%{PAYLOADCOMPRESSOR}", str(pkg)], capture_output=True, text=True)
    assert q.stdout == "xz"
    files = subprocess.run(["rpm", "-qlp", str(pkg)], capture_output=True, text=True, check=True).stdout.split()
    assert [f"/usr/share/xztest/f{i}.txt" for i in range(6)] == [f for f in files if f.endswith(".txt")]
    cpio = subprocess.run(["rpm2cpio", str(pkg)], capture_output=True, check=True).stdout  # decompressed
    assert len(cpio) > 5 * SMALL_BLOCK
    (tmp_path / "x").mkdir()
    subprocess.run(["cpio", "-idm", "--quiet"], input=cpio, cwd=tmp_path / "x", check=True)
    assert (tmp_path / "x/usr/share/xztest/f3.txt").read_bytes() == (project / "data/f3.txt").read_bytes()
    from test_rpm_writer import _install_and_verify

    _install_and_verify(pkg, "xztest", tmp_path / "root")
