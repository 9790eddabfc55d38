"""Distro profiles: distros/*.toml (shipped) and <project>/distros/*.toml, with inheritance.

A profile file is a flat TOML table (keys in ``_KEYS``).  ``inherits`` names
a parent; tables merge key by key, scalars and lists replace, and
``system_dirs_add`` extends the inherited ``system_dirs``.  A project file
with the name of a shipped profile is one more layer on top of it.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from .data import data_dir
from .errors import ProfileError
from .layout.tomlpos import Positions, format_path, scan
from .model import DIR_PLACEHOLDERS, Family, Location, Profile
from .profile_values import check_values
from .profile_values import profile_error as _err

_TABLES = ("dirs", "rpm_macros", "names", "extra")
_STRINGS = (
    "family",
    "release",
    "description",
    "inherits",
    "compression",
    "source_compression",
    "standards_version",
    "dist_tag",
    "ci_image",
    "ci_python",
)
_LISTS = ("system_dirs", "system_dirs_add", "auto_config_dirs")
# [os_release]: which /etc/os-release this profile's own file matches (never inherited).
# Lists of names, not paths: host_deploy_ids are the distribution ids ovirt-host-deploy reads
# (platform.linux_distribution(full_distribution_name=0)[0]: 'fedora', 'redhat', 'centos', 'debian').
_NAME_LISTS = ("host_deploy_ids",)
# Commands, not paths: ci_install installs the system backend's tools in ci_image (export ci).
_COMMAND_LISTS = ("ci_install",)
_KEYS = frozenset(_TABLES + _STRINGS + _LISTS + _NAME_LISTS + _COMMAND_LISTS + ("compression_level", "os_release"))
_OS_RELEASE_KEYS = ("id", "id_like", "version_id")
# Python takes the id from an /etc/<id>-release or <id>_version file name: (\w+), and it is a
# file-name suffix in packages.d, so a word of letters, digits and '_'.
_HOST_DEPLOY_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_COMPRESSIONS = ("zstd", "xz", "gzip", "none")
# The source tarball (Source0 / orig.tar): what the family's source tools unpack.  rpmbuild's
# %setup reads zstd (rpm >= 4.14); dpkg-source 1.21 offers only gzip, bzip2, lzma and xz.
_SOURCE_COMPRESSIONS = {Family.RPM: ("gzip", "zstd"), Family.DEB: ("gzip",)}
# A shipped profile is 5 KiB.  The cap bounds what tomllib spends on a hostile one (nested
# tables cost it quadratic time: 256 KiB of them parse in 0.2 s).
MAX_PROFILE_BYTES = 256 << 10
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")

# Directories every shipped profile adds (docs/profiles.md); a project's profile may name others.
PACKAGE_DIRS: tuple[str, ...] = (
    "userunitdir",
    "presetdir",
    "tmpfilesdir",
    "sysusersdir",
    "sysctldir",
    "udevrulesdir",
    "modprobedir",
    "licensedir",
    "bashcompletiondir",
    "polkitdir",
    "sudoersdir",
    "logrotatedir",
)

_KNOWN_DIRS = (*DIR_PLACEHOLDERS, *PACKAGE_DIRS)
# A directory's name: {name} in a map's paths, @NAME@ in its templated files.
DIR_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _shipped_dir() -> Path:
    return data_dir("distros")


def _project_dir(project_dir: Path | str | None) -> Path | None:
    if project_dir is None:
        return None
    d = Path(project_dir) / "distros"
    return d if d.is_dir() else None


def _files(project_dir: Path | str | None) -> dict[str, list[Path]]:
    """Profile id -> its files, shipped first, then the project's."""
    out: dict[str, list[Path]] = {}
    dirs = [_shipped_dir()]
    proj = _project_dir(project_dir)
    if proj is not None:
        dirs.append(proj)
    for d in dirs:
        for p in sorted(d.glob("*.toml")):
            if p.is_file():
                out.setdefault(p.stem, []).append(p)
    return out


