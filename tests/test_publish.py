"""publish without external tools: the APT repository written natively, and hostile or damaged packages refused.

Tests that need createrepo_c, gpg, rpm, apt-get or dnf are in test_publish_tools.py.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
from pathlib import Path

import pytest
from publish_fixtures import EPOCH, build_set, control, example_projects, hello_project, make_deb, run_pkgtool
from tooling import snapshot

from pkgtool.errors import ArtifactError, UsageError
from pkgtool.formats.deb.index import parse_control, read_index_entry
from pkgtool.publish import PublishOptions, publish
from pkgtool.publish.apt_repo import AptOptions, release_date

OPTS = PublishOptions(source_date_epoch=EPOCH)


@pytest.fixture(scope="module")
def debs(tmp_path_factory) -> list[Path]:
    top = tmp_path_factory.mktemp("debs")
    projects = [*example_projects(), hello_project(top / "hello")]
    return build_set(top / "dist", projects, distros=("debian",))


def _release_entries(release: str) -> dict[str, dict[str, tuple[str, int]]]:
    """Release's hash sections: field -> file -> (digest, size)."""
    out: dict[str, dict[str, tuple[str, int]]] = {}
    field = None
    for line in release.splitlines():
        if not line.startswith(" "):
            name, _, value = line.partition(":")
            field = name if not value.strip() else None
            if field:
                out[field] = {}
        elif field:
            digest, size, name = line.split()
            out[field][name] = (digest, int(size))
    return out


def test_apt_repository_layout(debs, tmp_path):
    out = tmp_path / "repo"
    repos = publish(debs, out, OPTS)
    assert [(r.kind, r.name) for r in repos] == [("apt", "stable")]
    apt = out / "apt"
    assert sorted(repos[0].packages) == [
        "pool/main/c/convirt/convirt_0.9.0-1_all.deb",
        "pool/main/p/pkgtool-hello/pkgtool-hello_1.0-1_all.deb",
        "pool/main/v/vdsm-hook-acme/vdsm-hook-acme_1.2.0-1_all.deb",
    ]
    dist = apt / "dists" / "stable"
    packages = (dist / "main/binary-amd64/Packages").read_bytes()
    assert lzma.decompress((dist / "main/binary-amd64/Packages.xz").read_bytes()) == packages
    # Every stanza's Filename, Size and digests are those of the file in the pool.
    stanzas = packages.decode().strip("\n").split("\n\n")
    assert [s.splitlines()[0] for s in stanzas] == [
        "Package: convirt",
        "Package: pkgtool-hello",
        "Package: vdsm-hook-acme",
    ]
    for stanza in stanzas:
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if not line.startswith(" "))
        data = (apt / fields["Filename"]).read_bytes()
        assert int(fields["Size"]) == len(data)
        assert fields["MD5sum"] == hashlib.md5(data).hexdigest()
        assert fields["SHA1"] == hashlib.sha1(data).hexdigest()
        assert fields["SHA256"] == hashlib.sha256(data).hexdigest()
    release = (dist / "Release").read_text()
    assert "Date: Mon, 06 Jan 2025 00:00:00 UTC\n" in release
    assert "Suite: stable\nCodename: stable\n" in release and "Architectures: amd64\nComponents: main\n" in release
    for field, algo in (("MD5Sum", "md5"), ("SHA1", "sha1"), ("SHA256", "sha256")):
        entries = _release_entries(release)[field]
        assert set(entries) == {"main/binary-amd64/Packages", "main/binary-amd64/Packages.xz"}
        for name, (digest, size) in entries.items():
            data = (dist / name).read_bytes()
            assert (digest, size) == (hashlib.new(algo, data).hexdigest(), len(data))
    # Unsigned: no signature files, no key.
    assert not (dist / "InRelease").exists() and not list(apt.glob("*.asc"))


def test_release_date_is_rfc2822_utc():
    assert release_date(0) == "Thu, 01 Jan 1970 00:00:00 UTC"
    assert release_date(EPOCH) == "Mon, 06 Jan 2025 00:00:00 UTC"


