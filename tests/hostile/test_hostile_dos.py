"""Denial of service by input size or shape: glob backtracking, huge and deep maps.

Each test runs the CLI in a subprocess with a timeout, so that a regression
fails in seconds instead of hanging the suite.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pkgtool import globs

HEAD = """schema = 1
[package]
name = "hostile"
version = "1.0"
summary = "Input crafted to attack the packaging tool"
description = "A layout written to attack pkgtool."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"
"""


def _pkgtool(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pkgtool", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


EVIL_GLOB = "*a*a*a*a*a*a*a*a*a*a*a*!"


def test_backtracking_glob_matches_in_linear_time():
    # In a subprocess first: a backtracking matcher fails the timeout instead of hanging the suite.
    code = f"from pkgtool import globs; print(globs.match({'/x/' + EVIL_GLOB!r}, '/x/' + 'a' * 40))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    assert proc.stdout.strip() == "False", proc.stderr
    rx = globs.compile_glob("/usr/share/hostile/" + EVIL_GLOB)
    for n in (40, 400, 4000):
        t = time.perf_counter()
        assert not rx.fullmatch("/usr/share/hostile/" + "a" * n)
        assert time.perf_counter() - t < 1.0, n
    assert rx.fullmatch("/usr/share/hostile/" + "a" * 11 + "!")
    any_rx = globs.compile_any(["/usr/bin/*", "/**/" + EVIL_GLOB])
    assert not any_rx.fullmatch("/x/" + "a" * 4000)
    assert "/x/y/" + "a" * 12 + "!" in globs.PathSet(["/x/**/" + EVIL_GLOB])


def test_attr_glob_against_long_name_through_the_cli(tmp_path: Path):
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    name = "a" * 40
    (project / "data" / name).write_text("x\n")
    (project / "pkgtool.toml").write_text(
        HEAD
        + '\n[[tree]]\nsrc = "data"\ndst = "/usr/share/hostile"\n'
        + f'\n[[attr]]\npath = "/usr/share/hostile/{EVIL_GLOB}"\nmode = "0600"\n'
        + '\n[[tree]]\nsrc = "data"\ndst = "/usr/share/other"\nexclude = ["'
        + EVIL_GLOB
        + '"]\n'
    )
    t = time.perf_counter()
    proc = _pkgtool(["lint", str(project), "-d", "fedora"], timeout=60)
    assert time.perf_counter() - t < 30
    assert "attr-no-match" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def _reference(pattern: str, path: str) -> bool:
    return re.fullmatch(globs.translate(pattern), path, re.DOTALL) is not None


@pytest.mark.parametrize("seed", range(4))
def test_state_machine_agrees_with_the_regex(seed: int):
    """The state machine is the same language as the regex translation, on random small inputs."""
    rnd = random.Random(seed)
    atoms = ["a", "b", "/", "*", "**", "**/", "?", "[ab]", "[!a]", "[", "\\*", "]"]
    for _ in range(1500):
        pattern = "".join(rnd.choice(atoms) for _ in range(rnd.randint(0, 6)))
        machine = globs._StateGlob(pattern)
        for _ in range(8):
            path = "".join(rnd.choice("ab/*[]") for _ in range(rnd.randint(0, 8)))
            assert bool(machine.fullmatch(path)) == _reference(pattern, path), (pattern, path)
