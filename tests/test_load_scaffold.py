"""pkgtool init: every kind's scaffold loads, resolves and lints cleanly, and never overwrites."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pkgtool.errors import UsageError
from pkgtool.layout.load import load_layout
from pkgtool.model import PLUGIN_KINDS
from pkgtool.scaffold import default_name, init_project


@pytest.mark.parametrize("kind", PLUGIN_KINDS)
def test_scaffold_loads_cleanly(tmp_path: Path, kind: str):
    project = tmp_path / "acme"
    written = init_project(project, kind)
    assert written[0] == project / "pkgtool.toml" and len(written) >= 2
    assert all(p.is_file() for p in written)
    layout = load_layout(project)
    assert layout.package.kind == kind
    assert layout.package.name == ("vdsm-hook-acme" if kind == "vdsm-hook" else "acme")
    # Every source the map names exists, and scripts with a shebang are executable.
    for spec in (*layout.files, *layout.trees):
        assert (project / spec.src).exists(), spec.src
    for path in written[1:]:
        assert bool(os.stat(path).st_mode & 0o111) == path.read_text().startswith("#!"), path
    assert "# [[attr]]" in written[0].read_text()  # the commented reference is there


@pytest.mark.parametrize("kind", PLUGIN_KINDS)
def test_scaffold_resolves_and_lints_without_errors(tmp_path: Path, kind: str):
    from pkgtool.lint import lint

    project = tmp_path / "acme"
    init_project(project, kind, name="acme-thing")
    report = lint(project, ["fedora", "debian"])
    # Only the maintainer is left for the author to fill in, and lint says so.
    errors = {d.rule for d in report.findings if d.severity.value == "error"}
    assert errors == {"placeholder-maintainer"}, "\n".join(d.to_text() for d in report.findings)
    text = (project / "pkgtool.toml").read_text()
    (project / "pkgtool.toml").write_text(text.replace("Your Name <you@example.org>", "Jo Doe <jo@example.net>"))
    report = lint(project, ["fedora", "debian"])
    assert report.ok, "\n".join(d.to_text() for d in report.findings)


def test_scaffold_refuses_to_overwrite(tmp_path: Path):
    (tmp_path / "pkgtool.toml").write_text("mine\n")
    with pytest.raises(UsageError, match="already exists"):
        init_project(tmp_path, "app")
    assert (tmp_path / "pkgtool.toml").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkgtool.toml"]


def test_scaffold_keeps_existing_sources(tmp_path: Path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "demo").write_text("#!/bin/sh\necho mine\n")
    written = init_project(tmp_path, "app", name="demo")
    # A tree with files is taken in as it is (test_init_existing.py): the map lists them, no sample is added.
    assert written == [tmp_path / "pkgtool.toml"]
    assert (tmp_path / "bin" / "demo").read_text() == "#!/bin/sh\necho mine\n"
    assert not (tmp_path / "etc").exists() and 'src = "bin/demo"' in written[0].read_text()


@pytest.mark.parametrize(("kind", "name"), [("no-such-kind", None), ("app", "Bad Name"), ("app", "-x")])
def test_scaffold_rejects_bad_input(tmp_path: Path, kind: str, name: str | None):
    with pytest.raises(UsageError):
        init_project(tmp_path, kind, name=name)
    assert not (tmp_path / "pkgtool.toml").exists()


def test_default_name():
    assert default_name(Path("/x/My Project_2"), "app") == "my-project-2"
    assert default_name(Path("/x/acme"), "vdsm-hook") == "vdsm-hook-acme"
    assert default_name(Path("/x/vdsm-hook-acme"), "vdsm-hook") == "vdsm-hook-acme"
    assert default_name(Path("/x/__"), "app") == "example"
