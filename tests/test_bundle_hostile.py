"""verify BUNDLE against hostile and damaged bundles: each refused naming the member, nothing written anywhere."""

from __future__ import annotations

import gzip
import io
import lzma
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO
from tooling import snapshot

PY = sys.executable
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1736121600")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "pkgtool", *args], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("good")
    proc = run("bundle", str(EXAMPLES / "ovirt-node-plugin-acme"), "--node-version", "3.6.2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    (path,) = out.iterdir()
    with tarfile.open(path) as tf:
        return {m.name: tf.extractfile(m).read() for m in tf}


def _tar(dest: Path, members: dict[str, bytes], specials: list[tarfile.TarInfo] = ()) -> Path:
    with tarfile.open(dest, "w") as tf:
        for info in specials:
            tf.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return dest


def _special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info


def _refused(tmp_path: Path, bundle: Path, member: str, code: int = 2) -> str:
    before = snapshot(tmp_path)
    repo_before = sorted(os.listdir(REPO))
    proc = run("verify", str(bundle), "--node-version", "3.6.2")
    assert proc.returncode == code, proc.stdout + proc.stderr
    text = proc.stdout + proc.stderr
    assert member in text and "Traceback" not in text
    assert snapshot(tmp_path) == before and sorted(os.listdir(REPO)) == repo_before
    return text


@pytest.mark.parametrize("name", ["../evil", "rpms/../../evil", "/tmp/pkgtool-evil-abs", "./rpms//x"])
def test_member_that_climbs_out_is_refused(good, tmp_path, name):
    bundle = _tar(tmp_path / "b.plugin.tar", {**good, name: b"boom"})
    text = _refused(tmp_path, bundle, repr(name))
    assert "climbs out" in text
    assert not Path("/tmp/pkgtool-evil-abs").exists() and not (tmp_path.parent / "evil").exists()


@pytest.mark.parametrize(
    "special, word",
    [
        (_special("rpms/link", tarfile.SYMTYPE, str(Path("/etc/passwd"))), "symlink"),
        (_special("rpms/hard", tarfile.LNKTYPE, "../../etc/passwd"), "hardlink"),
        (_special("rpms", tarfile.DIRTYPE), "not a regular file"),
        (_special("rpms/dev", tarfile.CHRTYPE), "not a regular file"),
    ],
)
def test_link_and_special_members_are_refused(good, tmp_path, special, word):
    bundle = _tar(tmp_path / "b.plugin.tar", good, [special])
    assert word in _refused(tmp_path, bundle, repr(special.name))


def test_file_through_a_symlink_member_is_refused_at_the_symlink(good, tmp_path):
    target = tmp_path / "outside"
    target.mkdir()
    link = _special("up", tarfile.SYMTYPE, str(target))
    bundle = _tar(tmp_path / "b.plugin.tar", {**good, "up/planted": b"x"}, [link])
    _refused(tmp_path, bundle, "'up'")
    assert list(target.iterdir()) == []


def test_extra_member_is_named(good, tmp_path):
    bundle = _tar(tmp_path / "b.plugin.tar", {**good, "rpms/extra.rpm": b"unlisted"})
    text = _refused(tmp_path, bundle, "rpms/extra.rpm", code=1)
    assert "extra" in text


def test_missing_member_is_named(good, tmp_path):
    (rpm,) = [n for n in good if n.startswith("rpms/")]
    bundle = _tar(tmp_path / "b.plugin.tar", {n: d for n, d in good.items() if n != rpm})
    assert "missing" in _refused(tmp_path, bundle, rpm, code=1)


def test_duplicate_member_is_refused(good, tmp_path):
    bundle = _tar(tmp_path / "b.plugin.tar", good, [])
    with tarfile.open(bundle, "a") as tf:
        info = tarfile.TarInfo("recipe.ks")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"bad"))
    assert "appears twice" in _refused(tmp_path, bundle, "'recipe.ks'")


@pytest.mark.parametrize("suffix, keep", [("", 0.5), ("", -512), (".gz", 0.66), (".xz", 0.66)])
def test_truncated_bundle_is_refused(good, tmp_path, suffix, keep):
    (rpm,) = [n for n in good if n.startswith("rpms/")]
    ordered = {"manifest": good["manifest"], "recipe.ks": good["recipe.ks"], rpm: good[rpm]}
    whole = _tar(tmp_path / "w.tar", ordered)
    data = whole.read_bytes()
    if suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    elif suffix == ".xz":
        data = lzma.compress(data)
    with tarfile.open(whole) as tf:
        rpm_end = tf.getmember(rpm).offset_data + len(good[rpm])
    # Half-way into the RPM, or cut after the RPM's data (the end-of-archive blocks gone), or a cut stream.
    cut = int(len(data) * keep) if keep > 0 else rpm_end + 100
    bundle = tmp_path / f"b.plugin.tar{suffix}"
    bundle.write_bytes(data[:cut])
    whole.unlink()
    text = _refused(tmp_path, bundle, rpm)
    assert "truncated" in text or "damaged" in text


def test_bundle_without_manifest_or_with_a_bad_one_is_refused(good, tmp_path):
    no_manifest = _tar(tmp_path / "a.plugin.tar", {n: d for n, d in good.items() if n != "manifest"})
    assert "no manifest member" in _refused(tmp_path, no_manifest, "manifest")
    bad = _tar(tmp_path / "b.plugin.tar", {**good, "manifest": b"pkgtool-node-bundle 2\n"})
    assert "manifest line 1" in _refused(tmp_path, bad, "pkgtool-node-bundle 2")


def test_oversized_member_is_refused_before_it_is_read(good, tmp_path, monkeypatch):
    from pkgtool.bundle import reader
    from pkgtool.errors import ArtifactError

    bundle = _tar(tmp_path / "b.plugin.tar", good)
    monkeypatch.setattr(reader, "MAX_TOTAL", len(good["manifest"]) + 10)
    with pytest.raises(ArtifactError, match="members up to 'recipe.ks' hold over"):
        reader.read_members(bundle)
    monkeypatch.setattr(reader, "MAX_MEMBER", 100)
    with pytest.raises(ArtifactError, match="member 'manifest' is .* bytes, over the 100 limit"):
        reader.read_members(bundle)


def test_malformed_node_release_data_is_a_located_error(tmp_path, monkeypatch):
    from pkgtool.bundle import node
    from pkgtool.errors import ProfileError

    data = tmp_path / "ovirt-node.toml"
    monkeypatch.setattr(node, "_file", lambda: data)
    data.write_text('[[release]]\nid = "x"\nnode_versions = ["1.*"]\nprofile = "el9"\nsurprise = 1\n')
    with pytest.raises(ProfileError, match=r"ovirt-node.toml: release\[0\]: .*unknown keys: surprise"):
        node.release_for("1.0")
    data.write_text('[[release]]\nid = "x"\nnode_versions = ["1.*"]\n')
    with pytest.raises(ProfileError, match=r"release\[0\]: missing or malformed key 'profile'"):
        node.release_for("1.0")
    data.write_text("[[release]\n")
    with pytest.raises(ProfileError, match="ovirt-node.toml: cannot read: .*line 1"):
        node.release_for("1.0")
