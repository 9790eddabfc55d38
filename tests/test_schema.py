"""`pkgtool schema`: the JSON Schema of pkgtool.toml agrees with the loader it is generated from."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest

from pkgtool.layout.schema import json_schema, schema_text
from pkgtool.layout.tomlpos import format_path

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "schema" / "pkgtool.schema.json"
BROKEN = ROOT / "examples" / "broken" / "pkgtool.toml"  # README's error example, wrong on purpose
EXAMPLES = sorted(p for p in ROOT.glob("examples/*/pkgtool.toml") if p != BROKEN)
CORPUS = sorted((ROOT / "tests" / "load_corpus").glob("*.toml"))

# Corpus cases that no schema of the map's shape can see, each with its reason.
EXEMPT = {
    "01-syntax-error": "not TOML: there is no document to validate",
    "49-non-utf8": "not UTF-8: there is no document to validate",
    "32-changelog-not-newest-first": "an order between array items, not a shape",
    "34-attr-sets-nothing": "one of mode/owner/group/allow is the loader's rule, reported at the item",
}


def _jsonable(value):
    """The TOML document as an editor's JSON view: dates become ISO strings."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def validator():
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    # The format checker holds "date" to the calendar, as the loader does (2025-13-01 is no date).
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _error_paths(validator, doc) -> set[str]:
    """Each error as the loader's key path: an unknown or missing key names the key itself."""
    out = set()
    for err in validator.iter_errors(_jsonable(doc)):
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties":
            known = err.schema.get("properties", {})
            out |= {format_path((*path, k)) for k in err.instance if k not in known}
        elif err.validator == "required":
            out |= {format_path((*path, k)) for k in err.validator_value if k not in err.instance}
        elif "propertyNames" in err.schema_path:
            out.add(format_path((*path, err.instance)))  # the key's own name is what is wrong
        else:
            out.add(format_path(path))
    return out


def test_committed_schema_is_the_generated_one():
    # `make schema` regenerates it.
    assert COMMITTED.read_text(encoding="utf-8") == schema_text()


def test_schema_is_deterministic():
    assert schema_text() == schema_text()
    assert json.loads(schema_text())["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_every_example_map_validates(validator, path: Path):
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    errors = [f"{format_path(tuple(e.absolute_path))}: {e.message}" for e in validator.iter_errors(_jsonable(doc))]
    assert errors == []


def test_there_are_examples():
    assert len(EXAMPLES) >= 5


def _expected_keys(case: Path) -> set[str]:
    keys = set()
    for line in case.read_bytes().decode("utf-8", "replace").splitlines():
        if not line.startswith("# expect: "):
            break
        keys.add(line.split(" ")[3])
    return keys


SHAPED = [p for p in CORPUS if p.stem not in EXEMPT]


@pytest.mark.parametrize("case", SHAPED, ids=[p.stem for p in SHAPED])
def test_malformed_map_fails_where_the_loader_says(validator, case: Path):
    doc = tomllib.loads(case.read_text(encoding="utf-8"))
    got = _error_paths(validator, doc)
    expected = _expected_keys(case)
    assert got, f"{case.name}: the schema accepts a map the loader refuses at {expected}"
    assert expected <= got, f"{case.name}: loader names {expected}, the schema {got}"


def test_exempt_cases_exist():
    stems = {p.stem for p in CORPUS}
    assert set(EXEMPT) <= stems
    assert len(SHAPED) >= 40 and all(EXEMPT.values())


def test_the_broken_example_fails_where_readme_says(validator):
    doc = tomllib.loads(BROKEN.read_text(encoding="utf-8"))
    assert _error_paths(validator, doc) == {"tree[0].mode", "file[0].dst", "file[0].dts"}


def test_an_unknown_key_is_named(validator):
    doc = tomllib.loads((ROOT / "examples" / "vdsm-hook-acme" / "pkgtool.toml").read_text())
    doc["tree"] = [{"src": "a", "dst": "/b", "mdoe": "0644"}]
    assert _error_paths(validator, doc) == {"tree[0].mdoe"}


def test_schema_command_writes_the_file(tmp_path: Path):
    out = tmp_path / "s.json"
    run = subprocess.run(
        [sys.executable, "-m", "pkgtool", "schema", "--out", str(out), "--json"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"ok": True, "out": str(out)}
    assert out.read_text() == schema_text()


def test_schema_command_refuses_a_directory(tmp_path: Path):
    run = subprocess.run(
        [sys.executable, "-m", "pkgtool", "schema", "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert "is a directory" in run.stderr and "Traceback" not in run.stderr


def _taplo() -> str:
    # A dev dependency (pyproject.toml), installed beside this Python.
    path = Path(sys.executable).parent / "taplo"
    assert path.exists(), "taplo is missing: pip install -e '.[dev]'"
    return str(path)


def _taplo_check(files: list[Path], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_taplo(), "check", "--no-auto-config", *args, *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_taplo_accepts_the_examples_with_the_schema():
    proc = _taplo_check(EXAMPLES, ROOT, "--schema", COMMITTED.as_uri())
    assert proc.returncode == 0, proc.stderr


def test_taplo_reads_the_documented_directive(tmp_path: Path):
    # docs/layout-map.md: `#:schema ./schema/pkgtool.schema.json` on the map's first line.
    (tmp_path / "schema").mkdir()
    shutil.copyfile(COMMITTED, tmp_path / "schema" / "pkgtool.schema.json")
    good, bad = tmp_path / "good", tmp_path / "bad"
    for where, source in ((good, ROOT / "examples" / "vdsm-hook-acme" / "pkgtool.toml"), (bad, BROKEN)):
        where.mkdir()
        (where / "pkgtool.toml").write_text("#:schema ../schema/pkgtool.schema.json\n" + source.read_text())
    assert _taplo_check([good / "pkgtool.toml"], tmp_path).returncode == 0
    proc = _taplo_check([bad / "pkgtool.toml"], tmp_path)
    assert proc.returncode == 1
    assert '644 is not of type "string"' in proc.stderr and "'dts' was unexpected" in proc.stderr
