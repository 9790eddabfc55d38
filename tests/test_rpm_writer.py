"""pkgtool's own RPM v4 writer (the native backend), proven by rpm and rpmlint (rpmbuild: test_rpm_tools)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import EXAMPLE_NAMES, EXAMPLES
from tooling import require_root, require_tools

from pkgtool.errors import ArtifactError, UsageError
from pkgtool.formats.build import build
from pkgtool.formats.rpm import payload as rpm_payload
from pkgtool.formats.rpm import writer as rpm_writer
from pkgtool.formats.rpm.header import FILESIZES, LONGFILESIZES, Header, Type
from pkgtool.formats.rpm.native import build_rpm, rpm_file_name
from pkgtool.formats.rpm.reader import read_header, read_rpm
from pkgtool.formats.rpm.spec import generate_rpm
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact

EPOCH = 1736121600

PROFILES = {
    "t-zstd": 'inherits = "fedora"\ndescription = "zstd 3"\ncompression = "zstd"\ncompression_level = 3\n',
    "t-xz": 'inherits = "fedora"\ndescription = "xz 2"\ncompression = "xz"\ncompression_level = 2\n',
    "t-gzip": 'inherits = "fedora"\ndescription = "gzip 6"\ncompression = "gzip"\ncompression_level = 6\n',
    "t-none": 'inherits = "fedora"\ndescription = "none"\ncompression = "none"\ncompression_level = 0\n',
}

# A package with every kind of entry, all four scriptlets, an epoch and every relation kind.
PROJECT_TOML = """\
schema = 1

[package]
name = "wtest"
version = "2.0"
release = "3"
epoch = 2
summary = "Writer test"
description = '''
Every kind of entry.
'''
license = "MIT"
url = "https://example.org/wtest"
maintainer = "Jane Packager <jane@example.org>"
vendor = "Acme"
arch = "noarch"

[requires]
bash = ">= 4"
zz = "< 9"

[conflicts]
old = "< 1"

[provides]
wtest-api = "= 2"

[replaces]
legacy = ""
oldname = "< 2.0"

[recommends]
recpkg = ""

[suggests]
sugpkg = ">= 1"

[[tree]]
src = "data/"
dst = "/usr/share/wtest/"
mode = "0644"
doc = false

[[file]]
src = "conf/a.conf"
dst = "/etc/wtest/a.conf"
mode = "0640"
config = "noreplace"

[[file]]
src = "conf/LICENSE"
dst = "/usr/share/licenses/wtest/LICENSE"
mode = "0644"
license = true

[[dir]]
path = "/var/lib/wtest"
mode = "2750"

[[symlink]]
path = "/usr/bin/wtest"
target = "/usr/share/wtest/run.sh"

