"""`pkgtool bump`: a changelog entry at the top, version/release edited in place, every other byte kept."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import EXAMPLES
from lint_cases import CASES, write_project
from test_cli import no_traceback, run

from pkgtool.bump import find_author, vercmp
from pkgtool.layout.load import load_layout

EPOCH = {"SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01
NO_AUTHOR = {"DEBEMAIL": "", "DEBFULLNAME": "", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


@pytest.fixture
def proj(tmp_path):
    p = tmp_path / "convirt"
    shutil.copytree(EXAMPLES / "convirt", p)
    return p


def test_new_version_keeps_every_other_byte(proj):
    before = (proj / "pkgtool.toml").read_text()
    env = {**NO_AUTHOR, **EPOCH}
    proc = run(
        "bump", str(proj), "--version", "0.10.0", "-m", "New upstream 0.10.0", "--author", "A B <a@b.org>", env=env
    )
    assert proc.returncode == 0, proc.stderr
    after = (proj / "pkgtool.toml").read_text()
    old, new = before.splitlines(), after.splitlines()
    changed = [(a, b) for a, b in zip(old, new, strict=False) if a != b]
    assert changed[0] == ('version = "0.9.0"', 'version = "0.10.0"')
    entry = [
        "[[changelog]]",
        'version = "0.10.0-1"',
        'date = "2026-01-01"',
        'author = "A B <a@b.org>"',
        'changes = ["New upstream 0.10.0"]',
        "",
    ]
    at = old.index("[[changelog]]")
    assert new[:at] == [
        line.replace('"0.9.0"', '"0.10.0"') if line.startswith("version") else line for line in old[:at]
    ]
    assert new[at : at + len(entry)] == entry and new[at + len(entry) :] == old[at:]
    layout = load_layout(proj)
    assert layout.package.version == "0.10.0"
    assert [c.version for c in layout.changelog] == ["0.10.0-1", "0.9.0-1"]


def test_release_line_added_with_comment_kept(tmp_path, proj):
    text = (proj / "pkgtool.toml").read_text().replace('version = "0.9.0"', 'version = "0.9.0"   # upstream', 1)
    (proj / "pkgtool.toml").write_text(text)
    env = {**NO_AUTHOR, **EPOCH, "DEBFULLNAME": "Deb Maint", "DEBEMAIL": "deb@example.org"}
    proc = run("bump", str(proj), "--release", "2", "-m", "Rebuilt", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["release"] == "2"
    after = (proj / "pkgtool.toml").read_text()
    assert 'version = "0.9.0"   # upstream\nrelease = "2"\n' in after
    assert 'author = "Deb Maint <deb@example.org>"' in after
    assert load_layout(proj).changelog[0].version == "0.9.0-2"


def test_author_from_git(proj):
    subprocess.run(["git", "init", "-q", str(proj)], check=True)
    subprocess.run(["git", "-C", str(proj), "config", "user.name", "Git Person"], check=True)
    subprocess.run(["git", "-C", str(proj), "config", "user.email", "git@example.org"], check=True)
    proc = run("bump", str(proj), "-m", "A fix", env={**NO_AUTHOR, **EPOCH})
    assert proc.returncode == 0, proc.stderr
    entry = load_layout(proj).changelog[0]
    assert entry.author == "Git Person <git@example.org>" and entry.changes == ("A fix",)


def test_no_author_is_a_located_error_and_writes_nothing(proj):
    before = (proj / "pkgtool.toml").read_bytes()
    proc = run("bump", str(proj), "-m", "x", env={**NO_AUTHOR, **EPOCH, "HOME": str(proj)})
    no_traceback(proc)
    assert proc.returncode == 2
    assert "no author" in proc.stderr and "pkgtool.toml:77: changelog[0].author" in proc.stderr
    assert (proj / "pkgtool.toml").read_bytes() == before


def test_lower_version_refused(proj):
    before = (proj / "pkgtool.toml").read_bytes()
    proc = run("bump", str(proj), "--version", "0.8.9", "-m", "x", "--author", "A B <a@b.org>")
    no_traceback(proc)
    assert proc.returncode == 2 and "lower than the current 0.9.0-1" in proc.stderr
    assert "package.version" in proc.stderr
    assert (proj / "pkgtool.toml").read_bytes() == before


def test_vercmp_orders_like_rpm():
    assert vercmp("1.10", "1.9") == 1 and vercmp("1.0", "1.0.1") == -1
    assert vercmp("1.0~rc1", "1.0") == -1 and vercmp("2a", "2") == 1 and vercmp("1.a", "1.1") == -1
    assert vercmp("0.9.0", "0.9.0") == 0


def test_a_map_without_changelog_gets_one_at_the_end(tmp_path):
    proj = write_project(tmp_path / "p", next(c for c in CASES if c.rule == "world-writable"))
    before = (proj / "pkgtool.toml").read_text()
    proc = run("bump", str(proj), "-m", "First package", "--author", "A B <a@b.org>", env=EPOCH)
    assert proc.returncode == 0, proc.stderr
    after = (proj / "pkgtool.toml").read_text()
    assert after.startswith(before.rstrip("\n") + "\n\n[[changelog]]\n")
    assert load_layout(proj).changelog[0].version == "1.0-1"


def test_crlf_map_stays_crlf(proj):
    path = proj / "pkgtool.toml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    proc = run("bump", str(proj), "--version", "1.0", "-m", "One", "--author", "A B <a@b.org>", env=EPOCH)
    assert proc.returncode == 0, proc.stderr
    data = path.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n") and b'version = "1.0-1"\r\n' in data


def test_inline_changelog_is_refused_untouched(tmp_path):
    proj = write_project(tmp_path / "p", next(c for c in CASES if c.rule == "world-writable"))
    path = proj / "pkgtool.toml"
    path.write_text(
        path.read_text().replace(
            "schema = 1\n",
            'schema = 1\nchangelog = [{version = "1.0-1", date = "2025-01-01", author = "A B <a@b.org>", changes = ["x"]}]\n',
            1,
        )
    )
    before = path.read_bytes()
    proc = run("bump", str(proj), "-m", "y", "--author", "A B <a@b.org>", env=EPOCH)
    no_traceback(proc)
    assert proc.returncode == 2 and "[[changelog]] tables" in proc.stderr and path.read_bytes() == before


@pytest.mark.parametrize(
    ("env", "author"),
    [
        ({"DEBEMAIL": "Deb Both <both@example.org>"}, "Deb Both <both@example.org>"),
        ({"DEBEMAIL": "Deb Both <both@example.org>", "DEBFULLNAME": "Full Name"}, "Full Name <both@example.org>"),
        ({"DEBEMAIL": "only@example.org", "DEBFULLNAME": "Full Name"}, "Full Name <only@example.org>"),
        ({"DEBEMAIL": "only@example.org"}, None),  # no name: on to git, here unset
    ],
)
def test_debemail_forms_as_dch_reads_them(tmp_path, env, author):
    assert find_author(None, {**NO_AUTHOR, **env}, tmp_path) == author
