"""What the publish tests share: built example packages, hand-made .debs, a throwaway GnuPG key."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from conftest import EXAMPLES, REPO

from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.project import resolve_dir

EPOCH = 1736121600
PY = sys.executable
HELLO_MAP = """schema = 1

[package]
name = "pkgtool-hello"
version = "1.0"
summary = "A package with no dependencies"
description = "Installs one text file."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"

[[file]]
src = "files/hello.txt"
dst = "{datadir}/pkgtool-hello/hello.txt"
"""


def hello_project(top: Path) -> Path:
    """A map without dependencies, so that apt and dnf can install its package into an empty root."""
    (top / "files").mkdir(parents=True)
    (top / "files" / "hello.txt").write_text("hello\n")
    (top / "pkgtool.toml").write_text(HELLO_MAP)
    return top


def build_set(out: Path, projects: list[Path], distros=("fedora", "debian")) -> list[Path]:
    """Native packages of ``projects`` for ``distros``, in out/DISTRO/ as `pkgtool build --out` lays them out."""
    built = []
    for project in projects:
        for distro in distros:
            resolved = resolve_dir(project, distro, EPOCH)
            target = out / distro
            target.mkdir(parents=True, exist_ok=True)
            builder = build_rpm if resolved.profile.family.value == "rpm" else build_deb
            built.append(builder(resolved, target))
    return built


def example_projects() -> list[Path]:
    return [EXAMPLES / "convirt", EXAMPLES / "vdsm-hook-acme"]


def run_pkgtool(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run(
        [PY, "-m", "pkgtool", *args], cwd=cwd or REPO, env=full, capture_output=True, text=True, timeout=600
    )


def make_key(
    home: Path, uid: str = "Repo Signing <repo@example.org>", algo: str = "rsa2048", created: int | None = None
) -> str:
    """A throwaway signing key without passphrase in ``home`` (made at ``created``); returns its fingerprint."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {**os.environ, "GNUPGHOME": str(home)}
    when = ["--faked-system-time", f"{created}!"] if created is not None else []
    subprocess.run(
        ["gpg", "--batch", *when, "--passphrase", "", "--quick-gen-key", uid, algo, "sign", "never"],
        env=env,
        check=True,
        capture_output=True,
    )
    listing = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--list-secret-keys", uid],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def stop_agent(home: Path) -> None:
    if shutil.which("gpgconf"):
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(home)}, check=False)


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, EPOCH
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_deb(path: Path, control: str | bytes, data: dict[str, bytes] | None = None) -> Path:
    """A .deb written by hand (ar + control.tar.gz + data.tar.gz), with any control text at all."""
    control_bytes = control.encode() if isinstance(control, str) else control
    members = [
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", _tar({"./control": control_bytes})),
        ("data.tar.gz", _tar(data if data is not None else {"./usr/share/doc/x/README": b"hi\n"})),
    ]
    out = bytearray(b"!<arch>\n")
    for name, body in members:
        header = f"{name + '/':<16}{EPOCH:<12}{0:<6}{0:<6}{'100644':<8}{len(body):<10}`\n"
        out += header.encode() + body + (b"\n" if len(body) % 2 else b"")
    path.write_bytes(bytes(out))
    return path


CONTROL = """Package: {package}
Version: {version}
Architecture: {arch}
Maintainer: A <a@example.org>
Description: a test package
 More text.
"""


def control(package: str = "good", version: str = "1.0-1", arch: str = "all", extra: str = "") -> str:
    return CONTROL.format(package=package, version=version, arch=arch) + extra
