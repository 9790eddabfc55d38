"""verify --root's reader (pkgtool.rootfs.walk): what it finds is what os.lstat says, path by path, with few syscalls."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import EXAMPLES
from tooling import demo_layout

from pkgtool.errors import PkgtoolError
from pkgtool.install.apply import install
from pkgtool.model import Entry, EntryKind, Observed, Resolved
from pkgtool.profiles import load_profile
from pkgtool.project import resolve_dir
from pkgtool.rootfs import walk as verify_walk
from pkgtool.rootfs.accounts import load_accounts
from pkgtool.verify.compare import compare
from pkgtool.verify.root import verify_root

PROVISION = "/var/cache/convirt/image_store/fedora_vm/provision.sh"
LINK = "/usr/bin/convirt"
DOC = "/usr/share/convirt/doc"


@pytest.fixture
def installed(tmp_path) -> tuple[Resolved, Path]:
    resolved = resolve_dir(EXAMPLES / "convirt", "fedora")
    root = tmp_path / "R"
    install(resolved, root)
    return resolved, root


def at(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def _flip_first_byte(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[0] ^= 0x01
    p.write_bytes(bytes(data))


def _dir_to_outside_link(root: Path, path: str, outside: Path) -> None:
    shutil.copytree(at(root, path), outside, symlinks=True)
    shutil.rmtree(at(root, path))
    os.symlink(outside, at(root, path))


MUTATIONS = {
    "none": lambda root, tmp: None,
    "mode": lambda root, tmp: os.chmod(at(root, PROVISION), 0o600),
    "same-size-content": lambda root, tmp: _flip_first_byte(at(root, PROVISION)),
    "appended": lambda root, tmp: at(root, PROVISION).open("ab").write(b"more"),
    "truncated": lambda root, tmp: at(root, PROVISION).write_bytes(b""),
    "missing-link": lambda root, tmp: at(root, LINK).unlink(),
    "extra-tree": lambda root, tmp: (
        at(root, DOC + "/x/y").mkdir(parents=True),
        at(root, DOC + "/x/y/z").write_text("z"),
    ),
    "dir-is-link-out": lambda root, tmp: _dir_to_outside_link(root, DOC, tmp / "outside"),
    "file-is-fifo": lambda root, tmp: (at(root, PROVISION).unlink(), os.mkfifo(at(root, PROVISION))),
}


def lstat_chain(root: Path, path: str) -> os.stat_result | None:
    """os.lstat of root/path, or None when a component on the way is missing or is not a real directory."""
    cur, st = root, os.lstat(root)
    for part in path.strip("/").split("/") if path != "/" else ():
        if not stat.S_ISDIR(st.st_mode):
            return None
        cur = cur / part
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            return None
    return st


def expected_observations(resolved: Resolved, root: Path) -> dict[str, Observed]:
    """What verify must find, built here from os.lstat and os.listdir: every entry, and all below owned dirs."""
    accounts = load_accounts(root)
    kinds = {stat.S_IFREG: EntryKind.FILE, stat.S_IFDIR: EntryKind.DIR, stat.S_IFLNK: EntryKind.SYMLINK}

    def observed(path: str) -> Observed | None:
        st = lstat_chain(root, path)
        if st is None:
            return None
        kind = kinds.get(stat.S_IFMT(st.st_mode))
        real = at(root, path)
        digest = hashlib.sha256(real.read_bytes()).hexdigest() if kind is EntryKind.FILE else ""
        return Observed(
            path=path,
            kind=kind,
            mode=0o777 if kind is EntryKind.SYMLINK else stat.S_IMODE(st.st_mode),
            owner=accounts.user_name(st.st_uid),
            group=accounts.group_name(st.st_gid),
            size=st.st_size if kind is EntryKind.FILE else 0,
            digest=digest,
            digest_algo="sha256" if digest else "",
            target=os.readlink(real) if kind is EntryKind.SYMLINK else None,
        )

    found = {e.path: o for e in resolved.entries if (o := observed(e.path)) is not None}
    todo = [e.path for e in resolved.entries if e.kind is EntryKind.DIR and e.owned]
    while todo:
        d = todo.pop()
        if d not in found or found[d].kind is not EntryKind.DIR:
            continue
        for name in os.listdir(at(root, d)):
            child = d.rstrip("/") + "/" + name
            if child not in found and (o := observed(child)) is not None:
                found[child] = o
                todo.append(child)
    return found


def _without_digest(o: Observed) -> Observed:
    return Observed(o.path, o.kind, o.mode, o.owner, o.group, o.size, target=o.target)


@pytest.mark.parametrize("how", sorted(MUTATIONS))
def test_walk_finds_what_lstat_finds(installed, tmp_path, how):
    """The walk's paths and attributes are those os.lstat gives; it reads no content (no digest)."""
    resolved, root = installed
    MUTATIONS[how](root, tmp_path)
    want = {p: _without_digest(o) for p, o in expected_observations(resolved, root).items()}
    assert verify_walk.read_root(resolved, root, load_accounts(root)) == want