class _File:
    """One profile file as read: its table and where each key path is written in it."""

    def __init__(self, path: Path):
        self.path = path
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_PROFILE_BYTES + 1)
            if len(data) > MAX_PROFILE_BYTES:
                raise _err(Location(str(path)), f"larger than {MAX_PROFILE_BYTES >> 10} KiB")
            text = data.decode("utf-8")
        except OSError as exc:
            raise _err(Location(str(path)), f"cannot read: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise _err(Location(str(path)), f"not valid UTF-8 (byte {exc.start})") from None
        try:
            self.raw: dict = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _err(Location(str(path)), f"not valid TOML: {exc}") from None
        except RecursionError:
            raise _err(Location(str(path)), "values nested too deeply") from None
        self._text = text
        self._positions: Positions | None = None
        _check_types(self)

    def at(self, *parts: str) -> Location:
        """The Location of a key path in this file (the line of its table when the key itself is not written).

        Only an error needs it: the text is scanned for lines then, not on every load
        (every command loads a profile or two; the scan would triple that cost).
        """
        if self._positions is None:
            self._positions = scan(self._text)
        return Location(str(self.path), format_path(parts), self._positions.line(parts))


def _check_types(f: _File) -> None:
    for key, value in f.raw.items():
        if key not in _KEYS:
            raise _err(f.at(key), "unknown key", hint="known keys: " + ", ".join(sorted(_KEYS)))
        if key == "os_release":
            _check_os_release(f, value)
        elif key in _TABLES:
            if not isinstance(value, dict):
                raise _err(f.at(key), "must be a table")
            for k, v in value.items():
                if key in ("dirs", "rpm_macros") and not DIR_NAME.fullmatch(k):
                    raise _err(f.at(key, k), "not a directory name", hint="lower case letters, digits and _")
                if key in ("dirs", "rpm_macros") and k not in _KNOWN_DIRS:
                    # A new name is welcome; a near miss of a known one is a typo that would go unseen.
                    close = difflib.get_close_matches(k, _KNOWN_DIRS, n=1, cutoff=0.85)
                    if close:
                        raise _err(f.at(key, k), "unknown directory name", hint=f"did you mean {close[0]!r}?")
                if key != "extra" and not isinstance(v, str):
                    raise _err(f.at(key, k), "must be a string")
        elif key in _STRINGS:
            if not isinstance(value, str):
                raise _err(f.at(key), "must be a string")
        elif key in _LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _err(f.at(key), "must be a list of strings")
            for item in value:
                if not item.startswith("/"):  # checked here, where the file and line are known
                    raise _err(f.at(key), f"not an absolute path: {item!r}")
        elif key in _COMMAND_LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _err(f.at(key), "must be a list of strings")
        elif key in _NAME_LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _err(f.at(key), "must be a list of strings")
            for item in value:
                if not _HOST_DEPLOY_ID.fullmatch(item):
                    raise _err(f.at(key), f"{item!r} is not a distribution id (letters, digits, '_')")
            if len(set(value)) != len(value):
                raise _err(f.at(key), "names an id twice")
        elif key == "compression_level" and (not isinstance(value, int) or isinstance(value, bool)):
            raise _err(f.at(key), "must be an integer")


def _check_os_release(f: _File, value: object) -> None:
    if not isinstance(value, dict):
        raise _err(f.at("os_release"), "must be a table")
    for k, v in value.items():
        if k not in _OS_RELEASE_KEYS:
            raise _err(f.at("os_release", k), "unknown key", hint="known keys: " + ", ".join(_OS_RELEASE_KEYS))
        if k == "version_id" and not isinstance(v, str):
            raise _err(f.at("os_release", k), 'must be a string (a glob like "9*")')
        if k != "version_id" and (not isinstance(v, list) or not all(isinstance(x, str) for x in v)):
            raise _err(f.at("os_release", k), "must be a list of strings")


def os_release_rules(project_dir: Path | str | None = None) -> dict[str, dict]:
    """Profile id -> its [os_release] table (the last of its files that has one; never inherited)."""
    out: dict[str, dict] = {}
    for distro_id, paths in _files(project_dir).items():
        for p in paths:
            table = _File(p).raw.get("os_release")
            if table is not None:
                out[distro_id] = table
    return out


# Key path ("compression",) or ("dirs", "bindir") -> the file that set its merged value.
Provenance = dict[tuple[str, ...], _File]


def _layer(base: dict, f: _File, where: Provenance) -> dict:
    """Apply one profile file over what it inherits; note in ``where`` each key it sets."""
    out = dict(base)
    out.pop("inherits", None)  # never inherited: each file says its own parent
    for key, value in f.raw.items():
        if key in _TABLES:
            merged = dict(out.get(key, {}))
            merged.update(value)
            out[key] = merged
            for k in value:
                where[(key, k)] = f
        elif key == "os_release":
            continue
        elif key == "system_dirs_add":
            out["system_dirs"] = list(out.get("system_dirs", [])) + list(value)
        else:
            out[key] = value
            where[(key,)] = f
    return out


class _Loader:
    def __init__(self, project_dir: Path | str | None):
        self.files = _files(project_dir)
        self.cache: dict[str, Profile] = {}

    def known(self) -> list[str]:
        return sorted(self.files)

    def load(self, distro_id: str) -> Profile:
        if distro_id not in self.files:
            known = ", ".join(self.known())
            raise ProfileError(
                f"unknown distro profile {distro_id!r} (known: {known})", hint="known profiles: " + known
            )
        where: Provenance = {}
        merged, chain = self._merged(distro_id, (), where)
        return self._build(distro_id, merged, chain, where)

    def _merged(self, distro_id: str, seen: tuple[str, ...], where: Provenance) -> tuple[dict, tuple[str, ...]]:
        files = [_File(p) for p in self.files[distro_id]]
        src = next((f for f in reversed(files) if "inherits" in f.raw), None)
        base: dict = {}
        chain: tuple[str, ...] = (distro_id,)
        if src is not None:
            parent = src.raw["inherits"]
            if parent == distro_id or parent in seen:
                cycle = " -> ".join((*seen, distro_id, parent))
                raise _err(src.at("inherits"), f"inheritance cycle: {cycle}")
            if parent not in self.files:
                raise _err(
                    src.at("inherits"), f"unknown profile {parent!r}", hint="known profiles: " + ", ".join(self.known())
                )
            base, parent_chain = self._merged(parent, (*seen, distro_id), where)
            chain = (distro_id, *parent_chain)
        for f in files:
            base = _layer(base, f, where)
        base["_origin"] = files[-1].path
        return base, chain

    def _build(self, distro_id: str, d: dict, chain: tuple[str, ...], where: Provenance) -> Profile:
        origin: Path = d["_origin"]

        def at(*parts: str) -> Location:
            # The file (and line) that set the merged value; the profile's own file for a missing key.
            f = where.get(parts)
            return f.at(*parts) if f is not None else Location(str(origin), format_path(parts))

        if not _ID_RE.match(distro_id):
            raise _err(Location(str(origin)), f"profile id {distro_id!r} must match {_ID_RE.pattern}")
        for key in ("family", "compression"):
            if key not in d:
                raise _err(at(key), "missing (and not inherited)")
        try:
            family = Family(d["family"])
        except ValueError:
            raise _err(at("family"), f"must be 'rpm' or 'deb', not {d['family']!r}") from None
        if d["compression"] not in _COMPRESSIONS:
            raise _err(at("compression"), f"must be one of {', '.join(_COMPRESSIONS)}")
        source_compression = d.get("source_compression", "gzip")
        if source_compression not in _SOURCE_COMPRESSIONS.get(family, ("gzip",)):
            allowed = ", ".join(_SOURCE_COMPRESSIONS.get(family, ("gzip",)))
            raise _err(at("source_compression"), f"must be one of {allowed} for the {family.value} family")
        dirs = d.get("dirs", {})
        for name in DIR_PLACEHOLDERS:
            value = dirs.get(name)
            if not value:
                raise _err(at("dirs", name), "missing (and not inherited)")
            if not value.startswith("/") or value != "/" and value.endswith("/"):
                raise _err(at("dirs", name), f"must be an absolute path without a trailing '/': {value!r}")
        check_values(d, at)
        # An empty string in [rpm_macros] / [names] removes an inherited entry.
        macros = {k: v for k, v in d.get("rpm_macros", {}).items() if v}
        for name in macros:
            if name not in dirs:
                raise _err(at("rpm_macros", name), f"a macro for {name!r}, which [dirs] does not define")
        names = {k: v for k, v in d.get("names", {}).items() if v}
        return Profile(
            id=distro_id,
            family=family,
            release=d.get("release", ""),
            description=d.get("description", ""),
            chain=chain,
            dirs=MappingProxyType(dict(sorted(dirs.items()))),
            system_dirs=frozenset(d.get("system_dirs", [])),
            names=MappingProxyType(dict(sorted(names.items()))),
            compression=d["compression"],
            compression_level=d.get("compression_level", 0),
            source_compression=source_compression,
            auto_config_dirs=tuple(p.rstrip("/") or "/" for p in d.get("auto_config_dirs", [])),
            standards_version=d.get("standards_version", ""),
            dist_tag=d.get("dist_tag", ""),
            rpm_macros=MappingProxyType(dict(sorted(macros.items()))),
            origin=origin,
            extra=MappingProxyType(dict(d.get("extra", {}))),
            host_deploy_ids=tuple(d.get("host_deploy_ids", ())),
            ci_image=d.get("ci_image", ""),
            ci_python=d.get("ci_python", ""),
            ci_install=tuple(d.get("ci_install", ())),
        )


def load_profile(distro_id: str, project_dir: Path | str | None = None) -> Profile:
    """The profile ``distro_id``, from the project's distros/ or the shipped ones."""
    return _Loader(project_dir).load(distro_id)


def list_profiles(project_dir: Path | str | None = None) -> list[Profile]:
    """Every known profile, sorted by id."""
    loader = _Loader(project_dir)
    return [loader.load(i) for i in loader.known()]


def known_ids(project_dir: Path | str | None = None) -> list[str]:
    return _Loader(project_dir).known()


def expand_distros(arg: str, project_dir: Path | str | None = None) -> list[str]:
    """``"all"`` -> every profile id; ``"a,b"`` -> those ids, checked, in the order given, without repeats."""
    loader = _Loader(project_dir)
    if arg.strip() == "all":
        return loader.known()
    out: list[str] = []
    for part in arg.split(","):
        name = part.strip()
        if not name:
            continue
        loader.load(name)  # raises ProfileError listing the known ids
        if name not in out:
            out.append(name)
    if not out:
        raise ProfileError("no distro given", hint="known profiles: " + ", ".join(loader.known()))
    return out


def profile_summary(profile: Profile) -> Mapping[str, object]:
    """A JSON-ready view of a whole profile, for ``pkgtool distros show`` (text and ``--json``)."""
    return {
        "id": profile.id,
        "family": profile.family.value,
        "release": profile.release,
        "description": profile.description,
        "chain": list(profile.chain),
        "origin": str(profile.origin) if profile.origin else None,
        "compression": profile.compression,
        "compression_level": profile.compression_level,
        "source_compression": profile.source_compression,
        "standards_version": profile.standards_version,
        "dist_tag": profile.dist_tag,
        "auto_config_dirs": list(profile.auto_config_dirs),
        "dirs": dict(profile.dirs),
        "rpm_macros": dict(profile.rpm_macros),
        "names": dict(sorted(profile.names.items())),
        "system_dirs": sorted(profile.system_dirs),
        "host_deploy_ids": list(profile.host_deploy_ids),
        "ci_image": profile.ci_image,
        "ci_python": profile.ci_python,
        "ci_install": list(profile.ci_install),
    }
