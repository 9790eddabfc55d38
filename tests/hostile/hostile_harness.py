"""Drive one hostile case (tests/hostile/cases/NN-name/) through the CLI and check nothing escaped.

A case directory holds ``case.toml`` (what to set up, which commands to run,
what each must print and return) beside the layout: ``pkgtool.toml`` and its
tree.  Things a checkout cannot carry (symlinks, names with newlines or
NFD/NFC twins, deep trees, huge text) are made at run time by ``[[setup]]``.

Every case runs in a fresh work directory:

    work/project   the case's layout (a copy)
    work/outside   a sentinel directory that symlinks in hostile trees point at
    work/out       the only place build/generate may write
    work/root      the only place install may write

and afterwards the test checks that the project and the sentinel are
byte-for-byte as before, that no temporary sibling was left in out/, and
that no marker file /tmp/pkgtool-pwned-* exists (every injection case tries
to create one).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner

from pkgtool.cli import app

CASES = Path(__file__).parent / "cases"
MARKER_GLOB = "/tmp/pkgtool-pwned-*"
DISTROS = ("fedora", "debian")
# The [package] table of the small maps the hostile tests write by hand.
HEAD = """schema = 1
[package]
name = "hostile"
version = "1.0"
summary = "Input crafted to attack the packaging tool"
description = "A layout written to attack pkgtool."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"
"""
SENTINEL = b"outside the layout: must never be packaged, read into output, or changed\n"


@dataclass
class Work:
    base: Path
    project: Path = field(init=False)
    outside: Path = field(init=False)
    out: Path = field(init=False)
    root: Path = field(init=False)

    def __post_init__(self) -> None:
        self.project = self.base / "project"
        self.outside = self.base / "outside"
        self.out = self.base / "out"
        self.root = self.base / "root"

    def tokens(self) -> dict[str, str]:
        return {
            "{project}": str(self.project),
            "{outside}": str(self.outside),
            "{out}": str(self.out),
            "{root}": str(self.root),
        }

    def sub(self, text: str) -> str:
        for k, v in self.tokens().items():
            text = text.replace(k, v)
        return text


@dataclass(frozen=True)
class Run:
    args: list[str]
    exit_code: int
    output: str  # stdout + stderr
    exception: BaseException | None


def case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "case.toml").is_file())


def load_case(name: str) -> dict:
    with open(CASES / name / "case.toml", "rb") as fh:
        return tomllib.load(fh)


# ---------------------------------------------------------------- setting up


def prepare(name: str, base: Path) -> tuple[Work, dict]:
    case = load_case(name)
    w = Work(base)
    shutil.copytree(CASES / name, w.project, ignore=shutil.ignore_patterns("case.toml"), symlinks=True)
    w.outside.mkdir()
    (w.outside / "secret.txt").write_bytes(SENTINEL)
    (w.outside / "etc").mkdir()
    (w.outside / "etc" / "passwd").write_bytes(SENTINEL)
    for step in case.get("setup", []):
        _setup(w, step)
    return w, case


def _setup(w: Work, step: dict) -> None:
    kind = step["kind"]
    path = w.project / w.sub(step.get("path", ""))
    if kind == "symlink":
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(w.sub(step["target"]), path)
    elif kind == "file":
        name = step["path"]
        if step.get("normalize"):
            name = unicodedata.normalize(step["normalize"], name)
        path = w.project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(step.get("text", "content\n") * step.get("repeat", 1))
        if "mode" in step:
            os.chmod(path, int(step["mode"], 8))
    elif kind == "replace":  # grow a file at run time (a 1 MB description, say)
        text = path.read_text()
        path.write_text(text.replace(step["token"], step["text"] * step.get("repeat", 1)))
    elif kind == "deep":  # a chain of nested directories with one file at the bottom
        cur = path
        for i in range(step["depth"]):
            cur = cur / f"d{i % 10}"
        cur.mkdir(parents=True)
        (cur / "leaf.txt").write_text("deep\n")
    elif kind == "root-symlink":  # something already inside the install root
        target = w.root / step["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(w.sub(step["target"]), target)
    else:
        raise AssertionError(f"unknown setup kind {kind!r}")


# ---------------------------------------------------------------- snapshots


def snapshot(top: Path) -> dict[str, tuple]:
    """Every path under ``top``: type, mode and content digest (links: their text); nothing followed."""
    out: dict[str, tuple] = {}
    if not top.exists() and not top.is_symlink():
        return out
    for dirpath, dirnames, filenames in os.walk(top):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            st = os.lstat(p)
            rel = str(p.relative_to(top))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                out[rel] = ("file", stat.S_IMODE(st.st_mode), hashlib.sha256(p.read_bytes()).hexdigest())
            else:
                out[rel] = ("dir" if stat.S_ISDIR(st.st_mode) else "other", stat.S_IMODE(st.st_mode))
    return out


def markers() -> list[str]:
    return sorted(glob.glob(MARKER_GLOB))


def pwned_files(top: Path) -> list[str]:
    """Files an injected relative `touch pkgtool-pwned-N` would have made anywhere under ``top``."""
    return sorted(str(p) for p in top.rglob("pkgtool-pwned-*") if "project" not in p.relative_to(top).parts)


def clear_markers() -> None:
    for m in markers():
        os.unlink(m)


# ---------------------------------------------------------------- running


_runner = CliRunner()


def cli(args: list[str]) -> Run:
    res = _runner.invoke(app, args)
    output = (res.stdout or "") + (res.stderr or "")
    exc = res.exception
    if isinstance(exc, SystemExit):
        exc = None
    return Run(args, res.exit_code, output, exc)


def check_run(run: Run, *, exit_code: int | None = None, contains=(), absent=()) -> None:
    assert run.exception is None, f"{run.args}: raised {run.exception!r}\n{run.output}"
    assert "Traceback" not in run.output, f"{run.args}: traceback in output\n{run.output}"
    if exit_code is not None:
        assert run.exit_code == exit_code, f"{run.args}: exit {run.exit_code}, expected {exit_code}\n{run.output}"
    for text in contains:
        assert text in run.output, f"{run.args}: {text!r} not in output\n{run.output}"
    for text in absent:
        assert text not in run.output, f"{run.args}: {text!r} in output\n{run.output}"


def leftovers(top: Path) -> list[str]:
    """Temporary siblings (atomic output, install staging) left behind."""
    found = []
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            # ROOT/.pkgtool is install's records directory, meant to stay; ".pkgtool-..." are temporaries.
            if ".pkgtool-" in name or name.startswith(".pkgtool") and name != ".pkgtool":
                found.append(os.path.join(dirpath, name))
    return found


# ---------------------------------------------------------------- the "builds" round trip


def artifact_of(out: Path, suffix: str) -> Path:
    found = sorted(p for p in out.iterdir() if p.name.endswith(suffix) and not p.name.endswith(".src.rpm"))
    assert len(found) == 1, f"expected one *{suffix} in {out}: {found}"
    return found[0]


def generated_text(top: Path) -> str:
    """All text written by `generate` (spec, debian/*), for literal checks."""
    texts = []
    for p in sorted(top.rglob("*")):
        if p.is_file() and not p.is_symlink() and (p.suffix == ".spec" or "debian" in p.parts):
            texts.append(p.read_text(encoding="utf-8", errors="surrogateescape"))
    return "\n".join(texts)


def parse_spec(spec: Path) -> str:
    """rpmspec -P expands the whole spec (%(...), %{lua:...}, %define): the place an injection would run."""
    proc = subprocess.run(
        ["rpmspec", "-P", "--define", "_topdir /nonexistent", str(spec)],
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=60,
    )
    assert proc.returncode == 0, f"rpmspec -P {spec} failed:\n{proc.stderr}"
    return proc.stdout


def dry_run_rules(debian_dir: Path) -> str:
    """make -n expands every recipe of debian/rules ($(shell ...) runs at expansion) without running it."""
    proc = subprocess.run(
        ["make", "-n", "-f", "debian/rules", "binary"],
        cwd=debian_dir.parent,
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=60,
        env={**os.environ, "DH_VERBOSE": "0"},
    )
    return proc.stdout + proc.stderr


def inspect_json(path: Path) -> dict:
    run = cli(["inspect", str(path), "--json"])
    check_run(run, exit_code=0)
    return json.loads(run.output[run.output.index("{") :])


def control_fields(deb: Path) -> dict[str, str]:
    from debian.debfile import DebFile

    ctrl = DebFile(str(deb)).debcontrol()
    return dict(ctrl)


NUL_OR_NEWLINE = re.compile(r"[\x00\n]")
