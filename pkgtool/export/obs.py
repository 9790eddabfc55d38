"""`pkgtool export obs`: one directory an Open Build Service package takes as is.

OBS builds an rpm repository from the package's ``.spec`` and a deb repository from its ``.dsc``.
OBS's ``debtransform`` (obs-build) turns the ``.dsc`` into a real Debian source package at build
time; what it reads (obs-build/debtransform):

- ``DEBTRANSFORM-TAR:`` in the ``.dsc``: the upstream tarball, hard-linked as NAME_VERSION.orig.tar.gz;
- every top-level ``debian.<name>`` file becomes ``debian/<name>`` (``debian.series`` excepted);
- ``debian.series``: patches in the package directory, ``NAME -pN`` per line, folded into the diff;
- ``debian.changelog``'s first version must equal the ``.dsc`` Version, else it adds an entry.

Its old versions (Debian's obs-build 20210120) make Format 1.0 whatever the ``.dsc`` says, so the
``.dsc`` asks for 1.0: debian/source/format is not written, and the map's patches go through
``debian.series`` instead of debian/patches/.  A flat name cannot hold a directory, so any other
debian/ subdirectory is refused rather than lost.  pkgtool's control says ``debhelper-compat (= 13)``,
so there is no ``debian.compat``.

The rpm side is ``pkgtool generate`` of the rpm profile (spec, tarball, patches, scriptlet files);
the Debian side is the deb profile's debian/ tree and orig tarball.  Names OBS treats specially
(``_service``, ``_link``, ...: a leading ``_``) or ``debian.`` ones from the rpm side are refused,
so a patch name cannot run an OBS service or inject a debian/ file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..archive.source_tarball import source_members, write_members_tarball
from ..atomic import atomic_dir
from ..errors import ResolveError, UsageError
from ..model import Family, Resolved
from ..project import resolve_dir

DSC_FORMAT = "1.0"  # what every debtransform writes (see the module notes)
# debian/ files debtransform's flat names replace: the format (1.0 by the .dsc) and the quilt series.
_NOT_FLATTENED = frozenset({"source/format", "patches/series"})


@dataclass(frozen=True)
class ObsFile:
    name: str  # a plain file name in OUT
    sha256: str


@dataclass(frozen=True)
class ObsExport:
    out: Path
    rpm_distro: str
    deb_distro: str
    dsc: str
    files: tuple[ObsFile, ...]

    def to_dict(self) -> dict:
        return {
            "out": str(self.out),
            "rpm_distro": self.rpm_distro,
            "deb_distro": self.deb_distro,
            "dsc": self.dsc,
            "files": [{"name": f.name, "sha256": f.sha256} for f in self.files],
        }


def _check_family(resolved: Resolved, family: Family, option: str) -> None:
    if resolved.profile.family is not family:
        raise UsageError(
            f"{option} {resolved.profile.id}: a {resolved.profile.family.value} profile; "
            f"the {family.value} side needs a {family.value}-family profile"
        )


def _rpm_side(rpm: Resolved, tmp: Path) -> list[str]:
    """The spec and its sources, straight from the rpm format's generate."""
    from ..formats.generate import generate

    names = [p.name for p in generate(rpm, tmp)]
    for name in names:
        # OBS runs _service files and follows _link; debtransform reads every debian.* file.
        if name.startswith(("_", "debian.")) or name.endswith(".dsc"):
            raise ResolveError(
                f"{rpm.layout.source_file}: {name!r} would be an OBS control file in the package",
                hint="rename the patch (or package): OBS and debtransform read names starting '_' or 'debian.' themselves",
            )
    return names


