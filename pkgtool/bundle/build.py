"""`pkgtool bundle`: an oVirt Node plugin bundle, NAME-VERSION.plugin.tar[.gz|.xz].

The map's RPMs are built natively with the Node release's profile (distros/node/ovirt-node.toml),
the ``--with`` dependencies the image lacks are added, and the tarball holds ``manifest``
(manifest.py), ``recipe.ks`` (recipe.py) and ``rpms/``.  The tar is deterministic: members sorted,
mtime SOURCE_DATE_EPOCH (0 without it), owner root, mode 0644, no compressor timestamps.
"""

from __future__ import annotations

import enum
import gzip
import hashlib
import io
import lzma
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..atomic import temp_dir, write_bytes_atomic
from ..errors import UsageError
from ..formats.build import build
from ..layout.load import load_layout
from ..model import ConfigKind
from ..resolve import resolve
from .manifest import MANIFEST, Manifest, ManifestFile
from .node import NodeRelease, release_for
from .recipe import render_recipe
from .resolve_deps import RpmFacts, plan_dependencies, read_image_provides, rpm_facts

RECIPE = "recipe.ks"
RPMS = "rpms"


class Compress(enum.StrEnum):
    GZ = "gz"
    XZ = "xz"
    NONE = "none"

    @property
    def suffix(self) -> str:
        return "" if self is Compress.NONE else f".{self.value}"


@dataclass(frozen=True)
class BundleResult:
    path: Path
    manifest: Manifest
    left_out: tuple[str, ...]  # --with RPMs the image already has
    warnings: tuple[str, ...]  # paths whose changes a stateless Node loses on reboot

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "manifest": self.manifest.to_dict(),
            "left_out": list(self.left_out),
            "warnings": list(self.warnings),
        }


def _persistence_warnings(release: NodeRelease, carried: Sequence[RpmFacts]) -> tuple[str, ...]:
    """Config files and /var state the packages own outside the persisted paths: edits vanish on reboot."""
    out = []
    for facts in carried:
        for e in facts.info.entries:
            state = e.config is not ConfigKind.NONE or e.path.startswith("/var/")
            if state and not release.is_persisted(e.path):
                out.append(f"{facts.path.name}: {e.path} is not persisted on {release.id}; changes are lost on reboot")
    return tuple(out)


def _tar(members: dict[str, bytes], mtime: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(members[name]), mtime, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tf.addfile(info, io.BytesIO(members[name]))
    return buf.getvalue()


def _compress(data: bytes, how: Compress, mtime: int) -> bytes:
    if how is Compress.GZ:
        out = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=mtime, compresslevel=9) as gz:
            gz.write(data)
        return out.getvalue()
    if how is Compress.XZ:
        return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64)
    return data


def build_bundle(
    project_dir: Path,
    node_version: str,
    out_dir: Path,
    with_rpms: Sequence[Path] = (),
    image_packages: Path | None = None,
    compress: Compress = Compress.GZ,
    source_date_epoch: int | None = None,
) -> BundleResult:
    release = release_for(node_version)
    image = read_image_provides(image_packages) if image_packages is not None else None
    for p in with_rpms:
        if not Path(p).name.endswith(".rpm") or Path(p).name.endswith(".src.rpm"):
            raise UsageError(f"--with {p}: not a binary .rpm file")
    extra = [rpm_facts(Path(p)) for p in with_rpms]
    resolved = resolve(load_layout(project_dir), release.build_profile(project_dir), source_date_epoch)
    pkg = resolved.package
    with temp_dir(prefix="pkgtool-bundle-") as tmp:
        built = [Path(a.path) for a in build(resolved, Path(tmp), "native") if a.format == "rpm"]
        own = [rpm_facts(p) for p in sorted(built)]
        plan = plan_dependencies(own, extra, image)
        members = {f"{RPMS}/{f.path.name}": f.path.read_bytes() for f in plan.carried}
    if len(members) != len(plan.carried):
        raise UsageError("two bundled RPMs have the same file name: " + ", ".join(f.path.name for f in plan.carried))
    names = [f.name for f in plan.carried]
    members[RECIPE] = render_recipe(pkg.name, pkg.version, names, release.root_size_mib, pkg.node_kernel_args)
    files = tuple(ManifestFile(n, len(d), hashlib.sha256(d).hexdigest()) for n, d in sorted(members.items()))
    manifest = Manifest(pkg.name, pkg.version, release.node_versions, files)
    members[MANIFEST] = manifest.render()
    mtime = source_date_epoch or 0
    data = _compress(_tar(members, mtime), compress, mtime)
    dest = Path(out_dir) / f"{pkg.name}-{pkg.version}.plugin.tar{compress.suffix}"
    write_bytes_atomic(dest, data)
    return BundleResult(dest, manifest, plan.left_out, _persistence_warnings(release, plan.carried))
