"""Code that reaches a spec, a profile or a control file: it arrives literally and runs nothing.

Each test builds with the real tools where the injection would run
(rpmbuild, rpmspec) and then checks the marker files and the literal text.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hostile_harness import CASES, check_run, clear_markers, cli, markers
from tooling import require_tools


def _copy_case(name: str, tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(CASES / name, project, ignore=shutil.ignore_patterns("case.toml"))
    return project


def _rpm_scripts(rpm: Path) -> str:
    proc = subprocess.run(["rpm", "-qp", "--scripts", str(rpm)], capture_output=True, text=True, check=True)
    return proc.stdout


def test_script_lines_that_name_spec_sections_reach_the_system_rpm_literally(tmp_path: Path, monkeypatch):
    require_tools("rpmbuild", "rpm")
    clear_markers()
    monkeypatch.chdir(tmp_path)
    project = _copy_case("53-script-spec-sections", tmp_path)
    out = tmp_path / "out"
    check_run(cli(["build", str(project), "-d", "fedora", "-o", str(out), "--backend", "system"]), exit_code=0)
    assert markers() == [], f"rpmbuild ran a script line: {markers()}"
    rpm = next(p for p in out.glob("*.rpm") if not p.name.endswith(".src.rpm"))
    scripts = _rpm_scripts(rpm)
    post = (project / "post.sh").read_text()
    preun = (project / "preun.sh").read_text()
    assert post in scripts, scripts
    assert preun in scripts, scripts
    # The native build carries the same scriptlets.
    native = tmp_path / "native"
    check_run(cli(["build", str(project), "-d", "fedora", "-o", str(native)]), exit_code=0)
    assert _rpm_scripts(next(native.glob("*.rpm"))) == scripts
    assert markers() == []


def test_long_line_of_a_script_read_through_a_file_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    project = _copy_case("53-script-spec-sections", tmp_path)
    # 8191-byte chunks: a '%%' cut in two would let '%(...)' expand.
    (project / "post.sh").write_text("%check\n" + "a" * 8190 + "%(touch /tmp/pkgtool-pwned-53z)\n")
    run = cli(["generate", str(project), "-d", "fedora", "-o", str(tmp_path / "gen")])
    check_run(run, exit_code=2, contains=["[scripts]", "longer than 8190 bytes"])
    assert markers() == []


# A project's own distros/*.toml: one bad value each, the key path and line it is on.
HOSTILE_PROFILES = {
    "dist-tag-shell": ("fedora", 'dist_tag = ".fc40%(touch /tmp/pkgtool-pwned-55a)"\n', "dist_tag"),
    "dist-tag-space": ("fedora", 'dist_tag = ".fc40 --define x"\n', "dist_tag"),
    "macro-shell": ("fedora", '[rpm_macros]\nbindir = "%(touch /tmp/pkgtool-pwned-55b)"\n', "rpm_macros.bindir"),
    "macro-lua": (
        "fedora",
        "[rpm_macros]\ndatadir = \"%{lua:os.execute('touch /tmp/pkgtool-pwned-55c')}\"\n",
        "rpm_macros.datadir",
    ),
    "macro-args": (
        "fedora",
        '[rpm_macros]\ndatadir = "%{expand:%%(touch /tmp/pkgtool-pwned-55d)}"\n',
        "rpm_macros.datadir",
    ),
    "dir-newline": (
        "fedora",
        '[dirs]\ndatadir = "/usr/share\\n%post\\ntouch /tmp/pkgtool-pwned-55e"\n',
        "dirs.datadir",
    ),
    "dir-percent": ("fedora", '[dirs]\nbindir = "/usr/%(touch /tmp/pkgtool-pwned-55f)"\n', "dirs.bindir"),
    "standards-newline": ("debian", 'standards_version = "4.6.2\\nPre-Depends: evil"\n', "standards_version"),
    "name-comma": ("debian", '[names]\npython3 = "python3, evil"\n', "names.python3"),
    "changelog-distribution": (
        "debian",
        '[extra]\nchangelog_distribution = "unstable; urgency=high\\n\\nevil"\n',
        "extra.changelog_distribution",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_PROFILES))
def test_project_profile_values_are_validated_by_type(case: str, tmp_path: Path, monkeypatch):
    clear_markers()
    monkeypatch.chdir(tmp_path)
    distro, text, key = HOSTILE_PROFILES[case]
    project = _copy_case("41-script-macros-and-heredoc", tmp_path)
    (project / "distros").mkdir()
    (project / "distros" / f"{distro}.toml").write_text("# a project's own layer\n" + text)
    line = 2 + text.split("\n").index(next(x for x in text.split("\n") if x.startswith(key.split(".")[-1])))
    where = f"distros/{distro}.toml:{line}: {key}"
    out = tmp_path / "out"
    for args in (["generate", "-o", str(out)], ["build", "-o", str(out)], ["lint"]):
        run = cli([args[0], str(project), "-d", distro, *args[1:]])
        check_run(run, exit_code=2, contains=[where])
    assert not out.exists() or list(out.rglob("*")) == []
    assert markers() == []


def test_rpmlintrc_quotes_file_names_for_python_and_for_rpmlint_2(tmp_path: Path):
    project = _copy_case("41-script-macros-and-heredoc", tmp_path)
    name = "a\"b'c\\d"
    (project / "q.txt").write_text("q\n")
    with open(project / "pkgtool.toml", "a") as fh:
        fh.write(f'\n[[file]]\nsrc = "q.txt"\ndst = {json.dumps("/usr/share/hostile/" + name)}\nmode = "0600"\n')
    gen = tmp_path / "gen"
    check_run(cli(["generate", str(project), "-d", "fedora", "-o", str(gen)]), exit_code=0)
    text = (gen / "hostile.rpmlintrc").read_text()
    compile(text, "hostile.rpmlintrc", "exec")  # rpmlint 1 executes the file
    rpmlint2 = re.compile(r"^\s*addFilter\s*\(\s*r?[\"\'](.*)[\"\']\s*\)")  # how rpmlint 2 reads a line
    lines = [x for x in text.splitlines() if x.startswith("addFilter")]
    assert lines
    for line in lines:
        as_python = ast.literal_eval(line[len("addFilter(") : -1])
        assert as_python == rpmlint2.match(line).group(1)
    finding = f"hostile.noarch: E: non-readable /usr/share/hostile/{name} 600"
    assert any(re.search(rpmlint2.match(x).group(1), finding) for x in lines), text


@pytest.mark.parametrize(
    "section", ["admin${IFS}x", "admin utils", "net\nPre-Depends: evil", "${misc:Depends}", "a/b/c"]
)
def test_section_must_be_one_debian_word(section: str, tmp_path: Path, monkeypatch):
    """dpkg-genchanges writes the section as one word of the .changes Files line."""
    monkeypatch.chdir(tmp_path)
    project = _copy_case("41-script-macros-and-heredoc", tmp_path)
    text = (project / "pkgtool.toml").read_text()
    (project / "pkgtool.toml").write_text(
        text.replace('license = "MIT"\n', f'license = "MIT"\nsection = {json.dumps(section)}\n')
    )
    out = tmp_path / "out"
    run = cli(["build", str(project), "-d", "debian", "-o", str(out), "--backend", "system"])
    check_run(run, exit_code=2, contains=["pkgtool.toml:9: package.section", "[bad-value]"])
    assert not out.exists() or list(out.rglob("*")) == []


def test_debian_and_rpm_sections_still_load(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    project = _copy_case("41-script-macros-and-heredoc", tmp_path)
    text = (project / "pkgtool.toml").read_text()
    for section in ("admin", "contrib/net", "Applications/System"):
        (project / "pkgtool.toml").write_text(
            text.replace('license = "MIT"\n', f'license = "MIT"\nsection = "{section}"\n')
        )
        check_run(
            cli(["generate", str(project), "-d", "debian", "-o", str(tmp_path / section.replace("/", "_"))]),
            exit_code=0,
        )
