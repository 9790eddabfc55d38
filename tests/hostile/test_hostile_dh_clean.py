"""Sources named like editor and patch leftovers survive a `--backend system` Debian build.

dh_clean, run by dpkg-buildpackage before the build, deletes every file matching its default
patterns (#*#, *~, .*~, DEADJOE, *.orig, *.rej, *.bak, .SUMS, TAGS, .deps/*.P, autom4te.cache/,
top-level *-stamp).  The .deb built by the real dpkg-buildpackage must hold exactly what the
native writer puts in it: the same paths, the same bytes.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from hostile_harness import artifact_of, check_run, cli
from tooling import require_tools

MAP = """schema = 1
[package]
name = "leftovers"
version = "1.0"
summary = "Sources that look like editor and patch leftovers"
description = "Every name dh_clean removes by default."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"

[[tree]]
src = "data/"
dst = "/usr/share/leftovers/"

[[file]]
src = "build-stamp"
dst = "/usr/share/leftovers/top/build-stamp"
"""

NAMES = [
    "a~",
    ".f~",
    "b.orig",
    ".b.orig",
    "c.rej",
    ".c.rej",
    "d.bak",
    "#e#",
    "DEADJOE",
    "TAGS",
    ".SUMS",
    "g-stamp",
    "sub/h.orig",
    ".deps/q.P",
    "autom4te.cache/k",
]


def _contents(deb: Path) -> dict[str, bytes | None]:
    """Path -> bytes (None for a directory) of the data of a .deb, read with dpkg-deb."""
    raw = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True).stdout
    out: dict[str, bytes | None] = {}
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        for m in tar.getmembers():
            f = tar.extractfile(m) if m.isfile() else None
            out[m.name] = f.read() if f is not None else None
    return out


def test_system_deb_keeps_every_file_dh_clean_would_delete(tmp_path: Path):
    require_tools("dpkg-buildpackage", "dh", "fakeroot")
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "pkgtool.toml").write_text(MAP)
    for name in NAMES:
        path = project / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"the content of {name}\n")
    (project / "build-stamp").write_text("a top-level file named *-stamp\n")

    runs = {}
    for backend in ("system", "native"):
        run = cli(["build", str(project), "-d", "debian", "--backend", backend, "-o", str(tmp_path / backend)])
        check_run(run, exit_code=0)
        runs[backend] = _contents(artifact_of(tmp_path / backend, ".deb"))
    system, native = runs["system"], runs["native"]
    for name in NAMES:
        assert system[f"./usr/share/leftovers/{name}"] == f"the content of {name}\n".encode(), name
    assert system["./usr/share/leftovers/top/build-stamp"] == b"a top-level file named *-stamp\n"
    assert sorted(system) == sorted(native)
    assert {k: v for k, v in system.items() if "/doc/" not in k} == {
        k: v for k, v in native.items() if "/doc/" not in k
    }