@pytest.mark.parametrize("how", sorted(MUTATIONS))
def test_report_is_the_one_of_the_lstat_expectations(installed, tmp_path, how):
    """verify_root, which compares bytes instead of digests, reports what the digests of the expectations give."""
    resolved, root = installed
    MUTATIONS[how](root, tmp_path)
    slow = compare(resolved, expected_observations(resolved, root).values(), subject=str(root))
    fast = verify_root(resolved, root)
    assert fast.to_dict() == slow.to_dict()
    assert fast.to_text() == slow.to_text()
    assert fast.ok is (how == "none")


def test_digests_reported_are_those_of_the_two_contents(installed):
    resolved, root = installed
    f = at(root, PROVISION)
    f.write_bytes(f.read_bytes() + b"tampered")
    (entry,) = [e for e in resolved.files if e.path == PROVISION]
    m = verify_root(resolved, root).by_path()[PROVISION]
    assert m.problems == ("digest",)
    assert m.actual["digest"] == "sha256 " + hashlib.sha256(f.read_bytes()).hexdigest()
    from pkgtool.sources.staging import staged_sources

    with staged_sources(resolved) as staged:
        want = hashlib.sha256((Path(staged) / entry.source).read_bytes()).hexdigest()
    assert m.expected["digest"] == "sha256 " + want


def test_each_path_is_lstat_once(installed, monkeypatch):
    resolved, root = installed
    calls: list[str] = []
    real = os.lstat

    def counting(path, *a, **kw):
        calls.append(os.fspath(path))
        return real(path, *a, **kw)

    accounts = load_accounts(root)
    monkeypatch.setattr(os, "lstat", counting)
    seen = verify_walk.read_root(resolved, root, accounts)
    assert set(seen) == {e.path for e in resolved.entries}
    assert calls, "the reader lstats"
    assert len(calls) == len(set(calls)), "a path was lstat twice"
    assert len(calls) <= len(resolved.entries)


def test_nothing_below_a_linked_directory_is_observed(installed, tmp_path):
    resolved, root = installed
    _dir_to_outside_link(root, DOC, tmp_path / "outside")
    view = verify_walk.RootView(root, load_accounts(root))
    below = [e.path for e in resolved.entries if e.path.startswith(DOC + "/")]
    assert below
    for path in below:
        assert view.observe(path) is None
    assert view.observe(DOC).kind is EntryKind.SYMLINK


@pytest.mark.parametrize(
    ("installed_bytes", "source_bytes", "same"),
    [
        (b"a" * 100, b"a" * 100, True),
        (b"a" * 99 + b"b", b"a" * 100, False),  # differs in the last chunk only
        (b"a" * 101, b"a" * 100, False),
        (b"a" * 100, b"a" * 101, False),
        (b"", b"", True),
        (b"", b"x", False),
    ],
)
def test_same_content_in_small_chunks(tmp_path, monkeypatch, installed_bytes, source_bytes, same):
    monkeypatch.setattr(verify_walk, "CHUNK", 7)  # many chunks a file
    (tmp_path / "i").write_bytes(installed_bytes)
    (tmp_path / "s").write_bytes(source_bytes)
    for size_hint in (len(installed_bytes), 0, 10**6):  # a wrong lstat size changes reads, not the answer
        assert verify_walk.same_content(str(tmp_path / "i"), str(tmp_path / "s"), size_hint) is same


def test_same_content_never_reads_through_a_final_link(tmp_path):
    (tmp_path / "s").write_bytes(b"x")
    os.symlink(tmp_path / "s", tmp_path / "i")
    with pytest.raises(OSError):
        verify_walk.same_content(str(tmp_path / "i"), str(tmp_path / "s"), 1)


def test_unreadable_source_is_a_typed_error(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    layout = demo_layout(src)
    entries = (
        Entry("/opt", EntryKind.DIR, 0o755, owned=False),
        Entry("/opt/demo", EntryKind.FILE, 0o644, source="f"),
    )
    r = Resolved(layout, load_profile("fedora"), entries, {}, {}, 0)
    install(r, tmp_path / "R")
    (src / "f").unlink()
    with pytest.raises(PkgtoolError, match="cannot read its source f"):
        verify_root(r, tmp_path / "R")


@pytest.mark.parametrize(
    "args",
    [
        ("/usr/bin/x", EntryKind.FILE, 0o4755, "root", "wheel", 12, None),
        ("/usr/bin/l", EntryKind.SYMLINK, 0o777, "1000", "root", 0, "../lib/x"),
        ("/run/p", None, 0o600, "root", "root", 0, None),
    ],
)
def test_the_cheap_observed_is_an_observed(args):
    """The reader's Observed, made without the frozen __init__, equals, hashes and stays frozen as the real one."""
    import dataclasses

    path, kind, mode, owner, group, size, target = args
    real = Observed(path, kind, mode, owner, group, size, target=target)
    cheap = verify_walk._observed(*args)
    assert type(cheap) is Observed
    assert cheap == real and hash(cheap) == hash(real) and repr(cheap) == repr(real)
    assert dataclasses.asdict(cheap) == dataclasses.asdict(real)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cheap.mode = 0  # type: ignore[misc]
