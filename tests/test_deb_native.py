"""The native .deb writer and the .deb reader: format, reproducibility, compression, hostile input."""

from __future__ import annotations

import dataclasses
import gzip
import io
import subprocess
import tarfile

import pytest
from conftest import EXAMPLE_NAMES, EXAMPLES
from tooling import require_tools

from pkgtool.errors import ArtifactError
from pkgtool.formats.deb import facts as F
from pkgtool.formats.deb.native import build_deb, gzip_n
from pkgtool.formats.deb.reader import read_deb
from pkgtool.model import ConfigKind, EntryKind, ResolvedRelation
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact

EPOCH = 1736121600


def _resolved(example: str, epoch: int = EPOCH):
    return resolve_dir(EXAMPLES / example, "debian", source_date_epoch=epoch)


def _ar_members(data: bytes) -> list[tuple[str, bytes]]:
    assert data[:8] == b"!<arch>\n"
    pos, out = 8, []
    while pos < len(data):
        header = data[pos : pos + 60]
        size = int(header[48:58])
        out.append((header[:16].decode().strip(), data[pos + 60 : pos + 60 + size]))
        pos += 60 + size + (size % 2)
    return out


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_native_deb_is_byte_identical_across_builds(tmp_path, example):
    r = _resolved(example)
    a = build_deb(r, tmp_path / "a")
    b = build_deb(r, tmp_path / "b")
    assert a.name == b.name == F.deb_filename(r)
    assert a.read_bytes() == b.read_bytes()
    c = build_deb(_resolved(example, EPOCH + 86400), tmp_path / "c")
    assert c.read_bytes() != a.read_bytes()  # the epoch really is in the artifact


def test_native_layout_ar_tar_and_control(tmp_path):
    r = _resolved("convirt")
    deb = build_deb(r, tmp_path)
    assert deb.name == "convirt_0.9.0-1_all.deb"
    members = _ar_members(deb.read_bytes())
    assert [m[0] for m in members] == ["debian-binary", "control.tar.xz", "data.tar.xz"]
    assert members[0][1] == b"2.0\n"
    import lzma

    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(members[2][1]))) as tar:
        infos = tar.getmembers()
    names = [i.name for i in infos]
    assert names[0] == "."  # "./" in the archive; tarfile drops the slash of directories
    assert all(n.startswith("./") for n in names[1:])
    assert {(i.uid, i.gid, i.uname, i.gname) for i in infos} == {(0, 0, "root", "root")}
    assert {i.mtime for i in infos} == {EPOCH}
    by_name = {i.name.rstrip("/"): i for i in infos}
    assert by_name["./var/cache/convirt/image_store/fedora_vm/provision.sh"].mode == 0o744
    assert by_name["./usr/bin/convirt"].linkname == "../share/convirt/install/client/ConVirt"
    # every parent directory is present
    for n in by_name:
        parent = n.rsplit("/", 1)[0]
        assert parent == "." or parent in by_name, n
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(members[1][1]))) as tar:
        ctrl = {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile()}
    assert ctrl["./conffiles"] == "/etc/convirt.conf\n"
    assert "etc/convirt.conf" not in ctrl["./md5sums"]
    assert "usr/share/convirt/src/convirt/core/remote.py" in ctrl["./md5sums"]
    assert "#DEBHELPER#" not in ctrl["./postinst"]
    control = ctrl["./control"]
    assert control.startswith("Package: convirt\nVersion: 0.9.0-1\nArchitecture: all\n")
    assert "${misc:Depends}" not in control
    assert "\nDepends: gir1.2-vte-2.91, python3 (>= 2.4), python3-gi (>= 2.12)," in control


def test_native_payload_has_patched_content(tmp_path):
    info = read_deb(build_deb(_resolved("convirt"), tmp_path))
    import hashlib

    patched = (
        (EXAMPLES / "convirt/src/convirt/core/remote.py").read_text().replace("settimeout(None)", "settimeout(30)")
    )
    remote = next(e for e in info.entries if e.path.endswith("core/remote.py"))
    assert remote.digest == hashlib.md5(patched.encode()).hexdigest()


