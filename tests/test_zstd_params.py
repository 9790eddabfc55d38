"""zstd in multi-threaded mode with a fixed job size: the same bytes for 1 or N workers, memory within the goal."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import zstandard
from tooling import require_root, require_tools

from pkgtool.archive import zstd
from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.project import resolve_dir

EPOCH = 1736121600


def _text(size: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(2, 9))) for _ in range(5000)]
    out = bytearray()
    while len(out) < size:
        out += (" ".join(rng.choices(words, k=12)) + "\n").encode()
    return bytes(out[:size])


def _compress(data: bytes, level: int, threads: int | None, feed: int = 1 << 20) -> bytes:
    obj = zstd.compressor(level, threads).compressobj()
    return b"".join(obj.compress(data[i : i + feed]) for i in range(0, len(data), feed)) + obj.flush()


def test_level_3_same_bytes_for_1_2_8_workers_over_several_jobs():
    data = _text(4 * zstd.job_size(3) + 1234)
    outs = {_compress(data, 3, n) for n in (1, 2, 8)}
    assert len(outs) == 1
    (out,) = outs
    assert zstandard.ZstdDecompressor().decompressobj().decompress(out) == data
    # single-threaded mode writes other bytes: why threads is never 0
    single = zstandard.ZstdCompressor(level=3).compressobj()
    assert single.compress(data) + single.flush() != out


def test_level_19_same_bytes_for_1_2_8_workers_and_any_core_count(monkeypatch):
    """Level 19 in multi-threaded mode: 2 MiB jobs, so the bytes depend on the level only."""
    data = _text(zstd.job_size(19) + 100_000)  # two jobs: the second reloads part of the first
    outs = {_compress(data, 19, n) for n in (1, 8)}
    for cores in (2, 64):  # the default worker count follows the cores: 2, and 3 within the budget
        monkeypatch.setattr(zstd.os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        outs.add(_compress(data, 19, None))
    assert len(outs) == 1
    (out,) = outs
    assert zstandard.get_frame_parameters(out).window_size == 2 << 20  # what a reader must hold
    assert zstandard.ZstdDecompressor().decompressobj().decompress(out) == data


def test_heavy_levels_keep_their_search_with_tables_for_one_job():
    """Levels whose own contexts do not fit two workers get the window and tables of a 2 MiB source; others are zstd's."""
    for level in range(1, 23):
        own = zstandard.ZstdCompressionParameters.from_level(level)
        used = zstd._params(level)
        fields = ("strategy", "search_log", "min_match", "target_length")
        assert [getattr(used, f) for f in fields] == [getattr(own, f) for f in fields]
        if zstd.source_size(level) == 0:
            assert (used.window_log, used.chain_log, used.hash_log) == (own.window_log, own.chain_log, own.hash_log)
        else:
            assert used.window_log == 21 < own.window_log
            assert used.estimated_compression_context_size() < own.estimated_compression_context_size()
    # the shipped levels: 3 (ubuntu, the bench profiles) keeps zstd's parameters, 19 (fedora, el9) is cut
    assert zstd.source_size(3) == 0 and zstd.source_size(19) == 2 << 20
    assert [level for level in range(1, 23) if zstd.source_size(level)] == [14, 15, *range(17, 23)]


def test_threads_zero_is_refused():
    with pytest.raises(ValueError, match="threads"):
        zstd.compressor(3, 0)


def test_workers_follow_cores_within_the_memory_budget():
    assert zstd.workers(3, available=2) == 2
    assert zstd.workers(3, available=64) > 8  # cheap contexts: every core
    assert zstd.workers(19, available=2) == 2  # a 33 MiB context at level 19, for a 2 MiB window
    assert zstd.workers(19, available=64) == 2  # and 2 MiB jobs: two within 112 MiB, on any machine


# ---------------------------------------------------------------- in packages

PROJECT = """\
schema = 1

[package]
name = "zstest"
version = "1.0"
release = "1"
summary = "zstd test"
description = "Jobs."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"
arch = "noarch"

[[tree]]
src = "data/"
dst = "/usr/share/zstest/"
mode = "0644"
doc = false
"""


def _project(root: Path, files: dict[str, bytes]) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "pkgtool.toml").write_text(PROJECT)
    (root / "distros").mkdir()
    (root / "distros/t-zstd3.toml").write_text('inherits = "fedora"\ndescription = "zstd 3"\ncompression_level = 3\n')
    (root / "distros/t-deb19.toml").write_text('inherits = "ubuntu"\ndescription = "zstd 19"\ncompression_level = 19\n')
    for name, content in files.items():
        (root / "data" / name).write_bytes(content)
    return root


@pytest.mark.parametrize(("build", "distro"), [(build_deb, "ubuntu"), (build_rpm, "t-zstd3")])
def test_packages_are_byte_identical_for_1_2_8_workers(tmp_path, monkeypatch, build, distro):
    # more than one 2 MiB job
    project = _project(tmp_path / "p", {f"f{i}.txt": _text(1_000_000, seed=i) for i in range(3)})
    outs = []
    for n in (1, 2, 8):
        monkeypatch.setattr(zstd, "workers", lambda _level, n=n: n)
        outs.append(build(resolve_dir(project, distro, source_date_epoch=EPOCH), tmp_path / str(n)).read_bytes())
    assert len(set(outs)) == 1


