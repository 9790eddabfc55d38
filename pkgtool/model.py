"""Typed model shared by every stage: load -> resolve -> (lint | render | build | install | verify).

This module is the contract between stages.  One module because every stage
imports these types together; splitting them would scatter one contract.  Everything here is a frozen
dataclass or an enum; no stage mutates another stage's output.
Every class has a docstring: without one, @dataclass makes one with
inspect.signature, which every command would pay for at import.  The classes are made by
frozen.frozen_dataclass, which compiles half the methods @dataclass(frozen=True) would (start-up).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import field
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from .frozen import frozen_dataclass
from .kinds import KIND_NAMES

SCHEMA_VERSION = 2

# What a scriptlet needs while it runs: RPM Requires(pre) ...; Debian Pre-Depends for pre, else Depends.
SCRIPT_REQUIRES: tuple[str, ...] = ("requires-pre", "requires-post", "requires-preun", "requires-postun")

# Relation tables of the map, in the order writers emit them.
RELATION_KINDS: tuple[str, ...] = (
    "requires",
    *SCRIPT_REQUIRES,
    "recommends",
    "suggests",
    "conflicts",
    "provides",
    "replaces",
    "build-requires",
)

# Script events of the [scripts] contract.
SCRIPT_EVENTS: tuple[str, ...] = (
    "pre-install",
    "post-install",
    "pre-upgrade",
    "post-upgrade",
    "pre-remove",
    "post-remove",
    "purge",
    # RPM only (%pretrans, %posttrans): once per transaction that installs or upgrades the package.
    "pre-transaction",
    "post-transaction",
)

# The package's own version in a relation's version: `vdsm = "= {version}"`, `"= {evr}"`.
OWN_PLACEHOLDERS: tuple[str, ...] = ("version", "release", "evr")

# Directories every profile defines; a profile may define more ([dirs] of distros/*.toml) and a
# map may use any directory its profile defines.
DIR_PLACEHOLDERS: tuple[str, ...] = (
    "prefix",
    "bindir",
    "sbindir",
    "libexecdir",
    "datadir",
    "sysconfdir",
    "localstatedir",
    "docdir",
    "mandir",
    "unitdir",
    "python3_sitelib",
)

# rpm's %verify attributes, in RPMVERIFY_* bit order (md5 = 1 << 0 ...); `not X` in a [[file]] verify.
VERIFY_ATTRS: tuple[str, ...] = ("md5", "size", "link", "user", "group", "mtime", "mode", "rdev")
# Other spellings rpm accepts for the same attribute.
VERIFY_ALIASES: Mapping[str, str] = {"filedigest": "md5", "owner": "user"}

PLUGIN_KINDS: tuple[str, ...] = KIND_NAMES  # each kind is a module of pkgtool/kinds/


class EntryKind(StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"


class ConfigKind(StrEnum):
    NONE = "none"  # not a config file
    CONFIG = "config"  # RPM %config, Debian conffile
    NOREPLACE = "noreplace"  # RPM %config(noreplace), Debian conffile


class OnUpgrade(StrEnum):
    """What an upgrade does to a running systemd unit ([[unit]] on-upgrade)."""

    RESTART = "restart"  # RPM %systemd_postun_with_restart; debhelper's default restart after upgrade
    NONE = "none"  # RPM %systemd_postun; dh_installsystemd --no-restart-after-upgrade --no-stop-on-upgrade


class Preset(StrEnum):
    """A [[unit]]'s line in the package's systemd preset file ({presetdir}/50-NAME.preset)."""

    ENABLE = "enable"
    DISABLE = "disable"


class Family(StrEnum):
    RPM = "rpm"
    DEB = "deb"


@frozen_dataclass
class Location:
    """Where something was written: file, dotted key path (``tree[2].mode``), 1-based line."""

    file: str
    key: str = ""
    line: int | None = None

    def __str__(self) -> str:
        out = self.file
        if self.line is not None:
            out += f":{self.line}"
        if self.key:
            out += f": {self.key}"
        return out


# ---------------------------------------------------------------- the layout


@frozen_dataclass
class Package:
    """[package]: the identity and description of the package."""

    name: str
    version: str
    summary: str
    description: str
    license: str
    maintainer: str
    release: str = "1"
    epoch: int | None = None
    url: str = ""
    vendor: str = ""
    arch: str = "noarch"
    kind: str = "app"
    section: str = ""
    node_kernel_args: str = ""  # an oVirt Node plugin's kernel arguments (recipe.ks bootloader --append)
    source: str = ""  # the source package's name when it is another's (a [[subpackage]]); "" is its own


@frozen_dataclass
class Relation:
    """One relation as written in the map: logical name, operator ('' = any), version."""

    name: str
    op: str = ""  # one of '', '<', '<=', '=', '>=', '>'
    version: str = ""
    loc: Location | None = field(default=None, compare=False)


@frozen_dataclass
class TreeSpec:
    """[[tree]]: a source directory deployed whole under a destination directory."""

    src: str  # relative to the layout root, may hold {distro}/{family}
    dst: str  # absolute deployed dir, may hold placeholders
    mode: int | None = None
    dir_mode: int | None = None
    owner: str = "root"
    group: str = "root"
    exclude: tuple[str, ...] = ()
    doc: bool = False
    license: bool = False
    allow: tuple[str, ...] = ()
    package: str = ""  # the [[subpackage]] that owns it (full name); "" is the main package
    loc: Location | None = field(default=None, compare=False)


@frozen_dataclass
class FileSpec:
    """[[file]]: one source file, or the files a glob matches."""

    src: str  # a file or a glob
    dst: str  # a path, or a directory when it ends in '/'
    mode: int | None = None
    owner: str = "root"
    group: str = "root"
    config: ConfigKind = ConfigKind.NONE
    doc: bool = False
    license: bool = False
    allow: tuple[str, ...] = ()
    package: str = ""  # the [[subpackage]] that owns it (full name); "" is the main package
    loc: Location | None = field(default=None, compare=False)
    template: bool = False  # @NAME@ filled at build time (sources/templates.py)
    lang: str = ""  # RPM %lang(xx): the locale the file belongs to; Debian has no such marking
    ghost: bool = False  # owned, not shipped (RPM %ghost; Debian: made by postinst); src is then ""
    no_verify: tuple[str, ...] = ()  # VERIFY_ATTRS rpm -V and pkgtool verify skip: %verify(not ...)


@frozen_dataclass
class DirSpec:
    """[[dir]]: a directory the package owns, even when empty."""

    path: str
    mode: int | None = None
    owner: str = "root"
    group: str = "root"
    allow: tuple[str, ...] = ()
    package: str = ""  # the [[subpackage]] that owns it (full name); "" is the main package
    loc: Location | None = field(default=None, compare=False)
    ghost: bool = False  # owned, not shipped: RPM %ghost %dir; Debian: made by postinst


@frozen_dataclass
class SymlinkSpec:
    """[[symlink]]: a link the package ships."""

    path: str
    target: str
    allow: tuple[str, ...] = ()
    package: str = ""  # the [[subpackage]] that owns it (full name); "" is the main package
    loc: Location | None = field(default=None, compare=False)
    absolute: bool = False  # store the target as an absolute path (RPM; Debian follows Policy 10.5)


@frozen_dataclass
class AttrRule:
    """[[attr]]: mode, owner or group for the deployed paths a glob matches."""

    path: str  # a glob over deployed paths: '*' and '?' stay inside one segment, '**' crosses
    mode: int | None = None
    owner: str | None = None
    group: str | None = None
    allow: tuple[str, ...] = ()
    loc: Location | None = field(default=None, compare=False)


@frozen_dataclass
class UnitSpec:
    """[[unit]]: a systemd system unit, installed into {unitdir} and handled on install, upgrade and removal."""

    name: str  # foo.service: the deployed name
    src: str  # relative to the layout root
    enable: bool = True
    on_upgrade: OnUpgrade = OnUpgrade.RESTART
    loc: Location | None = field(default=None, compare=False)
    preset: Preset | None = None  # None: no line in the preset file

    def as_file(self) -> FileSpec:
        """The unit file as a [[file]] of the main package (resolve places it like any other file)."""
        return FileSpec(src=self.src, dst="{unitdir}/" + self.name, mode=0o644, loc=self.loc)


@frozen_dataclass
class TmpfileSpec:
    """[[tmpfile]]: a tmpfiles.d configuration, installed into {tmpfilesdir} and applied on install."""

    name: str  # foo.conf: the deployed name
    src: str  # relative to the layout root
    loc: Location | None = field(default=None, compare=False)

    def as_file(self) -> FileSpec:
        return FileSpec(src=self.src, dst="{tmpfilesdir}/" + self.name, mode=0o644, loc=self.loc)


@frozen_dataclass
class GroupSpec:
    """[[group]]: a group the package creates on install (never removed: files may still name it)."""

    name: str
    gid: int | None = None  # None: the next free system id
    system: bool = True
    loc: Location | None = field(default=None, compare=False)


@frozen_dataclass
class UserSpec:
    """[[user]]: a user the package creates on install, with a primary group and supplementary groups."""

    name: str
    uid: int | None = None
    group: str = ""  # primary group; "" is a group of the user's name
    groups: tuple[str, ...] = ()  # supplementary groups
    home: str = "/"
    shell: str = "/usr/sbin/nologin"
    system: bool = True
    comment: str = ""
    loc: Location | None = field(default=None, compare=False)

    @property
    def primary(self) -> str:
        return self.group or self.name


@frozen_dataclass
class PatchSpec:
    """[[patch]]: a patch applied to the source files before use."""

    file: str  # relative to the layout root
    strip: int = 1
    loc: Location | None = field(default=None, compare=False)


@frozen_dataclass
class ChangelogEntry:
    """[[changelog]]: one release's entry."""

    version: str  # "VERSION-RELEASE"
    date: _dt.date
    author: str  # "Name <email>"
    changes: tuple[str, ...]
    loc: Location | None = field(default=None, compare=False)


