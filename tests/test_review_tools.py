"""What reviewers' tools say about generated files: rpmlint on the spec and both rpms, lintian on the
debs and the source package, for a map with an epoch, a Debian section, a long description line and
no changelog (the entry pkgtool makes itself)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES
from tooling import require_tools

from pkgtool.formats.build import build
from pkgtool.formats.generate import generate
from pkgtool.project import resolve_dir

LONG = (
    "This line of the description is written as one long line on purpose, longer than the"
    " seventy-nine columns that rpmlint and Debian policy allow, so the writers must wrap it."
)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("review") / "libvirt-hook-acme"
    shutil.copytree(EXAMPLES / "libvirt-hook-acme", p)
    text = (p / "pkgtool.toml").read_text()
    text = text[: text.index("[[changelog]]")]  # no changelog: pkgtool writes the entry
    text = text.replace('kind = "libvirt-hook"\n', 'kind = "libvirt-hook"\nepoch = 2\nsection = "admin"\n')
    text = text.replace("of a QEMU guest is written", LONG + "\nof a QEMU guest is written")
    (p / "pkgtool.toml").write_text(text)
    return p


def _tags(output: str) -> set[str]:
    return set(re.findall(r"^\S+: [EWI]: (\S+)", output, re.M))


def test_rpmlint_on_spec_and_rpms(project, tmp_path):
    require_tools("rpmlint", "rpmbuild")
    r = resolve_dir(project, "fedora", 1736121600)
    gen = tmp_path / "gen"
    generate(r, gen)
    spec = (gen / "libvirt-hook-acme.spec").read_text()
    assert "Packager:" not in spec and "Group:" not in spec
    assert "- 2:0.3.1-1\n" in spec  # the changelog names the epoch
    assert max(len(line) for line in spec[spec.index("%description") :].split("\n%prep")[0].splitlines()) <= 79
    rpms = [a.path for backend in ("native", "system") for a in build(r, tmp_path / backend, backend)]
    rpms = [Path(p) for p in rpms if str(p).endswith(".noarch.rpm")]
    assert len(rpms) == 2
    proc = subprocess.run(
        [
            "rpmlint",
            "-c",
            str(gen / "libvirt-hook-acme-rpmlint.toml"),
            "-r",
            str(gen / "libvirt-hook-acme.rpmlintrc"),
            str(gen / "libvirt-hook-acme.spec"),
            *map(str, rpms),
        ],
        capture_output=True,
        text=True,
    )
    tags = _tags(proc.stdout)
    flagged = {"hardcoded-packager-tag", "incoherent-version-in-changelog", "description-line-too-long"}
    assert tags & flagged == set(), proc.stdout


def test_lintian_and_debian_files(project, tmp_path):
    require_tools("lintian", "dpkg-buildpackage")
    r = resolve_dir(project, "debian", 1736121600)
    outs = [Path(a.path) for a in build(r, tmp_path / "sys", "system")]
    outs += [Path(a.path) for a in build(r, tmp_path / "nat", "native")]
    paths = [p for p in outs if p.suffix in (".deb", ".dsc")]
    proc = subprocess.run(["lintian", "--no-cfg", *map(str, paths)], capture_output=True, text=True)
    assert "custom-compression-in-debian-rules" not in proc.stdout, proc.stdout
    assert not [line for line in proc.stdout.splitlines() if line.startswith("E:")], proc.stdout


def test_copyright_year_comes_from_source_date_epoch(project, tmp_path):
    for epoch, want in ((None, "Copyright: Acme"), (1736121600, "Copyright: 2025 ")):
        out = tmp_path / str(epoch)
        generate(resolve_dir(project, "debian", epoch), out)
        text = next(out.rglob("debian/copyright")).read_text()
        line = next(x for x in text.splitlines() if x.startswith("Copyright:"))
        assert "2000" not in line
        assert line.startswith(want) or (epoch is None and re.fullmatch(r"Copyright: \D.*", line)), line


def test_ubuntu_changelog_names_its_release(project, tmp_path):
    generate(resolve_dir(project, "ubuntu", 1736121600), tmp_path)
    first = next(tmp_path.rglob("debian/changelog")).read_text().splitlines()[0]
    assert first.startswith("libvirt-hook-acme (2:0.3.1-1) noble;"), first
