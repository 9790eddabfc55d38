"""[replaces] as each format expects it: Obsoletes + Provides in RPM, Replaces + Breaks in Debian.

One function per format derives the extra relations (render.rpm.implied_provides,
render.deb.implied_breaks); the spec, every writer and verify use it, so the
native and rpmbuild/dpkg-buildpackage packages all carry the same ones.
"""

from __future__ import annotations

import dataclasses
import subprocess
import textwrap
from pathlib import Path

import pytest
from tooling import require_tools

from pkgtool.formats.deb import debian_dir as D
from pkgtool.formats.deb import facts as F
from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.deb.reader import read_deb
from pkgtool.formats.rpm.facts import implied_provides, package_evr, spec_evr
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.formats.rpm.reader import read_rpm
from pkgtool.formats.rpm.spec import generate_rpm, relation_lines
from pkgtool.model import Family
from pkgtool.model import ResolvedRelation as RR
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import compare_relations, expected_relations, verify_artifact

EPOCH = 1736121600

MAP = """\
schema = 1

[package]
name = "newpkg"
version = "2.0"
release = "3"
{epoch}
summary = "Takes over from older packages"
description = '''
A package renamed from several older ones, each related in another way.
'''
license = "MIT"
url = "https://example.org/newpkg"
maintainer = "Jane Packager <jane@example.org>"
arch = "noarch"

[provides]
old-provided = "= 3.1"

[conflicts]
old-conflicting = ""

[replaces]
old-less = "< 2"
old-any = ""
old-newer = ">= 1"
old-exact = "= 1.0"
old-provided = "<= 3"
old-conflicting = "< 5"
old-upto = "<= 1.5"

[[file]]
src = "data/readme.txt"
dst = "/usr/share/newpkg/readme.txt"
mode = "0644"
"""


def _project(root: Path, epoch: int | None = 1) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "data/readme.txt").write_text("hello\n")
    (root / "pkgtool.toml").write_text(MAP.format(epoch=f"epoch = {epoch}" if epoch is not None else ""))
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return _project(tmp_path_factory.mktemp("replaces"))


def _rpm(project: Path, distro: str = "fedora"):
    return resolve_dir(project, distro, source_date_epoch=EPOCH)


def _deb(project: Path):
    return resolve_dir(project, "debian", source_date_epoch=EPOCH)


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


# ---------------------------------------------------------------- RPM: implied_provides


def test_implied_provides_only_for_upper_bounds_not_already_provided(project):
    r = _rpm(project)
    got = [(x.name, x.op, x.version) for x in implied_provides(r)]
    # old-any, old-newer, old-exact are not bounded from above; old-provided is in [provides]
    assert got == [
        ("old-conflicting", "=", "1:2.0-3.fc40"),
        ("old-less", "=", "1:2.0-3.fc40"),
        ("old-upto", "=", "1:2.0-3.fc40"),
    ]


def test_implied_provides_version_is_the_package_evr(tmp_path):
    r = _rpm(_project(tmp_path, epoch=None))
    assert package_evr(r) == "2.0-3.fc40" and package_evr(r, dist=False) == "2.0-3"
    assert {x.version for x in implied_provides(r)} == {"2.0-3.fc40"}
    assert spec_evr(r) == "%{version}-%{release}"
    assert implied_provides(r, "X") == tuple(dataclasses.replace(x, version="X") for x in implied_provides(r))


def test_implied_provides_none_for_unbounded_or_file_names(project):
    r = _rpm(project)
    rels = {
        "replaces": (RR("a"), RR("b", ">", "1"), RR("c", "=", "1"), RR("/usr/bin/old", "<", "2")),
        "provides": (),
    }
    assert implied_provides(dataclasses.replace(r, relations=rels)) == ()


def test_spec_provides_follow_the_spec_evr(project):
    lines = relation_lines(_rpm(project))
    provides = [v for t, v in lines if t == "Provides"]
    assert provides == [
        "old-provided = 3.1",
        "old-conflicting = %{epoch}:%{version}-%{release}",
        "old-less = %{epoch}:%{version}-%{release}",
        "old-upto = %{epoch}:%{version}-%{release}",
    ]
    assert [v for t, v in lines if t == "Obsoletes"][0] == "old-any"
    assert [t for t, _ in lines].index("Obsoletes") > [t for t, _ in lines].index("Provides")


# ---------------------------------------------------------------- Debian: implied_breaks


def test_implied_breaks_only_for_upper_bounds_not_in_conflicts(project):
    r = _deb(project)
    got = [(x.name, x.op, x.version) for x in F.implied_breaks(r)]
    # old-conflicting is in [conflicts]; old-provided is bounded, and a Provides does not stop a Breaks
    assert got == [("old-less", "<", "2"), ("old-provided", "<=", "3"), ("old-upto", "<=", "1.5")]


def test_control_fields_in_dpkg_order(project, tmp_path):
    d = _deb(project)
    fields = F.relation_fields(d)
    assert [f for f, _ in fields] == ["Conflicts", "Breaks", "Replaces", "Provides"]
    assert dict(fields)["Breaks"] == "old-less (<< 2), old-provided (<= 3), old-upto (<= 1.5)"
    D.generate_deb(d, tmp_path)
    control = next(tmp_path.rglob("debian/control")).read_text()
    names = [line.split(":")[0] for line in control.splitlines() if line.split(":")[0] in dict(fields)]
    assert names == ["Conflicts", "Breaks", "Replaces", "Provides"]


# ---------------------------------------------------------------- verify expects the derived relations


