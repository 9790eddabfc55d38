"""`pkgtool export ci`: a CI workflow that builds the map for every profile in its distro's own image.

Each profile names its official container image, the commands that install the system backend's
tools and a Python for pkgtool there, and that Python (``ci_image``, ``ci_install``, ``ci_python``
in distros/*.toml): the provider's file is only a rendering of that data.  One job per profile
runs ``pkgtool build --backend system --distro ID``, ``pkgtool verify`` on each binary package it
wrote, and uploads the packages.

The YAML is written by the small emitter below, deterministically: every value that comes from
input (profile ids and keys, the map's directory, the pip requirement) is a JSON string, which is
a YAML double-quoted scalar, and reaches the shell only through an environment variable quoted
as ``"$VAR"``; the scripts themselves are constant text.  No value may hold ``$`` (GitHub's
``${{ }}`` and GitLab's variable expansion) or a control character.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from ..atomic import write_bytes_atomic
from ..errors import UsageError
from ..layout.load import load_layout
from ..model import Profile
from ..profiles import load_profile


class Provider(Enum):
    GITHUB = "github"
    GITLAB = "gitlab"


WORKFLOW_PATHS = {Provider.GITHUB: ".github/workflows/pkgtool.yml", Provider.GITLAB: ".gitlab-ci.yml"}
OUT_DIR = "dist"  # where each job builds, relative to the checkout
VENV = "/opt/pkgtool"  # pkgtool is installed in a venv: distro Pythons refuse a system-wide pip
# The map's directory as the workflow names it: relative to the repository root, plain words.
_MAP_DIR = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*|\.")
# A pip requirement: a name, a version spec, a URL; no space, quote, '$', '\\' or backquote.
_PIP = re.compile(r"[A-Za-z0-9_.+:=/@<>~!,\[\]#%-]+")

_TOOLS = 'sh -exc "$PKGTOOL_TOOLS"'
_INSTALL = f'"$PKGTOOL_PYTHON" -m venv {VENV} && {VENV}/bin/pip install "$PKGTOOL_PIP"'
_BUILD = f'{VENV}/bin/pkgtool build "$PKGTOOL_MAP" --backend system --distro "$DISTRO" --out "{OUT_DIR}/$DISTRO"'
# Every binary package the build wrote (a .src.rpm is a source package: verify refuses it).
_VERIFY = (
    f'for f in "{OUT_DIR}/$DISTRO"/*.rpm "{OUT_DIR}/$DISTRO"/*.deb; do '
    f'case "$f" in *.src.rpm) continue;; esac; [ -e "$f" ] || continue; '
    f'{VENV}/bin/pkgtool verify "$PKGTOOL_MAP" --distro "$DISTRO" "$f"; done'
)


@dataclass(frozen=True)
class CiJob:
    distro: str
    image: str
    python: str
    tools: str  # the ci_install commands joined with ' && '


@dataclass(frozen=True)
class CiExport:
    provider: Provider
    path: Path
    jobs: tuple[CiJob, ...]

    def to_dict(self) -> dict:
        return {
            "provider": self.provider.value,
            "path": str(self.path),
            "jobs": [{"distro": j.distro, "image": j.image, "python": j.python} for j in self.jobs],
        }


def _q(value: str) -> str:
    """A YAML double-quoted scalar: JSON's string syntax is a subset of it."""
    return json.dumps(value, ensure_ascii=True)


def _job(profile: Profile) -> CiJob:
    missing = [k for k in ("ci_image", "ci_python", "ci_install") if not getattr(profile, k)]
    if missing:
        raise UsageError(
            f"{profile.origin}: profile {profile.id} has no {', '.join(missing)}",
            hint="export ci builds each profile in its distro's image: add ci_image, ci_python and ci_install",
        )
    return CiJob(profile.id, profile.ci_image, profile.ci_python, " && ".join(profile.ci_install))


def _header(provider: Provider, map_dir: str) -> list[str]:
    return [
        f"# Written by `pkgtool export ci --provider {provider.value}` from {map_dir}/pkgtool.toml and the",
        "# distro profiles (ci_image, ci_install, ci_python): export it again rather than edit it.",
    ]


def _run_block(indent: str, lines: Sequence[str]) -> list[str]:
    return [f"{indent}run: |", *(f"{indent}  {line}" for line in lines)]


