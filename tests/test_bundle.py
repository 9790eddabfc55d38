"""pkgtool bundle / verify BUNDLE: an oVirt Node plugin bundle built, read back and held against an image root."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO
from tooling import require_tools

PY = sys.executable
NODE = "3.6.2"
NAME = "ovirt-node-plugin-acme-2.0.1"
RPM = "rpms/ovirt-node-plugin-acme-2.0.1-1.el7.noarch.rpm"
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1736121600")

AGENT_MAP = """schema = 1
[package]
name = "acme-agent"
version = "1.0"
summary = "ACME agent"
description = "The agent the ACME Node plugin starts."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"
[[file]]
src = "acme-agent"
dst = "{bindir}/acme-agent"
mode = "0755"
"""


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "pkgtool", *args], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120)


def bundle(out: Path, *args: str, src: Path = EXAMPLES / "ovirt-node-plugin-acme") -> subprocess.CompletedProcess:
    return run("bundle", str(src), "--node-version", NODE, "--out", str(out), *args)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    proc = bundle(out, "--compress", "none")
    assert proc.returncode == 0, proc.stderr
    return out / f"{NAME}.plugin.tar"


@pytest.fixture(scope="module")
def needy(tmp_path_factory) -> dict[str, Path]:
    """The example plugin requiring acme-agent, and acme-agent's RPM built for the Node release's profile."""
    top = tmp_path_factory.mktemp("needy")
    plugin = top / "plugin"
    shutil.copytree(EXAMPLES / "ovirt-node-plugin-acme", plugin)
    text = (plugin / "pkgtool.toml").read_text()
    (plugin / "pkgtool.toml").write_text(
        text.replace("\n# Node runs", '\n[requires]\nacme-agent = ""\n\n# Node runs', 1)
    )
    agent = top / "agent"
    agent.mkdir()
    (agent / "pkgtool.toml").write_text(AGENT_MAP)
    (agent / "acme-agent").write_text("#!/bin/sh\nexit 0\n")
    proc = run("build", str(agent), "--distro", "el9", "--out", str(top / "rpms"))
    assert proc.returncode == 0, proc.stderr
    (rpm,) = (top / "rpms").glob("acme-agent-*.rpm")
    return {"plugin": plugin, "agent": rpm, "top": top}


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tf:
        return {m.name: tf.extractfile(m).read() for m in tf if m.isreg()}


def test_bundle_holds_manifest_recipe_and_rpms_and_verifies(made):
    got = members(made)
    assert sorted(got) == ["manifest", "recipe.ks", RPM]
    manifest = got["manifest"].decode().splitlines()
    assert manifest[:4] == [
        "pkgtool-node-bundle 1",
        "name ovirt-node-plugin-acme",
        "version 2.0.1",
        "node-version 3.6.*",
    ]
    for name in ("recipe.ks", RPM):
        assert f"file {hashlib.sha256(got[name]).hexdigest()} {len(got[name])} {name}" in manifest
    recipe = got["recipe.ks"].decode()
    assert "part / --size 2048" in recipe and "repo --name=ovirt-node-plugin-acme --baseurl=file://" in recipe
    assert "%packages --excludedocs --nobase\novirt-node-plugin-acme\n%end" in recipe
    with tarfile.open(made) as tf:
        assert {(m.uid, m.gid, m.mtime, m.mode) for m in tf} == {(0, 0, 1736121600, 0o644)}
    proc = run("verify", str(made), "--node-version", NODE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 paths checked, ok" in proc.stdout


def test_bundled_rpm_is_built_for_the_node_release(made, tmp_path):
    require_tools("rpm")
    (tmp_path / "p.rpm").write_bytes(members(made)[RPM])
    q = subprocess.run(
        ["rpm", "-qp", "--qf", "%{PAYLOADCOMPRESSOR} %{RELEASE}", str(tmp_path / "p.rpm")],
        capture_output=True,
        text=True,
    )
    assert q.stdout == "xz 1.el7", q.stderr  # EL7's rpm reads no zstd payload


@pytest.mark.parametrize("compress", ["gz", "xz"])
def test_bundle_is_byte_identical_when_rebuilt(tmp_path, compress):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert bundle(out, "--compress", compress).returncode == 0
    name = f"{NAME}.plugin.tar.{compress}"
    assert (a / name).read_bytes() == (b / name).read_bytes()
    assert run("verify", str(a / name)).returncode == 0


def test_persistence_warnings_name_unpersisted_config(tmp_path):
    proc = bundle(tmp_path, "--json")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    # The two config files; the on-boot hook under /usr is rebuilt with the image, no warning.
    assert [w.split(": ", 1)[1] for w in doc["warnings"]] == [
        f"/etc/ovirt-plugins.d/{f} is not persisted on ovirt-node-3.6; changes are lost on reboot"
        for f in ("acme-agent.firewall", "ovirt-node-plugin-acme")
    ]
    assert doc["path"].endswith(f"{NAME}.plugin.tar.gz") and doc["left_out"] == []


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8\n", None])
def test_unreadable_image_packages_is_a_one_line_error(tmp_path, content):
    image = tmp_path / "image"
    if content is not None:
        image.write_bytes(content)
    proc = bundle(tmp_path / "out", "--image-packages", str(image))
    assert proc.returncode == 2 and proc.stderr.startswith(f"pkgtool: error: --image-packages {image}")
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def test_flipped_byte_in_a_bundled_rpm_fails_naming_it(made, tmp_path):
    bad = tmp_path / made.name
    shutil.copy(made, bad)
    with tarfile.open(bad) as tf:
        offset = tf.getmember(RPM).offset_data + 200
    data = bytearray(bad.read_bytes())
    data[offset] ^= 0x01
    bad.write_bytes(bytes(data))
    proc = run("verify", str(bad))
    assert proc.returncode == 1
    assert RPM in proc.stdout and "content differs" in proc.stdout


def test_wrong_node_version_names_the_compatible_ones(made):
    proc = run("verify", str(made), "--node-version", "4.4.0")
    assert proc.returncode == 1
    assert "4.4.0, expected one of 3.6.*" in proc.stdout
    proc = run(
        "bundle", str(EXAMPLES / "ovirt-node-plugin-acme"), "--node-version", "4.4.0", "--out", str(made.parent / "x")
    )
    assert proc.returncode == 2 and "known Node versions: 3.6.*" in proc.stderr
    assert not (made.parent / "x").exists()


def test_missing_dependency_fails_naming_it(needy, tmp_path):
    image = tmp_path / "image-provides"
    image.write_text("bash = 4.2.46-34.el7\n/bin/sh\nconfig(bash) = 4.2.46\n")
    proc = bundle(tmp_path / "out", "--image-packages", str(image), src=needy["plugin"])
    assert proc.returncode == 2
    assert "requires acme-agent, which neither the Node image nor the bundle provides" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def test_with_rpm_is_carried_unless_the_image_has_it(needy, tmp_path):
    image = tmp_path / "image-provides"
    image.write_text("bash = 4.2.46-34.el7\n/bin/sh\n")
    proc = bundle(tmp_path / "a", "--image-packages", str(image), "--with", str(needy["agent"]), src=needy["plugin"])
    assert proc.returncode == 0, proc.stderr
    (path,) = (tmp_path / "a").iterdir()
    assert f"rpms/{needy['agent'].name}" in members(path)
    image.write_text(image.read_text() + "acme-agent = 1.0-1.el9\n")
    proc = bundle(tmp_path / "b", "--image-packages", str(image), "--with", str(needy["agent"]), src=needy["plugin"])
    assert proc.returncode == 0 and f"left out {needy['agent'].name}" in proc.stdout
    (path,) = (tmp_path / "b").iterdir()
    assert sorted(members(path)) == ["manifest", "recipe.ks", RPM]


def test_requires_agree_with_rpmfile(needy, tmp_path):
    import rpmfile

    from pkgtool.bundle.resolve_deps import rpm_facts

    proc = bundle(tmp_path, "--compress", "none", src=needy["plugin"])
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "p.rpm").write_bytes(members(tmp_path / f"{NAME}.plugin.tar")[RPM])
    with rpmfile.open(tmp_path / "p.rpm") as rf:
        names = {n.decode() for n in rf.headers["requirename"]}
    facts = rpm_facts(tmp_path / "p.rpm")
    assert set(facts.requires) == {n for n in names if not n.startswith("rpmlib(")}
    assert "acme-agent" in facts.requires


@pytest.fixture(scope="module")
def image(made, tmp_path_factory) -> tuple[Path, Path]:
    """A Node image root: core files, then the bundled RPMs installed with the real rpm --root."""
    require_tools("rpm")
    root = tmp_path_factory.mktemp("image")
    (root / "etc").mkdir()
    shutil.copy("/etc/passwd", root / "etc/passwd")
    shutil.copy("/etc/group", root / "etc/group")
    (root / "etc/system-release").write_text("oVirt Node 3.6.2\n")
    manifest = subprocess.run(
        ["sh", "-c", "find ./etc -type f | sort | xargs sha256sum"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (root.parent / "image.sha256").write_text(manifest)
    rpm = root.parent / "plugin.rpm"
    rpm.write_bytes(members(made)[RPM])
    db = ["rpm", "--root", str(root), "--dbpath", "/var/lib/rpm"]
    subprocess.run([*db, "--initdb"], check=True)
    subprocess.run([*db, "-i", "--nodeps", "--noscripts", str(rpm)], check=True, capture_output=True)
    return root, root.parent / "image.sha256"


def test_root_verify_of_an_rpm_installed_image_passes(made, image):
    root, manifest = image
    proc = run("verify", str(made), "--root", str(root), "--image-manifest", str(manifest))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " in " + str(root) in proc.stdout and "ok" in proc.stdout.splitlines()[-1]


def test_root_verify_reports_changed_core_and_plugin_files(made, image, tmp_path):
    root, manifest = image
    copy = tmp_path / "root"
    shutil.copytree(root, copy, symlinks=True)
    (copy / "etc/system-release").write_text("tampered\n")
    hook = copy / "usr/libexec/ovirt-node/hooks/on-boot/90-acme-agent"
    hook.write_text(hook.read_text() + "# changed\n")
    proc = run("verify", str(made), "--root", str(copy), "--image-manifest", str(manifest), "--json")
    assert proc.returncode == 1
    (report,) = [r for r in json.loads(proc.stdout)["reports"] if " in " in r["subject"]]
    bad = {m["path"]: m for m in report["mismatches"]}
    assert set(bad) == {"/etc/system-release", "/usr/libexec/ovirt-node/hooks/on-boot/90-acme-agent"}
    assert bad["/etc/system-release"]["origin"] == "image manifest"
    assert bad["/usr/libexec/ovirt-node/hooks/on-boot/90-acme-agent"]["problems"] == ["digest"]


def test_root_verify_reads_nothing_through_a_symlink_out_of_the_root(made, image, tmp_path):
    root, _ = image
    copy = tmp_path / "root"
    shutil.copytree(root, copy, symlinks=True)
    hooks = copy / "usr/libexec/ovirt-node/hooks"
    shutil.copytree(hooks, tmp_path / "outside")  # the same content, but outside the image
    shutil.rmtree(hooks)
    hooks.symlink_to(tmp_path / "outside")
    proc = run("verify", str(made), "--root", str(copy), "--json")
    assert proc.returncode == 1
    (report,) = [r for r in json.loads(proc.stdout)["reports"] if " in " in r["subject"]]
    bad = {m["path"]: m["actual"] for m in report["mismatches"]}
    hook = "/usr/libexec/ovirt-node/hooks/on-boot/90-acme-agent"
    assert bad[hook] == {"type": "path through a symlink out of the root"}


def test_image_manifest_bad_line_is_a_located_error(made, image, tmp_path):
    root, _ = image
    bad = tmp_path / "m"
    bad.write_bytes(b"abc  /etc/passwd\n")
    proc = run("verify", str(made), "--root", str(root), "--image-manifest", str(bad))
    assert proc.returncode == 2 and "line 1 is not 'SHA256  PATH'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_manifest_render_parse_round_trip():
    from pkgtool.bundle.manifest import Manifest, ManifestFile, parse
    from pkgtool.errors import ArtifactError

    m = Manifest("p", "1.0", ("3.6.*",), (ManifestFile("rpms/a.rpm", 3, "0" * 64),))
    assert parse(m.render(), "x") == m
    bad = m.render().replace(b"file " + b"0" * 64, b"file " + b"0" * 63)
    with pytest.raises(ArtifactError, match="x: manifest line 5: not a 'file SHA256 SIZE PATH' line"):
        parse(bad, "x")


def test_every_command_docs_bundle_and_readme_show_runs(tmp_path):
    """docs/bundle.md's sh blocks, in order, in a scratch directory; README's bundle lines are among them."""
    require_tools("rpm")
    import re

    doc = (REPO / "docs/bundle.md").read_text()
    blocks = re.findall(r"^```sh\n(.*?)^```$", doc, flags=re.S | re.M)
    assert len(blocks) == 2
    shown = [line for block in blocks for line in block.splitlines()]
    readme = [
        line.split("  #")[0].strip()
        for line in (REPO / "README.md").read_text().splitlines()
        if line.startswith(("pkgtool bundle", "pkgtool verify dist/node"))
    ]
    assert len(readme) == 2 and set(readme) <= set(shown)
    (tmp_path / "examples").symlink_to(EXAMPLES)
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(blocks)],
        cwd=tmp_path,
        env={**ENV, "PATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("2 paths checked, ok") == 2  # verify, and verify --root checks the bundle first
    assert "in dist/image: 5 paths checked, ok" in proc.stdout


def _with_package_key(tmp_path: Path, line: str) -> Path:
    plugin = tmp_path / "plugin"
    shutil.copytree(EXAMPLES / "ovirt-node-plugin-acme", plugin)
    text = (plugin / "pkgtool.toml").read_text()
    (plugin / "pkgtool.toml").write_text(text.replace('kind = "node-plugin"\n', f'kind = "node-plugin"\n{line}\n', 1))
    return plugin


def test_node_kernel_args_become_the_bootloader_line(tmp_path):
    plugin = _with_package_key(tmp_path, 'node_kernel_args = "intel_iommu=on kvm.ignore_msrs=1"')
    proc = bundle(tmp_path / "out", "--compress", "none", src=plugin)
    assert proc.returncode == 0, proc.stderr
    recipe = members(tmp_path / "out" / f"{NAME}.plugin.tar")["recipe.ks"].decode().splitlines()
    assert recipe[3] == 'bootloader --append="intel_iommu=on kvm.ignore_msrs=1"'
    from pkgtool.bundle.recipe import render_recipe

    assert "bootloader" not in render_recipe("p", "1", ["p"], 2048).decode()  # no key, no line


def test_hostile_node_kernel_args_is_a_located_error(tmp_path):
    plugin = _with_package_key(tmp_path, 'node_kernel_args = "quiet\\"\\n%post\\nrm -rf /"')
    proc = bundle(tmp_path / "out", src=plugin)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "pkgtool.toml:17" in proc.stderr and "package.node_kernel_args" in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.damaged_rpms
def test_with_a_file_that_is_no_rpm_is_refused(tmp_path):
    (tmp_path / "fake.rpm").write_text("not an rpm\n" * 20)
    for given, message in (
        (REPO / "README.md", "not a binary .rpm file"),
        (tmp_path / "fake.rpm", "fake.rpm: not an RPM package (wrong magic"),
    ):
        proc = bundle(tmp_path / "out", "--with", str(given))
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
