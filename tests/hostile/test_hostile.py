"""The hostile corpus: every case in tests/hostile/cases/ through the CLI, outcome exact, nothing escaping.

See hostile_harness.py for the case format and the checks made around every case.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hostile_harness import (
    DISTROS,
    artifact_of,
    case_names,
    check_run,
    clear_markers,
    cli,
    control_fields,
    dry_run_rules,
    generated_text,
    inspect_json,
    leftovers,
    load_case,
    markers,
    parse_spec,
    prepare,
    pwned_files,
    snapshot,
)
from tooling import require_tools

FAMILY = {"fedora": "rpm", "el9": "rpm", "opensuse-leap": "rpm", "debian": "deb", "ubuntu": "deb"}


def test_corpus_is_big_enough_and_every_case_asserts_something():
    names = case_names()
    assert len(names) >= 40, names
    for name in names:
        case = load_case(name)
        assert case.get("about"), f"{name}: say what the case is about"
        assert case.get("step") or case.get("builds"), f"{name}: no step and no builds"
        for step in case.get("step", []):
            assert "exit" in step, f"{name}: every step states its exit code"
            if step["exit"] == 2:
                # An input error names where it is: the file and the key, or the path at fault.
                assert step.get("contains"), f"{name}: an error step must state its message"


@pytest.mark.parametrize("name", case_names())
def test_hostile_case(name: str, tmp_path: Path, monkeypatch):
    clear_markers()
    w, case = prepare(name, tmp_path / "w")
    # Names like "$(touch pkgtool-pwned-x)" would create their marker in the working directory.
    monkeypatch.chdir(w.base)
    project_before = snapshot(w.project)
    outside_before = snapshot(w.outside)

    for step in case.get("step", []):
        root_before = snapshot(w.root)
        run = cli([w.sub(a) for a in step["args"]])
        check_run(
            run,
            exit_code=step["exit"],
            contains=[w.sub(c) for c in step.get("contains", [])],
            absent=[w.sub(c) for c in step.get("absent", [])],
        )
        if step["exit"] != 0:
            # A refused command writes nothing: no artifact, no change to the root.
            written = [p for p in w.out.rglob("*") if not p.is_dir()] if w.out.exists() else []
            assert written == [], f"{name}: failed command left {written}"
            assert snapshot(w.root) == root_before, f"{name}: failed command changed the root"

    if "builds" in case:
        _round_trip(w, case["builds"])

    assert snapshot(w.project) == project_before, f"{name}: the layout tree was changed"
    assert snapshot(w.outside) == outside_before, f"{name}: something outside was changed"
    assert leftovers(w.out) == [] and leftovers(w.root) == [], "temporary siblings left behind"
    assert markers() == [], f"{name}: an injection ran: {markers()}"
    assert pwned_files(w.base) == [], f"{name}: an injection ran: {pwned_files(w.base)}"


def _paths(b: dict) -> list[str]:
    out = []
    for p in b.get("paths", []):
        out.append(p)
    for p in b.get("paths_nfd", []):
        out.append(unicodedata.normalize("NFD", p))
    for p in b.get("paths_nfc", []):
        out.append(unicodedata.normalize("NFC", p))
    return out


def _round_trip(w, b: dict) -> None:
    """Native build, read back, verify, generate (+ parse with the distro tools), install, verify."""
    project = str(w.project)
    paths = _paths(b)
    for distro in b.get("distros", DISTROS):
        family = FAMILY[distro]
        out = w.out / distro
        check_run(cli(["build", project, "-d", distro, "-o", str(out)]), exit_code=0)
        art = artifact_of(out, f".{family}")
        check_run(cli(["verify", project, str(art), "-d", distro]), exit_code=0)
        info = inspect_json(art)
        found = {e["path"] for e in info["entries"]}
        missing = [p for p in paths if p not in found]
        assert not missing, f"{distro}: {missing} not in {sorted(found)}"
        if "summary" in b:
            assert info["summary"] == b["summary"]
        scripts = "\n".join(info["scripts"].values())
        for text in b.get("script_contains", []):
            assert text in scripts, f"{distro}: {text!r} not in the package's scripts"
        if family == "deb" and ("description" in b or "absent_fields" in b):
            fields = control_fields(art)
            for text in b.get("description", []):
                assert text in fields["Description"], f"{text!r} not in Description {fields['Description'][:300]!r}"
            smuggled = [f for f in b.get("absent_fields", []) if f in fields]
            assert not smuggled, f"the description added control fields {smuggled}"

        gen = w.out / f"gen-{distro}"
        check_run(cli(["generate", project, "-d", distro, "-o", str(gen)]), exit_code=0)
        text = generated_text(gen)
        for lit in b.get("generated", []) + b.get(f"{family}_generated", []):
            assert lit in text, f"{distro}: {lit!r} not in the generated files"
        if family == "rpm":
            spec = next(gen.glob("*.spec"))
            parsed = parse_spec(spec)
            for lit in b.get("spec_parsed", []):
                assert lit in parsed, f"{lit!r} not in the parsed spec"
        else:
            debian = next(gen.glob("*/debian"))
            dry_run_rules(debian)
        assert markers() == [], f"{distro}: an injection ran: {markers()}"

        if b.get("system"):
            require_tools("rpmbuild", "dpkg-buildpackage")
            sys_out = w.out / f"sys-{distro}"
            check_run(cli(["build", project, "-d", distro, "-o", str(sys_out), "--backend", "system"]), exit_code=0)
            sys_art = artifact_of(sys_out, f".{family}")
            check_run(cli(["verify", project, str(sys_art), "-d", distro]), exit_code=0)
            assert markers() == [], f"{distro}: an injection ran in the system build: {markers()}"
            if family == "deb":
                # dpkg-gencontrol expands ${name} in every field: the text must still arrive literally.
                sys_fields = control_fields(sys_art)
                for text in b.get("description", []):
                    assert text in sys_fields["Description"], f"system backend: {text!r} not in Description"
                if "summary" in b:
                    assert sys_fields["Description"].split("\n")[0] == b["summary"]
                for field, text in b.get("deb_fields", {}).items():
                    assert sys_fields.get(field) == control_fields(art).get(field) == text, (
                        f"{field}: {sys_fields.get(field)!r} (system) / {control_fields(art).get(field)!r} (native)"
                    )

    if b.get("install", True):
        root = str(w.root)
        check_run(cli(["install", project, "-d", "fedora", "-r", root]), exit_code=0)
        check_run(cli(["verify", project, "-d", "fedora", "-r", root]), exit_code=0)
        for p in paths:
            assert os.path.lexists(w.root / p.lstrip("/")), f"{p} not installed"
