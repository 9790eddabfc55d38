"""`pkgtool build` runs the map's lint rules first: an error stops the build, a warning is said once."""

from __future__ import annotations

import json

from lint_cases import CASES, write_project
from test_cli import no_traceback, run


def _case(rule: str):
    return next(c for c in CASES if c.rule == rule)


def _etc_world_writable(root):
    """A world-writable file under /etc: the lint error the build must refuse."""
    case = _case("world-writable")
    proj = write_project(root, case)
    text = (proj / "pkgtool.toml").read_text().replace('dst = "{datadir}/tpkg/f"', 'dst = "{sysconfdir}/tpkg.conf"')
    (proj / "pkgtool.toml").write_text(text + 'config = "noreplace"\n')
    return proj


def test_build_refuses_a_lint_error_located_and_writes_nothing(tmp_path):
    proj = _etc_world_writable(tmp_path / "p")
    out = tmp_path / "dist"
    proc = run("build", str(proj), "--distro", "fedora", "--out", str(out))
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    assert "[world-writable]" in proc.stderr and "file[0].mode" in proc.stderr
    assert "pkgtool.toml:" in proc.stderr and "--no-lint" in proc.stderr
    assert not out.exists()
    proc = run("build", str(proj), "--distro", "fedora,debian", "--out", str(out), "--json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["artifacts"] == [] and not out.exists()
    assert {d["rule"] for r in data["distros"] for d in r["diagnostics"]} == {"world-writable"}
    assert data["lint"]["ok"] is False


def test_no_lint_builds_anyway(tmp_path):
    proj = _etc_world_writable(tmp_path / "p")
    out = tmp_path / "dist"
    proc = run("build", str(proj), "--distro", "fedora", "--out", str(out), "--no-lint", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (art,) = json.loads(proc.stdout)["artifacts"]
    assert art["path"].endswith(".rpm") and "lint" not in json.loads(proc.stdout)


def test_a_warning_is_said_once_and_builds(tmp_path):
    proj = write_project(tmp_path / "p", _case("config-outside-etc"))
    out = tmp_path / "dist"
    proc = run("build", str(proj), "--distro", "fedora,debian", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("[config-outside-etc]") == 1
    assert sorted(p.suffix for p in out.rglob("*.*") if p.suffix in (".rpm", ".deb")) == [".deb", ".rpm"]