@frozen_dataclass
class SubPackage:
    """[[subpackage]]: another binary package built from the same sources; names are full names."""

    name: str
    summary: str
    description: str
    arch: str  # inherited from [package] unless given
    kind: str  # inherited from [package] unless given
    relations: Mapping[str, tuple[Relation, ...]] = field(default_factory=dict)
    scripts: Mapping[str, str] = field(default_factory=dict)  # event -> src path
    loc: Location | None = field(default=None, compare=False)


@frozen_dataclass
class Layout:
    """A validated pkgtool.toml, for one distro variant.

    ``variants`` maps a distro id named in ``[distro.<id>]`` to the full Layout
    that results from applying that table's overrides; the top-level Layout has
    them, the variants themselves have an empty mapping.
    """

    root: Path  # absolute directory holding pkgtool.toml
    source_file: Path  # absolute path of pkgtool.toml
    schema: int
    package: Package
    relations: Mapping[str, tuple[Relation, ...]]  # kind (RELATION_KINDS) -> relations
    trees: tuple[TreeSpec, ...] = ()
    files: tuple[FileSpec, ...] = ()
    dirs: tuple[DirSpec, ...] = ()
    symlinks: tuple[SymlinkSpec, ...] = ()
    attrs: tuple[AttrRule, ...] = ()
    scripts: Mapping[str, str] = field(default_factory=dict)  # event -> src path
    patches: tuple[PatchSpec, ...] = ()
    changelog: tuple[ChangelogEntry, ...] = ()
    lint_allow: tuple[str, ...] = ()
    # [python] compile: directories outside site-packages whose .py files get byte-code (placeholders unexpanded)
    python_compile: tuple[str, ...] = ()
    python_loc: Location | None = field(default=None, compare=False)
    subpackages: tuple[SubPackage, ...] = ()
    units: tuple[UnitSpec, ...] = ()  # [[unit]], all of the main package
    tmpfiles: tuple[TmpfileSpec, ...] = ()  # [[tmpfile]], all of the main package
    users: tuple[UserSpec, ...] = ()  # [[user]] (Resolved.users are the owners named by entries)
    groups: tuple[GroupSpec, ...] = ()  # [[group]]
    vars: Mapping[str, str] = field(default_factory=dict)  # [vars]: name -> value, placeholders unexpanded
    var_locs: Mapping[str, Location] = field(default_factory=dict, compare=False)  # [vars]: name -> where written
    replaced: tuple[Location, ...] = field(default=(), compare=False)  # schema 1: override arrays that replaced
    variants: Mapping[str, Layout] = field(default_factory=dict, compare=False)


