"""Every shell command the docs show runs: the `sh` and `console` blocks of README.md and docs/*.md.

A block runs in a scratch directory holding a copy of examples/.  In an `sh` block each
`pkgtool ...` / `make ...` line must exit 0, or N when its comment says `[exits N]`; a
`console` block's `$ ` lines run and their output must be what the block shows.  A block
preceded by `<!-- not run: REASON -->` is left out, and must say why.  The examples in
`--help` texts (`Example: pkgtool ...`) run too.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from conftest import EXAMPLES, REPO

from pkgtool.cli import app

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(sh|console)\n(.*?)^```$", re.S | re.M)
NOT_RUN = re.compile(r"<!-- not run: (.*?) -->\s*$")
EXITS = re.compile(r"\[exits (\d+)\]")
RUNNABLE = ("pkgtool ", "make ")


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    lang: str
    body: str
    not_run: str | None  # the reason, for a block left out

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def _blocks() -> list[Block]:
    out = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            before = text[: m.start()].rstrip("\n").rpartition("\n")[2]
            reason = NOT_RUN.search(before)
            line = text[: m.start()].count("\n") + 1
            rel = str(path.relative_to(REPO))
            out.append(Block(rel, line, m.group(1), m.group(2), reason.group(1) if reason else None))
    return out


BLOCKS = _blocks()
RUN = [b for b in BLOCKS if b.not_run is None]


def _env() -> dict[str, str]:
    # The venv's bin first: `pkgtool` is the one of this checkout.
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("docs")
    shutil.copytree(EXAMPLES, work / "examples", symlinks=True)
    return work


def _commands(body: str) -> list[tuple[str, int]]:
    """(command, expected exit) of each runnable line of an sh block."""
    out = []
    for raw in body.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # a comment, or the continuation of one
        assert line.startswith(RUNNABLE), f"not a pkgtool/make line (mark the block not run): {line}"
        command, _, comment = line.partition(" #")
        m = EXITS.search(comment)
        out.append((command.strip(), int(m.group(1)) if m else 0))
    return out


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300
    )


def test_blocks_are_found_and_left_out_blocks_say_why():
    assert len(RUN) >= 4
    assert all(b.not_run.strip() for b in BLOCKS if b.not_run is not None)
    assert any(b.lang == "console" for b in RUN)


@pytest.mark.parametrize("block", RUN, ids=[b.id for b in RUN])
def test_doc_block_runs(block: Block, scratch: Path):
    if block.lang == "console":
        _check_console(block, scratch)
        return
    commands = _commands(block.body)
    assert commands, f"{block.id}: no command"
    for command, expected in commands:
        proc = _run(command, scratch)
        assert "Traceback" not in proc.stderr, f"{block.id}: {command}\n{proc.stderr}"
        assert proc.returncode == expected, f"{block.id}: {command} exited {proc.returncode}\n{proc.stderr[-2000:]}"


def _check_console(block: Block, scratch: Path) -> None:
    """`$ command` lines, each followed by the output it must print (stdout and stderr as a terminal shows them)."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"{block.id}: output before the first $ line"
            steps[-1][1].append(line)
    for command, shown in steps:
        assert command.startswith(RUNNABLE), f"{block.id}: {command}"
        proc = _run(f"{{ {command}; }} 2>&1", scratch)
        assert proc.stdout.splitlines() == shown, f"{block.id}: {command}\n{proc.stdout}"


def _help_examples() -> list[str]:
    """`Example: pkgtool ...` lines of every command's help text."""
    root = typer.main.get_command(app)
    out = []

    def walk(cmd) -> None:  # typer's (vendored) click commands
        for text in (cmd.help or "", cmd.epilog or ""):
            out.extend(m.strip() for m in re.findall(r"Example: (pkgtool [^\n]+)", text))
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    walk(root)
    return out


HELP_EXAMPLES = _help_examples()


def test_help_examples_are_found():
    assert HELP_EXAMPLES, "no `Example: pkgtool ...` line in any --help"


@pytest.mark.parametrize("command", HELP_EXAMPLES)
def test_help_example_runs(command: str, scratch: Path):
    argv = shlex.split(command)
    proc = _run(shlex.join(argv), scratch)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


def test_the_checks_can_fail(scratch: Path):
    # A console block whose output is not what the command prints, and an sh line that fails.
    wrong = Block("x.md", 1, "console", "$ pkgtool explain --list --json; echo $?\nnot this\n", None)
    with pytest.raises(AssertionError):
        _check_console(wrong, scratch)
    with pytest.raises(AssertionError):
        test_doc_block_runs(Block("x.md", 1, "sh", "pkgtool build examples/broken\n", None), scratch)
    test_doc_block_runs(Block("x.md", 1, "sh", "pkgtool build examples/broken  # [exits 2]\n", None), scratch)
    with pytest.raises(AssertionError, match="not a pkgtool/make line"):
        _commands("rm -rf /\n")
