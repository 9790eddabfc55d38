"""Malformed layout maps: each tests/load_corpus/NN-name.toml says what the loader must report.

Header lines of each file: ``# expect: RULE KEY LINE`` (``-`` for an empty key or
no line), one per diagnostic, the whole set exact; ``# hint: TEXT`` that some
diagnostic's hint must contain.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pkgtool.errors import LayoutError
from pkgtool.layout.load import load_layout

CORPUS = Path(__file__).parent / "load_corpus"
CASES = sorted(CORPUS.glob("*.toml"))


def _expectations(path: Path) -> tuple[set[tuple[str, str, int | None]], list[str]]:
    expects: set[tuple[str, str, int | None]] = set()
    hints: list[str] = []
    for line in path.read_bytes().decode("utf-8", "replace").splitlines():
        if line.startswith("# expect: "):
            rule, key, where = line[len("# expect: ") :].split(" ")
            expects.add((rule, "" if key == "-" else key, None if where == "-" else int(where)))
        elif line.startswith("# hint: "):
            hints.append(line[len("# hint: ") :])
        else:
            break
    return expects, hints


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_corpus_case(case: Path, tmp_path: Path, monkeypatch):
    expects, hints = _expectations(case)
    assert expects, f"{case.name} has no '# expect:' line"
    shutil.copyfile(case, tmp_path / "pkgtool.toml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LayoutError) as info:
        load_layout(tmp_path)
    diags = info.value.diagnostics
    got = {(d.rule, d.location.key, d.location.line) for d in diags if d.location}
    assert got == expects, "\n".join(d.to_text() for d in diags)
    assert all(d.location and d.location.file == "pkgtool.toml" for d in diags)
    assert all(d.severity == "error" and d.message for d in diags)
    for hint in hints:
        assert any(hint in d.hint for d in diags), f"no hint holds {hint!r}: {[d.hint for d in diags]}"


def test_every_problem_reported_once_across_variants(tmp_path: Path):
    # The top-level error is inherited by two variants, but it is written once.
    (tmp_path / "pkgtool.toml").write_text(next(CORPUS.glob("*-variant-duplicate-reported-once.toml")).read_text())
    with pytest.raises(LayoutError) as info:
        load_layout(tmp_path)
    assert len(info.value.diagnostics) == 1


def test_missing_file_is_a_layout_error(tmp_path: Path):
    with pytest.raises(LayoutError, match="no such file"):
        load_layout(tmp_path)


def test_location_file_is_absolute_outside_cwd(tmp_path: Path, monkeypatch):
    project = tmp_path / "p"
    project.mkdir()
    shutil.copyfile(next(CORPUS.glob("*-integer-mode.toml")), project / "pkgtool.toml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(LayoutError) as info:
        load_layout(project)
    assert info.value.diagnostics[0].location.file == str(project / "pkgtool.toml")


# ---------------------------------------------------------------- fuzz

_VALID = (Path(__file__).resolve().parent.parent / "examples" / "convirt" / "pkgtool.toml").read_text()
_TOKENS = [
    "[",
    "]",
    "[[",
    "]]",
    "=",
    '"',
    "'",
    '"""',
    "'''",
    "{",
    "}",
    ",",
    ".",
    "\n",
    " ",
    "#",
    "\\",
    "\x00",
    "0644",
    "644",
    "true",
    "2025-01-06",
    "tree",
    "package",
    "name",
    "mode",
    "distro",
    "debian",
    "requires",
    "schema",
    "1",
    "-1",
    "é",
]


def _check_only_layout_error(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "pkgtool.toml").write_bytes(data)
    try:
        load_layout(tmp_path)
    except LayoutError:
        pass


@settings(
    max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_layout_error(tmp_path: Path, data: bytes):
    _check_only_layout_error(tmp_path, data)


@settings(
    max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(_TOKENS), max_size=60))
def test_random_tomlish_text_raises_only_layout_error(tmp_path: Path, tokens: list[str]):
    _check_only_layout_error(tmp_path, "".join(tokens).encode())


def test_mutated_example_raises_only_layout_error(tmp_path: Path):
    seed = 20250106
    rng = random.Random(seed)
    lines = _VALID.splitlines()
    for _ in range(300):
        mutated = list(lines)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(mutated))
            op = rng.randrange(4)
            if op == 0:
                del mutated[i]
            elif op == 1:
                mutated.insert(i, mutated[rng.randrange(len(mutated))])
            elif op == 2 and mutated[i]:
                j = rng.randrange(len(mutated[i]))
                mutated[i] = mutated[i][:j] + rng.choice(_TOKENS) + mutated[i][j + 1 :]
            else:
                mutated[i] = mutated[i].replace('"', "", 1)
        text = "\n".join(mutated)
        try:
            _check_only_layout_error(tmp_path, text.encode())
        except Exception as exc:  # pragma: no cover - the message carries the reproducer
            raise AssertionError(f"seed {seed}: {type(exc).__name__}: {exc}\n---\n{text}") from exc


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


_SCALARS = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=12),
    st.sampled_from(["0644", "0o644", "", ">= 1", "noreplace", "2025-01-06", "a\nb", "x\x00"]),
    st.dates(),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _paths(doc: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


@settings(
    max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_valid_toml_with_wrong_values_raises_only_layout_error(tmp_path: Path, data):
    # Valid TOML, shaped like a real map, with any value swapped for any other: the validator itself is fuzzed.
    doc = tomllib.loads(_VALID)
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(doc)
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = data.draw(_VALUES)
    text = "\n".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in doc.items())
    _check_only_layout_error(tmp_path, text.encode())