@pytest.mark.parametrize(("compression", "suffix"), [("zstd", ".zst"), ("gzip", ".gz"), ("none", "")])
def test_compression_from_profile(tmp_path, compression, suffix):
    r = _resolved("vdsm-hook-acme")
    r = dataclasses.replace(r, profile=dataclasses.replace(r.profile, compression=compression, compression_level=3))
    deb = build_deb(r, tmp_path)
    assert [m[0] for m in _ar_members(deb.read_bytes())][1:] == [f"control.tar{suffix}", f"data.tar{suffix}"]
    info = read_deb(deb)
    assert info.name == "vdsm-hook-acme" and any(e.path.endswith("50_acme") for e in info.entries)


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_dpkg_deb_accepts_native(tmp_path, example):
    require_tools("dpkg-deb")
    r = _resolved(example)
    deb = build_deb(r, tmp_path)
    info = subprocess.run(["dpkg-deb", "--info", str(deb)], capture_output=True, text=True, check=True).stdout
    assert f" Package: {r.package.name}\n" in info
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    for e in r.entries:
        if e.kind is EntryKind.FILE:
            assert f" ./{e.path.lstrip('/')}\n" in listing
    # dpkg-deb's own consistency check of the whole archive
    subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.DEVNULL, check=True)


def test_reader_round_trip_and_verify(tmp_path):
    r = _resolved("convirt")
    deb = build_deb(r, tmp_path)
    info = read_deb(deb)
    assert (info.name, info.version, info.release, info.arch) == ("convirt", "0.9.0", "1", "all")
    assert info.summary == r.package.summary
    # ConVirt's client is a #!/usr/bin/python3 script: python3:any, as dh_python3 adds it.
    want = [*(dataclasses.replace(x, logical="") for x in r.relations["requires"]), ResolvedRelation("python3:any")]
    assert info.relations["requires"] == tuple(sorted(want, key=lambda x: x.name))
    conf = {e.path for e in info.entries if e.config is not ConfigKind.NONE}
    assert conf == {"/etc/convirt.conf"}
    assert set(info.scripts) == {"postinst"}
    report = verify_artifact(r, deb)
    assert report.ok, report.to_dict()


def test_reader_relations_and_operators(tmp_path):
    r = _resolved("vdsm-hook-acme")
    from pkgtool.model import ResolvedRelation as RR

    rels = {
        "requires": (RR("a", "<", "2"), RR("b", ">", "1")),
        "conflicts": (RR("c", "<=", "3"),),
        "replaces": (RR("c", "<", "3"), RR("d"), RR("f", "<", "2")),
        "provides": (RR("e", "=", "1.0"),),
    }
    info = read_deb(build_deb(dataclasses.replace(r, relations=rels), tmp_path))
    assert info.relations == {
        "requires": (RR("a", "<", "2"), RR("b", ">", "1"), RR("python3:any")),  # the hook is Python: dh_python3's
        "conflicts": (RR("c", "<=", "3"),),
        # Breaks derived from the bounded [replaces] f; c is in Conflicts already, d is unbounded
        "breaks": (RR("f", "<", "2"),),
        "replaces": (RR("c", "<", "3"), RR("d"), RR("f", "<", "2")),
        "provides": (RR("e", "=", "1.0"),),
    }


# ---------------------------------------------------------------- hostile input to the reader