# ---------------------------------------------------------------- profiles


@frozen_dataclass
class Profile:
    """A distro profile, with inheritance already applied."""

    id: str
    family: Family
    release: str
    description: str
    chain: tuple[str, ...]  # self first, then each ancestor, nearest first
    dirs: Mapping[str, str]  # placeholder (DIR_PLACEHOLDERS) -> absolute directory
    system_dirs: frozenset[str]  # absolute dirs a package must never own
    names: Mapping[str, str]  # logical relation name -> distro package name
    compression: str  # 'zstd' | 'xz' | 'gzip' | 'none'
    compression_level: int
    source_compression: str = "gzip"  # the source tarball: 'gzip' | 'zstd'
    auto_config_dirs: tuple[str, ...] = ()  # regular files under these become config (Debian: /etc)
    standards_version: str = ""  # deb family
    dist_tag: str = ""  # rpm family, such as '.fc40'
    rpm_macros: Mapping[str, str] = field(default_factory=dict)  # placeholder -> macro, '%{_datadir}'
    origin: Path | None = field(default=None, compare=False)  # the file it came from
    extra: Mapping[str, object] = field(default_factory=dict, compare=False)  # keys for one writer
    # The ids ovirt-host-deploy matches packages.d/<name>.<id> against (Python's linux_distribution).
    host_deploy_ids: tuple[str, ...] = ()
    # export ci: the distro's official container image, the commands that install the system
    # backend's tools and a Python for pkgtool in it, and that Python's name.
    ci_image: str = ""
    ci_install: tuple[str, ...] = ()
    ci_python: str = ""


