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
from hostile_harness import HEAD

from pkgtool import globs


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


def _map(tmp_path: Path, text: str) -> Path:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / "pkgtool.toml").write_text(text)
    return project


# Each costs tomllib, or the position scanner before, seconds to minutes; each is refused at once.
HUGE_MAPS = {
    "nested-tables": (
        lambda: HEAD + "".join(f"[distro.{'.'.join(['a'] * (i + 1))}]\nk = 1\n" for i in range(1400)),
        "the map has keys nested more than 16 deep",
        None,
    ),
    "deep-dotted-key": (lambda: HEAD + "x." * 40000 + "x = 1\n", "keys nested more than 16 deep", 9),
    "deep-array": (lambda: HEAD + "[lint]\nallow = " + "[" * 900 + "]" * 900 + "\n", "nested more than 16", 10),
    "long-array": (
        lambda: HEAD + "[lint]\nallow = [\n" + '"usr-local",\n' * 10_001 + "]\n",
        "an array of more than 10000 elements",
        10_011,
    ),
    "many-tables": (
        lambda: HEAD + '[[dir]]\npath = "/var/lib/x"\n' * 10_001,
        "more than 10000 [[dir]] tables",
        9 + 2 * 10_000,
    ),
    "over-4mib": (lambda: HEAD + "# " + "x" * (4 << 20) + "\n", "larger than 4 MiB", None),
}


@pytest.mark.parametrize("case", sorted(HUGE_MAPS))
def test_map_limits_refuse_before_parsing(case: str, tmp_path: Path):
    make, message, line = HUGE_MAPS[case]
    project = _map(tmp_path, make())
    # lint reports the loader's finding (exit 1); every other command refuses the map (exit 2).
    for args, code in (
        (["lint", str(project), "-d", "fedora"], 1),
        (["generate", str(project), "-o", str(tmp_path / "o")], 2),
    ):
        t = time.perf_counter()
        proc = _pkgtool(args, timeout=60)
        elapsed = time.perf_counter() - t
        out = proc.stdout + proc.stderr
        assert proc.returncode == code, out
        assert message in out and "[limit-exceeded]" in out, out
        where = f"pkgtool.toml:{line}:" if line else "pkgtool.toml:"
        assert where in out, out
        assert "Traceback" not in out
        assert elapsed < 15, f"{case}: {elapsed:.1f} s"
    assert not (tmp_path / "o").exists()


def test_position_scan_is_linear():
    """Within the limits the scanner's time grows with the text, not faster."""
    from pkgtool.layout.tomlpos import scan

    def cost(n: int) -> float:
        text = "".join(f'[[file]]\nsrc = "f{i}"\ndst = "/usr/share/x/f{i}"\nmode = "0644"\n' for i in range(n))
        t = time.perf_counter()
        scan(text)
        return time.perf_counter() - t

    small, big = cost(1000), cost(8000)
    assert big < small * 8 * 3, (small, big)
