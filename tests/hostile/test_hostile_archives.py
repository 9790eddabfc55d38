"""Archives read as dpkg reads them, and names printed so that they cannot forge output.

A .deb whose members dpkg and pkgtool would read differently (two data.tar,
a member dpkg does not know, a member after data.tar) is refused; members
starting with '_' are skipped as dpkg skips them.  `inspect` escapes every
name it prints to a terminal, and its JSON stays exact.
"""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest
from hostile_harness import check_run, cli
from test_hostile_artifacts import MAP, _ar, _file, _info, _tag_entry, _tar
from tooling import require_tools

from pkgtool.formats.rpm import header as rpm_header

CONTROL = (
    b"Package: victim\nVersion: 1.0\nArchitecture: all\nMaintainer: Jane <jane@example.org>\nDescription: victim\n ok\n"
)


def _members(*data: tuple[str, bytes]) -> bytes:
    ctl = _tar([(_info("./control"), CONTROL)])
    return _ar([("debian-binary", b"2.0\n"), ("control.tar", ctl), *data])


INNOCENT = _tar([_file("./usr/"), _file("./usr/share/innocent", b"innocent\n")])
EVIL = _tar([_file("./usr/"), _file("./usr/share/evil", b"evil\n")])

DIFFERENT = {
    # dpkg installs the first data.tar; a reader that keeps the last verifies the innocent one.
    "two-data-members": (_members(("data.tar", EVIL), ("data.tar", INNOCENT)), "after data.tar"),
    "member-after-data": (_members(("data.tar", EVIL), ("extra", b"x")), "'extra' after data.tar"),
    "unknown-before-data": (_members(("payload.tar", INNOCENT), ("data.tar", EVIL)), "'payload.tar' where dpkg"),
    "two-control-members": (
        _ar(
            [
                ("debian-binary", b"2.0\n"),
                ("control.tar", _tar([(_info("./control"), CONTROL)])),
                ("control.tar", _tar([(_info("./control"), CONTROL)])),
                ("data.tar", INNOCENT),
            ]
        ),
        "'control.tar' where dpkg expects data.tar",
    ),
}


@pytest.mark.parametrize("case", sorted(DIFFERENT))
def test_deb_members_dpkg_would_read_differently_are_refused(case: str, tmp_path: Path):
    data, message = DIFFERENT[case]
    deb = tmp_path / "x.deb"
    deb.write_bytes(data)
    for args in (["inspect", str(deb)], ["inspect", str(deb), "--json"]):
        check_run(cli(args), exit_code=2, contains=[message])


def test_underscore_members_are_skipped_like_dpkg(tmp_path: Path):
    deb = tmp_path / "x.deb"
    ctl = _tar([(_info("./control"), CONTROL)])
    deb.write_bytes(
        _ar([("debian-binary", b"2.0\n"), ("_sig", b"s"), ("control.tar", ctl), ("_x", b"y"), ("data.tar", INNOCENT)])
    )
    run = cli(["inspect", str(deb), "--json"])
    check_run(run, exit_code=0)
    paths = {e["path"] for e in json.loads(run.output)["entries"]}
    assert "/usr/share/innocent" in paths
    require_tools("dpkg-deb")
    listed = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    assert "./usr/share/innocent" in listed


def test_dpkg_installs_the_first_data_member(tmp_path: Path):
    """The premise of the two-data-members case, checked against dpkg-deb itself."""
    require_tools("dpkg-deb")
    deb = tmp_path / "x.deb"
    deb.write_bytes(DIFFERENT["two-data-members"][0])
    listed = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True).stdout
    assert "./usr/share/evil" in listed and "innocent" not in listed


FORGED = "usr/share/a\n  0644 root:root          0 file      /etc/shadow"


def test_inspect_escapes_names_and_json_stays_exact(tmp_path: Path):
    deb = tmp_path / "x.deb"
    names = [f"./{FORGED}", "./usr/share/\x1b[2Jclear", "./usr/share/back\\slash", "./usr/share/\u202eevil"]
    deb.write_bytes(_members(("data.tar", _tar([_file("./usr/"), *(_file(n) for n in names)]))))
    run = cli(["inspect", str(deb)])
    check_run(run, exit_code=0)
    lines = run.output.splitlines()
    assert not any(line.rstrip().endswith(" /etc/shadow") and "\\n" not in line for line in lines), run.output
    assert "/usr/share/a\\n  0644 root:root" in run.output
    assert "\x1b" not in run.output and "\\x1b[2Jclear" in run.output
    assert "back\\\\slash" in run.output and "\\u202eevil" in run.output
    assert len(lines) == 1 + 1 + len(names)  # header, ./usr/, one line per name
    info = json.loads(cli(["inspect", str(deb), "--json"]).output)
    assert {"/" + n[2:] for n in names} <= {e["path"] for e in info["entries"]}


@pytest.mark.damaged_rpms  # a header altered on purpose
def test_rpm_header_with_a_tag_twice_is_refused(tmp_path: Path):
    """rpm looks tags up by binary search: with two NAME entries, which one it sees is unknown."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pkgtool.toml").write_text(MAP)
    (project / "payload.txt").write_text("payload\n")
    check_run(cli(["build", str(project), "-d", "fedora", "-o", str(tmp_path / "rpm")]), exit_code=0)
    good_rpm = next((tmp_path / "rpm").glob("*.rpm"))
    data = bytearray(good_rpm.read_bytes())
    pos, typ, _, count = _tag_entry(bytes(data), rpm_header.SUMMARY)
    data[pos : pos + 4] = struct.pack(">i", rpm_header.NAME)
    bad = tmp_path / "twice.rpm"
    bad.write_bytes(bytes(data))
    check_run(cli(["inspect", str(bad)]), exit_code=2, contains=["tag 1000 appears twice"])
    check_run(cli(["verify", str(project), str(bad), "-d", "fedora"]), exit_code=2, contains=["appears twice"])


def test_verify_escapes_names_it_prints(tmp_path: Path):
    """verify's text report names paths from the artifact: a forged name cannot add lines or move the cursor."""
    deb = tmp_path / "x.deb"
    names = [f"./{FORGED}", "./usr/share/\x1b[2Jclear"]
    deb.write_bytes(_members(("data.tar", _tar([_file("./usr/"), *(_file(n) for n in names)]))))
    project = tmp_path / "victim"
    project.mkdir()
    (project / "pkgtool.toml").write_text(MAP)
    (project / "payload.txt").write_text("payload\n")
    run = cli(["verify", str(project), "--distro", "debian", str(deb)])
    check_run(run, exit_code=1)
    assert "\x1b" not in run.output and "\\x1b[2Jclear" in run.output
    assert "/usr/share/a\\n  0644 root:root" in run.output
    assert not any(line.strip().endswith("/etc/shadow") and "\\n" not in line for line in run.output.splitlines())
    report = json.loads(cli(["verify", str(project), "--distro", "debian", str(deb), "--json"]).output)
    paths = {m["path"] for r in report["reports"] for m in r["mismatches"]}
    assert "/" + FORGED in paths  # JSON stays exact
