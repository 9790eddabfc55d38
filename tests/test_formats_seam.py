"""The seam between the stages and the formats: one registered PackageFormat per family, used by name nowhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES

from pkgtool.errors import ArtifactError, UsageError
from pkgtool.formats import BuildOptions, all_formats, backends, base, format_for
from pkgtool.formats.build import build
from pkgtool.formats.deb import DebFormat
from pkgtool.formats.generate import generate
from pkgtool.formats.read import read_artifact
from pkgtool.model import Family
from pkgtool.project import resolve_dir

EPOCH = 1736121600
PKG = Path(__file__).resolve().parent.parent / "pkgtool"


def test_every_family_has_its_format_registered_in_listing_order():
    assert [f.family for f in all_formats()] == [Family.RPM, Family.DEB]
    assert {format_for(family).family for family in Family} == set(Family)
    assert [f.suffix for f in all_formats()] == [".rpm", ".deb"]
    assert backends() == ("native", "system")
    for fmt in all_formats():
        assert list(fmt.builders()) == ["native", "system"]


class _Toy(DebFormat):
    """A format that writes a text file: enough to see that the stages only go through the seam."""

    def builders(self):
        return {"toy": self._toy}

    @staticmethod
    def _toy(resolved, out_dir: Path, options: BuildOptions) -> list[Path]:
        out = out_dir / f"{resolved.package.name}.toy"
        out.write_text(f"timeout={options.timeout}\n")
        return [out]

    def generate(self, resolved, out_dir: Path) -> list[Path]:
        out = out_dir / "toy.src"
        out.write_text(resolved.package.name)
        return [out]

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"timeout=")

    def read(self, path: Path, *, binary_only: bool = False):
        raise ArtifactError(f"{path}: a toy, read by the toy format")


@pytest.fixture
def toy(monkeypatch):
    fmt = _Toy()
    monkeypatch.setitem(base._FORMATS, Family.DEB, fmt)
    return fmt


def test_build_generate_and_read_go_through_the_registered_format(toy, tmp_path):
    r = resolve_dir(EXAMPLES / "convirt", "debian", source_date_epoch=EPOCH)
    (art,) = build(r, tmp_path / "b", backend="toy", timeout=7)
    assert art.backend == "toy" and Path(art.path).read_text() == "timeout=7\n"
    assert generate(r, tmp_path / "g") == [tmp_path / "g" / "toy.src"]
    with pytest.raises(ArtifactError, match="read by the toy format"):
        read_artifact(art.path)
    # the toy offers no 'system'; rpm still does, so it is a known backend that does not fit
    with pytest.raises(UsageError, match=r"backend 'system' does not build deb packages \(debian\)"):
        build(r, tmp_path / "b", backend="system")
    with pytest.raises(UsageError, match="unknown backend 'fast'; choose one of: native, system, toy"):
        build(r, tmp_path / "b", backend="fast")


@pytest.mark.damaged_rpms  # a .rpm that is not one, on purpose
def test_unknown_magic_names_every_format(tmp_path):
    p = tmp_path / "x.rpm"
    p.write_bytes(b"PK\x03\x04 not a package")
    with pytest.raises(ArtifactError, match=r"not an \.rpm or \.deb package \(unknown magic bytes 504b0304"):
        read_artifact(p)


def test_registering_the_formats_imports_none_of_their_work():
    code = (
        "import sys, pkgtool.formats; "
        "print(' '.join(m for m in sys.modules if m.startswith(('pkgtool.formats.', 'jinja2', 'zstandard'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert sorted(out.split()) == ["pkgtool.formats.base", "pkgtool.formats.deb", "pkgtool.formats.rpm"]


def test_the_stages_never_branch_on_a_family():
    stages = [PKG / "cli.py", PKG / "parallel.py", *sorted((PKG / "verify").glob("*.py"))]
    stages += [PKG / "formats" / n for n in ("build.py", "generate.py", "read.py")]
    found = [
        f"{p.name}:{n}"
        for p in stages
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"Family\.|\"(rpm|deb)\"", line)
    ]
    assert found == []
