"""Each lint rule fires on a tiny map, with its severity, deployed path, key path and line; the registry is complete."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLE_NAMES, EXAMPLES, REPO
from lint_cases import CASES, SH, Case, marker_line, write_project

from pkgtool.diagnostics import Severity
from pkgtool.errors import UsageError
from pkgtool.lint import lint_project
from pkgtool.lint.registry import RULES, explain, known_rule_ids, lint_rule_ids, render_markdown
from pkgtool.lint.rule import STAGE_FAMILIES

# Ids of the loader and resolve, each with a map that makes the stage report it (through lint_project).
_BASE = Case("", "", "")
STAGE_CASES: dict[str, str] = {
    "toml-syntax": "schema = 1\n[package\n",
    "unknown-key": 'schema = 1\n[package]\nname = "t"\nversion = "1"\nsummary = "S"\ndescription = "D"\n'
    'license = "MIT"\nmaintainer = "T <t@e.org>"\nnmae = "x"\n',
    "missing-key": 'schema = 1\n[package]\nname = "t"\n',
    "bad-type": 'schema = 1\n[package]\nname = "t"\nversion = "1"\nsummary = "S"\ndescription = "D"\n'
    'license = "MIT"\nmaintainer = "T <t@e.org>"\n[[tree]]\nsrc = "a/"\ndst = "/x/"\nexclude = "*.pyc"\n',
    "bad-value": 'schema = 1\n[package]\nname = "t"\nversion = "1"\nsummary = "S"\ndescription = "D"\n'
    'license = "MIT"\nmaintainer = "T <t@e.org>"\nkind = "spaceship"\n',
    "integer-mode": 'schema = 1\n[package]\nname = "t"\nversion = "1"\nsummary = "S"\ndescription = "D"\n'
    'license = "MIT"\nmaintainer = "T <t@e.org>"\n[[dir]]\npath = "/var/lib/t"\nmode = 755\n',
    "schema-too-new": "schema = 99\n",
    "bad-name": 'schema = 1\n[package]\nname = "My_Tool"\nversion = "1"\nsummary = "S"\ndescription = "D"\n'
    'license = "MIT"\nmaintainer = "T <t@e.org>"\n',
    "bad-version": 'schema = 1\n[package]\nname = "t"\nversion = "1-2"\nsummary = "S"\ndescription = "D"\n'
    'license = "MIT"\nmaintainer = "T <t@e.org>"\n',
    "unknown-rule": 'schema = 1\n[package]\nname = "t"\nversion = "1"\nsummary = "S"\ndescription = "D"\n'
    'license = "MIT"\nmaintainer = "T <t@e.org>"\n[lint]\nallow = ["world-writeable"]\n',
}
_OK_HEAD = (
    'schema = 1\n[package]\nname = "t"\nversion = "1"\nsummary = "S"\ndescription = "D"\n'
    'license = "MIT"\nmaintainer = "T <t@e.org>"\n'
)
STAGE_CASES.update(
    {
        "missing-source": _OK_HEAD + '[[file]]\nsrc = "nope"\ndst = "/usr/share/t/nope"\n',
        "glob-no-match": _OK_HEAD + '[[file]]\nsrc = "*.nope"\ndst = "/usr/share/t/"\n',
        "glob-needs-dir": _OK_HEAD + '[[file]]\nsrc = "*.txt"\ndst = "/usr/share/t/one"\n',
        "limit-exceeded": _OK_HEAD + "[lint]\nallow = [" + "[" * 20 + "]" * 20 + "]\n",
        "unsafe-name": _OK_HEAD + '[[patch]]\nfile = "p/%(id).patch"\n',
        "attr-no-match": _OK_HEAD + '[[attr]]\npath = "/usr/share/nothing/*"\nmode = "0600"\n',
        "unsafe-path": _OK_HEAD + '[[file]]\nsrc = "../outside"\ndst = "/usr/share/t/x"\n',
        "conflict": _OK_HEAD + '[[file]]\nsrc = "a.txt"\ndst = "/usr/share/t/x"\n'
        '[[file]]\nsrc = "b.txt"\ndst = "/usr/share/t/x"\n',
        "unknown-placeholder": _OK_HEAD + '[[file]]\nsrc = "a.txt"\ndst = "{nowhere}/x"\n',
    }
)


def _lint(root: Path, distros=("fedora",)):
    return lint_project(root, list(distros))


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fires(tmp_path: Path, case: Case) -> None:
    root = write_project(tmp_path / "p", case)
    report = _lint(root, (case.distro,))
    hits = [d for d in report.findings if d.rule == case.rule]
    assert len(hits) == 1, report.to_text()
    d = hits[0]
    assert d.severity.value == case.severity == RULES[case.rule].severity.value
    assert d.path == (case.path or "")
    assert d.location is not None
    assert d.location.key == case.key
    assert d.location.file.endswith("pkgtool.toml")
    expected_line = marker_line(root, case.marker) if case.marker else None
    assert d.location.line == expected_line
    assert report.ok is (not any(f.severity is Severity.ERROR for f in report.findings))


@pytest.mark.parametrize("rule_id", sorted(STAGE_CASES))
def test_stage_rule_reported_through_lint(tmp_path: Path, rule_id: str) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "pkgtool.toml").write_text(STAGE_CASES[rule_id])
    (root / "a.txt").write_text("a\n")
    (root / "b.txt").write_text("b\n")
    (root / "c.txt").write_text("c\n")
    report = _lint(root)
    assert rule_id in {d.rule for d in report.findings}, report.to_text()
    assert not report.ok
    assert all(d.location is not None and d.location.file.endswith("pkgtool.toml") for d in report.findings)


def test_every_rule_is_registered_explained_and_tested() -> None:
    tested = {c.rule for c in CASES} | set(STAGE_CASES)
    assert set(RULES) == tested, f"untested: {set(RULES) - tested}; unknown: {tested - set(RULES)}"
    for rule in RULES.values():
        text = explain(rule.id)
        assert text.startswith(rule.id) and rule.explanation.strip() in text
        assert "Fix" in rule.explanation, f"{rule.id}: the explanation should say how to fix it"
    assert known_rule_ids() == frozenset(RULES)
    assert lint_rule_ids() == {r.id for r in RULES.values() if r.family not in STAGE_FAMILIES}


def test_agreed_ids_are_registered() -> None:
    agreed = {
        "toml-syntax", "unknown-key", "missing-key", "bad-type", "bad-value", "integer-mode", "schema-too-new",
        "bad-name", "bad-version", "unknown-rule", "missing-source", "glob-no-match", "glob-needs-dir",
        "attr-no-match", "unsafe-path", "conflict", "unknown-placeholder", "world-writable",
        "setuid-unacknowledged", "shebang-not-executable", "executable-config", "config-outside-etc",
        "etc-not-config", "usr-local", "dangling-symlink", "owns-system-dir", "summary-style",
    }  # fmt: skip
    assert agreed <= known_rule_ids()


def test_explain_unknown_id_suggests() -> None:
    with pytest.raises(UsageError, match="did you mean world-writable"):
        explain("world-writeable")
    with pytest.raises(UsageError, match="unknown rule id"):
        explain("zzzz")


def test_docs_match_registry() -> None:
    committed = (REPO / "docs" / "lint-rules.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "docs/lint-rules.md is stale: regenerate it (see its header)"
    for rule_id in RULES:
        assert f"### {rule_id}\n" in committed


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_examples_are_clean(example: str) -> None:
    report = lint_project(EXAMPLES / example, ["fedora", "debian"])
    assert report.findings == (), report.to_text()
    assert report.ok and report.distros == ("fedora", "debian")


def test_vdsm_hook_points_are_the_documented_58() -> None:
    from pkgtool.kinds.vdsm_hook import HOOK_POINTS

    assert len(HOOK_POINTS) == 58
    for point in ("before_vm_start", "after_hostdev_list_by_caps", "after_nic_hotunplug_fail", "before_get_caps"):
        assert point in HOOK_POINTS
    assert "before_vm_started" not in HOOK_POINTS and "after_disk_prepare_fail" not in HOOK_POINTS


def test_rule_applies_only_to_its_kind(tmp_path: Path) -> None:
    # A hook-shaped path in an 'app' package is not judged by the vdsm rules.
    case = next(c for c in CASES if c.rule == "vdsm-hook-name")
    app = Case(case.rule, case.severity, case.body, case.files, kind="app")
    report = _lint(write_project(tmp_path / "p", app))
    assert not any(d.rule.startswith("vdsm-") for d in report.findings), report.to_text()


def test_shebang_rule_not_doubled_by_kind_rule(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.rule == "vdsm-hook-not-executable")
    report = _lint(write_project(tmp_path / "p", case))
    assert "shebang-not-executable" not in {d.rule for d in report.findings}
    assert SH  # the case's hook has a shebang: the kind rule, not the core one, reports it


def test_one_nearest_word_for_both_hints() -> None:
    """Loader keys and rule ids are suggested by the same helper: close words only, the nearest first."""
    from pkgtool.diagnostics import nearest

    assert nearest("dts", ["dst", "src", "mode"]) == "dst"
    assert nearest("world-writeable", ["world-writable", "setuid-file"]) == "world-writable"
    assert nearest("zzz", ["dst", "src"]) is None
    assert nearest("dst", []) is None
