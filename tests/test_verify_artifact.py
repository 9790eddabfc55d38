"""verify_artifact(): payload, config flags, format-added files, relations and metadata of a .rpm/.deb."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
import types
from pathlib import Path

import pytest
from conftest import EXAMPLE_NAMES, EXAMPLES
from tooling import demo_layout, require_tools

from pkgtool.errors import ArtifactError
from pkgtool.formats.deb.facts import binary_relations
from pkgtool.model import (
    ArtifactInfo,
    ConfigKind,
    Entry,
    EntryKind,
    Family,
    Observed,
    Resolved,
    ResolvedRelation,
)
from pkgtool.profiles import load_profile
from pkgtool.project import resolve_dir
from pkgtool.sources.staging import staged_sources
from pkgtool.verify import artifact as verify_mod
from pkgtool.verify.artifact import verify_artifact
from pkgtool.verify.compare import compare


def perfect(resolved: Resolved, algo: str) -> list[Observed]:
    """What a faithful package of ``resolved`` carries: every entry, system dirs left out."""
    fmt = resolved.profile.family
    out = []
    with staged_sources(resolved) as staged:
        for e in resolved.entries:
            if e.kind is EntryKind.DIR and not e.owned:
                continue
            digest = ""
            if e.kind is EntryKind.FILE:
                digest = hashlib.new(algo, (Path(staged) / e.source).read_bytes()).hexdigest()
            conf = e.config
            if fmt is Family.DEB and e.path.startswith("/etc/") and e.kind is EntryKind.FILE:
                conf = ConfigKind.CONFIG  # every regular file under /etc is a conffile
            out.append(
                Observed(
                    path=e.path,
                    kind=e.kind,
                    mode=0o777 if e.kind is EntryKind.SYMLINK else e.mode,
                    owner="root" if fmt is Family.DEB else e.owner,
                    group="root" if fmt is Family.DEB else e.group,
                    digest=digest,
                    digest_algo=algo if digest else "",
                    target=e.target,
                    config=conf,
                )
            )
    return out


def info_for(resolved: Resolved, entries, **kw) -> ArtifactInfo:
    pkg, fmt = resolved.package, resolved.profile.family
    deb = kw.get("format", fmt) is Family.DEB
    return ArtifactInfo(
        path="pkg",
        format=kw.pop("format", fmt),
        name=kw.pop("name", pkg.name),
        version=kw.pop("version", pkg.version),
        release=kw.pop("release", pkg.release),
        arch=kw.pop("arch", "noarch" if fmt is Family.RPM else "all"),
        summary=pkg.summary,
        entries=tuple(entries),
        # A .deb carries python3:any for Python scripts (formats/deb/python.py) besides the map's relations.
        relations=kw.pop("relations", binary_relations(resolved) if deb else resolved.relations),
        scripts=kw.pop("scripts", {}),
    )


def check(monkeypatch, resolved: Resolved, info: ArtifactInfo):
    monkeypatch.setattr(verify_mod, "read_artifact", lambda path: info)
    return verify_artifact(resolved, "pkg")


@pytest.fixture(scope="module")
def rpm_side() -> Resolved:
    return resolve_dir(EXAMPLES / "convirt", "fedora")


@pytest.fixture(scope="module")
def deb_side() -> Resolved:
    return resolve_dir(EXAMPLES / "convirt", "debian")


def replace(entries: list[Observed], path: str, **changes) -> list[Observed]:
    assert any(o.path == path for o in entries)
    return [dataclasses.replace(o, **changes) if o.path == path else o for o in entries]


def test_faithful_rpm_and_deb_verify_clean(monkeypatch, rpm_side, deb_side):
    r = check(monkeypatch, rpm_side, info_for(rpm_side, perfect(rpm_side, "sha256")))
    assert r.ok, r.to_text()
    d = check(monkeypatch, deb_side, info_for(deb_side, perfect(deb_side, "md5")))
    assert d.ok, d.to_text()


def test_config_flag(monkeypatch, rpm_side):
    obs = replace(perfect(rpm_side, "sha256"), "/etc/convirt.conf", config=ConfigKind.CONFIG)
    m = check(monkeypatch, rpm_side, info_for(rpm_side, obs)).by_path()["/etc/convirt.conf"]
    assert m.problems == ("config",) and m.flags == "........C"
    assert (m.expected["config"], m.actual["config"]) == ("noreplace", "config")


def test_deb_conffile_missing(monkeypatch, deb_side):
    obs = replace(perfect(deb_side, "md5"), "/etc/convirt.conf", config=ConfigKind.NONE)
    report = check(monkeypatch, deb_side, info_for(deb_side, obs))
    assert [(m.path, m.problems) for m in report.mismatches] == [("/etc/convirt.conf", ("config",))]


def test_md5_digest_of_a_deb(monkeypatch, deb_side):
    path = "/usr/share/convirt/doc/README"
    obs = replace(perfect(deb_side, "md5"), path, digest="0" * 32)
    m = check(monkeypatch, deb_side, info_for(deb_side, obs)).by_path()[path]
    assert m.problems == ("digest",) and m.expected["digest"].startswith("md5 ")


def test_deb_format_files_and_parent_dirs_are_not_extras(monkeypatch, deb_side):
    obs = perfect(deb_side, "md5")
    for d in ("/usr", "/usr/share", "/usr/share/doc", "/usr/share/doc/convirt", "/etc", "/var", "/var/cache"):
        obs.append(Observed(d, EntryKind.DIR, 0o755, "root", "root"))
    for f in ("/usr/share/doc/convirt/copyright", "/usr/share/doc/convirt/changelog.Debian.gz"):
        obs.append(Observed(f, EntryKind.FILE, 0o644, "root", "root", digest="1" * 32, digest_algo="md5"))
    assert check(monkeypatch, deb_side, info_for(deb_side, obs)).ok
    obs.append(Observed("/usr/share/convirt/stray", EntryKind.FILE, 0o644, "root", "root"))
    obs.append(Observed("/opt/elsewhere", EntryKind.DIR, 0o755, "root", "root"))
    report = check(monkeypatch, deb_side, info_for(deb_side, obs))
    assert [(m.path, m.problems) for m in report.mismatches] == [
        ("/opt/elsewhere", ("extra",)),
        ("/usr/share/convirt/stray", ("extra",)),
    ]


def _demo(profile: str, owner: str = "root") -> Resolved:
    layout = demo_layout(EXAMPLES / "convirt")
    entries = (
        Entry("/var", EntryKind.DIR, 0o755, owned=False),
        Entry("/var/lib", EntryKind.DIR, 0o755, owned=False),
        Entry("/var/lib/demo", EntryKind.DIR, 0o750, owner=owner, group=owner),
    )
    return Resolved(layout, load_profile(profile), entries, {}, {}, 0)


DEMO_PAYLOAD = [Observed("/var/lib/demo", EntryKind.DIR, 0o750, "root", "root")]


def test_deb_owners_come_from_statoverride(monkeypatch):
    r = _demo("debian", owner="demo")
    obs = DEMO_PAYLOAD
    report = check(monkeypatch, r, info_for(r, obs))
    assert report.by_path()["/var/lib/demo"].problems == ("owner", "group")
    postinst = "dpkg-statoverride --update --add demo demo 0750 /var/lib/demo\n"
    assert check(monkeypatch, r, info_for(r, obs, scripts={"post-install": postinst})).ok
    # RPM carries owners in the header: no such excuse
    r = _demo("fedora", owner="demo")
    report = check(monkeypatch, r, info_for(r, obs, scripts={"post-install": postinst}))
    assert report.by_path()["/var/lib/demo"].problems == ("owner", "group")


def test_relations(monkeypatch, rpm_side):
    have = {k: list(v) for k, v in rpm_side.relations.items()}
    xen = next(r for r in have["requires"] if r.logical == "xen")
    have["requires"] = [r for r in have["requires"] if r is not xen]
    paramiko = next(r for r in have["requires"] if r.logical == "paramiko")
    have["requires"] = [dataclasses.replace(r, version="1.0") if r is paramiko else r for r in have["requires"]]
    have["requires"] += [ResolvedRelation("rpmlib(CompressedFileNames)", "<=", "3.0.4-1"), ResolvedRelation("/bin/sh")]
    have["requires"] += [ResolvedRelation("surprise")]
    have["provides"] = [ResolvedRelation("convirt", "=", "0.9.0-1")]
    report = check(monkeypatch, rpm_side, info_for(rpm_side, perfect(rpm_side, "sha256"), relations=have))
    got = {m.path: (m.expected["relation"], m.actual["relation"]) for m in report.mismatches}
    assert got == {
        f"requires: {xen.name}": (f"{xen.name} >= 3.0.4", None),
        f"requires: {paramiko.name}": (f"{paramiko.name} >= 1.6.4", f"{paramiko.name} >= 1.0"),
        "requires: surprise": (None, "surprise"),
    }
    assert all(m.flags == "relation" for m in report.mismatches)


def test_debian_operators_are_normalised(monkeypatch):
    r = dataclasses.replace(_demo("debian"), relations={"conflicts": (ResolvedRelation("old", "<", "2"),)})
    info = info_for(r, DEMO_PAYLOAD, relations={"conflicts": (ResolvedRelation("old", "<<", "2"),)})
    assert check(monkeypatch, r, info).ok


def test_metadata(monkeypatch, rpm_side):
    obs = perfect(rpm_side, "sha256")
    assert check(monkeypatch, rpm_side, info_for(rpm_side, obs, release="1" + rpm_side.profile.dist_tag)).ok
    report = check(monkeypatch, rpm_side, info_for(rpm_side, obs, version="0.9.1", format=Family.DEB, arch="all"))
    assert {m.path for m in report.mismatches} == {"(metadata) format", "(metadata) version"}
    assert "0.9.1, expected 0.9.0" in report.to_text()


@pytest.mark.damaged_rpms
def test_dispatch_on_magic_not_name(tmp_path, monkeypatch):
    bogus = tmp_path / "pkg.rpm"
    bogus.write_text("not a package\n")
    with pytest.raises(ArtifactError, match="magic"):
        verify_artifact(_demo("fedora"), bogus)
    fake = types.ModuleType("pkgtool.formats.deb.reader")
    seen = []
    fake.read_deb = lambda path: seen.append(path) or info_for(_demo("debian"), DEMO_PAYLOAD)
    monkeypatch.setitem(sys.modules, "pkgtool.formats.deb.reader", fake)
    deb = tmp_path / "named-like.rpm"
    deb.write_bytes(b"!<arch>\n" + b"\0" * 60)
    assert verify_artifact(_demo("debian"), deb).ok
    assert seen == [deb]


SPEC = """\
Name: demo
Version: 1.0
Release: 1
Summary: Demo
License: MIT
BuildArch: noarch
Requires: python3 >= 3.6
%description
Demo.
%install
mkdir -p %{buildroot}/usr/share/demo %{buildroot}/etc %{buildroot}/usr/bin
cp %{_sourcedir}/tool %{buildroot}/usr/share/demo/tool
cp %{_sourcedir}/demo.conf %{buildroot}/etc/demo.conf
ln -s ../share/demo/tool %{buildroot}/usr/bin/demo
%files
%dir %attr(0755,root,root) /usr/share/demo
%attr(0744,root,root) /usr/share/demo/tool
%config(noreplace) %attr(0640,root,root) /etc/demo.conf
/usr/bin/demo
"""


def test_real_rpm_round_trip(tmp_path):
    require_tools("rpmbuild")
    src = tmp_path / "src"
    src.mkdir()
    (src / "tool").write_text("#!/bin/sh\necho tool\n")
    (src / "demo.conf").write_text("x=1\n")
    (tmp_path / "demo.spec").write_text(SPEC)
    subprocess.run(
        ["rpmbuild", "-bb", "--define", f"_topdir {tmp_path}/top", "--define", f"_sourcedir {src}", "--nodeps"]
        + ["--dbpath", str(tmp_path / "db"), str(tmp_path / "demo.spec")],
        check=True,
        capture_output=True,
    )
    (rpm,) = (tmp_path / "top/RPMS/noarch").glob("demo-1.0-1*.noarch.rpm")
    layout = demo_layout(src)
    entries = [
        Entry("/etc", EntryKind.DIR, 0o755, owned=False),
        Entry("/etc/demo.conf", EntryKind.FILE, 0o640, source="demo.conf", config=ConfigKind.NOREPLACE),
        Entry("/usr", EntryKind.DIR, 0o755, owned=False),
        Entry("/usr/bin", EntryKind.DIR, 0o755, owned=False),
        Entry("/usr/bin/demo", EntryKind.SYMLINK, 0o777, target="/usr/share/demo/tool"),
        Entry("/usr/share", EntryKind.DIR, 0o755, owned=False),
        Entry("/usr/share/demo", EntryKind.DIR, 0o755),
        Entry("/usr/share/demo/tool", EntryKind.FILE, 0o744, source="tool"),
    ]
    rels = {"requires": (ResolvedRelation("python3", ">=", "3.6", "python"),)}
    good = Resolved(layout, load_profile("fedora"), tuple(entries), rels, {}, 0)
    report = verify_artifact(good, rpm)
    assert report.ok, report.to_text()
    assert report.checked == 4
    entries[-1] = dataclasses.replace(entries[-1], mode=0o755)
    entries[1] = dataclasses.replace(entries[1], config=ConfigKind.NONE)
    bad = dataclasses.replace(good, entries=tuple(entries), relations={})
    got = {m.path: m.problems for m in verify_artifact(bad, rpm).mismatches}
    assert got == {
        "/usr/share/demo/tool": ("mode",),
        "/etc/demo.conf": ("config",),
        "requires: python3": ("relation",),
    }


def test_compare_takes_a_digest_source(rpm_side):
    obs = perfect(rpm_side, "sha256")
    calls = []

    def digests(entry, algo):
        calls.append((entry.path, algo))
        return "f" * 64

    report = compare(rpm_side, obs, subject="x", digest_source=digests, artifact_format=Family.RPM)
    assert {m.problems for m in report.mismatches} == {("digest",)}
    assert len(calls) == len(rpm_side.files) and {a for _, a in calls} == {"sha256"}


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_native_rpm_of_every_example_verifies(tmp_path, example):
    from pkgtool.formats.rpm.native import build_rpm

    resolved = resolve_dir(EXAMPLES / example, "fedora")
    rpm = build_rpm(resolved, tmp_path)
    report = verify_artifact(resolved, rpm)
    assert report.ok, report.to_text()
    # the same artifact against a map that asks for something else
    first = resolved.files[0]
    changed = dataclasses.replace(first, mode=first.mode ^ 0o001)
    other = dataclasses.replace(resolved, entries=tuple(changed if e is first else e for e in resolved.entries))
    assert [(m.path, m.problems) for m in verify_artifact(other, rpm).mismatches] == [(first.path, ("mode",))]


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_native_deb_of_every_example_verifies(tmp_path, example):
    from pkgtool.formats.deb.native import build_deb

    resolved = resolve_dir(EXAMPLES / example, "debian")
    deb = build_deb(resolved, tmp_path)
    report = verify_artifact(resolved, deb)
    assert report.ok, report.to_text()
    # a map that no longer lists one file: the .deb now carries an extra
    first = resolved.files[0]
    other = dataclasses.replace(resolved, entries=tuple(e for e in resolved.entries if e is not first))
    assert [(m.path, m.problems) for m in verify_artifact(other, deb).mismatches] == [(first.path, ("extra",))]


def test_verify_refuses_a_source_rpm(tmp_path):
    """A .src.rpm lists sources, not deployed paths: verify says so instead of reporting every path."""
    import shutil as _shutil

    import pytest as _pytest
    from conftest import EXAMPLES as _EXAMPLES

    from pkgtool.errors import ArtifactError as _ArtifactError
    from pkgtool.project import resolve_dir as _resolve_dir
    from pkgtool.verify.artifact import verify_artifact as _verify_artifact

    if _shutil.which("rpmbuild") is None:
        from tooling import require_tools

        require_tools("rpmbuild")
    from pkgtool.formats.rpm.system import build_rpm_system

    resolved = _resolve_dir(_EXAMPLES / "libvirt-hook-acme", "fedora", 1736121600)
    paths = build_rpm_system(resolved, tmp_path)
    src = next(p for p in paths if str(p).endswith(".src.rpm"))
    with _pytest.raises(_ArtifactError, match="source package"):
        _verify_artifact(resolved, src)
    binary = next(p for p in paths if not str(p).endswith(".src.rpm"))
    assert _verify_artifact(resolved, binary).ok