[scripts]
pre-install = "s/pre.sh"
post-install = "s/post.sh"
pre-remove = "s/preun.sh"
post-remove = "s/postun.sh"
"""


def _project(root: Path, big: int = 0) -> Path:
    (root / "data/sub").mkdir(parents=True)
    (root / "conf").mkdir()
    (root / "s").mkdir()
    (root / "distros").mkdir()
    (root / "pkgtool.toml").write_text(PROJECT_TOML)
    (root / "data/run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "data/empty").write_bytes(b"")
    (root / "data/sub/odd size.txt").write_bytes(b"abcde" * 1001)
    (root / "data/sub/chunky.bin").write_bytes(bytes(range(256)) * 9000)  # more than one read chunk
    (root / "conf/a.conf").write_text("x = 1\n")
    (root / "conf/LICENSE").write_text("MIT\n")
    for name in ("pre", "post", "preun", "postun"):
        (root / f"s/{name}.sh").write_text(f"echo {name}\n")
    for name, text in PROFILES.items():
        (root / f"distros/{name}.toml").write_text(text)
    if big:
        block = os.urandom(1 << 20)
        with open(root / "data/big.img", "wb") as fh:
            for _ in range(big >> 20):
                fh.write(block)
    return root


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def _install_and_verify(package: Path, name: str, root: Path) -> None:
    require_root()
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text(Path("/etc/passwd").read_text())
    (root / "etc/group").write_text(Path("/etc/group").read_text())
    db = ["--root", str(root), "--dbpath", "/var/lib/rpm"]
    _run("rpm", *db, "--initdb")
    _run("rpm", *db, "-i", "--nodeps", "--noscripts", str(package))
    v = _run("rpm", *db, "-V", "--nodeps", name, check=False)
    assert v.returncode == 0 and v.stdout == "", v.stdout + v.stderr


def _checksig(package: Path) -> str:
    proc = _run("rpm", "-Kv", "--nosignature", str(package), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return _project(tmp_path_factory.mktemp("wtest"))


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> dict[str, tuple[object, Path]]:
    """example -> (resolved, native .rpm), built for fedora."""
    out = {}
    for ex in EXAMPLE_NAMES:
        r = resolve_dir(EXAMPLES / ex, "fedora", source_date_epoch=EPOCH)
        d = tmp_path_factory.mktemp(ex)
        out[ex] = (r, build_rpm(r, d / "native"))
    return out


# ---------------------------------------------------------------- the header format


def test_header_region_trailer_and_alignment():
    h = Header()
    h.string(1000, "n")
    h.ints(1030, Type.INT16, [1, 2, 3])
    h.ints(5008, Type.INT64, [7])
    blob = h.export(63)
    nindex, size = int.from_bytes(blob[8:12], "big"), int.from_bytes(blob[12:16], "big")
    assert nindex == 4 and len(blob) == 16 + 16 * nindex + size
    store = blob[16 + 16 * nindex :]
    # the region trailer is the last 16 bytes and points back over the whole index
    assert store[-16:] == (63).to_bytes(4, "big") + (7).to_bytes(4, "big") + (-64).to_bytes(4, "big", signed=True) + (
        16
    ).to_bytes(4, "big")
    entries = [blob[16 + 16 * i : 32 + 16 * i] for i in range(nindex)]
    offsets = {int.from_bytes(e[:4], "big"): int.from_bytes(e[8:12], "big") for e in entries}
    assert offsets[63] == size - 16
    assert offsets[1030] % 2 == 0 and offsets[5008] % 8 == 0
    assert store[offsets[5008] : offsets[5008] + 8] == (7).to_bytes(8, "big")


def test_header_refuses_nul_in_strings():
    h = Header()
    with pytest.raises(ValueError):
        h.strings(1117, ["a", "b\0c"])
    with pytest.raises(ValueError):
        h.string(1000, "a\0")


# ---------------------------------------------------------------- rpm accepts it


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_digests_check_out(examples, example):
    require_tools("rpm")
    out = _checksig(examples[example][1])
    for line in ("Header SHA256 digest: OK", "Header SHA1 digest: OK", "Payload SHA256 digest: OK", "MD5 digest: OK"):
        assert line in out, out


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_installs_and_verifies_with_rpm(examples, example, tmp_path):
    require_tools("rpm")
    r, native = examples[example]
    _install_and_verify(native, r.package.name, tmp_path / "root")


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_rpmlint_has_no_errors(examples, example, tmp_path):
    require_tools("rpmlint")
    r, native = examples[example]
    generate_rpm(r, tmp_path)
    name = r.package.name
    proc = _run(
        "rpmlint", "-c", str(tmp_path / f"{name}-rpmlint.toml"), "-r", str(tmp_path / f"{name}.rpmlintrc"), str(native),
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and " 0 errors" in proc.stdout, proc.stdout + proc.stderr


# ---------------------------------------------------------------- tags


def _q(package: Path, *args: str) -> str:
    return _run("rpm", "-qp", *args, str(package)).stdout


def test_tags_rpmbuild_also_writes(examples):
    _, native = examples["convirt"]
    fmt = "%{SOURCERPM} %{POSTINPROG} %{PAYLOADCOMPRESSOR} %{PAYLOADFLAGS} %{BUILDTIME} %{FILEDIGESTALGO}"
    assert _q(native, "--qf", fmt) == f"convirt-0.9.0-1.fc40.src.rpm /bin/sh zstd 19 {EPOCH} 8"


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_reader_and_verify_read_it_back(examples, example):
    r, native = examples[example]
    info = read_rpm(native)
    assert [o.path for o in info.entries] == sorted(e.path for e in r.owned)
    assert verify_artifact(r, native).ok


# ---------------------------------------------------------------- every kind of entry and codec


@pytest.mark.parametrize("distro", sorted(PROFILES))
def test_every_codec_installs_and_verifies(project, distro, tmp_path):
    require_tools("rpm")
    r = resolve_dir(project, distro, source_date_epoch=EPOCH)
    pkg = build_rpm(r, tmp_path / "out")
    assert "digests OK" in _run("rpm", "-K", "--nosignature", str(pkg)).stdout
    codec_name = PROFILES[distro].split('compression = "')[1].split('"')[0]
    expected = "(none)" if codec_name == "none" else codec_name
    assert _q(pkg, "--qf", "%{PAYLOADCOMPRESSOR}") == expected
    requires = _q(pkg, "--requires")
    assert ("rpmlib(PayloadIsZstd)" in requires) == (codec_name == "zstd")
    assert ("rpmlib(PayloadIsXz)" in requires) == (codec_name == "xz")
    assert verify_artifact(r, pkg).ok
    _install_and_verify(pkg, "wtest", tmp_path / "root")
    root = tmp_path / "root"
    assert (root / "usr/share/wtest/sub/chunky.bin").read_bytes() == (project / "data/sub/chunky.bin").read_bytes()
    assert os.readlink(root / "usr/bin/wtest") == "../share/wtest/run.sh"
    assert oct((root / "var/lib/wtest").stat().st_mode & 0o7777) == "0o2750"


def test_flags_scripts_and_relations(project, tmp_path):
    r = resolve_dir(project, "t-zstd", source_date_epoch=EPOCH)
    pkg = build_rpm(r, tmp_path)
    flags = dict(line.rsplit(" ", 1) for line in _q(pkg, "--qf", "[%{FILENAMES} %{FILEFLAGS}\n]").splitlines())
    assert flags["/etc/wtest/a.conf"] == "17" and flags["/usr/share/licenses/wtest/LICENSE"] == "128"
    header = read_header(pkg)
    scripts = header.scripts()
    assert set(scripts) == {"pre", "post", "preun", "postun"} and "echo preun" in scripts["preun"]
    progs = "%{PREINPROG} %{POSTINPROG} %{PREUNPROG} %{POSTUNPROG}"
    assert _q(pkg, "--qf", progs) == "/bin/sh /bin/sh /bin/sh /bin/sh"
    sh = [d.flags for d in header.dependencies("requires") if d.name == "/bin/sh"]
    assert sh == [0x300, 0x500, 0x900, 0x1100]  # INTERP and the scriptlet's bit, one each
    assert _q(pkg, "--qf", "%{EPOCH}:%{VERSION}-%{RELEASE}") == "2:2.0-3.fc40"
    assert "wtest = 2:2.0-3.fc40" in _q(pkg, "--provides")
    assert "config(wtest) = 2:2.0-3.fc40" in _q(pkg, "--requires")
    rels = read_rpm(pkg).relations
    assert [(x.name, x.op, x.version) for x in rels["conflicts"]] == [("old", "<", "1")]
    assert [x.name for x in rels["replaces"]] == ["legacy", "oldname"]
    assert [x.name for x in rels["suggests"]] == ["sugpkg"]
    # the bounded Obsoletes brings a Provides of the old name at this package's EVR; the unbounded one none
    assert "oldname = 2:2.0-3.fc40" in _q(pkg, "--provides").splitlines()
    assert "legacy" not in _q(pkg, "--provides")
    assert _q(pkg, "--obsoletes").splitlines() == ["legacy", "oldname < 2.0"]


# ---------------------------------------------------------------- reproducible, atomic, bounded


def test_two_builds_are_byte_identical(project, tmp_path):
    r = resolve_dir(project, "t-zstd", source_date_epoch=EPOCH)
    a = build_rpm(r, tmp_path / "a").read_bytes()
    os.utime(project / "data/run.sh", (1, 1))  # older than the epoch: no effect either
    b = build_rpm(resolve_dir(project, "t-zstd", source_date_epoch=EPOCH), tmp_path / "b").read_bytes()
    assert a == b


def test_payload_digests_match_the_payload(project, tmp_path):
    r = resolve_dir(project, "t-gzip", source_date_epoch=EPOCH)
    pkg = build_rpm(r, tmp_path)
    data = pkg.read_bytes()
    header = read_header(pkg)
    payload = data[header.payload_offset :]
    import hashlib
    import zlib

    assert header.tags[5092] == (hashlib.sha256(payload).hexdigest(),)
    raw = zlib.decompress(payload, 31)
    assert header.tags[5097] == (hashlib.sha256(raw).hexdigest(),)
    assert raw.endswith(b"TRAILER!!!\0\0\0\0") and len(raw) % 4 == 0


def test_unreadable_source_is_a_typed_error_and_leaves_nothing(project, tmp_path):
    r = resolve_dir(project, "t-zstd", source_date_epoch=EPOCH)
    gone = project / "data/empty"
    gone.unlink()
    try:
        with pytest.raises(ArtifactError, match="empty"):
            build_rpm(r, tmp_path)
    finally:
        gone.write_bytes(b"")
    assert list(tmp_path.iterdir()) == []


def test_large_file_format(project, tmp_path, monkeypatch):
    """Files of 4 GiB or more switch to LONGFILESIZES and rpm's stripped cpio; shown with a 5 KB threshold."""
    require_tools("rpm")
    monkeypatch.setattr(rpm_payload, "MAX_NEWC_SIZE", 5000)
    monkeypatch.setattr(rpm_writer, "MAX_NEWC_SIZE", 5000)
    r = resolve_dir(project, "t-zstd", source_date_epoch=EPOCH)
    pkg = build_rpm(r, tmp_path / "out")
    header = read_header(pkg)
    assert LONGFILESIZES in header.tags and FILESIZES not in header.tags
    assert "rpmlib(LargeFiles) <= 4.12.0-1" in _q(pkg, "--requires")
    assert "digests OK" in _run("rpm", "-K", "--nosignature", str(pkg)).stdout
    _install_and_verify(pkg, "wtest", tmp_path / "root")
    assert (tmp_path / "root/usr/share/wtest/sub/odd size.txt").read_bytes() == b"abcde" * 1001


