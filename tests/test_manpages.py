"""`pkgtool man`: a roff page per command, deterministic, that groff and man render without a warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from tooling import require_tools

from pkgtool import __version__
from pkgtool.cli import app
from pkgtool.manpages import man_pages, roff


def _command_paths() -> set[str]:
    out = set()

    def walk(path: list[str], cmd) -> None:
        out.add("-".join(path))
        for name, sub in getattr(cmd, "commands", {}).items():
            walk([*path, name], sub)

    walk(["pkgtool"], typer.main.get_command(app))
    return out


@pytest.fixture(scope="module")
def pages_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("man") / "man1"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1736121600"}
    proc = subprocess.run(
        [sys.executable, "-m", "pkgtool", "man", "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(json.loads(proc.stdout)["pages"]) == sorted(p.name for p in out.iterdir())
    return out


def test_every_command_has_a_page(pages_dir: Path):
    names = {p.name.removesuffix(".1") for p in pages_dir.iterdir()}
    assert names == _command_paths()
    assert {"pkgtool", "pkgtool-lint", "pkgtool-export-host-deploy", "pkgtool-man"} <= names


def test_pages_are_deterministic(pages_dir: Path):
    root = typer.main.get_command(app)
    again = {p.filename: p.text for p in man_pages(root, __version__, 1736121600)}
    assert again == {p.name: p.read_text() for p in pages_dir.iterdir()}
    assert '"2025-01-06"' in again["pkgtool-lint.1"]
    assert all('""' in t.splitlines()[0] for t in (p.text for p in man_pages(root, __version__, None)))


def test_page_holds_options_and_help(pages_dir: Path):
    text = (pages_dir / "pkgtool-lint.1").read_text()
    assert text.startswith('.TH "PKGTOOL-LINT" "1"')
    assert "\\-\\-sarif" in text and "SARIF 2.1.0" in text
    assert "\\fBpkgtool\\fR(1)" in text
    top = (pages_dir / "pkgtool.1").read_text()
    assert ".SH COMMANDS" in top and ".B lint" in top


def test_roff_escapes_requests_and_backslashes():
    assert roff(".TH x") == "\\&.TH x"
    assert roff("'x") == "\\&'x"
    assert roff("a\\b") == "a\\eb"
    assert roff("--out") == "\\-\\-out"


def test_groff_renders_every_page_without_warnings(pages_dir: Path):
    require_tools("groff")
    for page in sorted(pages_dir.iterdir()):
        proc = subprocess.run(["groff", "-man", "-Tutf8", "-ww", str(page)], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0 and proc.stderr == "", f"{page.name}: {proc.stderr}"
        assert page.name.removesuffix(".1").upper() in proc.stdout


def test_man_reads_a_page(pages_dir: Path):
    require_tools("man")
    env = {**os.environ, "MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "80"}
    proc = subprocess.run(
        ["man", "-l", str(pages_dir / "pkgtool-lint.1")], capture_output=True, text=True, env=env, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    assert "SYNOPSIS" in proc.stdout and "--sarif" in proc.stdout


def test_man_refuses_a_file_as_out(tmp_path: Path):
    (tmp_path / "f").write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "pkgtool", "man", "--out", str(tmp_path / "f")], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert (tmp_path / "f").read_text() == ""
