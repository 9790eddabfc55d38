"""The spec names systemd-rpm-macros (%systemd_post ..., %tmpfiles_create) and defines them where rpmbuild lacks them.

The definitions are the expansion recorded in templates/systemd/rpm-macros.toml, so rpmbuild on a host
without the macros (this Debian one) stores the same scriptlets as the native writer: checked here with
rpmspec's expansion and, for a scriptlet that goes through `%post -f FILE`, with a real rpmbuild.  On a
Fedora/EL host the BuildRequires pulls the real macros in, and a defined macro is never replaced.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from test_systemd_units import EPOCH, EXAMPLE, UNIT, _map
from tooling import require_tools

from pkgtool.formats.rpm.native import build_rpm
from pkgtool.formats.rpm.scriptlets import rpm_scriptlets
from pkgtool.formats.rpm.spec import generate_rpm
from pkgtool.formats.rpm.system import build_rpm_system
from pkgtool.project import resolve_dir

CALLS = {
    "post": ["%tmpfiles_create vdsm-hook-checkips.conf", f"%systemd_post {UNIT}"],
    "preun": [f"%systemd_preun {UNIT}"],
    "postun": [f"%systemd_postun_with_restart {UNIT}"],
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    r = resolve_dir(EXAMPLE, "fedora", source_date_epoch=EPOCH)
    out = tmp_path_factory.mktemp("spec")
    spec = next(p for p in generate_rpm(r, out) if p.suffix == ".spec")
    return r, spec


def _section(spec_text: str, name: str) -> list[str]:
    body = spec_text.split(f"\n%{name}\n", 1)[1].split("\n\n", 1)[0]
    return body.splitlines()


def test_spec_names_the_macros_and_their_build_requires(generated):
    _, spec = generated
    text = spec.read_text()
    for name, calls in CALLS.items():
        assert [x for x in _section(text, name) if not x.startswith("#")] == calls
    assert "%if 0%{?fedora} || 0%{?rhel}\nBuildRequires:  systemd-rpm-macros\n%endif\n" in text
    for macro in ("systemd_post", "systemd_preun", "systemd_postun_with_restart", "tmpfiles_create"):
        assert f"%{{!?{macro}:%global {macro}() \\\n" in text


def _rpmspec(spec, *defines: str) -> str:
    args = [x for d in defines for x in ("--define", d)]
    return subprocess.run(["rpmspec", "-P", *args, str(spec)], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("name", ["post", "preun", "postun"])
def test_rpmspec_expands_them_to_what_the_native_writer_stores(generated, name):
    require_tools("rpmspec")
    r, spec = generated
    parsed = _rpmspec(spec)
    body = parsed.split(f"\n%{name}\n", 1)[1]
    body = re.split(r"\n%(?:preun|postun|files)\n", body, maxsplit=1)[0]
    assert body.rstrip("\n") == rpm_scriptlets(r)[name].rstrip("\n")


def test_a_defined_macro_is_not_replaced(generated):
    require_tools("rpmspec")
    _, spec = generated
    parsed = _rpmspec(spec, "systemd_post() echo the-real-macro %{?*}")
    assert f"echo the-real-macro {UNIT}" in parsed and "install-system-units" not in parsed.split("%preun")[0]


@pytest.mark.parametrize(("defines", "wanted"), [((), False), (("fedora 40",), True), (("rhel 9",), True)])
def test_build_requires_only_where_rpm_is_the_distros(generated, defines, wanted):
    require_tools("rpmspec")
    _, spec = generated
    args = [x for d in defines for x in ("--define", d)]
    out = subprocess.run(["rpmspec", "-q", "--buildrequires", *args, str(spec)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert ("systemd-rpm-macros" in out.stdout.split()) is wanted


def test_a_post_file_with_macros_is_stored_as_the_native_one(tmp_path):
    """A body line starting with '%' sends %post through -f FILE: the macro call in the file expands the same."""
    require_tools("rpmbuild", "rpm")
    project = _map(tmp_path, 'src = "systemd/vdsm-checkips.service"')
    (project / "post.sh").write_text("#!/bin/sh\n%not-a-macro\necho done\n")
    text = (project / "pkgtool.toml").read_text()
    (project / "pkgtool.toml").write_text(
        text.replace("\n[[unit]]\n", '\n[scripts]\npost-install = "post.sh"\n\n[[unit]]\n')
    )
    r = resolve_dir(project, "fedora", source_date_epoch=EPOCH)
    native = build_rpm(r, tmp_path / "n")
    system = next(p for p in build_rpm_system(r, tmp_path / "s") if not p.name.endswith(".src.rpm"))
    query = ["rpm", "-qp", "--scripts"]
    same = [
        subprocess.run([*query, str(p)], capture_output=True, text=True, check=True).stdout for p in (native, system)
    ]
    assert same[0] == same[1] and "%not-a-macro" in same[0] and "install-system-units" in same[0]


def test_rpm_doc_shows_the_spec_as_generated(generated):
    _, spec = generated
    doc = (EXAMPLE.parent.parent / "docs" / "rpm.md").read_text()
    blocks = re.findall(r"^```\n(.*?)^```$", doc.split("### `[[unit]]`: systemd scriptlets", 1)[1], re.S | re.M)
    assert len(blocks) == 2 and all(b in spec.read_text() for b in blocks)
