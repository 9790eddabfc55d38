"""Names the outputs cannot carry are refused at resolve, with the map item's location.

Non-UTF-8 names: native builds could carry them, but a spec, debian/ files and
JSON cannot, so `generate` and `--backend system` ended in a traceback.  A
deployed name over 255 bytes or a path over PATH_MAX built fine and then
failed in dpkg at install.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hostile_harness import CASES, check_run, cli, leftovers

TREE = '\n[[tree]]\nsrc = "data"\ndst = "/usr/share/hostile/data"\n'


def _project(tmp_path: Path, extra: str) -> Path:
    project = tmp_path / "project"
    shutil.copytree(CASES / "41-script-macros-and-heredoc", project, ignore=shutil.ignore_patterns("case.toml"))
    with open(project / "pkgtool.toml", "a") as fh:
        fh.write(extra)
    return project


COMMANDS = {
    "lint": (["lint", "{p}", "-d", "fedora"], 1),
    "generate-rpm": (["generate", "{p}", "-d", "fedora", "-o", "{o}"], 2),
    "generate-deb": (["generate", "{p}", "-d", "debian", "-o", "{o}"], 2),
    "source-rpm": (["source", "{p}", "-d", "fedora", "-o", "{o}"], 2),
    "source-deb": (["source", "{p}", "-d", "debian", "-o", "{o}"], 2),
    "build-system": (["build", "{p}", "-d", "fedora", "-o", "{o}", "--backend", "system"], 2),
    "build-native": (["build", "{p}", "-d", "debian", "-o", "{o}"], 2),
    "install": (["install", "{p}", "-d", "debian", "-r", "{r}"], 2),
}


def _run(name: str, project: Path, tmp_path: Path, contains: list[str]) -> None:
    args, code = COMMANDS[name]
    out, root = tmp_path / "out", tmp_path / "root"
    root.mkdir(exist_ok=True)
    args = [a.replace("{p}", str(project)).replace("{o}", str(out)).replace("{r}", str(root)) for a in args]
    check_run(cli(args), exit_code=code, contains=contains)
    assert not out.exists() or [p for p in out.rglob("*") if not p.is_dir()] == []
    assert list(root.iterdir()) == [] and leftovers(tmp_path) == []


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_non_utf8_name_is_refused_at_resolve(command: str, tmp_path: Path):
    project = _project(tmp_path, TREE)
    (project / "data").mkdir()
    with open(os.path.join(os.fsencode(project / "data"), b"bad\xff.txt"), "wb") as fh:
        fh.write(b"x\n")
    _run(command, project, tmp_path, ["pkgtool.toml:18: tree[0]", "[unsafe-path]", "bad\\xff.txt' is not UTF-8"])


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_name_over_255_bytes_is_refused(command: str, tmp_path: Path):
    name = "é" * 128  # 256 bytes, 128 characters
    project = _project(tmp_path, f'\n[[dir]]\npath = "/usr/share/hostile/{name}"\n')
    _run(command, project, tmp_path, ["pkgtool.toml:18: dir[0]", "[unsafe-path]", "is 256 bytes; at most 255"])


@pytest.mark.parametrize("command", ["lint", "build-native", "install"])
def test_path_over_path_max_is_refused(command: str, tmp_path: Path):
    deep = "/".join(["d" * 200] * 21)  # 4220 bytes
    project = _project(tmp_path, f'\n[[symlink]]\npath = "/usr/share/hostile/{deep}"\ntarget = "/etc/hostname"\n')
    _run(command, project, tmp_path, ["pkgtool.toml:18: symlink[0]", "[unsafe-path]", "at most 4095"])


def test_names_at_the_limits_still_resolve(tmp_path: Path):
    name = "n" * 255
    deep = "/".join(["d" * 200] * 19)
    project = _project(
        tmp_path, f'\n[[dir]]\npath = "/usr/share/hostile/{name}"\n\n[[dir]]\npath = "/usr/share/{deep}"\n'
    )
    check_run(cli(["lint", str(project), "-d", "fedora"]), exit_code=0)
