"""The rule catalogue outside lint's report: `explain --list` and SARIF's tool.driver.rules."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from lint_cases import CASES, write_project

from pkgtool.lint import lint_project
from pkgtool.lint.registry import RULES, catalogue, sarif_rules

LEVELS = {"none", "note", "warning", "error"}
DOC_ANCHORS = set(re.findall(r"^### (\S+)$", (REPO / "docs" / "lint-rules.md").read_text(), re.M))


def _pkgtool(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pkgtool", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_explain_list_names_every_rule():
    proc = _pkgtool("explain", "--list")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(RULES)
    for line in lines:
        rule_id, severity, summary = line.split(None, 2)
        assert RULES[rule_id].severity.value == severity and RULES[rule_id].summary == summary


def test_explain_list_json():
    proc = _pkgtool("explain", "--list", "--json")
    assert proc.returncode == 0, proc.stderr
    rules = json.loads(proc.stdout)["rules"]
    assert [r["id"] for r in rules] == [r["id"] for r in catalogue()]
    assert {r["id"] for r in rules} == set(RULES)
    assert all(r["summary"] and r["severity"] in ("error", "warning", "info") for r in rules)


@pytest.mark.parametrize("args", [(), ("world-writable", "--list")])
def test_explain_needs_one_of_id_or_list(args):
    proc = _pkgtool("explain", *args)
    assert proc.returncode == 2
    assert "give a rule id or --list" in proc.stderr and "Traceback" not in proc.stderr


def test_sarif_catalogue_has_every_rule():
    rules = sarif_rules()
    assert [r["id"] for r in rules] == [r["id"] for r in catalogue()]
    assert {r["id"] for r in rules} == set(RULES)
    for r in rules:
        assert r["shortDescription"]["text"] == RULES[r["id"]].summary
        assert r["fullDescription"]["text"] == RULES[r["id"]].explanation.strip()
        assert r["help"]["text"].startswith(RULES[r["id"]].summary)
        assert r["defaultConfiguration"]["level"] in LEVELS
        doc, _, anchor = r["helpUri"].partition("#")
        assert doc == "docs/lint-rules.md" and anchor in DOC_ANCHORS, r["helpUri"]


def _check_sarif_structure(sarif: dict) -> None:
    """The parts of SARIF 2.1.0 a code-scanning upload needs (github/codeql-action/upload-sarif)."""
    assert sarif["version"] == "2.1.0" and "sarif-2.1.0" in sarif["$schema"]
    (run,) = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "pkgtool" and driver["version"]
    ids = [r["id"] for r in driver["rules"]]
    assert len(ids) == len(set(ids))
    for result in run["results"]:
        assert result["level"] in LEVELS and result["message"]["text"]
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        for loc in result["locations"]:
            phys = loc["physicalLocation"]
            assert phys["artifactLocation"]["uri"]
            assert phys.get("region", {"startLine": 1})["startLine"] >= 1


def test_lint_sarif_carries_rules_and_hints(tmp_path: Path):
    case = next(c for c in CASES if c.rule == "usr-local")
    root = write_project(tmp_path / "p", case)
    proc = _pkgtool("lint", "--sarif", "--distro", "fedora", str(root))
    assert proc.returncode == 1, proc.stderr
    sarif = json.loads(proc.stdout)
    _check_sarif_structure(sarif)
    (result,) = sarif["runs"][0]["results"]
    report = lint_project(root, ["fedora"])
    (finding,) = report.findings
    assert finding.hint, "the case should carry a hint to check"
    assert result["message"]["text"] == f"{finding.message}\nHint: {finding.hint}"


def test_lint_sarif_of_a_clean_map_is_well_formed():
    proc = _pkgtool("lint", "--sarif", "--distro", "fedora", "examples/vdsm-hook-acme")
    assert proc.returncode == 0, proc.stderr
    sarif = json.loads(proc.stdout)
    _check_sarif_structure(sarif)
    assert len(sarif["runs"][0]["tool"]["driver"]["rules"]) == len(RULES)


def test_documented_workflow_runs_its_lint_step(tmp_path: Path):
    # The code-scanning workflow in docs/lint-rules.md: its lint step, run in a project, yields SARIF.
    import shlex
    import shutil

    import yaml

    text = (REPO / "docs" / "lint-rules.md").read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    steps = yaml.safe_load(block)["jobs"]["lint"]["steps"]
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif@") for s in steps)
    (run,) = [s["run"] for s in steps if "pkgtool lint" in s.get("run", "")]
    command, _, redirect = run.partition(" > ")
    out_name = redirect.split()[0]
    shutil.copytree(REPO / "examples" / "vdsm-hook-acme", tmp_path / "p")
    argv = shlex.split(command)
    assert argv[:2] == ["pkgtool", "lint"]
    proc = _pkgtool(*argv[1:], cwd=tmp_path / "p")
    (tmp_path / "p" / out_name).write_text(proc.stdout)
    _check_sarif_structure(json.loads((tmp_path / "p" / out_name).read_text()))