def _github(name: str, map_dir: str, pip: str, jobs: Sequence[CiJob]) -> list[str]:
    out = _header(Provider.GITHUB, map_dir)
    out += [f"name: {_q('pkgtool ' + name)}", '"on":', "  push:", "  pull_request:", "  workflow_dispatch:"]
    out += ["jobs:", "  build:", '    name: "${{ matrix.distro }}"', "    runs-on: ubuntu-latest"]
    out += ["    container:", '      image: "${{ matrix.image }}"', "    strategy:", "      fail-fast: false"]
    out += ["      matrix:", "        include:"]
    for j in jobs:
        out += [f"          - distro: {_q(j.distro)}", f"            image: {_q(j.image)}"]
        out += [f"            python: {_q(j.python)}", f"            tools: {_q(j.tools)}"]
    out += ["    env:", '      DISTRO: "${{ matrix.distro }}"', '      PKGTOOL_PYTHON: "${{ matrix.python }}"']
    out += ['      PKGTOOL_TOOLS: "${{ matrix.tools }}"', f"      PKGTOOL_MAP: {_q(map_dir)}"]
    out += [f"      PKGTOOL_PIP: {_q(pip)}", "    steps:", "      - uses: actions/checkout@v4"]
    for step, script in (("distro tools", _TOOLS), ("pkgtool", _INSTALL), ("build", _BUILD), ("verify", _VERIFY)):
        out += [f"      - name: {_q(step)}", *_run_block("        ", [script])]
    out += ["      - uses: actions/upload-artifact@v4", "        with:"]
    out += ['          name: "packages-${{ matrix.distro }}"', f'          path: "{OUT_DIR}/${{{{ matrix.distro }}}}/"']
    return out


def _gitlab(name: str, map_dir: str, pip: str, jobs: Sequence[CiJob]) -> list[str]:
    out = _header(Provider.GITLAB, map_dir)
    out += ["build:", f"  # {name}: one job per distro profile, in that distro's image", '  image: "$IMAGE"']
    out += ["  parallel:", "    matrix:"]
    for j in jobs:
        out += [f"      - DISTRO: {_q(j.distro)}", f"        IMAGE: {_q(j.image)}"]
        out += [f"        PKGTOOL_PYTHON: {_q(j.python)}", f"        PKGTOOL_TOOLS: {_q(j.tools)}"]
    out += ["  variables:", f"    PKGTOOL_MAP: {_q(map_dir)}", f"    PKGTOOL_PIP: {_q(pip)}", "  script:"]
    out += [f"    - {_q(script)}" for script in (_TOOLS, _INSTALL, _BUILD, _VERIFY)]
    out += ["  artifacts:", "    paths:", f'      - "{OUT_DIR}/"']
    return out


def map_dir_name(directory: Path) -> str:
    """DIR as the workflow names it: relative to the repository root, where the job starts."""
    text = posixpath.normpath(directory.as_posix())
    if directory.is_absolute() or text.startswith("..") or not _MAP_DIR.fullmatch(text):
        raise UsageError(
            f"{directory}: the workflow names the map's directory relative to the repository root",
            hint="run export ci from the repository root with DIR like packaging/myapp (letters, digits, _ . + -)",
        )
    return text


def export_ci(provider: Provider, directory: Path, distros: Sequence[str], out: Path, pip: str) -> CiExport:
    """Write OUT/<the provider's workflow file>: one build + verify + upload job per profile."""
    map_dir = map_dir_name(directory)
    if not _PIP.fullmatch(pip):
        raise UsageError(f"--pip {pip!r}: a pip requirement without spaces, quotes, '$' or '\\'")
    layout = load_layout(directory)  # a map that does not load gets no workflow
    jobs = tuple(_job(load_profile(d, directory)) for d in distros)
    lines = (_github if provider is Provider.GITHUB else _gitlab)(layout.package.name, map_dir, pip, jobs)
    path = out / WORKFLOW_PATHS[provider]
    for parent in (path.parent.parent, path.parent) if provider is Provider.GITHUB else ():
        if parent.is_symlink():  # .github/ or workflows/ pointing elsewhere: nothing is written outside OUT
            raise UsageError(f"{parent} is a symlink; export ci writes only inside --out {out}")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, ("\n".join(lines) + "\n").encode("ascii"))
    return CiExport(provider, path, jobs)
