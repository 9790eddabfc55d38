"""[requires-pre] ... [requires-postun]: RPM Requires(pre) ... through rpmbuild and the native writer; Debian
Pre-Depends / Depends through dpkg-buildpackage and the native writer; verify expects them.
[scripts] pre-transaction / post-transaction: RPM %pretrans / %posttrans; no Debian script, a lint warning."""

from __future__ import annotations

import subprocess

import pytest
from golden import assert_golden
from tooling import require_tools

from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.deb.system import build_deb_system
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.formats.rpm.reader import read_rpm
from pkgtool.formats.rpm.spec import render_spec
from pkgtool.formats.rpm.system import build_rpm_system
from pkgtool.lint import lint_project
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact

pytestmark = pytest.mark.tools

EPOCH = 1736121600

MAP = """\
schema = 2

[package]
name = "scriptdeps"
version = "2.0"
summary = "Scriptlets with their own dependencies"
description = "A package whose scripts need tools while they run."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"

[requires]
logrotate = ""

[requires-pre]
adduser = ""

[requires-post]
systemd = ">= 250"
ucf = ""

[requires-preun]
systemd = ">= 250"

[requires-postun]
debconf = ""

[scripts]
post-install = "post.sh"
pre-transaction = "pretrans.sh"
post-transaction = "posttrans.sh"

[distro.debian.scripts]
pre-transaction = false

[[file]]
src = "tool"
dst = "{bindir}/scriptdeps"
mode = "0755"
"""

QF = "[%{REQUIRENAME}|%{REQUIREFLAGS:deptype}|%{REQUIREVERSION}\n]"


def _project(top):
    top.mkdir(parents=True)
    (top / "pkgtool.toml").write_text(MAP)
    (top / "tool").write_text("#!/bin/sh\necho scriptdeps\n")
    (top / "post.sh").write_text("#!/bin/sh\necho installed\n")
    (top / "pretrans.sh").write_text("#!/bin/sh\necho before the transaction\n")
    (top / "posttrans.sh").write_text("#!/bin/sh\necho after the transaction\n")
    return top


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return _project(tmp_path_factory.mktemp("scriptdeps") / "p")


@pytest.fixture(scope="module")
def rpms(project, tmp_path_factory):
    require_tools("rpmbuild", "rpm")
    out = tmp_path_factory.mktemp("scriptdeps-rpm")
    r = resolve_dir(project, "fedora", source_date_epoch=EPOCH)
    system = [p for p in build_rpm_system(r, out / "system") if not p.name.endswith(".src.rpm")]
    return r, {"system": system[0], "native": build_rpm(r, out / "native")}


@pytest.fixture(scope="module")
def debs(project, tmp_path_factory):
    require_tools("dpkg-buildpackage", "dh", "dpkg-deb")
    out = tmp_path_factory.mktemp("scriptdeps-deb")
    r = resolve_dir(project, "debian", source_date_epoch=EPOCH)
    system = [p for p in build_deb_system(r, out / "system", timeout=300) if p.suffix == ".deb"]
    return r, {"system": system[0], "native": build_deb(r, out / "native")}


def test_spec_preamble_golden(project):
    r = resolve_dir(project, "fedora", source_date_epoch=EPOCH)
    assert_golden("rpm/scriptdeps.spec", render_spec(r))


def test_rpm_requires_agree_with_rpmbuild(rpms):
    _, built = rpms
    # rpmbuild's generators add /bin/sh for the tool's shebang ("auto"); the native writer adds none.
    outs = {
        k: "".join(line for line in _run("rpm", "-qp", "--qf", QF, str(p)).splitlines(True) if "|auto|" not in line)
        for k, p in built.items()
    }
    assert outs["native"] == outs["system"]
    lines = set(outs["native"].splitlines())
    assert {
        "logrotate|manual|",
        "adduser|pre|",
        "ucf|post|",
        "systemd|post|250",
        "systemd|preun|250",
        "debconf|postun|",
    } <= lines, outs["native"]


@pytest.mark.parametrize("backend", ["native", "system"])
def test_rpm_reader_and_verify_see_script_requires(rpms, backend):
    r, built = rpms
    info = read_rpm(built[backend])
    assert [x.name for x in info.relations["requires-pre"]] == ["adduser"]
    assert [(x.name, x.op, x.version) for x in info.relations["requires-preun"]] == [("systemd", ">=", "250")]
    report = verify_artifact(r, built[backend])
    assert report.ok, report.to_text()


def test_deb_pre_depends_and_depends(debs):
    _, built = debs
    for deb in built.values():
        fields = _run("dpkg-deb", "-f", str(deb), "Pre-Depends", "Depends")
        assert "Pre-Depends: adduser\n" in fields, fields
        depends = fields.split("Depends: ")[-1]
        for name in ("logrotate", "systemd (>= 250)", "ucf", "debconf"):
            assert name in depends, fields


def test_deb_lintian_no_errors(debs):
    require_tools("lintian")
    _, built = debs
    proc = subprocess.run(["lintian", "--no-cfg", *map(str, built.values())], capture_output=True, text=True)
    errors = [x for x in (proc.stdout + proc.stderr).splitlines() if x.startswith("E:")]
    assert errors == []


@pytest.mark.parametrize("backend", ["native", "system"])
def test_deb_verify_expects_folded_relations(debs, backend):
    r, built = debs
    report = verify_artifact(r, built[backend])
    assert report.ok, report.to_text()


def test_rpm_transaction_scriptlets_agree_with_rpmbuild(rpms):
    _, built = rpms
    scripts = {k: _run("rpm", "-qp", "--scripts", str(p)) for k, p in built.items()}
    assert scripts["native"] == scripts["system"]
    assert "pretrans scriptlet (using /bin/sh):" in scripts["native"]
    assert "echo before the transaction" in scripts["native"]
    assert "posttrans scriptlet (using /bin/sh):" in scripts["native"]
    assert "echo after the transaction" in scripts["native"]


def test_deb_has_no_transaction_scripts_and_lint_says_so(debs, project):
    r, built = debs
    for deb in built.values():
        control = _run("dpkg-deb", "-I", str(deb))
        assert "transaction" not in control
    # pre-transaction is dropped for debian by the override; post-transaction is left and lint warns.
    report = lint_project(project, ["debian"])
    hits = [d for d in report.findings if d.rule == "transaction-script-on-debian"]
    assert [d.location.key for d in hits] == ["scripts.post-transaction"], report.to_text()
    assert not [d for d in lint_project(project, ["fedora"]).findings if d.rule == "transaction-script-on-debian"]
