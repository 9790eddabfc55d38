"""zstd in multi-threaded mode with a fixed job size: the same bytes for 1 or N workers, memory within the goal."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import zstandard

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


def test_level_19_is_single_threaded_on_any_machine(monkeypatch):
    """Two level-19 workers never fit the budget: zstd's single-threaded mode, whatever the cores."""
    assert zstd.single_threaded(19) and not zstd.single_threaded(3)
    data = _text(600_000)
    single = zstandard.ZstdCompressor(level=19).compressobj()
    expected = single.compress(data) + single.flush()
    for cores in (1, 2, 64):
        monkeypatch.setattr(zstd.os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        assert _compress(data, 19, None) == expected


def test_threads_zero_is_refused():
    with pytest.raises(ValueError, match="threads"):
        zstd.compressor(3, 0)


def test_workers_follow_cores_within_the_memory_budget():
    assert zstd.workers(3, available=2) == 2
    assert zstd.workers(3, available=64) > 8  # cheap contexts: every core
    assert zstd.workers(19, available=64) == 1  # 81 MiB per context: never two


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
    """Level 19's contexts are 81 MiB each: the build must hold one, not one per core."""
    block = os.urandom(1 << 20)
    project = _project(tmp_path / "p", {f"f{i}.bin": block for i in range(12)})  # more than one 8 MiB job
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