def test_fedora_level_19_build_stays_within_150_mb(tmp_path):
    """Level 19 on two workers: two 33 MiB contexts and their 2 MiB jobs, within the goal."""
    block = os.urandom(1 << 20)
    project = _project(tmp_path / "p", {f"f{i}.bin": block for i in range(12)})  # six 2 MiB jobs
    code = textwrap.dedent(
        """
        import sys
        from pkgtool.formats.rpm.native import build_rpm
        from pkgtool.project import resolve_dir
        build_rpm(resolve_dir(sys.argv[1], "fedora", source_date_epoch=1736121600), sys.argv[2])
        print([line for line in open("/proc/self/status") if line.startswith("VmHWM")][0].split()[1])
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(project), str(tmp_path / "out")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    peak_kib = int(proc.stdout.split()[-1])
    assert peak_kib < 150 * 1024, f"peak RSS {peak_kib} KiB at zstd 19"
    (rpm,) = (tmp_path / "out").glob("*.rpm")
    cpio = subprocess.run(["rpm2cpio", str(rpm)], capture_output=True, check=True).stdout
    assert cpio.count(block[:4096]) == 12


# ---------------------------------------------------------------- level 19 in a real rpm

FEDORA_FILES = {f"f{i}.txt": _text(1_100_000, seed=10 + i) for i in range(2)}  # two 2 MiB jobs of payload


@pytest.fixture(scope="module")
def fedora_rpms(tmp_path_factory) -> dict[int, Path]:
    """The fedora profile's package (zstd 19), built on 1, 2 and 8 workers from one tree and SOURCE_DATE_EPOCH."""
    top = tmp_path_factory.mktemp("fedora19")
    project = _project(top / "p", FEDORA_FILES)
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        for n in (1, 2, 8):
            mp.setattr(zstd, "workers", lambda _level, n=n: n)
            out[n] = build_rpm(resolve_dir(project, "fedora", source_date_epoch=EPOCH), top / str(n))
    return out


def _run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, check=True)


def test_fedora_rpm_is_byte_identical_for_1_2_8_workers(fedora_rpms):
    assert len({p.read_bytes() for p in fedora_rpms.values()}) == 1


def test_fedora_rpm_is_read_by_rpm(fedora_rpms, tmp_path):
    """rpm 4.18 reads the multi-job level-19 payload: header tags, file list, rpm2cpio | cpio."""
    require_tools("rpm", "rpm2cpio", "cpio")
    rpm = str(fedora_rpms[2])
    tags = _run("rpm", "-qp", "--qf", "%{PAYLOADCOMPRESSOR} %{PAYLOADFLAGS}", rpm).stdout
    assert tags == b"zstd 19"
    listing = _run("rpm", "-qlvp", rpm).stdout.decode()
    for name in FEDORA_FILES:
        assert f"/usr/share/zstest/{name}" in listing
    cpio = subprocess.run(["rpm2cpio", rpm], capture_output=True, check=True).stdout
    subprocess.run(["cpio", "-idm", "--quiet"], input=cpio, cwd=tmp_path, check=True)
    for name, content in FEDORA_FILES.items():
        assert (tmp_path / "usr/share/zstest" / name).read_bytes() == content


def test_fedora_rpm_installs_into_a_root_and_verifies(fedora_rpms, tmp_path):
    require_tools("rpm")
    require_root()
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    shutil.copy("/etc/passwd", root / "etc/passwd")
    shutil.copy("/etc/group", root / "etc/group")
    db = ["rpm", "--root", str(root), "--dbpath", "/var/lib/rpm"]
    _run(*db, "--initdb")
    _run(*db, "-i", "--nodeps", "--noscripts", str(fedora_rpms[8]))
    verify = subprocess.run([*db, "-V", "--nodeps", "zstest"], capture_output=True, text=True)
    assert verify.returncode == 0 and verify.stdout == "", verify.stdout + verify.stderr
    for name, content in FEDORA_FILES.items():
        assert (root / "usr/share/zstest" / name).read_bytes() == content


def test_level_19_deb_is_read_by_dpkg_deb(tmp_path):
    """data.tar.zst at level 19 (two 2 MiB jobs, one frame): dpkg-deb unpacks it."""
    require_tools("dpkg-deb", "ar")
    project = _project(tmp_path / "p", FEDORA_FILES)
    deb = build_deb(resolve_dir(project, "t-deb19", source_date_epoch=EPOCH), tmp_path / "out")
    members = _run("ar", "t", str(deb)).stdout.split()
    assert b"data.tar.zst" in members
    _run("dpkg-deb", "-x", str(deb), str(tmp_path / "x"))
    for name, content in FEDORA_FILES.items():
        assert (tmp_path / "x/usr/share/zstest" / name).read_bytes() == content
