"""`pkgtool source`: native .src.rpm and .dsc source packages, held against the real tools.

rpmbuild --rebuild of the .src.rpm and dpkg-source -x + dpkg-buildpackage -b of the .dsc must
build packages `pkgtool verify` accepts; the .src.rpm is compared with what rpmbuild -bs
writes for the same spec; the files are byte-identical from the same input.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from debian import deb822
from subpkg_map import write_project
from tooling import require_tools
from typer.testing import CliRunner

from pkgtool.cli import app
from pkgtool.formats.rpm import header as rh
from pkgtool.formats.rpm.reader import is_source_rpm, read_header

pytestmark = pytest.mark.tools

REPO = Path(__file__).resolve().parent.parent
EPOCH = 1736121600
RUNNER = CliRunner()


def pkgtool(*args: str) -> tuple[int, str]:
    res = RUNNER.invoke(app, list(args), env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit), res.exception
    out = (res.stdout or "") + (res.stderr or "")
    assert "Traceback" not in out, out
    return res.exit_code, out


def run(*cmd: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH))
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("source-projects")
    return {"convirt": REPO / "examples" / "convirt", "subpkg": write_project(base / "subpkg")}


@pytest.fixture(scope="module")
def sources(projects, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """(project, distro) -> the out directory `pkgtool source` wrote."""
    base = tmp_path_factory.mktemp("source-out")
    out = {}
    for name, project in projects.items():
        for distro in ("el9", "debian", "ubuntu"):
            dest = base / name / distro
            code, text = pkgtool("source", str(project), "--distro", distro, "--out", str(dest))
            assert code == 0, text
            out[name, distro] = dest
    return out


def one(directory: Path, suffix: str) -> Path:
    found = sorted(directory.glob(f"*{suffix}"))
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- RPM


@pytest.mark.parametrize("name", ["convirt", "subpkg"])
def test_srpm_rebuilds_into_packages_verify_accepts(name, projects, sources, tmp_path):
    require_tools("rpmbuild", "rpm")
    srpm = one(sources[name, "el9"], ".src.rpm")
    run("rpmbuild", "--rebuild", "--define", f"_topdir {tmp_path}", "--define", "dist .el9", str(srpm))
    rpms = sorted((tmp_path / "RPMS").rglob("*.rpm"))
    expected = {"convirt": 1, "subpkg": 3}[name]
    assert len(rpms) == expected, rpms
    code, text = pkgtool("verify", str(projects[name]), *map(str, rpms), "--distro", "el9")
    assert code == 0, text
    assert text.count(", ok") == expected, text


def test_srpm_is_what_rpm_reads_as_a_source_package(sources):
    require_tools("rpm")
    srpm = one(sources["convirt", "el9"], ".src.rpm")
    assert srpm.name == "convirt-0.9.0-1.el9.src.rpm"
    info = run("rpm", "-qip", str(srpm)).stdout
    assert "Source RPM  : (none)" in info
    assert "Architecture: noarch" in info
    assert "digests OK" in run("rpm", "-K", "--nosignature", str(srpm)).stdout
    files = run("rpm", "-qlp", str(srpm)).stdout.split()
    assert files == ["0001-paramiko-channel-timeout.patch", "convirt-0.9.0.tar.zst", "convirt.spec"]
    assert is_source_rpm(srpm)


def test_srpm_matches_rpmbuild_bs(sources, tmp_path):
    """The tags that make a source package, file modes, owners and flags: as rpmbuild -bs writes them."""
    require_tools("rpmbuild")
    native = read_header(one(sources["convirt", "el9"], ".src.rpm"))
    code, text = pkgtool(
        "generate", str(REPO / "examples" / "convirt"), "--distro", "el9", "--out", str(tmp_path / "g")
    )
    assert code == 0, text
    run(
        "rpmbuild", "-bs", "--define", f"_topdir {tmp_path}", "--define", f"_sourcedir {tmp_path / 'g'}",
        "--define", "dist .el9", str(tmp_path / "g" / "convirt.spec"),
    )  # fmt: skip
    system = read_header(one(tmp_path / "SRPMS", ".src.rpm"))
    for tag in (
        rh.NAME, rh.VERSION, rh.RELEASE, rh.ARCH, rh.BASENAMES, rh.DIRNAMES, rh.FILEMODES, rh.FILEUSERNAME,
        rh.FILEGROUPNAME, rh.FILEFLAGS, rh.FILESIZES, rh.FILEDIGESTS, rh.SOURCE, rh.PATCH, rh.BUILDARCHS,
        rh.SOURCEPACKAGE, rh.REQUIRENAME, rh.PROVIDENAME, rh.FILEDIGESTALGO, rh.CHANGELOGTEXT,
    ):  # fmt: skip
        assert native.tags.get(tag) == system.tags.get(tag), tag
    assert rh.SOURCERPM not in native.tags and rh.SOURCERPM not in system.tags
    # rpmlint finds the same in both (what the spec and the sources carry), no error in ours.
    require_tools("rpmlint")
    findings = []
    for srpm in (one(sources["convirt", "el9"], ".src.rpm"), one(tmp_path / "SRPMS", ".src.rpm")):
        proc = subprocess.run(
            ["rpmlint", "-c", str(tmp_path / "g" / "convirt-rpmlint.toml"), str(srpm)], capture_output=True, text=True
        )
        findings.append({line for line in proc.stdout.splitlines() if ": W: " in line or ": E: " in line})
    assert findings[0] == findings[1] and not any(": E: " in line for line in findings[0]), findings


def test_inspect_lists_a_source_rpm(sources):
    code, text = pkgtool("inspect", str(one(sources["convirt", "el9"], ".src.rpm")))
    assert code == 0, text
    assert "convirt.spec" in text and "0644 root:root" in text


def test_verify_refuses_a_source_rpm_with_a_clear_message(projects, sources):
    code, text = pkgtool("verify", str(projects["convirt"]), str(one(sources["convirt", "el9"], ".src.rpm")))
    assert code == 2, text
    assert "a source package (.src.rpm); verify the binary .rpm built from it" in text


# ---------------------------------------------------------------- Debian


@pytest.mark.parametrize("name", ["convirt", "subpkg"])
def test_dsc_unpacks_and_builds_packages_verify_accepts(name, projects, sources, tmp_path):
    require_tools("dpkg-source", "dpkg-buildpackage", "dh")
    dsc = one(sources[name, "debian"], ".dsc")
    run("dpkg-source", "-x", str(dsc), "src", cwd=tmp_path)
    run("dpkg-buildpackage", "-b", "-us", "-uc", cwd=tmp_path / "src")
    debs = sorted(tmp_path.glob("*.deb"))
    expected = {"convirt": 1, "subpkg": 3}[name]
    assert len(debs) == expected, debs
    code, text = pkgtool("verify", str(projects[name]), *map(str, debs), "--distro", "debian")
    assert code == 0, text


def test_dsc_and_changes_match_dpkg_source_and_genchanges(sources, tmp_path):
    """dpkg-buildpackage -S on the unpacked tree writes the same .dsc fields and .changes fields as pkgtool."""
    require_tools("dpkg-source", "dpkg-buildpackage")
    out = sources["subpkg", "ubuntu"]
    dsc = one(out, ".dsc")
    shutil.copy(one(out, ".orig.tar.gz"), tmp_path)
    run("dpkg-source", "-x", str(dsc), "src", cwd=tmp_path)
    run("dpkg-buildpackage", "-S", "-us", "-uc", "-d", cwd=tmp_path / "src")
    ours, theirs = (deb822.Deb822(p.read_text()) for p in (dsc, one(tmp_path, ".dsc")))
    assert list(ours) == list(theirs)
    checksums = ("Checksums-Sha1", "Checksums-Sha256", "Files")
    for key in ours:
        if key not in checksums:
            assert ours[key] == theirs[key], key
    # The debian tarball's bytes differ (dpkg-source names no owner: --numeric-owner), not its files.
    orig = ("acme-hooks_1.2.orig.tar.gz",)
    assert [line.split()[-1] for line in ours["Files"].split("\n")[1:]] == [*orig, "acme-hooks_1.2-3.debian.tar.xz"]
    assert ours["Files"].split("\n")[1] == theirs["Files"].split("\n")[1]  # the same orig tarball
    with tarfile.open(one(out, ".debian.tar.xz")) as a, tarfile.open(one(tmp_path, ".debian.tar.xz")) as b:
        assert [(m.name, m.mode, m.uid, m.mtime, m.size) for m in a] == [
            (m.name, m.mode, m.uid, m.mtime, m.size) for m in b
        ]
    ours, theirs = (
        deb822.Deb822(p.read_text()) for p in (one(out, "_source.changes"), one(tmp_path, "_source.changes"))
    )
    assert set(ours) == set(theirs)
    for key in (
        "Format",
        "Source",
        "Architecture",
        "Version",
        "Distribution",
        "Urgency",
        "Maintainer",
        "Changed-By",
        "Changes",
    ):
        assert ours[key] == theirs[key], key


def test_dscverify_validates_the_checksums(sources):
    require_tools("dscverify")
    changes = one(sources["convirt", "debian"], "_source.changes")
    out = run("dscverify", "--no-sig-check", str(changes)).stdout
    assert "All files validated successfully" in out


def test_orig_tarball_is_the_one_generate_writes(projects, sources, tmp_path):
    code, text = pkgtool("generate", str(projects["convirt"]), "--distro", "debian", "--out", str(tmp_path))
    assert code == 0, text
    orig = "convirt_0.9.0.orig.tar.gz"
    assert (tmp_path / orig).read_bytes() == (sources["convirt", "debian"] / orig).read_bytes()


@pytest.mark.parametrize(("distro", "distribution"), [("debian", "unstable"), ("ubuntu", "noble")])
def test_changes_names_the_profiles_distribution(distro, distribution, sources, tmp_path):
    out = sources["subpkg", distro]
    changes = deb822.Changes(one(out, "_source.changes").read_text())
    assert changes["Distribution"] == distribution
    assert changes["Format"] == "1.8" and changes["Architecture"] == "source"
    assert changes["Date"] == "Mon, 06 Jan 2025 00:00:00 +0000"  # SOURCE_DATE_EPOCH
    assert "Binary" not in changes  # as dpkg-genchanges -S writes a source-only upload
    # debian/changelog, from the same profile key, says the same.
    with tarfile.open(one(out, ".debian.tar.xz")) as tar:
        changelog = tar.extractfile("debian/changelog").read().decode()
    assert changelog.split("\n", 1)[0].split(") ", 1)[1].startswith(f"{distribution};")
    dsc = deb822.Deb822(one(out, ".dsc").read_text())
    assert dsc["Format"] == "3.0 (quilt)"
    assert [line.strip() for line in dsc["Package-List"].split("\n")[1:]] == [
        "acme-hooks deb misc optional arch=all",
        "acme-hooks-helper deb misc optional arch=all",
        "acme-hooks-net deb misc optional arch=all",
    ]


def test_debian_tarball_is_sorted_and_root_owned_at_the_epoch(sources):

    with tarfile.open(one(sources["convirt", "debian"], ".debian.tar.xz")) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names, key=str.encode) and names[0] == "debian"
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "root", "root", EPOCH)}


# ---------------------------------------------------------------- both


def test_byte_identical_twice(projects, tmp_path):
    for n in ("a", "b"):
        for distro in ("el9", "debian"):
            code, text = pkgtool("source", str(projects["subpkg"]), "-d", distro, "-o", str(tmp_path / n / distro))
            assert code == 0, text
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 5, files  # the .src.rpm; .dsc, two tarballs, .changes
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_json_report_lists_the_files(projects, tmp_path):
    import json

    code, text = pkgtool("source", str(projects["convirt"]), "-d", "debian", "-o", str(tmp_path), "--json")
    assert code == 0, text
    doc = json.loads(text)
    assert [a["format"] for a in doc["artifacts"]] == ["dsc", "tar", "tar", "changes"]
    assert [p.name for p in sorted(tmp_path.iterdir())] == sorted(Path(a["path"]).name for a in doc["artifacts"])


def test_a_source_outside_the_tree_is_refused_and_nothing_written(tmp_path):
    project = write_project(tmp_path / "p")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n")
    (project / "src" / "acme.conf").unlink()
    (project / "src" / "acme.conf").symlink_to(outside)
    for distro in ("el9", "debian"):
        code, text = pkgtool("source", str(project), "-d", distro, "-o", str(tmp_path / "out" / distro))
        assert code == 2, text
        assert "pkgtool.toml" in text and "symlink" in text, text
        assert not any((tmp_path / "out").rglob("*.*")), list((tmp_path / "out").rglob("*"))


def test_seam_declares_source_package():
    from pkgtool.formats import all_formats

    assert all("source_package" in type(f).__dict__ for f in all_formats())


def test_a_bad_name_in_the_map_is_a_located_error_and_nothing_written(tmp_path):
    from subpkg_map import MAP

    project = write_project(tmp_path / "p", MAP.replace('name = "acme-hooks"', 'name = "../acme-hooks"', 1))
    code, text = pkgtool("source", str(project), "-d", "el9", "-o", str(tmp_path / "out"))
    assert code == 2, text
    assert "pkgtool.toml:4" in text and "package.name" in text, text
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(("key", "value"), [("version", "1/../../x"), ("release", ".."), ("name", "a..b")])
def test_names_that_would_leave_out_are_refused_before_writing(key, value, projects, tmp_path):
    import dataclasses

    from pkgtool.errors import ArtifactError
    from pkgtool.formats.source import source_package
    from pkgtool.project import resolve_dir

    r = resolve_dir(projects["subpkg"], "debian", source_date_epoch=EPOCH)
    layout = dataclasses.replace(r.layout, package=dataclasses.replace(r.package, **{key: value}))
    bad = dataclasses.replace(r, layout=layout)
    assert getattr(bad.package, key) == value
    with pytest.raises(ArtifactError, match=f"package.{key}"):
        source_package(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the docs' commands


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", text, flags=re.S | re.M)


def section(path: str, heading: str) -> str:
    lines = (REPO / path).read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    # To the next heading of the same or a higher level ("## " ends a "### " section too), outside fences.
    level, fenced, end = len(heading.split(" ", 1)[0]), False, len(lines)
    for i in range(start + 1, len(lines)):
        fenced ^= lines[i].startswith("```")
        if not fenced and re.match(rf"#{{1,{level}}} ", lines[i]):
            end = i
            break
    return "".join(lines[start:end])


def run_blocks(blocks: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(REPO / "examples")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "PATH": path, "SOURCE_DATE_EPOCH": str(EPOCH)}
    script = "\n".join(blocks)
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_docs_rpm_source_commands_run(tmp_path):
    require_tools("rpm", "rpmbuild")
    text = section("docs/rpm.md", "## The source RPM")
    assert "<!-- not run: tests/test_source_packages.py runs this block" in text  # not the generic docs runner
    (block,) = sh_blocks(text)
    proc = run_blocks([block], tmp_path)
    assert "Source RPM  : (none)" in proc.stdout and "digests OK" in proc.stdout
    assert "27 paths checked, ok" in proc.stdout


def test_docs_debian_source_commands_run(tmp_path):
    require_tools("dscverify", "dpkg-source", "dpkg-buildpackage", "dh")
    text = section("docs/debian.md", "## `pkgtool source --distro debian`")
    assert "<!-- not run: tests/test_source_packages.py runs this block" in text
    (block,) = sh_blocks(text)
    proc = run_blocks([block], tmp_path)
    assert "All files validated successfully" in proc.stdout
    assert "paths checked, ok" in proc.stdout


def test_readme_at_scale_commands_run_and_the_service_ones_are_marked_not_run(tmp_path):
    text = section("README.md", "### Building for many distros at scale")
    block, shown, *others = sh_blocks(text)  # then the OBS and CI exports (tests/test_docs_commands.py)
    assert "pkgtool source" in block
    assert not re.search(r"copr-cli|dput|debsign", block)
    # The build-service block needs an account: marked the way the docs mark a block left out.
    marked = re.search(r"<!-- not run: ([^>]*) -->\n```sh\n(.*?)^```$", text, flags=re.S | re.M)
    assert marked and marked.group(2) == shown and "account" in marked.group(1)
    assert "copr-cli build PROJECT out/fedora/*.src.rpm" in shown
    assert "dput ppa:USER/PPA out/ubuntu/*_source.changes" in shown and "debsign" in shown
    run_blocks([block], tmp_path)
    out = tmp_path / "work" / "out"
    assert (out / "fedora" / "convirt-0.9.0-1.fc40.src.rpm").is_file()
    changes = deb822.Deb822((out / "ubuntu" / "convirt_0.9.0-1_source.changes").read_text())
    assert changes["Distribution"] == "noble"
    assert sorted(p.name for p in out.iterdir()) == ["debian", "el9", "fedora", "ubuntu"]


@pytest.mark.damaged_rpms
def test_flat_names_pass_only_in_a_real_source_package(sources, tmp_path):
    """A binary package (lead type 0) whose header claims SOURCEPACKAGE still may not hold names outside /."""
    from pkgtool.errors import ArtifactError
    from pkgtool.formats.read import read_artifact

    data = bytearray(one(sources["convirt", "el9"], ".src.rpm").read_bytes())
    assert data[6:8] == b"\0\1"
    data[6:8] = b"\0\0"
    forged = tmp_path / "forged.rpm"
    forged.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="leaves the package root"):
        read_artifact(forged)


def test_srpm_large_file_format(projects, tmp_path, monkeypatch):
    """A source of 4 GiB or more switches to LONGFILESIZES and rpm's stripped cpio; shown with a 1 KB threshold."""
    require_tools("rpm", "rpmbuild")
    from pkgtool.formats.rpm import payload as rpm_payload
    from pkgtool.formats.rpm.srpm import write_srpm
    from pkgtool.project import resolve_dir

    monkeypatch.setattr(rpm_payload, "MAX_NEWC_SIZE", 1000)
    srpm = write_srpm(resolve_dir(projects["convirt"], "el9", source_date_epoch=EPOCH), tmp_path / "out")
    header = read_header(srpm)
    assert rh.LONGFILESIZES in header.tags and rh.FILESIZES not in header.tags
    assert "rpmlib(LargeFiles) <= 4.12.0-1" in run("rpm", "-qp", "--requires", str(srpm)).stdout
    assert "digests OK" in run("rpm", "-K", "--nosignature", str(srpm)).stdout
    run("rpmbuild", "--rebuild", "--define", f"_topdir {tmp_path / 'top'}", str(srpm))
    assert len(list((tmp_path / "top" / "RPMS").rglob("*.rpm"))) == 1
