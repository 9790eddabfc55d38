"""The debian/ tree: goldens per example, field formatting, dh_link targets, lintian overrides, script dispatch."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import tarfile

import pytest
from conftest import EXAMPLE_NAMES, EXAMPLES
from golden import assert_golden

from pkgtool.formats.deb import debian_dir as D
from pkgtool.formats.deb import facts as F
from pkgtool.formats.deb.maintainer_scripts import expand_debhelper_tokens, maintainer_scripts
from pkgtool.model import ChangelogEntry, Entry, EntryKind, ResolvedRelation
from pkgtool.project import resolve_dir

EPOCH = 1736121600


def _resolved(example: str):
    return resolve_dir(EXAMPLES / example, "debian", source_date_epoch=EPOCH)


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_debian_files_match_golden(example):
    files = D.debian_files(_resolved(example))
    assert {"control", "rules", "changelog", "copyright", "source/format"} <= {f.rel for f in files}
    for f in files:
        assert_golden(f"deb/{example}/{f.rel}", f.text)


def test_generate_writes_tree_and_orig_tarball(tmp_path):
    r = _resolved("convirt")
    tree, orig = D.generate_deb(r, tmp_path)
    assert tree == tmp_path / "convirt-0.9.0" and orig == tmp_path / "convirt_0.9.0.orig.tar.gz"
    assert (tree / "debian/rules").stat().st_mode & 0o777 == 0o755
    assert (tree / "debian/convirt.postinst").stat().st_mode & 0o777 == 0o755
    assert (tree / "debian/patches/series").read_text() == "0001-paramiko-channel-timeout.patch\n"
    assert (tree / "debian/patches/0001-paramiko-channel-timeout.patch").read_bytes() == (
        EXAMPLES / "convirt/patches/0001-paramiko-channel-timeout.patch"
    ).read_bytes()
    # the tree outside debian/ is exactly the orig tarball, unpatched (dpkg-source applies the series)
    with tarfile.open(orig) as tar:
        names = {m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile()}
    on_disk = {
        str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file() and p.relative_to(tree).parts[0] != "debian"
    }
    assert names == on_disk
    assert "settimeout(None)" in (tree / "src/convirt/core/remote.py").read_text()
    # no temp siblings left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["convirt-0.9.0", "convirt_0.9.0.orig.tar.gz"]


def test_rules_restores_modes_after_dh_fixperms():
    rules = next(f.text for f in D.debian_files(_resolved("convirt")) if f.rel == "rules")
    after = rules.split("execute_after_dh_fixperms:", 1)[1].split("\n\n", 1)[0]
    assert "chmod 0744 \\\n\t\tdebian/convirt/var/cache/convirt/image_store/fedora_vm/provision.sh" in after
    install = rules.split("override_dh_auto_install:", 1)[1].split("\n\n", 1)[0]
    assert (
        "install -D -m 0744 -t debian/convirt/var/cache/convirt/image_store/linux_cd \\\n\t\timage_store/linux_cd/provision.sh"
        in install
    )
    assert "dh $@" in rules and "override_dh_compress:" in rules


def test_description_is_a_debian_extended_description():
    text = "First para line.\n\n  verbatim  line\n.dot start\n" + "word " * 30
    out = F.description_field("Sum\nmary", text)
    lines = out.split("\n")
    assert lines[0] == "Sum mary"
    assert lines[1] == " First para line."
    assert lines[2] == " ."
    assert lines[3] == "   verbatim  line"
    assert lines[4] == "  .dot start"
    assert all(len(line) <= 80 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])


def test_relations_use_debian_operators_and_fold_duplicates():
    rels = [
        ResolvedRelation("a", "<", "2"),
        ResolvedRelation("b", ">", "1"),
        ResolvedRelation("c", ">=", "1.0"),
        ResolvedRelation("c", "", ""),
        ResolvedRelation("c", ">=", "1.0"),
    ]
    assert [F.relation_text(r) for r in F.simplify_relations(rels)] == ["a (<< 2)", "b (>> 1)", "c (>= 1.0)"]


@pytest.mark.parametrize(
    ("path", "target", "expected"),
    [
        ("/usr/bin/convirt", "/usr/share/convirt/ConVirt", "../share/convirt/ConVirt"),
        ("/usr/bin/x", "/opt/x/bin/x", "/opt/x/bin/x"),
        ("/usr/bin/x", "/usr/bin/y", "y"),
        ("/usr/lib/a/b", "../c", "../c"),
        ("/etc/a", "/etc", "."),
    ],
)
def test_link_target_follows_dh_link(path, target, expected):
    e = Entry(path=path, kind=EntryKind.SYMLINK, mode=0o777, target=target)
    assert F.link_target(e) == expected


@pytest.mark.parametrize(
    ("kind", "path", "mode", "tags"),
    [
        (EntryKind.FILE, "/usr/share/x", 0o644, []),
        (EntryKind.FILE, "/usr/bin/x", 0o755, []),
        (EntryKind.FILE, "/var/x.sh", 0o744, [("non-standard-executable-perm", "0744 != 0755")]),
        (EntryKind.FILE, "/etc/x", 0o640, [("non-standard-file-perm", "0640 != 0644")]),
        (EntryKind.FILE, "/etc/sudoers.d/x", 0o440, []),
        (EntryKind.DIR, "/var/lib/x", 0o750, [("non-standard-dir-perm", "0750 != 0755")]),
        (EntryKind.FILE, "/usr/bin/su", 0o4755, [("elevated-privileges", "4755 root/root")]),
    ],
)
def test_mode_tags_mirror_lintian(kind, path, mode, tags):
    assert F.mode_tags(Entry(path=path, kind=kind, mode=mode)) == tags


def test_lintian_overrides_only_for_odd_modes():
    assert F.lintian_overrides(_resolved("libvirt-hook-acme")) == ""
    assert F.lintian_overrides(_resolved("convirt")).splitlines() == [
        "convirt: non-standard-executable-perm 0744 != 0755 [var/cache/convirt/image_store/fedora_vm/provision.sh]",
        "convirt: non-standard-executable-perm 0744 != 0755 [var/cache/convirt/image_store/linux_cd/provision.sh]",
    ]


def test_changelog_trailer_and_weekday():
    r = _resolved("vdsm-hook-acme")
    text = F.changelog_text(r)
    assert text.startswith("vdsm-hook-acme (1.2.0-1) unstable; urgency=medium\n\n  * ")
    assert text.endswith("\n -- Jane Packager <jane@example.org>  Fri, 14 Mar 2025 12:00:00 +0000\n")


def test_changelog_made_when_map_has_none_or_is_behind():
    r = _resolved("vdsm-hook-acme")
    old = ChangelogEntry("1.1.0-1", dt.date(2024, 2, 29), "A <a@b.c>", ("old",))
    r2 = dataclasses.replace(r, layout=dataclasses.replace(r.layout, changelog=(old,)))
    text = F.changelog_text(r2)
    assert text.startswith("vdsm-hook-acme (1.2.0-1) ")
    assert "\n -- A <a@b.c>  Thu, 29 Feb 2024 12:00:00 +0000\n" in text
    assert text.count(" -- ") == 2


def test_copyright_is_dep5():
    text = F.copyright_text(_resolved("libvirt-hook-acme"))
    assert text.startswith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n")
    assert "\nFiles: *\nCopyright: 2025 Jane Packager <jane@example.org>\nLicense: Expat\n" in text
    assert F.dep5_license("GPL-2.0-or-later OR MIT") == "GPL-2+ or Expat"


def test_patch_rewritten_to_p1():
    p0 = "--- src/a.py\t2020\n+++ src/a.py\n@@ -1 +1 @@\n--- x\n"
    assert D.patch_as_p1(p0, 0).startswith("--- a/src/a.py\t2020\n+++ b/src/a.py\n")
    p2 = "--- x/y/src/a.py\n+++ x/y/src/a.py\n"
    assert D.patch_as_p1(p2, 2) == "--- a/src/a.py\n+++ b/src/a.py\n"


# ---------------------------------------------------------------- maintainer scripts, run for real


def _with_all_scripts(tmp_path):
    r = _resolved("vdsm-hook-acme")
    log = tmp_path / "events.log"
    scripts = {
        ev: f'echo "{ev} $*" >> {log}\nexit 0\n'
        for ev in ("pre-install", "pre-upgrade", "post-install", "post-upgrade", "pre-remove", "post-remove", "purge")
    }
    return dataclasses.replace(r, scripts=scripts), log


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("preinst", ["install"], ["pre-install"]),
        ("preinst", ["upgrade", "1.0-1"], ["pre-upgrade"]),
        ("preinst", ["abort-upgrade", "1.0-1"], []),
        ("postinst", ["configure", ""], ["post-install"]),
        ("postinst", ["configure"], ["post-install"]),
        ("postinst", ["configure", "1.0-1"], ["post-upgrade"]),
        ("postinst", ["abort-remove"], ["post-upgrade"]),
        ("postinst", ["abort-upgrade", "2.0-1"], ["post-upgrade"]),
        ("postinst", ["abort-deconfigure", "in-favour", "other", "1.0"], ["post-upgrade"]),
        ("prerm", ["remove"], ["pre-remove"]),
        ("prerm", ["upgrade", "2.0-1"], []),
        ("postrm", ["remove"], ["post-remove"]),
        ("postrm", ["purge"], ["purge"]),
        ("postrm", ["upgrade", "2.0-1"], []),
        ("postrm", ["abort-install"], ["post-remove"]),
        ("postrm", ["abort-upgrade", "1.0-1"], []),
        ("prerm", ["failed-upgrade", "1.0-1"], []),
    ],
)
def test_dispatch_runs_exactly_the_event(tmp_path, script, args, expected):
    r, log = _with_all_scripts(tmp_path)
    text = expand_debhelper_tokens(maintainer_scripts(r)[script], r.package.name)
    path = tmp_path / script
    path.write_text(text)
    proc = subprocess.run(["sh", str(path), *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    ran = log.read_text().split("\n")[:-1] if log.exists() else []
    assert [line.split(" ")[0] for line in ran] == expected
    assert all(line == f"{ev} " for line, ev in zip(ran, expected, strict=True))  # no dpkg args leak in


def test_failing_packager_script_fails_the_maintainer_script(tmp_path):
    # The body runs without the maintainer script's set -e (the RPM semantics); its exit status is passed on.
    body = "false\necho after > x\nexit 3\n"
    r = dataclasses.replace(_resolved("vdsm-hook-acme"), scripts={"post-install": body})
    path = tmp_path / "postinst"
    path.write_text(maintainer_scripts(r)["postinst"])
    proc = subprocess.run(["sh", str(path), "configure", ""], cwd=tmp_path)
    assert proc.returncode == 3
    assert (tmp_path / "x").read_text() == "after\n"


def test_statoverride_for_non_root_owners():
    r = _resolved("vdsm-hook-acme")
    entries = tuple(
        dataclasses.replace(e, owner="vdsm", group="kvm", mode=0o750) if e.path.endswith("acme_smbios.py") else e
        for e in r.entries
    )
    scripts = maintainer_scripts(dataclasses.replace(r, entries=entries))
    assert (
        "dpkg-statoverride --update --add vdsm kvm 0750 /usr/share/vdsm-hook-acme/acme_smbios.py" in scripts["postinst"]
    )
    assert "dpkg-statoverride --remove /usr/share/vdsm-hook-acme/acme_smbios.py" in scripts["postrm"]
    assert "#DEBHELPER#" in scripts["postinst"]
    assert "#DEBHELPER#" not in expand_debhelper_tokens(scripts["postinst"], "x")


def test_no_scripts_when_nothing_to_do():
    assert maintainer_scripts(_resolved("vdsm-hook-acme")) == {}
    assert set(maintainer_scripts(_resolved("libvirt-hook-acme"))) == {"postinst"}