# ---------------------------------------------------------------- resolved


@frozen_dataclass
class Entry:
    """One deployed path, final: what every output writes and verify checks."""

    path: str  # absolute, normalised, no trailing '/'
    kind: EntryKind
    mode: int  # permission bits including suid/sgid/sticky (0o7777 mask); 0o777 for symlinks
    owner: str = "root"
    group: str = "root"
    config: ConfigKind = ConfigKind.NONE
    source: str | None = None  # FILE: path relative to the layout root (before patches)
    target: str | None = None  # SYMLINK: target as declared, placeholders expanded
    owned: bool = True  # DIR: False for system / host-owned parents the package only needs
    implicit: bool = False  # DIR created only as a parent of another entry
    doc: bool = False
    license: bool = False
    allow: frozenset[str] = frozenset()  # lint rules waived for this entry
    origin: str = ""  # key path of the map item that made it, then each [[attr]] applied: 'tree[0] attr[1]'
    template: bool = False  # FILE: its source's @NAME@s are filled (sources/templates.py)
    lang: str = ""  # FILE: RPM %lang(xx)
    no_verify: tuple[str, ...] = ()  # FILE: VERIFY_ATTRS not checked, in VERIFY_ATTRS order
    absolute: bool = False  # SYMLINK: its target is stored absolute (links.link_text)
    ghost: bool = False  # FILE/DIR: owned, not shipped (in Resolved.ghosts, never in entries)


@frozen_dataclass
class ResolvedRelation:
    """A relation with the distro's package name."""

    name: str  # distro package name (profile-mapped)
    op: str = ""
    version: str = ""
    logical: str = ""  # name as written in the map
    own: str = ""  # the version as written when it holds {version}, {release} or {evr}; `version` is its value

    @property
    def replaces_older(self) -> bool:
        """A [replaces] of a named package's versions below a bound (``< v``, ``<= v``): the renaming case.

        Only these get the format's companion relation (RPM Provides, Debian Breaks).
        """
        return self.op in ("<", "<=") and bool(self.version) and not self.name.startswith("/")


