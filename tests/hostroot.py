"""A throwaway root where rpm --root and dpkg --root can run maintainer scripts for real.

dash as /bin/sh, the real groupadd/useradd (the accounts land in ROOT/etc, never the host's),
the C libraries they need, /dev/null, and recording fakes of the systemd tools: each fake
appends "NAME ARGS" to ROOT/tmp/calls.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

RECORDER = '#!/bin/sh\necho "$(basename "$0") $*" >> /tmp/calls\n'
TOOLS = {
    "bin/sh": "dash",
    "bin/mkdir": "mkdir",
    "usr/bin/basename": "basename",
    "usr/sbin/groupadd": "groupadd",
    "usr/sbin/useradd": "useradd",
    "usr/bin/dpkg-statoverride": "dpkg-statoverride",
}


def make_root(root: Path, fakes: list[str]) -> None:
    for rel in ("tmp", "etc", "dev", "usr/bin", "run/systemd/system"):  # /run/systemd/system: "systemd is running"
        (root / rel).mkdir(parents=True, exist_ok=True)
    os.mknod(root / "dev/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # the scripts' >/dev/null
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\n")
    (root / "etc/shadow").write_text("root:*:19000:0:99999:7:::\n")
    (root / "etc/gshadow").write_text("root:*::\n")
    if os.path.exists("/etc/login.defs"):
        shutil.copy("/etc/login.defs", root / "etc/login.defs")
    for rel, tool in TOOLS.items():
        host = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
        assert host, tool
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(host, root / rel)
        ldd = subprocess.run(["ldd", host], capture_output=True, text=True).stdout
        for lib in (w for w in ldd.split() if w.startswith("/")):
            dest = root / lib.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.realpath(lib), dest)
    for rel in fakes:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(RECORDER)
        (root / rel).chmod(0o755)


def seed_dpkg(root: Path) -> None:
    (root / "var/lib/dpkg/info").mkdir(parents=True)
    (root / "var/lib/dpkg/updates").mkdir()
    (root / "var/lib/dpkg/status").touch()


def calls(root: Path) -> list[str]:
    """The calls the fakes recorded since the last look (and forget them)."""
    log = root / "tmp/calls"
    out = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return out


def run(*cmd: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
