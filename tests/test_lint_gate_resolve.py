"""`build`'s lint gate and the build share one load and one resolve per distro, with the same findings and bytes.

The gate (cli_support.lint_first) resolves each distro with the build's SOURCE_DATE_EPOCH and, for a
one-distro build, hands the Resolved on to the build (parallel.run_all); a distro that resolve finds an
error in is resolved again by the build, which reports the error itself.  Each source's head is read once
for all distros linted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import EXAMPLES
from lint_cases import CASES, Case, write_project
from typer.testing import CliRunner

import pkgtool.resolve
from pkgtool.cli import app
from pkgtool.lint import lint_project, merge
from pkgtool.lint.context import LintContext, is_under, under
from pkgtool.lint.engine import lint_and_resolve
from pkgtool.model import Entry, EntryKind
from pkgtool.project import resolve_dir

EPOCH = 1_700_000_000
EXAMPLE = EXAMPLES / "vdsm-hook-acme"
RUNNER = CliRunner()


@pytest.fixture
def resolves(monkeypatch, tmp_path) -> Path:
    """Every resolve of this process and of the build's forked workers, one line per call (the profile id)."""
    log = tmp_path / "resolves.log"
    log.write_text("")
    real = pkgtool.resolve.resolve_collect

    def counted(layout, profile, source_date_epoch=None):
        with open(log, "a") as fh:  # appended from forked workers too
            fh.write(profile.id + "\n")
        return real(layout, profile, source_date_epoch)

    monkeypatch.setattr(pkgtool.resolve, "resolve_collect", counted)
    return log


