"""verify_root(): the real pipeline (resolve_dir -> install -> verify), then one defect at a time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import EXAMPLE_NAMES, EXAMPLES
from tooling import demo_layout, require_root

from pkgtool.errors import UsageError
from pkgtool.install.apply import install
from pkgtool.model import Entry, EntryKind, Resolved
from pkgtool.profiles import load_profile
from pkgtool.project import resolve_dir
from pkgtool.rootfs.accounts import load_accounts
from pkgtool.rootfs.walk import read_root
from pkgtool.sources.staging import staged_sources
from pkgtool.verify.root import verify_root

PROVISION = "/var/cache/convirt/image_store/fedora_vm/provision.sh"
LINK = "/usr/bin/convirt"
DOC = "/usr/share/convirt/doc"


@pytest.fixture(params=["fedora", "debian"])
def installed(request, tmp_path) -> tuple[Resolved, Path]:
    resolved = resolve_dir(EXAMPLES / "convirt", request.param)
    root = tmp_path / "R"
    install(resolved, root)
    return resolved, root


def at(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def only(report, path: str):
    """The one mismatch of a report, which must be about path."""
    assert [m.path for m in report.mismatches] == [path], report.to_text()
    return report.mismatches[0]


def test_fresh_install_verifies_clean(installed):
    resolved, root = installed
    report = verify_root(resolved, root)
    assert report.ok, report.to_text()
    assert report.checked == len(resolved.entries)
    assert report.to_text().endswith("paths checked, ok")


def test_patched_content_is_what_gets_installed(installed):
    resolved, root = installed
    assert resolved.layout.patches, "convirt carries a patch"
    with staged_sources(resolved) as staged:
        for e in resolved.files:
            assert at(root, e.path).read_bytes() == (Path(staged) / e.source).read_bytes()


def test_mode(installed):
    resolved, root = installed
    os.chmod(at(root, PROVISION), 0o644)
    m = only(verify_root(resolved, root), PROVISION)
    assert m.problems == ("mode",)
    assert (m.expected["mode"], m.actual["mode"]) == ("0744", "0644")
    assert m.flags == ".M......."
    assert "mode 0644, expected 0744 (tree[3] attr[1])" in m.to_text()


def test_missing_symlink(installed):
    resolved, root = installed
    at(root, LINK).unlink()
    m = only(verify_root(resolved, root), LINK)
    assert m.problems == ("missing",)
    assert m.to_text().startswith("missing    /usr/bin/convirt")


def test_digest(installed):
    resolved, root = installed
    f = at(root, PROVISION)
    data = bytearray(f.read_bytes())
    data[0] ^= 0x01
    f.write_bytes(bytes(data))
    m = only(verify_root(resolved, root), PROVISION)
    assert m.problems == ("digest",) and m.flags == "..5......"


def test_link_target(installed):
    resolved, root = installed
    at(root, LINK).unlink()
    os.symlink("../share/convirt/doc/README", at(root, LINK))
    m = only(verify_root(resolved, root), LINK)
    assert m.problems == ("target",)
    assert m.expected["target"] == "/usr/share/convirt/install/client/ConVirt"
    assert m.flags == "....L...."


def test_absolute_and_relative_targets_are_the_same_link(installed):
    resolved, root = installed
    assert not os.readlink(at(root, LINK)).startswith("/")  # install writes it relative
    at(root, LINK).unlink()
    os.symlink("/usr/share/convirt/install/client/ConVirt", at(root, LINK))
    assert verify_root(resolved, root).ok


def test_extra_file_in_an_owned_directory(installed):
    resolved, root = installed
    at(root, DOC + "/NOTES").write_text("not in the map\n")
    m = only(verify_root(resolved, root), DOC + "/NOTES")
    assert m.problems == ("extra",) and m.to_text().startswith("extra")


def test_extra_outside_owned_directories_is_not_ours(installed):
    resolved, root = installed
    at(root, "/usr/bin/someone-else").write_text("x")
    assert verify_root(resolved, root).ok


def test_type(installed):
    resolved, root = installed
    at(root, LINK).unlink()
    at(root, LINK).write_text("a file now\n")
    m = only(verify_root(resolved, root), LINK)
    assert m.problems == ("type",) and (m.expected["type"], m.actual["type"]) == ("symlink", "file")


def test_owner_and_group(installed):
    require_root()
    resolved, root = installed
    os.chown(at(root, PROVISION), 65534, 65534)
    m = only(verify_root(resolved, root), PROVISION)
    assert m.problems == ("owner", "group")
    assert m.expected["owner"] == "root" and m.actual["owner"] != "root"
    assert m.flags == ".....UG.."


def test_several_defects_reported_at_once_and_as_json(installed):
    resolved, root = installed
    os.chmod(at(root, PROVISION), 0o600)
    at(root, LINK).unlink()
    report = verify_root(resolved, root)
    assert not report.ok
    d = report.to_dict()
    assert d["ok"] is False
    assert {m["path"]: m["problems"] for m in d["mismatches"]} == {LINK: ["missing"], PROVISION: ["mode"]}


def test_missing_system_directory(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    layout = demo_layout(src)
    entries = (
        Entry("/opt", EntryKind.DIR, 0o755, owned=False),
        Entry("/opt/demo", EntryKind.FILE, 0o644, source="f"),
        Entry("/srv", EntryKind.DIR, 0o755, owned=False),
    )
    r = Resolved(layout, load_profile("fedora"), entries, {}, {}, 0)
    root = tmp_path / "R"
    install(r, root)
    os.chmod(root / "opt", 0o700)  # a system directory's mode is not the package's business
    (root / "srv").rmdir()
    m = only(verify_root(r, root), "/srv")
    assert m.problems == ("missing",)


def test_read_root_does_not_follow_links_out_of_the_root(installed, tmp_path):
    resolved, root = installed
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x").write_text("x")
    os.symlink(outside, at(root, DOC + "/escape"))
    seen = read_root(resolved, root, load_accounts(root))
    assert seen[DOC + "/escape"].kind is EntryKind.SYMLINK
    assert DOC + "/escape/x" not in seen


def test_not_a_directory(tmp_path):
    resolved = resolve_dir(EXAMPLES / "convirt", "fedora")
    with pytest.raises(UsageError):
        verify_root(resolved, tmp_path / "nope")


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
@pytest.mark.parametrize("distro", ["fedora", "debian", "el9", "ubuntu"])
def test_every_example_installs_and_verifies(tmp_path, example, distro):
    resolved = resolve_dir(EXAMPLES / example, distro)
    first = install(resolved, tmp_path / "R")
    assert first.count("create") > 0
    report = verify_root(resolved, tmp_path / "R")
    assert report.ok, report.to_text()
    assert install(resolved, tmp_path / "R").changed == 0