@frozen_dataclass
class Resolved:
    """A layout resolved for one profile: every deployed entry, final, with relations and scripts."""

    layout: Layout  # the variant used for this profile
    profile: Profile
    entries: tuple[Entry, ...]  # sorted by path
    relations: Mapping[str, tuple[ResolvedRelation, ...]]  # kind -> relations, sorted by name
    scripts: Mapping[str, str]  # event -> script text (read from the tree)
    source_date_epoch: int  # every timestamp in every artifact comes from this
    # Each [[subpackage]] resolved as a package of its own (its layout's [package] is the
    # sub-package's); the main package's entries above are only what it owns.
    subpackages: tuple[Resolved, ...] = ()
    # Files and directories the package owns but does not ship (RPM %ghost), sorted by path: no
    # payload, no install, no lint of content; each format says what it does with them.
    ghosts: tuple[Entry, ...] = ()

    @property
    def packages(self) -> tuple[Resolved, ...]:
        """Every binary package of the map: the main one first, then the sub-packages in map order."""
        return (self, *self.subpackages)

    def select(self, names: Sequence[str] = ()) -> tuple[Resolved, ...]:
        """The packages named (full names, or a -suffix of the main name), in map order; all when none is."""
        if not names:
            return self.packages
        by_name = {p.package.name: p for p in self.packages}
        wanted = {self.package.name + n if n.startswith("-") else n for n in names}
        unknown = sorted(wanted - by_name.keys())
        if unknown:
            from .diagnostics import nearest
            from .errors import UsageError

            close = nearest(unknown[0], by_name)
            hint = f"did you mean {close!r}?" if close else f"packages of this map: {', '.join(by_name)}"
            raise UsageError(f"--package {unknown[0]!r}: no package of this map has that name; {hint}")
        return tuple(p for p in self.packages if p.package.name in wanted)

    vars: Mapping[str, str] = field(default_factory=dict)  # the map's [vars], expanded for this profile
    python_compile: tuple[str, ...] = ()  # [python] compile, expanded: byte-code dirs besides site-packages

    @property
    def package(self) -> Package:
        return self.layout.package

    @property
    def root(self) -> Path:
        return self.layout.root

    def by_path(self) -> dict[str, Entry]:
        return {e.path: e for e in self.entries}

    # Cached: every output walks these several times, and a package may have 100,000 entries.
    # (cached_property writes the instance __dict__ directly, which a frozen dataclass allows.)
    @cached_property
    def files(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.kind is EntryKind.FILE)

    @cached_property
    def owned(self) -> tuple[Entry, ...]:
        """Entries the package owns: every file and symlink, and owned directories."""
        return tuple(e for e in self.entries if e.kind is not EntryKind.DIR or e.owned)

    @property
    def users(self) -> tuple[str, ...]:
        return tuple(sorted({e.owner for e in self.owned if e.owner != "root"}))

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(sorted({e.group for e in self.owned if e.group != "root"}))


# ---------------------------------------------------------------- observed


@frozen_dataclass
class Observed:
    """One path as found in a root directory or an artifact, for verify."""

    path: str
    kind: EntryKind | None  # None: some other type (device, fifo, ...)
    mode: int  # permission bits (0o7777 mask)
    owner: str
    group: str
    size: int = 0
    digest: str = ""  # hex digest of the content, '' when unknown
    digest_algo: str = ""  # 'sha256' | 'md5' | ...
    target: str | None = None
    config: ConfigKind = ConfigKind.NONE


@frozen_dataclass
class ArtifactInfo:
    """What a reader found in a built .rpm/.deb: metadata, payload and relations, for verify."""

    path: str
    format: Family
    name: str
    version: str
    release: str
    arch: str
    summary: str
    entries: tuple[Observed, ...]
    relations: Mapping[str, tuple[ResolvedRelation, ...]]  # map relation kinds -> relations
    scripts: Mapping[str, str] = field(default_factory=dict)  # event (SCRIPT_EVENTS or format name) -> text
    epoch: int | None = None
