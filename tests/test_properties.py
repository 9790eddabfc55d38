"""Property tests: random valid maps over random trees, and random invalid maps.

- resolve -> native .rpm and .deb -> read back -> verify_artifact is clean;
- install -> verify_root is clean, and any single mutation of the root
  (mode, owner, content, link target, missing, extra) is reported at its path;
- a random map (valid or not) never raises anything but PkgtoolError.

Budgets are fixed and derandomized so CI runs the same examples every time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pkgtool.errors import PkgtoolError
from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.install.apply import install
from pkgtool.layout.load import load_layout
from pkgtool.model import EntryKind
from pkgtool.profiles import load_profile
from pkgtool.resolve import resolve
from pkgtool.verify.artifact import verify_artifact
from pkgtool.verify.root import verify_root

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILES = {d: load_profile(d) for d in ("fedora", "debian")}

HEAD = """schema = 1
[package]
name = "prop"
version = "1.0"
summary = "Random layout for property tests"
description = "Generated."
license = "MIT"
maintainer = "Jane Packager <jane@example.org>"
"""

# Names: letters, digits and the characters packagers' tools get wrong (space, quotes, %, $, brackets...).
NAME_CHARS = st.sampled_from(list("abcxyz019_-.") + [" ", "%", "$", "'", '"', "[", "]", "{", "}", "*", "?", "é", "@"])
name_st = (
    st.text(NAME_CHARS, min_size=1, max_size=10)
    .filter(lambda n: n not in (".", "..") and not n.startswith("."))
    .filter(lambda n: "{" not in n and "}" not in n)  # braces are placeholders in map paths; trees carry them
)
mode_st = st.sampled_from([0o644, 0o600, 0o755, 0o750, 0o444, 0o640])


@st.composite
def trees(draw):
    """{relative path: (content, mode)} of a small tree, plus relative links inside it."""
    files: dict[str, tuple[bytes, int]] = {}
    dirs = [""]
    for _ in range(draw(st.integers(1, 3))):
        parent = draw(st.sampled_from(dirs))
        dirs.append(f"{parent}{draw(name_st)}/")
    for _ in range(draw(st.integers(1, 8))):
        rel = draw(st.sampled_from(dirs)) + draw(name_st)
        if any(d.rstrip("/") == rel for d in dirs) or any(r.startswith(rel + "/") for r in files):
            continue
        files[rel] = (draw(st.binary(max_size=300)), draw(mode_st))
    if not files:
        files["only"] = (b"x", 0o644)
    links = {}
    for _ in range(draw(st.integers(0, 2))):
        rel = draw(st.sampled_from(dirs)) + "link-" + draw(name_st)
        if rel in files or any(d.rstrip("/") == rel for d in dirs):
            continue
        target = draw(st.sampled_from(sorted(files)))
        depth = rel.count("/")
        links[rel] = "../" * depth + target
    return files, links


def _toml(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


@st.composite
def layouts(draw):
    files, links = draw(trees())
    body = [HEAD, '[[tree]]\nsrc = "data/"\ndst = "{datadir}/prop/"\n']
    if draw(st.booleans()):
        body.append(f'dir-mode = "{draw(st.sampled_from([0o755, 0o750, 0o700])):04o}"\n')
    file_srcs = sorted(files)
    for i in range(draw(st.integers(0, 2))):
        src = draw(st.sampled_from(file_srcs))
        cfg = draw(st.sampled_from(["false", "true", '"noreplace"']))
        body.append(
            f'[[file]]\nsrc = {_toml("data/" + src)}\ndst = "{{sysconfdir}}/prop/c{i}.conf"\nconfig = {cfg}\n'
            f'mode = "{draw(mode_st):04o}"\n'
        )
    if draw(st.booleans()):
        body.append(f'[[dir]]\npath = "/var/lib/prop"\nmode = "{draw(st.sampled_from([0o755, 0o700, 0o1777])):04o}"\n')
    if draw(st.booleans()):
        body.append('[[symlink]]\npath = "{bindir}/prop"\ntarget = "{datadir}/prop"\n')
    if draw(st.booleans()):
        body.append(f'[[attr]]\npath = "{{datadir}}/prop/**"\nmode = "{draw(mode_st):04o}"\ngroup = "daemon"\n')
    return "".join(body), files, links


def _write(project: Path, text: str, files, links) -> None:
    (project / "data").mkdir(parents=True)
    (project / "pkgtool.toml").write_text(text, encoding="utf-8")
    for rel, (content, mode) in files.items():
        p = project / "data" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
        p.chmod(mode)
    for rel, target in links.items():
        p = project / "data" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, p)


def _applies(entry, how: str) -> bool:
    if how in ("mode", "owner"):
        return entry.kind is not EntryKind.SYMLINK
    if how == "content":
        return entry.kind is EntryKind.FILE
    if how == "target":
        return entry.kind is EntryKind.SYMLINK
    if how == "extra":
        return entry.kind is EntryKind.DIR
    return True


def _mutate(root: Path, entry, how: str) -> bool:
    """Change one installed path; False when that mutation does not apply to this kind."""
    p = root / entry.path.lstrip("/")
    if how == "missing":
        if entry.kind is EntryKind.DIR:
            shutil.rmtree(p)
        else:
            p.unlink()
    elif how == "mode" and entry.kind is not EntryKind.SYMLINK:
        p.chmod(entry.mode ^ 0o020 if entry.mode & 0o7777 != 0o020 else 0o644)
    elif how == "owner" and entry.kind is not EntryKind.SYMLINK:
        os.chown(p, 65534, -1, follow_symlinks=False)
    elif how == "content" and entry.kind is EntryKind.FILE:
        mode = p.stat().st_mode
        p.chmod(0o600)
        with open(p, "ab") as fh:
            fh.write(b"tampered")
        p.chmod(mode & 0o7777)
    elif how == "target" and entry.kind is EntryKind.SYMLINK:
        p.unlink()
        os.symlink("/elsewhere", p)
    elif how == "extra" and entry.kind is EntryKind.DIR:
        (p / "intruder").write_text("x")
        return True
    else:
        return False
    return True


@SETTINGS
@given(layouts(), st.sampled_from(["missing", "mode", "owner", "content", "target", "extra"]), st.data())
def test_random_layouts_round_trip(layout, how, data):
    text, files, links = layout
    with tempfile.TemporaryDirectory(prefix="pkgtool-prop-") as tmp:
        project = Path(tmp) / "project"
        _write(project, text, files, links)
        lay = load_layout(project)
        for distro, profile in PROFILES.items():
            resolved = resolve(lay, profile, source_date_epoch=1736121600)
            out = Path(tmp) / f"out-{distro}"
            art = build_rpm(resolved, out) if distro == "fedora" else build_deb(resolved, out)
            report = verify_artifact(resolved, art)
            assert report.ok, f"{distro}: {report.to_text()}\n{text}"

        resolved = resolve(lay, PROFILES["fedora"], source_date_epoch=1736121600)
        root = Path(tmp) / "root"
        install(resolved, root)
        clean = verify_root(resolved, root)
        assert clean.ok, clean.to_text()

        candidates = [e for e in resolved.owned if _applies(e, how)] or [
            e for e in resolved.owned if _applies(e, how := "missing")
        ]
        entry = data.draw(st.sampled_from(candidates))
        _mutate(root, entry, how)
        report = verify_root(resolved, root)
        assert not report.ok, f"{how} of {entry.path} went unnoticed"
        flagged = {m.path for m in report.mismatches}
        expected = f"{entry.path}/intruder" if how == "extra" else entry.path
        assert expected in flagged, f"{how} of {entry.path}: reported {sorted(flagged)}"


# ---------------------------------------------------------------- invalid maps

KEYS = [
    "schema",
    "package",
    "name",
    "version",
    "summary",
    "description",
    "license",
    "maintainer",
    "tree",
    "file",
    "dir",
    "symlink",
    "attr",
    "src",
    "dst",
    "path",
    "mode",
    "owner",
    "target",
    "config",
    "requires",
    "scripts",
    "post-install",
    "patch",
    "changelog",
    "lint",
    "allow",
    "distro",
    "fedora",
    "debian",
    "exclude",
    "dir-mode",
    "epoch",
    "arch",
    "kind",
]
scalar = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["0644", "4755", "/usr/bin/x", "../x", "{datadir}/", "", "noreplace", ">= 1", "a <b@c>"]),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.dates(),
)
value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), inner, max_size=4),
    ),
    max_leaves=12,
)


def _val(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return _toml(v)
    if isinstance(v, list):
        return "[" + ", ".join(_val(x) for x in v) + "]"
    return "{" + ", ".join(f"{_toml(k)} = {_val(x)}" for k, x in v.items()) + "}"


@st.composite
def random_maps(draw):
    doc = draw(st.dictionaries(st.sampled_from(KEYS), value, max_size=8))
    if draw(st.booleans()):
        doc["schema"] = 1
    if draw(st.booleans()):
        doc["package"] = draw(
            st.fixed_dictionaries(
                {k: st.sampled_from(["x", "1.0", "Sum", "MIT", "J <j@x.org>"]) | scalar for k in KEYS[2:8]}
            )
        )
    return "\n".join(f"{_toml(k)} = {_val(v)}" for k, v in doc.items()) + "\n"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(random_maps())
def test_random_maps_raise_only_pkgtool_errors(text):
    with tempfile.TemporaryDirectory(prefix="pkgtool-prop-") as tmp:
        project = Path(tmp)
        (project / "pkgtool.toml").write_text(text, encoding="utf-8")
        (project / "x").write_text("x")
        try:
            lay = load_layout(project)
            for profile in PROFILES.values():
                resolve(lay, profile)
        except PkgtoolError as exc:
            assert str(exc), "an error without a message"