def test_memory_stays_bounded(tmp_path):
    """A 300 MB file is streamed: peak RSS of the build stays far below the file size."""
    project = _project(tmp_path / "p", big=300 << 20)
    code = textwrap.dedent(
        """
        import sys
        from pkgtool.formats.rpm.native import build_rpm
        from pkgtool.project import resolve_dir
        build_rpm(resolve_dir(sys.argv[1], "t-zstd", source_date_epoch=1736121600), sys.argv[2])
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec from the (large) pytest worker
        print([line for line in open("/proc/self/status") if line.startswith("VmHWM")][0].split()[1])
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(project), str(tmp_path / "out")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    peak_kib = int(proc.stdout.split()[-1])
    assert peak_kib < 150 * 1024, f"peak RSS {peak_kib} KiB for a 300 MB file"
    r = resolve_dir(project, "t-zstd", source_date_epoch=EPOCH)
    info = read_rpm(tmp_path / "out" / rpm_file_name(r))
    assert [o.size for o in info.entries if o.path.endswith("big.img")] == [300 << 20]


# ---------------------------------------------------------------- backends


def test_unknown_backend_is_a_usage_error(project, tmp_path):
    # rpm-rs was a backend once: it is refused by name, with the choices
    rpm = resolve_dir(project, "t-zstd", source_date_epoch=EPOCH)
    with pytest.raises(UsageError, match="unknown backend 'rpm-rs'; choose one of: native, system"):
        build(rpm, tmp_path / "rpm", backend="rpm-rs")
    assert not (tmp_path / "rpm").exists()


# ---------------------------------------------------------------- the cpio writer's batch loop


def _cpio_bytes(entries, one_by_one: bool) -> tuple[bytes, list[tuple[int, str]]]:
    import io

    out = io.BytesIO()
    cpio = rpm_payload.CpioWriter(rpm_payload.codec("none", 0), out, EPOCH)
    try:
        if one_by_one:
            got = []
            for path, mode, arg in entries:
                if mode >> 12 == 0o04:
                    cpio.directory(path, mode & 0o7777)
                    got.append((0, ""))
                elif mode >> 12 == 0o12:
                    cpio.symlink(path, arg)
                    got.append((len(arg.encode()), ""))
                else:
                    got.append(cpio.regular(path, mode & 0o7777, arg))
        else:
            got = cpio.add_entries(entries)
        cpio.finish()
    except BaseException:
        cpio.abort()
        raise
    return out.getvalue(), got


def test_add_entries_equals_the_single_calls(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setattr(rpm_payload, "PIECE", 4096)  # small buffers: entries cross them at every offset
    entries = [("/d", 0o040755, "")]
    for i, size in enumerate([0, 1, 2, 3, 4, 100, 3990, 4000, 4096, 9000] * 3):
        src = tmp_path / f"f{i}"
        src.write_bytes(os.urandom(size))
        entries.append((f"/d/f{i}", 0o100644 if i % 2 else 0o104755, str(src)))
    entries.append(("/d/link", 0o120777, "f1"))
    batch, got = _cpio_bytes(entries, one_by_one=False)
    single, expected = _cpio_bytes(entries, one_by_one=True)
    assert batch == single
    assert got == expected
    assert got[3] == (2, hashlib.sha256((tmp_path / "f2").read_bytes()).hexdigest())


@pytest.mark.parametrize("delta", [-10, 10])  # the file grew, or shrank, after its size was taken
def test_add_entries_refuses_a_file_that_changed(tmp_path, monkeypatch, delta):
    src = tmp_path / "f"
    src.write_bytes(b"x" * 100)
    real_fstat = os.fstat

    def lying(fd):
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, *st[1:6], st.st_size + delta, *st[7:]))

    monkeypatch.setattr(rpm_payload.os, "fstat", lying)
    with pytest.raises(ArtifactError, match="changed while it was being packaged"):
        _cpio_bytes([("/f", 0o100644, str(src))], one_by_one=False)
