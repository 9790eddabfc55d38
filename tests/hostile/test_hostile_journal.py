"""A forged install journal in the root is never "recovered".

The journal lives in the root, so anything that can put a file there (a package installed by
another tool, an image build step) could plant one: a plan that swaps in a forged etc/shadow
and opens /etc to everyone.  The next harmless `pkgtool install` must refuse it and change
nothing; a real interrupted install (its witness kept outside the root) is still rolled back.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hostile_harness import check_run, cli
from tooling import snapshot

from pkgtool.install.journal import PREFIX, write_witness
from pkgtool.install.recovery import recover

MAP = """schema = 1
[package]
name = "harmless"
version = "1.0"
summary = "An ordinary package"
description = "Installed into a root that holds a planted journal."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"

[[file]]
src = "a.txt"
dst = "/usr/share/harmless/a.txt"
"""

HEAD = b"pkgtool-install-journal 1 state=commit  \n"


def _project(base: Path) -> Path:
    p = base / "project"
    p.mkdir(parents=True)
    (p / "pkgtool.toml").write_text(MAP)
    (p / "a.txt").write_text("harmless\n")
    return p


def _root_with_shadow(base: Path) -> Path:
    root = base / "root"
    (root / "etc").mkdir(parents=True)
    os.chmod(root / "etc", 0o755)
    (root / "etc" / "shadow").write_text("root:$6$real:19000:0:99999:7:::\n")
    # What the attacker's package also carried: the forged file, under install's backup name.
    (root / "etc" / ".shadow.pkgtool-old-1-1").write_text("root::19000:0:99999:7:::\n")
    return root


def _forged_plan(package: str) -> bytes:
    plan = {
        "package": package,
        "mkroot": [],
        "dirs": [],
        "unlock": [],
        "attrs": [[["etc"], 0o777, 0, 0]],
        "moves": [[["etc"], "shadow", ".shadow.pkgtool-new-1-1", ".shadow.pkgtool-old-1-1"]],
    }
    return json.dumps(plan, separators=(",", ":")).encode()


@pytest.mark.parametrize("package", ["harmless", "other"])
def test_a_planted_journal_is_refused_and_the_root_left_alone(package: str, tmp_path: Path):
    project = _project(tmp_path)
    root = _root_with_shadow(tmp_path)
    (root / f"{PREFIX}{package}").write_bytes(HEAD + _forged_plan(package))
    before = snapshot(root)
    run = cli(["install", str(project), "-d", "fedora", "-r", str(root)])
    check_run(run, exit_code=2, contains=[f"{PREFIX}{package}", "not written by pkgtool on this host"])
    assert snapshot(root) == before
    assert (root / "etc" / "shadow").read_text() == "root:$6$real:19000:0:99999:7:::\n"
    assert stat.S_IMODE(os.stat(root / "etc").st_mode) == 0o755


def test_a_journal_changed_after_it_was_written_is_refused(tmp_path: Path):
    """The witness binds the whole plan: a real journal edited afterwards is no longer pkgtool's."""
    root = _root_with_shadow(tmp_path)
    name = f"{PREFIX}harmless"
    honest = _forged_plan("harmless").replace(b"511", b"493")  # the same swap, /etc back to 0755
    write_witness(root, name, honest)
    (root / name).write_bytes(HEAD + _forged_plan("harmless"))
    before = snapshot(root)
    with pytest.raises(Exception, match="not written by pkgtool on this host"):
        recover(root)
    assert snapshot(root) == before


def test_a_witnessed_journal_cannot_name_files_install_never_makes(tmp_path: Path):
    """Even with a witness, a move whose temp names are not install's is damaged, not obeyed."""
    root = _root_with_shadow(tmp_path)
    (root / "etc" / "evil").write_text("forged\n")
    name = f"{PREFIX}harmless"
    plan = json.loads(_forged_plan("harmless"))
    plan["moves"] = [[["etc"], "shadow", ".shadow.pkgtool-new-1-1", "evil"]]
    body = json.dumps(plan).encode()
    write_witness(root, name, body)
    (root / name).write_bytes(HEAD + body)
    before = snapshot(root)
    with pytest.raises(Exception, match="damaged journal"):
        recover(root)
    assert snapshot(root) == before


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pkgtool.install import apply as mod
    from pkgtool.project import resolve_dir

    def killer(*args):
        os.kill(os.getpid(), signal.SIGKILL)
    mod._place = killer
    mod.install(resolve_dir(sys.argv[1], "fedora", 1736121600), sys.argv[2])
    """
)


def test_a_real_interrupted_install_is_still_rolled_back(tmp_path: Path):
    project = _project(tmp_path)
    root = tmp_path / "root"
    root.mkdir()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(project), str(root)], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert (root / f"{PREFIX}harmless").exists()
    run = cli(["install", str(project), "-d", "fedora", "-r", str(root)])
    check_run(run, exit_code=0, contains=["recovered an interrupted install of harmless", "rolled back"])
    assert (root / "usr/share/harmless/a.txt").read_text() == "harmless\n"
    assert not (root / f"{PREFIX}harmless").exists()
    assert [p for p in snapshot(root) if ".pkgtool-" in p] == []