def _ar(*members: tuple[str, bytes], declared: dict[str, int] | None = None) -> bytes:
    out = b"!<arch>\n"
    for name, data in members:
        size = (declared or {}).get(name, len(data))
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{size:<10}`\n".encode() + data
        if len(data) % 2:
            out += b"\n"
    return out


def _tar_gz(members: list[tarfile.TarInfo], payloads: dict[str, bytes] | None = None) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for m in members:
            data = (payloads or {}).get(m.name, b"")
            m.size = len(data) if m.isfile() else 0
            tar.addfile(m, io.BytesIO(data))
    return gzip_n(raw.getvalue())


def _control_tar() -> bytes:
    ti = tarfile.TarInfo("./control")
    body = b"Package: evil\nVersion: 1-1\nArchitecture: all\nDescription: x\n"
    return _tar_gz([ti], {"./control": body})


def _deb_with(data_members: list[tarfile.TarInfo]) -> bytes:
    return _ar(("debian-binary", b"2.0\n"), ("control.tar.gz", _control_tar()), ("data.tar.gz", _tar_gz(data_members)))


def _info(name: str, type_: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = type_
    ti.linkname = linkname
    return ti


def test_reader_accepts_minimal_handmade_deb(tmp_path):
    p = tmp_path / "ok.deb"
    p.write_bytes(_deb_with([_info("./usr/"), _info("./usr/x")]))
    info = read_deb(p)
    assert info.name == "evil" and [e.path for e in info.entries] == ["/usr", "/usr/x"]


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"not an ar archive at all", "ar magic"),
        (b"!<arch>\n" + b"debian-binary   0", "truncated ar header"),
        (_ar(("data.tar.gz", b"x")), "debian-binary"),
        (_ar(("debian-binary", b"2.0\n"), ("control.tar.gz", b"\x1f\x8b garbage")), "not a readable"),
        (_ar(("debian-binary", b"2.0\n"), ("control.tar.gz", b"abc"), declared={"control.tar.gz": 10**9}), "declares"),
        (_deb_with([_info("./../../etc/passwd")]), "leaves the package root"),
        (_deb_with([_info("/etc/passwd")]), "absolute member name"),
        (_deb_with([_info("./dev/sda", tarfile.BLKTYPE)]), "special file"),
        (_deb_with([_info("./dev/tty", tarfile.CHRTYPE)]), "special file"),
        (_deb_with([_info("./fifo", tarfile.FIFOTYPE)]), "special file"),
        (_deb_with([_info("./x", tarfile.LNKTYPE, "./missing")]), "hard link"),
        (_ar(("debian-binary", b"2.0\n"), ("control.tar.gz", _control_tar())), "no data.tar"),
    ],
)
def test_reader_refuses_hostile_input(tmp_path, blob, message):
    p = tmp_path / "evil.deb"
    p.write_bytes(blob)
    with pytest.raises(ArtifactError, match=message):
        read_deb(p)


def test_reader_refuses_truncated_payload(tmp_path):
    deb = build_deb(_resolved("convirt"), tmp_path).read_bytes()
    p = tmp_path / "cut.deb"
    p.write_bytes(deb[: len(deb) - 200])
    with pytest.raises(ArtifactError):
        read_deb(p)


def test_reader_refuses_huge_long_name_header(tmp_path):
    # A GNU long-name block declaring 2 GiB: refused before tarfile tries to read it into memory.
    header = tarfile.TarInfo("././@LongLink")
    header.type = tarfile.GNUTYPE_LONGNAME
    header.size = 2 << 30
    block = header.tobuf(format=tarfile.USTAR_FORMAT)
    data = gzip_n(block + b"\0" * 1024)
    p = tmp_path / "long.deb"
    p.write_bytes(_ar(("debian-binary", b"2.0\n"), ("control.tar.gz", _control_tar()), ("data.tar.gz", data)))
    with pytest.raises(ArtifactError, match="too large"):
        read_deb(p)


def test_reader_never_writes_to_disk(tmp_path, monkeypatch):
    p = tmp_path / "ok.deb"
    p.write_bytes(_deb_with([_info("./etc/"), _info("./etc/evil")]))
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    read_deb(p)
    assert sorted(tmp_path.rglob("*")) == before
    assert gzip.decompress(gzip_n(b"abc")) == b"abc"


def test_md5sums_and_installed_size_follow_data_tar(tmp_path):
    import hashlib
    import lzma

    r = _resolved("convirt")
    members = _ar_members(build_deb(r, tmp_path).read_bytes())
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(members[2][1]))) as tar:
        infos = tar.getmembers()
        digests = {i.name[2:]: hashlib.md5(tar.extractfile(i).read()).hexdigest() for i in infos if i.isfile()}
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(members[1][1]))) as tar:
        ctrl = {m.name[2:]: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    conffiles = {p.lstrip("/") for p in ctrl["conffiles"].decode().split()}
    # md5sums: every regular file but the conffiles, sorted by the bytes of the path (data.tar's order).
    expected = [f"{d}  {rel}" for rel, d in digests.items() if rel not in conffiles]
    assert ctrl["md5sums"].decode().splitlines() == expected
    assert list(digests) == sorted(digests, key=lambda p: p.encode())
    # Installed-Size: dpkg-gencontrol's KiB, rounded up per file and link, 1 per directory (root and DEBIAN/ too).
    kib = 2 + sum(
        1 if i.isdir() and i.name != "." else -(-len(i.linkname.encode()) // 1024) if i.issym() else -(-i.size // 1024)
        for i in infos
        if i.name != "."
    )
    kib += sum(-(-len(v) // 1024) for k, v in ctrl.items() if k not in ("control", "md5sums"))
    assert f"\nInstalled-Size: {kib}\n" in ctrl["control"].decode()