def _dsc_text(deb: Resolved, control: str, orig: str, obs_release: bool) -> str:
    """The .dsc debtransform completes: the source paragraph's fields, Binary, and where the tarball is."""
    from debian.deb822 import Deb822

    from ..formats.deb.facts import deb_version

    paragraphs = list(Deb822.iter_paragraphs(control))
    source, binaries = paragraphs[0], paragraphs[1:]
    archs = sorted({b["Architecture"] for b in binaries})
    fields = [
        ("Format", DSC_FORMAT),
        ("Source", source["Source"]),
        ("Binary", ", ".join(b["Package"] for b in binaries)),
        ("Architecture", " ".join(archs)),
        ("Version", deb_version(deb)),
        ("Maintainer", source["Maintainer"]),
    ]
    fields += [(k, source[k]) for k in ("Homepage", "Standards-Version", "Build-Depends") if k in source]
    fields.append(("DEBTRANSFORM-TAR", orig))
    if obs_release:
        # OBS then builds VERSION+<its build counter>, with a changelog entry saying so: each
        # rebuild is a newer package to apt.  pkgtool verify expects the map's release instead.
        fields.append(("DEBTRANSFORM-RELEASE", "1"))
    # One line each: control's values are one line except Build-Depends, folded again here.
    return "".join(f"{k}: {' '.join(v.split())}\n" for k, v in fields)


def _deb_side(
    deb: Resolved, rpm_patches: list[tuple[str, int, str]], tmp: Path, taken: set[str], obs_release: bool
) -> list[str]:
    from ..formats.deb.debian_dir import debian_files, orig_name, tree_name
    from ..formats.deb.facts import license_texts

    written: list[str] = []

    def put(name: str, text: str) -> None:
        if name in taken:
            raise ResolveError(f"{deb.layout.source_file}: the export would write {name} twice (rpm and deb sides)")
        taken.add(name)
        (tmp / name).write_bytes(text.encode("utf-8", "surrogateescape"))
        written.append(name)

    orig = orig_name(deb)
    if orig in taken:
        raise ResolveError(f"{deb.layout.source_file}: the export would write {orig} twice (rpm and deb sides)")
    write_members_tarball(source_members(deb), tmp / orig, tree_name(deb), deb.source_date_epoch)
    taken.add(orig)
    written.append(orig)
    control = ""
    for f in debian_files(deb, license_texts(deb, deb.root)):
        if f.rel in _NOT_FLATTENED:
            continue
        if "/" in f.rel:
            raise ResolveError(f"debian/{f.rel}: debtransform's flat debian.<name> files cannot hold a directory")
        if f.rel == "control":
            control = f.text
        put(f"debian.{f.rel}", f.text)
    if rpm_patches:
        # The rpm side's patch files, as the map gives them; debtransform strips -pN itself.
        put("debian.series", "".join(f"{name} -p{strip}\n" for name, strip, _ in rpm_patches))
    put(f"{deb.package.name}.dsc", _dsc_text(deb, control, orig, obs_release))
    return written


def _normalise(tmp: Path, epoch: int) -> None:
    for name in os.listdir(tmp):
        path = tmp / name
        os.chmod(path, 0o644)  # OBS keeps no modes; debtransform's diff carries none either
        os.utime(path, (epoch, epoch))


def export_obs(
    directory: Path,
    rpm_distro: str,
    deb_distro: str,
    out: Path,
    source_date_epoch: int | None = None,
    obs_release: bool = False,
) -> ObsExport:
    """Resolve the map for both profiles and write OUT whole: spec side, debian.* side, NAME.dsc."""
    from ..formats.rpm.spec import patch_names

    if (out / ".osc").exists():  # OUT is replaced whole: an osc checkout's .osc/ would go with it
        raise UsageError(
            f"--out {out} is an osc checkout, which the export would replace whole",
            hint="export into another directory and copy its files into the checkout (docs/farms.md)",
        )
    rpm = resolve_dir(directory, rpm_distro, source_date_epoch)
    deb = resolve_dir(directory, deb_distro, source_date_epoch)
    _check_family(rpm, Family.RPM, "--distro")
    _check_family(deb, Family.DEB, "--deb-distro")
    with atomic_dir(out) as tmp:  # built beside OUT and swapped in: never half an export
        names = _rpm_side(rpm, tmp)
        names += _deb_side(deb, patch_names(rpm), tmp, set(names), obs_release)
        _normalise(tmp, deb.source_date_epoch)
    digests: Mapping[str, str] = {n: hashlib.sha256((out / n).read_bytes()).hexdigest() for n in sorted(names)}
    return ObsExport(
        out, rpm.profile.id, deb.profile.id, f"{deb.package.name}.dsc", tuple(ObsFile(n, d) for n, d in digests.items())
    )
