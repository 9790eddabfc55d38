"""`pkgtool export host-deploy`: hook maps and otopi plugins laid out as ovirt-host-deploy reads them.

OUT stands for ovirt-host-deploy's plugin group, /usr/share/ovirt-host-deploy/plugins/ovirt-host-deploy/:

- a vdsm-hook map gives ``vdsmhooks/hooks.d/<hook-point>/<script>`` (ovirt-host-deploy copies that
  tree into VDSM's hooks directory) and ``vdsmhooks/packages.d/<package>.<id>``, one for each
  distribution id of each profile (``host_deploy_ids``); ovirt-host-deploy installs the packages
  listed in every file whose name ends with the host's id;
- an otopi-plugin map gives ``<plugin>/``: the files the map puts into the group's plugin
  directory, and the package files given with ``--carry``.

Each map is resolved for each profile and its files read through the staging code (patches
applied); the results of all profiles must agree, since ovirt-host-deploy has one tree for every
host.  Each output directory is built in a private directory beside it and swapped in whole, so
nothing is written outside OUT and an interrupted export leaves the previous one.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import atomic_dir
from ..diagnostics import Diagnostic, Severity
from ..errors import ResolveError, UsageError
from ..kinds import otopi_plugin, vdsm_hook
from ..layout.load import load_layout
from ..lint.context import CONTENT_LIMIT
from ..lint.otopi import missing_files
from ..model import EntryKind, Location, Resolved
from ..profiles import load_profile
from ..resolve import resolve
from ..sources.regular import open_regular, read_input
from ..sources.staging import staged_sources

VDSMHOOKS = "vdsmhooks"  # ovirt-host-deploy's own plugin that reads hooks.d and packages.d
HOOKS_D = f"{VDSMHOOKS}/hooks.d"
PACKAGES_D = f"{VDSMHOOKS}/packages.d"
GROUP_DIR = "{datadir}/ovirt-host-deploy/plugins/ovirt-host-deploy"
KINDS = (vdsm_hook.NAME, otopi_plugin.NAME)
# A carried package keeps its name in the plugin directory: a plain file name, nothing hidden.
_CARRY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+~-]*\.(rpm|deb)")
_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")
_MODE_BITS = 0o777  # no setuid/setgid/sticky bits in a tree meant to be copied around


@dataclass(frozen=True)
class _Planned:
    data: bytes
    mode: int
    origin: str  # what put it there, for a conflict's message


@dataclass(frozen=True)
class ExportedFile:
    path: str  # relative to OUT
    mode: int
    sha256: str


@dataclass(frozen=True)
class HostDeployExport:
    """What an export wrote, and what the tree cannot carry."""

    out: Path
    files: tuple[ExportedFile, ...]
    package_lists: Mapping[str, tuple[str, ...]]  # packages.d file -> the package names it lists
    package_only: tuple[str, ...]  # deployed paths hooks.d cannot carry: only the package installs them
    without_id: tuple[str, ...]  # profiles with no host-deploy id, so no list

    def to_dict(self) -> dict:
        return {
            "out": str(self.out),
            "files": [{"path": f.path, "mode": f"{f.mode:04o}", "sha256": f.sha256} for f in self.files],
            "package_lists": {k: list(v) for k, v in self.package_lists.items()},
            "package_only": list(self.package_only),
            "profiles_without_id": list(self.without_id),
        }


@dataclass
class _Plan:
    files: dict[str, _Planned] = field(default_factory=dict)
    package_only: set[str] = field(default_factory=set)
    plugins: dict[str, str] = field(default_factory=dict)  # otopi plugin directory -> the map it came from
    without_id: set[str] = field(default_factory=set)

    def add(self, rel: str, data: bytes, mode: int, origin: str) -> None:
        parts = rel.split("/")
        if any(p in ("", ".", "..") or "\x00" in p for p in parts):  # resolve normalised it; checked again
            raise ResolveError(f"{origin}: {rel!r} is not a plain relative path")
        old = self.files.get(rel)
        if old is None:
            self.files[rel] = _Planned(data, mode & _MODE_BITS, origin)
        elif (old.data, old.mode) != (data, mode & _MODE_BITS):
            what = "contents" if old.data != data else f"modes ({old.mode:04o}, {mode & _MODE_BITS:04o})"
            raise ResolveError(
                f"{rel}: {old.origin} and {origin} give it different {what}",
                hint="ovirt-host-deploy has one tree for every host: make the maps and profiles agree",
            )


def _expand(template: str, resolved: Resolved) -> str:
    dirs = resolved.profile.dirs
    return posixpath.normpath(_PLACEHOLDER.sub(lambda m: dirs.get(m.group(1), m.group(0)), template))


def _label(directory: Path, resolved: Resolved) -> str:
    return f"{directory} ({resolved.profile.id})"


def _symlink_error(label: str, path: str) -> ResolveError:
    message = f"{label}: {path} is a symlink; ovirt-host-deploy copies the contents of regular files only"
    return ResolveError(message, [Diagnostic("host-deploy-symlink", Severity.ERROR, message, path=path)])


def _vdsm_hook(plan: _Plan, directory: Path, resolved: Resolved) -> None:
    hooks = _expand(vdsm_hook.HOOKS_DIR, resolved)
    label = _label(directory, resolved)
    with staged_sources(resolved) as tree:
        for e in resolved.entries:
            if not e.path.startswith(hooks + "/"):
                if e.kind is not EntryKind.DIR:
                    plan.package_only.add(e.path)
                continue
            if e.kind is EntryKind.SYMLINK:
                raise _symlink_error(label, e.path)
            if e.kind is EntryKind.FILE and e.source:
                data = read_input(tree, e.source, "source")
                plan.add(f"{HOOKS_D}/{e.path[len(hooks) + 1 :]}", data, e.mode, f"{label} {e.path}")
    name = resolved.package.name
    if not resolved.profile.host_deploy_ids:
        plan.without_id.add(resolved.profile.id)
    for hd_id in resolved.profile.host_deploy_ids:
        plan.add(f"{PACKAGES_D}/{name}.{hd_id}", f"{name}\n".encode(), 0o644, label)


def _otopi_plugin(plan: _Plan, directory: Path, resolved: Resolved) -> None:
    group = _expand(GROUP_DIR, resolved)
    label = _label(directory, resolved)
    with staged_sources(resolved) as tree:
        for e in resolved.entries:
            if not e.path.startswith(group + "/"):
                if e.kind is not EntryKind.DIR:
                    plan.package_only.add(e.path)
                continue
            rel = e.path[len(group) + 1 :]
            plugin = rel.split("/")[0]
            if plugin == VDSMHOOKS:
                raise UsageError(f"{label}: {e.path} is inside ovirt-host-deploy's own vdsmhooks plugin")
            if plan.plugins.setdefault(plugin, str(directory)) != str(directory):
                raise UsageError(f"plugin directory {plugin!r} comes from both {plan.plugins[plugin]} and {directory}")
            if e.kind is EntryKind.SYMLINK:
                raise _symlink_error(label, e.path)
            if e.kind is EntryKind.FILE and e.source:
                plan.add(rel, read_input(tree, e.source, "source"), e.mode, f"{label} {e.path}")


def _carry(plan: _Plan, carry: Sequence[Path]) -> None:
    """Each --carry package file into the one plugin directory, after proving it is a package."""
    from ..formats.read import read_artifact

    if not carry:
        return
    if len(plan.plugins) != 1:
        found = ", ".join(sorted(plan.plugins)) or "none"
        raise UsageError(f"--carry puts files into one otopi plugin directory; the maps give {found}")
    (plugin,) = plan.plugins
    for path in carry:
        if not _CARRY_NAME.fullmatch(path.name):
            raise UsageError(f"--carry {path}: a carried file is a package named like NAME.rpm or NAME.deb")
        fd, _ = open_regular(str(path), UsageError)
        with os.fdopen(fd, "rb") as fh:
            data = fh.read()
        read_artifact(path, binary_only=True)  # ArtifactError for a file that is not a package
        plan.add(f"{plugin}/{path.name}", data, 0o644, f"--carry {path}")


def _check_references(plan: _Plan) -> None:
    """What each plugin's code opens beside itself is in its directory (lint/otopi.py's reading)."""
    diags: list[Diagnostic] = []
    for plugin in sorted(plan.plugins):
        prefix = plugin + "/"
        inside = {rel[len(prefix) :]: p for rel, p in plan.files.items() if rel.startswith(prefix)}
        code = {
            rel: p.data.decode("utf-8", errors="replace")
            for rel, p in inside.items()
            if rel.endswith(".py") and len(p.data) <= CONTENT_LIMIT
        }
        for module, name in missing_files(code, set(inside)):
            message = f"{plugin}/{module} opens {name!r}, which the plugin directory does not carry"
            # the code comes from the map that made the plugin directory; --carry files hold none
            loc = Location(str(Path(plan.plugins[plugin]) / "pkgtool.toml"))
            diags.append(Diagnostic("otopi-plugin-missing-file", Severity.ERROR, message, loc, path=name))
    if diags:
        raise ResolveError(
            f"{len(diags)} file(s) the plugin code needs are not carried: {diags[0].message}",
            diags,
            hint="carry the package with --carry FILE, or deploy the file into the plugin directory",
        )


def _write(out: Path, plan: _Plan, source_date_epoch: int | None) -> None:
    tops = sorted({rel.split("/")[0] for rel in plan.files})
    out.mkdir(parents=True, exist_ok=True)
    for top in tops:
        with atomic_dir(out / top) as tmp:  # private until complete; nothing else writes in it
            for rel in sorted(r for r in plan.files if r.split("/")[0] == top):
                planned = plan.files[rel]
                target = tmp.joinpath(*rel.split("/")[1:])
                target.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(planned.data)
                    os.fchmod(fh.fileno(), planned.mode)
            for here, _dirs, names in os.walk(tmp, topdown=False):
                os.chmod(here, 0o755)  # the umask would narrow it
                if source_date_epoch is not None:  # for whoever archives the tree next
                    for n in names:
                        os.utime(os.path.join(here, n), (source_date_epoch,) * 2, follow_symlinks=False)
                    os.utime(here, (source_date_epoch,) * 2)


def export_host_deploy(
    directories: Iterable[Path],
    distros: Sequence[str],
    out: Path,
    carry: Sequence[Path] = (),
    source_date_epoch: int | None = None,
) -> HostDeployExport:
    """Resolve each map for each distro and write OUT as ovirt-host-deploy's plugin group reads it."""
    plan = _Plan()
    directories = list(directories)
    if not directories:
        raise UsageError("give at least one map directory")
    for directory in directories:
        layout = load_layout(directory)
        kind = layout.package.kind
        if kind not in KINDS:
            raise UsageError(
                f"{layout.source_file}: package.kind is {kind!r}; export host-deploy takes {' and '.join(KINDS)} maps"
            )
        for distro in distros:
            resolved = resolve(layout, load_profile(distro, directory), source_date_epoch)
            if kind == vdsm_hook.NAME:
                _vdsm_hook(plan, Path(directory), resolved)
            else:
                _otopi_plugin(plan, Path(directory), resolved)
    _carry(plan, carry)
    _check_references(plan)
    _write(out, plan, source_date_epoch)
    files = tuple(
        ExportedFile(rel, p.mode, hashlib.sha256(p.data).hexdigest()) for rel, p in sorted(plan.files.items())
    )
    lists = {
        rel[len(PACKAGES_D) + 1 :]: tuple(p.data.decode().split())
        for rel, p in sorted(plan.files.items())
        if rel.startswith(PACKAGES_D + "/")
    }
    return HostDeployExport(out, files, lists, tuple(sorted(plan.package_only)), tuple(sorted(plan.without_id)))
