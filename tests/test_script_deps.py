"""Interpreter dependencies: the native writers add what rpmbuild's generators and dh_python3 add.

One package with a site-packages module, a #!/usr/bin/python3 tool, a #!/bin/bash tool and a
non-executable shell snippet, built natively and by rpmbuild / dpkg-buildpackage: the same Requires
(``rpm -qpR``) and the same Depends (``dpkg-deb -f X Depends``).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tooling import require_tools

from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.deb.system import build_deb_system
from pkgtool.formats.rpm.autodeps import interpreters
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.formats.rpm.system import build_rpm_system
from pkgtool.lint import lint_project
from pkgtool.project import resolve_dir
from pkgtool.verify.artifact import verify_artifact

EPOCH = 1736121600
MAP = """\
schema = 1

[package]
name = "deps-demo"
version = "1.0"
release = "1"
summary = "Script dependencies demo"
description = "Python and shell tools."
license = "MIT"
maintainer = "A <a@example.org>"
arch = "noarch"

[[tree]]
src = "lib/"
dst = "{python3_sitelib}/depsdemo/"
mode = "0644"

[[tree]]
src = "bin/"
dst = "{bindir}/"
mode = "0755"

[[file]]
src = "plugin.sh"
dst = "{datadir}/deps-demo/plugin.sh"
mode = "0644"
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("deps") / "src"
    (root / "lib").mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "pkgtool.toml").write_text(MAP)
    (root / "lib" / "__init__.py").write_text("")
    (root / "bin" / "deps-py").write_text("#!/usr/bin/python3\nimport depsdemo\n")
    (root / "bin" / "deps-sh").write_text("#!/bin/bash\necho hi\n")
    (root / "bin" / "deps-env").write_text("#!/usr/bin/env python3\nprint(1)\n")
    # Sourced, not run: no execute bit, so no generator reads its #! (script.attr's exeonly).
    (root / "plugin.sh").write_text("#!/bin/zsh\nfoo=1\n")
    return root


def _with_python(version: str) -> None:
    for bindir in sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin")):
        os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ['PATH']}"


@pytest.fixture(scope="module")
def rpms(project, tmp_path_factory) -> Iterator[dict[str, Path]]:
    require_tools("rpmbuild", "rpm", "python3.12")
    saved = os.environ["PATH"]
    _with_python("3.12")
    out = tmp_path_factory.mktemp("rpms")
    r = resolve_dir(project, "fedora", source_date_epoch=EPOCH)
    system = next(p for p in build_rpm_system(r, out / "system") if not p.name.endswith(".src.rpm"))
    yield {"native": build_rpm(r, out / "native"), "system": system}
    os.environ["PATH"] = saved


def _requires(rpm: Path) -> list[str]:
    return subprocess.run(["rpm", "-qpR", str(rpm)], check=True, capture_output=True, text=True).stdout.splitlines()


def test_native_rpm_requires_what_rpmbuild_generates(rpms) -> None:
    native = _requires(rpms["native"])
    assert native == _requires(rpms["system"])
    assert {"/usr/bin/python3", "/bin/bash", "python(abi) = 3.12"} <= set(native)
    assert "/bin/zsh" not in native
    assert "/usr/bin/env" not in native  # #!/usr/bin/env python3 became #!/usr/bin/python3 (mangle_shebangs)


def _payload_file(rpm: Path, path: str, tmp: Path) -> bytes:
    cpio = subprocess.run(["rpm2cpio", str(rpm)], check=True, capture_output=True).stdout
    subprocess.run(["cpio", "-idm", "--quiet", "." + path], input=cpio, cwd=tmp, check=True)
    return (tmp / path.lstrip("/")).read_bytes()


@pytest.mark.parametrize("backend", ["native", "system"])
def test_env_shebang_mangled_and_verified(rpms, project, backend, tmp_path) -> None:
    require_tools("rpm2cpio", "cpio")
    assert _payload_file(rpms[backend], "/usr/bin/deps-env", tmp_path) == b"#!/usr/bin/python3\nprint(1)\n"
    r = resolve_dir(project, "fedora", source_date_epoch=EPOCH)
    report = verify_artifact(r, rpms[backend])
    assert report.ok, report.to_text()


def test_env_shebang_lint_only_where_not_mangled(project) -> None:
    report = lint_project(project, ["fedora", "debian"])
    hits = [(report.distros_of(d), d.path) for d in report.findings if d.rule == "env-shebang"]
    assert hits == [(("debian",), "/usr/bin/deps-env")], report.to_text()


def test_script_req_reading_of_first_lines() -> None:
    assert interpreters(b"#!/usr/bin/python3 -s\n") == ["/usr/bin/python3"]
    assert interpreters(b"#! /bin/sh\n") == ["/bin/sh"]
    assert interpreters(b"#!/usr/bin/env python3\n") == ["/usr/bin/env"]
    assert interpreters(b"#!/usr/bin/env /usr/bin/perl\n") == ["/usr/bin/env", "/usr/bin/perl"]
    assert interpreters(b"import os\n") == []


@pytest.fixture(scope="module")
def debs(project, tmp_path_factory) -> dict[str, Path]:
    require_tools("dpkg-buildpackage", "dh", "dpkg-deb")
    out = tmp_path_factory.mktemp("debs")
    r = resolve_dir(project, "debian", source_date_epoch=EPOCH)
    system = next(p for p in build_deb_system(r, out / "system") if p.suffix == ".deb")
    return {"native": build_deb(r, out / "native"), "system": system}


def _depends(deb: Path) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], check=True, capture_output=True, text=True).stdout


def test_native_deb_depends_like_dpkg_buildpackage(debs) -> None:
    assert _depends(debs["native"]) == _depends(debs["system"]) == "python3:any\n"


def test_python_script_alone_depends_on_python3(project, tmp_path) -> None:
    require_tools("dpkg-deb")
    r = resolve_dir(project, "debian", source_date_epoch=EPOCH)
    scripts_only = dataclasses.replace(r, entries=tuple(e for e in r.entries if "depsdemo" not in e.path))
    assert _depends(build_deb(scripts_only, tmp_path)) == "python3:any\n"
