"""One script semantics in both formats: a [scripts] body behaves the same as an RPM scriptlet and a Debian maintainer script.

Each generated script is run for real with /bin/sh in a scratch directory, the way rpm (``sh FILE $1``)
and dpkg (``sh FILE ACTION ...``) call it; the body's exit status, output files and arguments must agree.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES

from pkgtool.formats.deb.maintainer_scripts import maintainer_scripts
from pkgtool.formats.rpm.scriptlets import rpm_scriptlets
from pkgtool.project import resolve_dir

EPOCH = 1700000000

# event -> (rpm scriptlet, its $1) and (maintainer script, dpkg's arguments), for the same moment.
CALLS = {
    "pre-install": (("pre", "1"), ("preinst", ["install"])),
    "pre-upgrade": (("pre", "2"), ("preinst", ["upgrade", "1.0-1"])),
    "post-install": (("post", "1"), ("postinst", ["configure", ""])),
    "post-upgrade": (("post", "2"), ("postinst", ["configure", "1.0-1"])),
    "pre-remove": (("preun", "0"), ("prerm", ["remove"])),
    "post-remove": (("postun", "0"), ("postrm", ["remove"])),
    "purge": (("postun", "0"), ("postrm", ["purge"])),
}

BODIES = {
    # no set -e of ours: a failing command in the middle goes on, the last status counts
    "no-errexit": ("false\necho after > out\n", 0, "after\n"),
    # its own exit status is passed on, and it gets no arguments
    "exit-status": ('echo "$#:$*" > out\nexit 4\n', 4, "0:\n"),
    # the packager may ask for set -e themselves
    "own-errexit": ("set -e\nfalse\necho no > out\n", 1, None),
    # its variables stay its own, and $ and ` are not expanded by the wrapper
    "verbatim": ("x='$HOME `id`'\nprintf '%s\\n' \"$x\" > out\n", 0, "$HOME `id`\n"),
    # a line equal to the here-document marker does not end it
    "marker-line": ("cat > out <<'PKGTOOL_PRE_INSTALL'\nPKGTOOL_PRE_INSTALL\necho tail >> out\n", 0, "tail\n"),
    # a shebang picks the interpreter
    "python": ("#!/usr/bin/python3\nimport sys\nopen('out', 'w').write('py\\n')\nsys.exit(5)\n", 5, "py\n"),
}


@pytest.fixture(scope="module")
def base():
    return resolve_dir(EXAMPLES / "vdsm-hook-acme", "debian", source_date_epoch=EPOCH)


def _run(tmp: Path, text: str, args: list[str]) -> tuple[int, str | None]:
    tmp.mkdir()
    script = tmp / "script"
    script.write_text(text)
    proc = subprocess.run(["sh", str(script), *args], cwd=tmp, capture_output=True, text=True, timeout=20)
    out = tmp / "out"
    return proc.returncode, out.read_text() if out.exists() else None


@pytest.mark.parametrize("event", sorted(CALLS))
@pytest.mark.parametrize("case", sorted(BODIES))
def test_body_behaves_the_same_in_rpm_and_debian(base, tmp_path, event, case):
    body, status, content = BODIES[case]
    if case == "marker-line":  # a marker of this event's own name
        body = body.replace("PKGTOOL_PRE_INSTALL", "PKGTOOL_" + event.upper().replace("-", "_"))
    r = dataclasses.replace(base, scripts={event: body})
    (scriptlet, arg), (maint, dpkg_args) = CALLS[event]
    rpm = _run(tmp_path / "rpm", rpm_scriptlets(r)[scriptlet], [arg])
    deb = _run(tmp_path / "deb", maintainer_scripts(r)[maint], dpkg_args)
    assert rpm == deb == (status, content)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["abort-upgrade", "2.0-1"], "post-upgrade"),
        (["abort-remove"], "post-upgrade"),
        (["abort-deconfigure", "in-favour", "other", "1.0"], "post-upgrade"),
    ],
)
def test_postinst_abort_events_run_post_upgrade(base, tmp_path, args, expected):
    scripts = {ev: f"echo {ev} >> out\n" for ev in ("post-install", "post-upgrade")}
    text = maintainer_scripts(dataclasses.replace(base, scripts=scripts))["postinst"]
    assert _run(tmp_path / "t", text, args) == (0, expected + "\n")


def test_postrm_abort_install_runs_post_remove_only(base, tmp_path):
    scripts = {ev: f"echo {ev} >> out\n" for ev in ("post-remove", "purge")}
    text = maintainer_scripts(dataclasses.replace(base, scripts=scripts))["postrm"]
    assert _run(tmp_path / "install", text, ["abort-install"]) == (0, "post-remove\n")
    assert _run(tmp_path / "upgrade", text, ["abort-upgrade", "1.0-1"]) == (0, None)