def test_same_packages_same_bytes(debs, tmp_path):
    publish(debs, tmp_path / "a", OPTS)
    publish(list(reversed(debs)), tmp_path / "b", OPTS)  # the order given does not matter
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b") != {}
    assert {os.stat(p).st_mtime for p in (tmp_path / "a").rglob("*")} == {EPOCH}


def test_inputs_are_not_touched_and_directories_are_walked(debs, tmp_path):
    top = debs[0].parent
    before = snapshot(top)
    repos = publish([top], tmp_path / "repo", OPTS)
    assert len(repos[0].packages) == len(debs)
    assert snapshot(top) == before


def test_identical_copies_published_once_different_ones_refused(debs, tmp_path):
    twin = tmp_path / "twin.deb"
    twin.write_bytes(debs[0].read_bytes())
    repos = publish([debs[0], twin], tmp_path / "once", OPTS)
    assert len(repos[0].packages) == 1
    a = make_deb(tmp_path / "a.deb", control())
    b = make_deb(tmp_path / "b.deb", control(extra="Section: misc\n"))
    with pytest.raises(UsageError, match=r"both good_1\.0-1_all\.deb but differ"):
        publish([a, b], tmp_path / "clash", OPTS)
    assert not (tmp_path / "clash").exists()


def test_arch_specific_packages_and_arch_option(tmp_path):
    amd = make_deb(tmp_path / "x.deb", control("tool", arch="amd64"))
    noarch = make_deb(tmp_path / "y.deb", control("tool-data"))
    publish([amd, noarch], tmp_path / "r1", OPTS)
    dist = tmp_path / "r1/apt/dists/stable"
    assert "Architectures: amd64\n" in (dist / "Release").read_text()
    assert (dist / "main/binary-amd64/Packages").read_text().count("Package: ") == 2
    opts = PublishOptions(AptOptions("bookworm", "contrib", ("amd64", "arm64")), source_date_epoch=EPOCH)
    publish([amd, noarch], tmp_path / "r2", opts)
    dist = tmp_path / "r2/apt/dists/bookworm"
    assert "Architectures: amd64 arm64\nComponents: contrib\n" in (dist / "Release").read_text()
    arm = (dist / "contrib/binary-arm64/Packages").read_text()
    assert "Package: tool-data" in arm and "Package: tool\n" not in arm  # 'all' goes everywhere, amd64 only there
    with pytest.raises(UsageError, match="amd64, which is not among --arch arm64"):
        publish([amd], tmp_path / "r3", PublishOptions(AptOptions(architectures=("arm64",)), source_date_epoch=EPOCH))


@pytest.mark.parametrize(
    "suite, component, archs",
    [("../x", "main", ()), ("stable", "a/b", ()), ("stable", "main", ("../amd64",)), ("", "main", ())],
)
def test_suite_component_arch_are_single_names(debs, tmp_path, suite, component, archs):
    with pytest.raises(UsageError):
        publish(debs, tmp_path / "repo", PublishOptions(AptOptions(suite, component, archs), source_date_epoch=EPOCH))
    assert not (tmp_path / "repo").exists()