def test_verify_expects_the_derived_relations(project, tmp_path):
    r = _rpm(project)
    want = expected_relations(r, Family.RPM)
    # either release is accepted, as compare_metadata accepts a build without %{dist}
    assert want["provides"]["old-less"] == (("=", "1:2.0-3.fc40"), ("=", "1:2.0-3"))
    assert "breaks" not in want
    assert set(expected_relations(_deb(project), Family.DEB)["breaks"]) == {"old-less", "old-provided", "old-upto"}

    info = read_rpm(build_rpm(r, tmp_path / "rpm"))
    assert compare_relations(r, info) == []
    provides = tuple(x for x in info.relations["provides"] if x.name != "old-less")
    bad = compare_relations(r, dataclasses.replace(info, relations={**info.relations, "provides": provides}))
    assert [(m.path, m.expected["relation"], m.actual["relation"]) for m in bad] == [
        ("provides: old-less", "old-less = 1:2.0-3.fc40", None)
    ]

    d = _deb(project)
    info = read_deb(build_deb(d, tmp_path / "deb"))
    assert compare_relations(d, info) == []
    breaks = (*info.relations["breaks"], RR("stranger", "<", "1"))
    extra = compare_relations(d, dataclasses.replace(info, relations={**info.relations, "breaks": breaks}))
    assert [(m.path, m.expected["relation"]) for m in extra] == [("breaks: stranger", None)]
    missing = compare_relations(d, dataclasses.replace(info, relations={**info.relations, "breaks": breaks[1:]}))
    assert [m.path for m in missing] == ["breaks: old-less", "breaks: stranger"]


# ---------------------------------------------------------------- real tools


@pytest.mark.tools
def test_native_rpm_shows_obsoletes_and_provides(project, tmp_path):
    require_tools("rpm")
    r = _rpm(project)
    pkg = build_rpm(r, tmp_path / "native")
    assert _run("rpm", "-qp", "--provides", str(pkg)).splitlines() == [
        "newpkg = 1:2.0-3.fc40",
        "old-conflicting = 1:2.0-3.fc40",
        "old-less = 1:2.0-3.fc40",
        "old-provided = 3.1",
        "old-upto = 1:2.0-3.fc40",
    ]
    assert _run("rpm", "-qp", "--obsoletes", str(pkg)).splitlines() == [
        "old-any",
        "old-conflicting < 5",
        "old-exact = 1.0",
        "old-less < 2",
        "old-newer >= 1",
        "old-provided <= 3",
        "old-upto <= 1.5",
    ]
    assert verify_artifact(r, pkg).ok


@pytest.mark.tools
def test_rpmbuild_of_the_spec_provides_what_the_native_rpm_does(project, tmp_path):
    require_tools("rpmbuild", "rpm", "rpmlint")
    from pkgtool.formats.rpm.system import build_rpm_system

    r = _rpm(project)
    system = next(p for p in build_rpm_system(r, tmp_path / "system") if not p.name.endswith(".src.rpm"))
    native = build_rpm(r, tmp_path / "native")
    for q in ("--provides", "--obsoletes"):
        assert _run("rpm", "-qp", q, str(system)) == _run("rpm", "-qp", q, str(native)), q
    assert read_rpm(system).relations == read_rpm(native).relations
    assert verify_artifact(r, system).ok
    generate_rpm(r, tmp_path / "gen")
    for pkg in (system, native):
        proc = subprocess.run(
            ["rpmlint", "-c", str(tmp_path / "gen/newpkg-rpmlint.toml"), "-r", str(tmp_path / "gen/newpkg.rpmlintrc"), str(pkg)],
            capture_output=True,
            text=True,
        )  # fmt: skip
        assert proc.returncode == 0 and " 0 errors" in proc.stdout, proc.stdout + proc.stderr
        # Provided (bounded) old names draw no obsolete-not-provided; the unbounded ones still do.
        unprovided = sorted(line.split()[-1] for line in proc.stdout.splitlines() if "obsolete-not-provided" in line)
        assert unprovided == ["old-any", "old-exact", "old-newer"]


@pytest.mark.tools
def test_native_and_system_debs_show_breaks_and_replaces(project, tmp_path):
    require_tools("dpkg-deb", "dpkg-buildpackage", "dh", "lintian")
    from pkgtool.formats.deb.system import build_deb_system

    d = _deb(project)
    native = build_deb(d, tmp_path / "native")
    system = build_deb_system(d, tmp_path / "system", timeout=300)[0]
    for pkg in (native, system):
        fields = _run("dpkg-deb", "-f", str(pkg), "Conflicts", "Breaks", "Replaces", "Provides")
        assert fields == textwrap.dedent("""\
            Conflicts: old-conflicting
            Breaks: old-less (<< 2), old-provided (<= 3), old-upto (<= 1.5)
            Replaces: old-any, old-conflicting (<< 5), old-exact (= 1.0), old-less (<< 2), old-newer (>= 1), old-provided (<= 3), old-upto (<= 1.5)
            Provides: old-provided (= 3.1)
            """)  # fmt: skip
        control = _run("dpkg-deb", "-f", str(pkg))
        assert control.index("\nConflicts:") < control.index("\nBreaks:") < control.index("\nReplaces:")
        assert verify_artifact(d, pkg).ok
    assert read_deb(native).relations == read_deb(system).relations
    proc = subprocess.run(["lintian", "--no-cfg", str(native), str(system)], capture_output=True, text=True)
    assert not [x for x in (proc.stdout + proc.stderr).splitlines() if x.startswith("E:")], proc.stdout
