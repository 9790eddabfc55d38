"""Reproducibility: same map + SOURCE_DATE_EPOCH -> byte-identical .rpm, .deb, spec and debian/ tree.

Each test copies an example into fresh checkout directories that differ in
one way (their path, the umask, file mtimes, the order files were created and
are listed in), builds or generates from each, and compares bytes.  Build
time, build host and changelog dates must come from SOURCE_DATE_EPOCH or the
map, never from the clock or the host.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import os
import random
import socket
import subprocess
import tarfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import EXAMPLE_NAMES, EXAMPLES
from tooling import require_tools

from pkgtool.formats.deb.debian_dir import generate_deb
from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.formats.rpm.spec import generate_rpm
from pkgtool.project import resolve_dir

EPOCH = 1736121600  # 2025-01-06 00:00 UTC, as conftest sets it
RPM_DISTRO = "fedora"
DEB_DISTRO = "debian"


# ---------------------------------------------------------------- checkouts that differ in one way


def _copy(src: Path, dest: Path, *, reverse: bool = False, umask: int = 0o022) -> None:
    """Copy a tree creating every file fresh under ``umask``, in sorted or reverse-sorted order."""
    items = sorted(src.rglob("*"), reverse=reverse)
    old = os.umask(umask)
    try:
        dest.mkdir(parents=True, exist_ok=True)
        # Directories first (parents before children), then files in the chosen order.
        for p in sorted((p for p in items if p.is_dir() and not p.is_symlink()), reverse=reverse):
            (dest / p.relative_to(src)).mkdir(parents=True, exist_ok=True)
        for p in items:
            target = dest / p.relative_to(src)
            if p.is_symlink():
                target.symlink_to(os.readlink(p))
            elif p.is_file():
                target.write_bytes(p.read_bytes())
                # Keep only whether the source was executable, as a fresh checkout would.
                exec_bits = 0o111 if p.stat().st_mode & 0o100 else 0
                target.chmod((0o666 | exec_bits) & ~umask)
    finally:
        os.umask(old)


def _scramble_mtimes(root: Path, seed: int) -> None:
    rng = random.Random(seed)
    for p in sorted(root.rglob("*")):
        if not p.is_symlink():
            t = rng.randint(0, 2_000_000_000)
            os.utime(p, (t, t))


class _Listing:
    """What os.scandir returns: an iterator that is also a context manager."""

    def __init__(self, entries):
        self._it = iter(entries)

    def __iter__(self):
        return self._it

    def __next__(self):
        return next(self._it)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def close(self):
        pass


@contextmanager
def _reversed_listings(monkeypatch):
    """Make every directory listing of this process come back in reverse order."""
    real_scandir, real_listdir = os.scandir, os.listdir

    def scandir(path="."):
        with real_scandir(path) as it:
            entries = list(it)
        entries.reverse()
        return _Listing(entries)

    def listdir(path="."):
        return list(reversed(real_listdir(path)))

    with monkeypatch.context() as m:
        m.setattr(os, "scandir", scandir)
        m.setattr(os, "listdir", listdir)
        yield


@contextmanager
def _umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _checkout(example: str, where: Path, variant: str) -> Path:
    """A copy of ``example`` under ``where``: 'plain', or differing by 'umask', 'mtime', 'order' or 'all'."""
    dest = where / "checkout" / example if variant == "plain" else where / "elsewhere" / "deeper" / f"co-{variant}"
    reverse = variant in ("order", "all")
    umask = 0o077 if variant in ("umask", "all") else 0o022
    _copy(EXAMPLES / example, dest, reverse=reverse, umask=umask)
    if variant in ("mtime", "all"):
        _scramble_mtimes(dest, seed=len(variant))
    return dest


@contextmanager
def _build_conditions(variant: str, monkeypatch):
    """The process-wide conditions of a build: umask and listing order."""
    with _umask(0o077 if variant in ("umask", "all") else 0o022):
        if variant in ("order", "all"):
            with _reversed_listings(monkeypatch):
                yield
        else:
            yield


def _build(project: Path, out: Path, epoch: int = EPOCH) -> dict[str, bytes]:
    rpm = build_rpm(resolve_dir(project, RPM_DISTRO, epoch), out / "rpm")
    deb = build_deb(resolve_dir(project, DEB_DISTRO, epoch), out / "deb")
    return {"rpm": rpm.read_bytes(), "deb": deb.read_bytes()}


def _tree_contents(root: Path) -> dict[str, tuple[str, bytes | str, int]]:
    """relative path -> (kind, bytes or link target, permission bits) of every path under root."""
    out: dict[str, tuple[str, bytes | str, int]] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        st = p.lstat()
        if p.is_symlink():
            out[rel] = ("link", os.readlink(p), 0)
        elif p.is_dir():
            out[rel] = ("dir", b"", st.st_mode & 0o7777)
        else:
            out[rel] = ("file", p.read_bytes(), st.st_mode & 0o7777)
    return out


def _generate(project: Path, out: Path, epoch: int = EPOCH) -> dict[str, tuple[str, bytes | str, int]]:
    generate_rpm(resolve_dir(project, RPM_DISTRO, epoch), out / "rpm")
    generate_deb(resolve_dir(project, DEB_DISTRO, epoch), out / "deb")
    # The output directories themselves are the caller's; everything inside them is generated.
    return {f"{fam}/{k}": v for fam in ("rpm", "deb") for k, v in _tree_contents(out / fam).items()}


def _differences(a: dict, b: dict) -> list[str]:
    """Each path that differs, with what differs: missing, kind, content or mode."""
    out = []
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if x == y:
            continue
        if x is None or y is None:
            out.append(f"{k}: only in {'reference' if x is None else 'variant'}")
        elif x[0] != y[0]:
            out.append(f"{k}: {x[0]} vs {y[0]}")
        elif x[1] != y[1]:
            out.append(f"{k}: content differs")
        else:
            out.append(f"{k}: mode {x[2]:04o} vs {y[2]:04o}")
    return out


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_two_builds_are_byte_identical(example, tmp_path):
    project = _checkout(example, tmp_path, "plain")
    first = _build(project, tmp_path / "one")
    # Cross a second boundary: a build that reads the clock would now differ.
    time.sleep(1.0 - time.time() % 1.0 + 0.05)
    second = _build(project, tmp_path / "two")
    assert first["rpm"] == second["rpm"]
    assert first["deb"] == second["deb"]


@pytest.mark.parametrize("variant", ["umask", "mtime", "order", "all"])
def test_builds_ignore_checkout_dir_umask_mtimes_and_listing_order(variant, tmp_path, monkeypatch):
    # Every variant also lives in another directory than the reference checkout.
    reference = _build(_checkout("convirt", tmp_path, "plain"), tmp_path / "ref")
    other = _checkout("convirt", tmp_path, variant)
    with _build_conditions(variant, monkeypatch):
        got = _build(other, tmp_path / f"out-{variant}")
    assert got["rpm"] == reference["rpm"], f"native .rpm differs when the checkout differs by {variant}"
    assert got["deb"] == reference["deb"], f"native .deb differs when the checkout differs by {variant}"


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_every_example_builds_identically_from_a_different_checkout(example, tmp_path, monkeypatch):
    reference = _build(_checkout(example, tmp_path, "plain"), tmp_path / "ref")
    with _build_conditions("all", monkeypatch):
        got = _build(_checkout(example, tmp_path, "all"), tmp_path / "other")
    assert got == reference


@pytest.mark.parametrize("variant", ["plain", "umask", "mtime", "order", "all"])
def test_generated_spec_and_debian_tree_are_identical(variant, tmp_path, monkeypatch):
    reference = _generate(_checkout("convirt", tmp_path / "a", "plain"), tmp_path / "gen-ref")
    other = _checkout("convirt", tmp_path / "b", variant)
    with _build_conditions(variant, monkeypatch):
        got = _generate(other, tmp_path / f"gen-{variant}")
    assert any(k.endswith(".spec") for k in reference)
    assert any(k.endswith("debian/rules") for k in reference)
    assert any(".orig.tar" in k for k in reference)
    assert _differences(got, reference) == []


def test_changing_source_date_epoch_changes_the_artifacts(tmp_path):
    # Guards the tests above: identical bytes must come from a fixed input, not from dropping all times.
    project = _checkout("vdsm-hook-acme", tmp_path, "plain")
    a = _build(project, tmp_path / "a", EPOCH)
    b = _build(project, tmp_path / "b", EPOCH + 86400)
    assert a["rpm"] != b["rpm"]
    assert a["deb"] != b["deb"]


def _rpm_query(path: Path, fmt: str) -> str:
    return subprocess.run(["rpm", "-qp", "--qf", fmt, str(path)], capture_output=True, text=True, check=True).stdout


def test_rpm_build_time_and_host_are_fixed(tmp_path):
    require_tools("rpm")
    project = _checkout("vdsm-hook-acme", tmp_path, "plain")
    later = EPOCH + 12345
    for epoch in (EPOCH, later):
        rpm = build_rpm(resolve_dir(project, RPM_DISTRO, epoch), tmp_path / str(epoch))
        buildtime, buildhost = _rpm_query(rpm, "%{BUILDTIME} %{BUILDHOST}").split()
        assert int(buildtime) == epoch
        assert buildhost != socket.gethostname()
        assert buildhost != socket.getfqdn()
        # Every file's mtime is clamped to the epoch.
        mtimes = {int(t) for t in _rpm_query(rpm, "[%{FILEMTIMES}\n]").split()}
        assert mtimes and max(mtimes) <= epoch


def test_deb_member_times_come_from_the_epoch(tmp_path):
    require_tools("dpkg-deb")
    project = _checkout("convirt", tmp_path, "plain")
    _scramble_mtimes(project, seed=7)  # sources newer and older than the epoch
    deb = build_deb(resolve_dir(project, DEB_DISTRO, EPOCH), tmp_path / "out")
    # ar member headers: 60-byte headers after the 8-byte magic; mtime is bytes 16..28.
    data = deb.read_bytes()
    assert data.startswith(b"!<arch>\n")
    pos, ar_times = 8, []
    while pos + 60 <= len(data):
        header = data[pos : pos + 60]
        ar_times.append(int(header[16:28]))
        pos += 60 + int(header[48:58])
        pos += pos % 2
    assert ar_times and set(ar_times) == {EPOCH}
    for what in ("--fsys-tarfile", "--ctrl-tarfile"):
        raw = subprocess.run(["dpkg-deb", what, str(deb)], capture_output=True, check=True).stdout
        tar_path = tmp_path / f"{what.strip('-')}.tar"
        tar_path.write_bytes(raw)
        with tarfile.open(tar_path) as tar:
            members = tar.getmembers()
        assert members
        assert max(m.mtime for m in members) <= EPOCH, what
        assert {(m.uname, m.gname) for m in members} == {("root", "root")}, what


def _without_changelog(tmp_path: Path) -> Path:
    project = _checkout("vdsm-hook-acme", tmp_path, "plain")
    toml = project / "pkgtool.toml"
    text = toml.read_text()
    head, sep, _ = text.partition("[[changelog]]")
    assert sep, "the example should have a [[changelog]] to remove"
    # The example's [[changelog]] is its last table; keep anything after it that is not part of it.
    toml.write_text(head)
    return project


def test_default_changelog_dates_come_from_source_date_epoch(tmp_path):
    project = _without_changelog(tmp_path)
    other = EPOCH + 40 * 86400 + 3600  # another day, to tell the two apart
    seen = {}
    for epoch in (EPOCH, other):
        out = tmp_path / f"gen-{epoch}"
        generate_rpm(resolve_dir(project, RPM_DISTRO, epoch), out / "rpm")
        generate_deb(resolve_dir(project, DEB_DISTRO, epoch), out / "deb")
        spec = next((out / "rpm").glob("*.spec")).read_text()
        changelog = next((out / "deb").glob("*/debian/changelog")).read_text()
        day = dt.datetime.fromtimestamp(epoch, dt.UTC)
        assert day.strftime("%a %b %d %Y") in spec.split("%changelog", 1)[1]
        trailer = next(ln for ln in changelog.splitlines() if ln.startswith(" -- "))
        stamp = email.utils.parsedate_to_datetime(trailer.split("  ", 1)[1])
        assert stamp.date() == day.date()
        seen[epoch] = (spec, changelog)
    assert seen[EPOCH] != seen[other]


def test_builds_without_source_date_epoch_do_not_read_the_clock(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    project = _checkout("libvirt-hook-acme", tmp_path, "plain")
    first = _build_default(project, tmp_path / "one")
    time.sleep(1.0 - time.time() % 1.0 + 0.05)
    second = _build_default(project, tmp_path / "two")
    assert first == second


def _build_default(project: Path, out: Path) -> dict[str, bytes]:
    rpm = build_rpm(resolve_dir(project, RPM_DISTRO), out / "rpm")
    deb = build_deb(resolve_dir(project, DEB_DISTRO), out / "deb")
    return {"rpm": rpm.read_bytes(), "deb": deb.read_bytes()}


def test_copy_helpers_really_vary_the_checkout(tmp_path):
    # The variants must differ in what they claim to, or the tests above prove nothing.
    plain = _checkout("convirt", tmp_path, "plain")
    varied = _checkout("convirt", tmp_path, "all")
    f_plain = plain / "doc" / "README"
    f_varied = varied / "doc" / "README"
    assert f_plain.read_bytes() == f_varied.read_bytes()
    assert f_plain.stat().st_mode & 0o777 == 0o644
    assert f_varied.stat().st_mode & 0o777 == 0o600
    mtimes = {p.stat().st_mtime for p in varied.rglob("*") if p.is_file()}
    assert len(mtimes) > 1
    assert os.path.realpath(plain) != os.path.realpath(varied)


def test_reversed_listings_reverse(tmp_path, monkeypatch):
    for name in ("a", "b", "c"):
        (tmp_path / name).write_text(name)
    real = os.listdir(tmp_path)
    with _reversed_listings(monkeypatch):
        assert os.listdir(tmp_path) == list(reversed(real))
        with os.scandir(tmp_path) as it:
            assert [e.name for e in it] == list(reversed(real))