def _build(*args: str):
    res = RUNNER.invoke(app, ["build", *args, "--json"], env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    return res, json.loads(res.stdout)


def test_a_linted_build_of_one_distro_resolves_it_once(resolves, tmp_path):
    res, doc = _build(str(EXAMPLE), "--distro", "fedora", "--out", str(tmp_path / "dist"))
    assert res.exit_code == 0, res.output
    assert doc["lint"]["ok"] and doc["artifacts"]
    assert resolves.read_text().split() == ["fedora"]


def test_several_distros_are_resolved_by_lint_and_by_their_workers(resolves, tmp_path):
    """The pool's forked workers resolve their own distro: the parent keeps no Resolved for them to inherit."""
    res, doc = _build(str(EXAMPLE), "--distro", "fedora,debian", "--out", str(tmp_path / "dist"))
    assert res.exit_code == 0, res.output
    assert doc["lint"]["ok"] and len(doc["artifacts"]) == 2
    assert sorted(resolves.read_text().split()) == ["debian", "debian", "fedora", "fedora"]
    assert lint_and_resolve(EXAMPLE, ["fedora", "debian"], EPOCH, keep=False).resolved == {}


def test_a_distro_resolve_refuses_is_resolved_again_by_the_build_and_reported(resolves, tmp_path):
    body = '[[file]]\nsrc = "nope"\ndst = "{datadir}/tpkg/nope"\n'  # an error of resolve, not of a lint rule
    proj = write_project(tmp_path / "p", Case("missing-source", "error", body))
    res, doc = _build(str(proj), "--distro", "fedora", "--out", str(tmp_path / "dist"))
    assert res.exit_code == 2, res.output  # the build reports resolve's input error, as before
    assert {d["rule"] for d in doc["distros"][0]["diagnostics"]} == {"missing-source"}
    assert resolves.read_text().split() == ["fedora", "fedora"]


@pytest.mark.parametrize("distros", ["fedora", "debian", "fedora,debian"])
def test_the_gated_build_writes_the_same_bytes_as_no_lint(tmp_path, distros):
    """One distro is built from the lint step's Resolved, several by workers: the same bytes as --no-lint."""
    arts = {}
    for how in ("gate", "no-lint"):
        extra = ["--no-lint"] if how == "no-lint" else []
        res, doc = _build(str(EXAMPLE), "--distro", distros, "--out", str(tmp_path / how), *extra)
        assert res.exit_code == 0, res.output
        arts[how] = {Path(a["path"]).name: Path(a["path"]).read_bytes() for a in doc["artifacts"]}
    assert arts["gate"] == arts["no-lint"] and len(arts["gate"]) == len(distros.split(","))


@pytest.mark.parametrize("example", sorted(p.parent.name for p in EXAMPLES.glob("*/pkgtool.toml")))
def test_what_the_gate_resolves_is_what_the_build_would(example):
    linted = lint_and_resolve(EXAMPLES / example, ["fedora", "debian"], EPOCH)
    assert linted.report == lint_project(EXAMPLES / example, ["fedora", "debian"])
    if example == "broken":  # README's error example does not load: nothing resolved to hand on
        assert linted.resolved == {} and not linted.report.ok
        return
    assert set(linted.resolved) == {"fedora", "debian"}
    for distro, resolved in linted.resolved.items():
        assert resolved == resolve_dir(EXAMPLES / example, distro, EPOCH)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
def test_no_rule_reads_the_epoch(tmp_path, case):
    """The gate lints what it resolved with the build's epoch; `lint` resolves without one: same findings."""
    proj = write_project(tmp_path / "p", case)
    assert lint_and_resolve(proj, ["fedora", "debian"], EPOCH).report == lint_project(proj, ["fedora", "debian"])


# ---------------------------------------------------------------- heads read once for all distros

_RUN = '[[file]]\nsrc = "run"\ndst = "{datadir}/tpkg/run"\nmode = "0644"\n'
_PATCH = "--- a/run\n+++ b/run\n@@ -1 +1,2 @@\n+#!/bin/sh\n echo hi\n"


def _opens_of(monkeypatch, name: str) -> list[str]:
    """The os.open calls of files called ``name`` while the test runs."""
    seen: list[str] = []
    real = os.open

    def counted(path, *args, **kw):
        if os.path.basename(os.fspath(path)) == name:
            seen.append(os.fspath(path))
        return real(path, *args, **kw)

    monkeypatch.setattr(os, "open", counted)
    return seen


def test_a_source_head_is_read_once_for_every_distro(tmp_path, monkeypatch):
    case = next(c for c in CASES if c.rule == "shebang-not-executable")
    proj = write_project(tmp_path / "p", case)
    distros = ["fedora", "debian", "el9"]
    alone = merge([lint_project(proj, [d]) for d in distros])
    opened = _opens_of(monkeypatch, "run.sh")
    together = lint_project(proj, distros)
    assert together == alone and {d.rule for d in together.findings} == {"shebang-not-executable"}
    assert len(opened) == 1, opened


def test_a_patched_head_is_never_lent_to_a_distro_without_the_patch(tmp_path, monkeypatch):
    """Only debian patches a shebang in: the staged copy's head must not reach the other distros, nor theirs it."""
    body = _RUN + '\n[[distro.debian.patch]]\nfile = "p.patch"\n'
    proj = write_project(tmp_path / "p", Case("", "", body, {"run": ("echo hi\n", 0o644), "p.patch": (_PATCH, 0o644)}))
    for distros in (["fedora", "debian", "el9"], ["debian", "fedora"]):
        report = lint_project(proj, distros)
        (finding,) = report.findings
        assert finding.rule == "shebang-not-executable" and report.distros_of(finding) == ("debian",)
        assert report == merge([lint_project(proj, [d]) for d in distros])


def test_an_absolute_source_is_read_as_os_path_join_would(tmp_path):
    script = tmp_path / "elsewhere" / "tool"
    script.parent.mkdir()
    script.write_bytes(b"#!/bin/sh\n")
    resolved = resolve_dir(EXAMPLE, "fedora")
    ctx = LintContext(resolved, tmp_path / "root")
    entry = Entry("/opt/tool", EntryKind.FILE, 0o644, source=str(script))
    assert ctx.has_shebang(entry) and ctx.head(entry) == b"#!/bin/sh\n"


@pytest.mark.parametrize("directory", ["/", "", "/etc", "/etc/", "/usr/local", "/usr/local//"])
def test_under_answers_as_is_under(directory):
    paths = ["/", "/etc", "/etc/", "/etc/x", "/etcetera", "/usr/local", "/usr/local/bin/x", "/usr/localx", "/usr"]
    assert [under(directory)(p) for p in paths] == [is_under(p, directory) for p in paths]