HOSTILE_CONTROLS = {
    "package-climbs": (control("../../x"), "control field Package is '../../x'"),
    "package-slash": (control("a/b"), "field Package is 'a/b'"),
    "version-climbs": (control(version="1.0/../../../x"), "field Version is '1.0/../../../x'"),
    "arch-climbs": (control(arch="../all"), "field Architecture is '../all'"),
    "source-climbs": (control(extra="Source: ../../evil\n"), "field Source is '../../evil'"),
    "source-version": (control(extra="Source: good (1.0/x)\n"), "field Source is '1.0/x'"),
    "missing-package": ("Version: 1.0\nArchitecture: all\n", "control file has no Package field"),
    "duplicate": (control() + "Package: other\n", "field Package appears twice"),
    "two-stanzas": (control() + "\nPackage: second\n", "a second stanza"),
    "continuation-first": (" hello\n" + control(), "a continuation line before any field"),
    "no-colon": (control() + "this is not a field\n", "not a 'Field: value' line"),
    "not-utf8": (control().encode() + b"X-Note: \xff\xfe\n", "control file is not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CONTROLS))
def test_hostile_control_is_refused_and_nothing_written(tmp_path, case):
    text, message = HOSTILE_CONTROLS[case]
    work = tmp_path / "work"
    work.mkdir()
    deb = make_deb(work / "in.deb", text)
    out = work / "repo"
    before = snapshot(tmp_path)
    with pytest.raises(ArtifactError) as err:
        publish([deb], out, OPTS)
    assert message in str(err.value)
    assert str(deb) in str(err.value)  # names the user's file, not a private copy
    assert snapshot(tmp_path) == before  # no output, no leftovers beside it


def test_hostile_payload_and_damage_refused(tmp_path):
    climbing = make_deb(tmp_path / "climb.deb", control(), {"../../etc/evil": b"x"})
    with pytest.raises(ArtifactError, match="leaves the package root"):
        publish([climbing], tmp_path / "repo", OPTS)
    good = make_deb(tmp_path / "good.deb", control())
    truncated = tmp_path / "truncated.deb"
    truncated.write_bytes(good.read_bytes()[:-40])
    with pytest.raises(ArtifactError, match=str(truncated)):
        publish([truncated], tmp_path / "repo", OPTS)
    junk = tmp_path / "junk.deb"
    junk.write_bytes(b"not a package at all")
    with pytest.raises(ArtifactError, match="unknown magic bytes"):
        publish([junk], tmp_path / "repo", OPTS)
    assert not (tmp_path / "repo").exists()


def test_index_fields_in_control_are_replaced(tmp_path):
    extra = "Filename: ../../../etc/passwd\nSize: 1\nSHA256: 00\nMD5sum: 00\n"
    deb = make_deb(tmp_path / "in.deb", control(extra=extra))
    publish([deb], tmp_path / "repo", OPTS)
    text = (tmp_path / "repo/apt/dists/stable/main/binary-amd64/Packages").read_text()
    assert "passwd" not in text and "SHA256: 00\n" not in text
    assert "Filename: pool/main/g/good/good_1.0-1_all.deb\n" in text


def test_file_names_of_inputs_are_never_used(tmp_path):
    odd = tmp_path / "in" / "$(touch PWNED) ..%2f.. name.deb"
    odd.parent.mkdir()
    make_deb(odd, control("nice", "2:1.0~rc1-3"))
    repos = publish([odd.parent], tmp_path / "repo", OPTS)
    assert repos[0].packages == ("pool/main/n/nice/nice_1.0~rc1-3_all.deb",)
    assert not list(tmp_path.rglob("PWNED"))


def test_lib_prefix_and_source_field(tmp_path):
    deb = make_deb(tmp_path / "x.deb", control("libfoo1", extra="Source: libfoo (2.0-1)\n"))
    repos = publish([deb], tmp_path / "repo", OPTS)
    assert repos[0].packages == ("pool/main/libf/libfoo/libfoo1_1.0-1_all.deb",)


def test_parse_control_as_dpkg_does():
    text = "Package: a\nDescription: short\n line one  \n .\n ..\n   indented\nX-Empty: \n"
    assert parse_control(text, "c") == [
        ("Package", "a"),
        ("Description", "short\nline one\n\n.\n  indented"),
        ("X-Empty", ""),
    ]


def test_stanza_orders_fields_as_dpkg(tmp_path):
    text = control(extra="X-Zeta: z\nMulti-Arch: foreign\nDepends: b\nPre-Depends: c\nX-Alpha: a\nEmpty: \n")
    entry = read_index_entry(make_deb(tmp_path / "x.deb", text))
    stanza = entry.stanza("pool/x.deb", 3, "m", "s1", "s2")
    names = [line.split(":")[0] for line in stanza.splitlines() if line and not line.startswith(" ")]
    assert names == [
        "Package",
        "Version",
        "Architecture",
        "Maintainer",
        "Pre-Depends",
        "Depends",
        "Filename",
        "Size",
        "MD5sum",
        "SHA1",
        "SHA256",
        "Multi-Arch",
        "Description",
        "X-Alpha",
        "X-Zeta",
    ]
    assert stanza.endswith("Description: a test package\n More text.\nX-Alpha: a\nX-Zeta: z\n\n")


def test_out_must_be_new_empty_or_a_publish_output(debs, tmp_path):
    out = tmp_path / "repo"
    out.mkdir()
    (out / "important.txt").write_text("keep me")
    with pytest.raises(UsageError, match="important.txt, which publish did not write"):
        publish(debs, out, OPTS)
    assert (out / "important.txt").read_text() == "keep me"
    fresh = tmp_path / "fresh"
    publish(debs, fresh, OPTS)
    publish(debs[:1], fresh, OPTS)  # an earlier output is replaced whole
    assert len(list((fresh / "apt/pool").rglob("*.deb"))) == 1


def test_cli_publish_json_and_errors(debs, tmp_path):
    proc = run_pkgtool("publish", *map(str, debs), "--out", str(tmp_path / "repo"), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] and data["repositories"][0]["kind"] == "apt" and len(data["repositories"][0]["packages"]) == 3
    bad = make_deb(tmp_path / "bad.deb", control("../../x"))
    proc = run_pkgtool("publish", str(bad), "--out", str(tmp_path / "r2"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"pkgtool: error: {bad}: control field Package is '../../x'" in proc.stderr
    proc = run_pkgtool("publish", str(tmp_path / "missing.deb"), "--out", str(tmp_path / "r3"))
    assert proc.returncode == 2 and "no such file" in proc.stderr.lower() and "Traceback" not in proc.stderr
    proc = run_pkgtool("publish", str(tmp_path / "r2"), "--out", str(tmp_path / "r4"), "--suite", "../up")
    assert proc.returncode == 2 and "--suite '../up' is not a single name" in proc.stderr
    proc = run_pkgtool("publish", *map(str, debs), "--out", str(tmp_path / "r5"), "--sign", env={"PKGTOOL_GPG_KEY": ""})
    assert proc.returncode == 2 and "--sign needs a key: pass --key-id ID or set PKGTOOL_GPG_KEY" in proc.stderr
    assert not (tmp_path / "r5").exists()


def test_out_inside_the_input_directory_is_not_published_again(debs, tmp_path):
    dist = tmp_path / "dist"
    dist.mkdir()
    for deb in debs:
        (dist / deb.name).write_bytes(deb.read_bytes())
    first = publish([dist], dist / "repo", OPTS)
    again = publish([dist], dist / "repo", OPTS)
    assert first[0].packages == again[0].packages and len(again[0].packages) == 3


@pytest.mark.damaged_rpms  # a .deb named .rpm: rpmfile's cross-check of tmp_path cannot read it
def test_format_is_read_from_content_not_the_name(tmp_path):
    disguised = make_deb(tmp_path / "really-a-deb.rpm", control("disguised"))
    repos = publish([disguised], tmp_path / "repo", OPTS)
    assert [(r.kind, r.packages) for r in repos] == [("apt", ("pool/main/d/disguised/disguised_1.0-1_all.deb",))]


def test_names_too_long_for_a_file_system_are_refused(tmp_path):
    deb = make_deb(tmp_path / "x.deb", control("a" * 300))
    with pytest.raises(ArtifactError, match="longer than 255 bytes"):
        publish([deb], tmp_path / "repo", OPTS)
    assert not (tmp_path / "repo").exists()


def test_secret_key_listing():
    from pkgtool.publish.signing import _secret_keys

    listing = (
        "sec:u:2048:1:AAAA111122223333:1700000000:::u:::scSC:::+:::23::0:\n"
        "fpr:::::::::0123456789ABCDEF0123456789ABCDEFAAAA1111:\n"
        "uid:u::::1700000000::X::A <a@example.org>::::::::::0:\n"
        "ssb:u:2048:1:BBBB111122223333:1800000000::::::s:::+:::23:\n"
        "fpr:::::::::FEDCBA9876543210FEDCBA9876543210BBBB1111:\n"
        "sec:u:255:22:CCCC111122223333:1600000000:::u:::scSC:::+:::ed25519:::0:\n"
        "fpr:::::::::CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC:\n"
    )
    # A signing subkey made later moves the earliest valid signature time to its creation.
    assert _secret_keys(listing) == [
        ("0123456789ABCDEF0123456789ABCDEFAAAA1111", 1800000000),
        ("CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC", 1600000000),
    ]
