"""`pkgtool verify BUNDLE`: the bundle against its manifest, and a rebuilt Node image root against the bundle.

Reports use verify's Mismatch / VerifyReport, so `verify --json` and the text are as for packages.
A hostile member (reader.py) is an ArtifactError: refused, naming the member, nothing read further.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from ..atomic import temp_dir
from ..errors import ArtifactError, UsageError
from ..formats.rpm.reader import read_rpm
from ..model import EntryKind
from ..verify.report import Mismatch, VerifyReport
from .manifest import MANIFEST, Manifest, parse
from .reader import Member, read_members

MAX_IMAGE_MANIFEST = 64 << 20


def _read(path: Path) -> tuple[Manifest, dict[str, Member]]:
    members = read_members(path)
    if MANIFEST not in members:
        raise ArtifactError(f"{path}: no {MANIFEST} member; not a pkgtool Node plugin bundle")
    return parse(members.pop(MANIFEST).data, str(path)), members


def verify_bundle(path: Path, node_version: str | None = None) -> VerifyReport:
    """Every member listed with its size and sha256, nothing more; and, given, the Node version fits."""
    manifest, members = _read(path)
    out: list[Mismatch] = []
    listed = {f.path: f for f in manifest.files}
    for name in sorted(listed.keys() | members.keys()):
        want, have = listed.get(name), members.get(name)
        if have is None:
            out.append(Mismatch(name, ("missing",), {"missing": "bundle member listed in the manifest"}))
        elif want is None:
            out.append(Mismatch(name, ("extra",), {}, {"extra": "a member the manifest does not list"}))
        elif (len(have.data), have.sha256) != (want.size, want.sha256):
            actual = f"{len(have.data)} bytes sha256 {have.sha256}"
            out.append(
                Mismatch(name, ("digest",), {"digest": f"{want.size} bytes sha256 {want.sha256}"}, {"digest": actual})
            )
    if node_version is not None and not manifest.fits(node_version):
        compatible = "one of " + ", ".join(manifest.node_versions)
        out.append(
            Mismatch("(metadata) node-version", ("metadata",), {"metadata": compatible}, {"metadata": node_version})
        )
    notes = (f"{manifest.name} {manifest.version} for Node {', '.join(manifest.node_versions)}",)
    return VerifyReport(str(path), len(listed), tuple(out), notes)


def read_image_manifest(path: Path) -> dict[str, str]:
    """path -> sha256 from ``sha256sum`` output (``DIGEST  PATH`` a line; ``./etc/x`` or ``/etc/x``)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_IMAGE_MANIFEST + 1)
    except OSError as exc:
        raise UsageError(f"--image-manifest {path}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_IMAGE_MANIFEST:
        raise UsageError(f"--image-manifest {path}: larger than {MAX_IMAGE_MANIFEST} bytes")
    out: dict[str, str] = {}
    for no, raw in enumerate(data.decode("utf-8", "surrogateescape").splitlines(), start=1):
        digest, sep, name = raw.partition("  ")
        name = name.removeprefix("*")  # sha256sum -b
        if not sep or len(digest) != 64 or not name:
            raise UsageError(f"--image-manifest {path}: line {no} is not 'SHA256  PATH': {raw[:80]!r}")
        rel = os.path.normpath("/" + name.removeprefix(".")).lstrip("/")
        out[rel] = digest.lower()
    return out


def _file_digest(root: Path, rel: str, algo: str) -> tuple[str | None, int | None, str]:
    """(digest, mode, kind) of ROOT/rel without following a symlink at the end; (None, None, '') if absent."""
    p = root / rel
    top = os.path.realpath(root)
    if os.path.commonpath([top, os.path.realpath(p.parent)]) != top:
        return None, None, "path through a symlink out of the root"  # read nothing outside the image
    try:
        st = os.lstat(p)
    except OSError:
        return None, None, ""
    if stat.S_ISLNK(st.st_mode):
        return None, stat.S_IMODE(st.st_mode), "symlink"
    if stat.S_ISDIR(st.st_mode):
        return None, stat.S_IMODE(st.st_mode), "dir"
    if not stat.S_ISREG(st.st_mode):
        return None, stat.S_IMODE(st.st_mode), "other"
    h = hashlib.new(algo or "sha256")
    fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest(), stat.S_IMODE(st.st_mode), "file"


def verify_image_root(path: Path, root: Path, image_manifest: Path | None = None) -> VerifyReport:
    """Every file of the bundled packages in ROOT with its packaged digest and mode; core files unchanged."""
    if not root.is_dir():
        raise UsageError(f"--root {root}: not a directory")
    core = read_image_manifest(image_manifest) if image_manifest is not None else {}
    manifest, members = _read(path)
    out: list[Mismatch] = []
    checked = 0
    with temp_dir(prefix="pkgtool-bundle-verify-") as tmp:
        for name in sorted(n for n in members if n.startswith("rpms/") and n.endswith(".rpm")):
            rpm_path = Path(tmp) / "package.rpm"  # a fixed name: the member's own never reaches the file system
            rpm_path.write_bytes(members[name].data)
            for e in read_rpm(rpm_path).entries:
                rel = e.path.lstrip("/")
                checked += 1
                digest, mode, kind = _file_digest(root, rel, e.digest_algo)
                want_kind = e.kind.value if e.kind is not None else "other"
                if kind == "":
                    out.append(Mismatch(e.path, ("missing",), {"missing": want_kind}, origin=name))
                elif kind != want_kind:
                    out.append(Mismatch(e.path, ("type",), {"type": want_kind}, {"type": kind}, origin=name))
                elif e.kind is EntryKind.FILE:
                    problems, exp, act = [], {}, {}
                    if e.digest and digest != e.digest:
                        problems.append("digest")
                        exp["digest"], act["digest"] = e.digest, digest
                    if mode != e.mode:
                        problems.append("mode")
                        exp["mode"], act["mode"] = f"{e.mode:04o}", f"{mode:04o}"
                    if problems:
                        out.append(Mismatch(e.path, tuple(problems), exp, act, origin=name))
    for rel, want in sorted(core.items()):
        checked += 1
        digest, _, kind = _file_digest(root, rel, "sha256")
        if kind == "":
            out.append(Mismatch("/" + rel, ("missing",), {"missing": "file"}, origin="image manifest"))
        elif digest != want:
            out.append(
                Mismatch("/" + rel, ("digest",), {"digest": want}, {"digest": digest or kind}, origin="image manifest")
            )
    notes = (f"{manifest.name} {manifest.version} in {root}",)
    return VerifyReport(f"{path} in {root}", checked, tuple(out), notes)
