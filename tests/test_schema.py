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

from pkgtool.layout.grammar import (
    ATTR_KEYS,
    CHANGELOG_KEYS,
    DIR_KEYS,
    FILE_KEYS,
    PACKAGE_KEYS,
    PATCH_KEYS,
    SUBPACKAGE_KEYS,
    SYMLINK_KEYS,
    TREE_KEYS,
)
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


# The smallest item of each array of tables the loader accepts: every key it leaves out is optional.
MINIMAL = {
    "tree": {"src": '"a"', "dst": '"/b"'},
    "file": {"src": '"a"', "dst": '"/b"'},
    "dir": {"path": '"/d"'},
    "symlink": {"path": '"/l"', "target": '"/t"'},
    "attr": {"path": '"/p"', "mode": '"0644"'},
    "patch": {"file": '"a.patch"'},
    "changelog": {
        "version": '"1.0-1"',
        "date": "2025-01-06",
        "author": '"Jane Packager <jane@example.org>"',
        "changes": '["x"]',
    },
    "subpackage": {"name": '"-sub"', "summary": '"S"'},
}
PACKAGE = {
    "name": '"demo"',
    "version": '"1.0"',
    "summary": '"A demo"',
    "description": '"Demo."',
    "license": '"MIT"',
    "maintainer": '"Jane Packager <jane@example.org>"',
}


def _map(package: dict, kind: str | None = None, item: dict | None = None) -> str:
    # A value of None leaves its key out.
    lines = ["schema = 2", "[package]", *(f"{k} = {v}" for k, v in package.items() if v is not None)]
    if kind is not None and item is not None:
        lines += [f"[[{kind}]]", *(f"{k} = {v}" for k, v in item.items() if v is not None)]
    return "\n".join(lines) + "\n"


def _missing_keys(tmp_path: Path, text: str) -> set[str]:
    from pkgtool.errors import LayoutError
    from pkgtool.layout.load import load_layout

    (tmp_path / "pkgtool.toml").write_text(text)
    try:
        load_layout(tmp_path)
    except LayoutError as exc:
        return {d.location.key for d in exc.diagnostics if d.rule == "missing-key" and d.location}
    return set()


@pytest.mark.parametrize("kind", [None, *MINIMAL])
def test_required_keys_are_the_loaders(kind: str | None, tmp_path: Path):
    """The schema's required keys are exactly those whose absence the loader reports as missing-key."""
    defs = json_schema()["$defs"]
    table = defs["package"] if kind is None else defs[kind]
    where = "package" if kind is None else f"{kind}[0]"
    item = PACKAGE if kind is None else MINIMAL[kind]

    def text(fields: dict[str, str]) -> str:
        return _map(fields) if kind is None else _map(PACKAGE, kind, fields)

    assert _missing_keys(tmp_path, text(item)) == set()  # every key left out is optional
    required = {k for k in item if f"{where}.{k}" in _missing_keys(tmp_path, text({**item, k: None}))}
    # A key required only when a condition holds (a [[file]]'s src, unless it is a ghost) counts too.
    assert set(table.get("required", [])) | set(table.get("else", {}).get("required", [])) == required


def _loader_error_keys(tmp_path: Path, text: str) -> set[str]:
    from pkgtool.errors import LayoutError
    from pkgtool.layout.load import load_layout

    (tmp_path / "pkgtool.toml").write_text(text)
    with pytest.raises(LayoutError) as info:
        load_layout(tmp_path)
    return {d.location.key for d in info.value.diagnostics if d.location}


TABLE_KEYS = {
    "tree": TREE_KEYS,
    "file": FILE_KEYS,
    "dir": DIR_KEYS,
    "symlink": SYMLINK_KEYS,
    "attr": ATTR_KEYS,
    "patch": PATCH_KEYS,
    "changelog": CHANGELOG_KEYS,
    "subpackage": SUBPACKAGE_KEYS,
}
TYPED_KEYS = [("package", k) for k in PACKAGE_KEYS] + [(kind, k) for kind, keys in TABLE_KEYS.items() for k in keys]


@pytest.mark.parametrize(("kind", "key"), TYPED_KEYS, ids=[f"{t}.{k}" for t, k in TYPED_KEYS])
def test_a_wrong_value_is_refused_by_both_at_its_key(validator, kind: str, key: str, tmp_path: Path):
    # An inline table with an integer in it is wrong for every key: both must say so under that key.
    wrong = "{ x = 1 }"
    if kind == "package":
        text, where = _map({**PACKAGE, key: wrong}), f"package.{key}"
    else:
        text, where = _map(PACKAGE, kind, {**MINIMAL[kind], key: wrong}), f"{kind}[0].{key}"
    loader = _loader_error_keys(tmp_path, text)
    schema = _error_paths(validator, tomllib.loads(text))
    assert any(k.startswith(where) for k in loader), loader
    assert any(k.startswith(where) for k in schema), schema
