"""What a check sees: the Resolved, the staged sources, and small questions about the map."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..model import ConfigKind, Entry, EntryKind, Location, Resolved
from ..tomlpos import Positions, scan

_ORIGIN = re.compile(r"(tree|file|dir|symlink|attr)\[(\d+)\]")
_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")
_TABLES = {"tree": "trees", "file": "files", "dir": "dirs", "symlink": "symlinks", "attr": "attrs"}

# Checks read heads and small scripts; a huge payload file is never read whole.
CONTENT_LIMIT = 1 << 20


def is_under(path: str, directory: str) -> bool:
    directory = directory.rstrip("/") or "/"
    return path == directory or path.startswith(directory + "/") or directory == "/"


def _never(ctx: LintContext, entry: Entry) -> bool:
    return False


@dataclass(frozen=True)
class KindPolicy:
    """What a plugin kind tells the core rules (so that core code never tests a kind's name)."""

    # Files the host software sources rather than runs: a shebang without x bit is fine there.
    sourced: Callable[[LintContext, Entry], bool] = _never
    # Files for which the kind's own rules already judge the x bit and shebang (no double report).
    exec_judged: Callable[[LintContext, Entry], bool] = _never
    # Config files that are meant to be executable (libvirt hooks are conffiles and scripts).
    executable_config_ok: Callable[[LintContext, Entry], bool] = _never


@dataclass
class LintContext:
    resolved: Resolved
    content_root: Path  # staged sources: Entry.source is relative to this
    policy: KindPolicy = field(default_factory=KindPolicy)
    _cache: dict[str, bytes] = field(default_factory=dict, repr=False)
    _positions: Positions | None = field(default=None, repr=False)

    # ------------------------------------------------------------ basics

    @property
    def kind(self) -> str:
        return self.resolved.package.kind

    @property
    def profile(self):
        return self.resolved.profile

    @property
    def layout(self):
        return self.resolved.layout

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self.resolved.entries

    @property
    def files(self) -> tuple[Entry, ...]:
        return self.resolved.files

    def paths(self) -> dict[str, Entry]:
        return self.resolved.by_path()

    def expand(self, template: str) -> str:
        """Expand deployed-path placeholders with the profile's directories; normalise."""
        values = dict(self.profile.dirs)
        values["name"] = self.resolved.package.name
        values["version"] = self.resolved.package.version

        def one(m: re.Match) -> str:
            return values.get(m.group(1), m.group(0))

        out = _PLACEHOLDER.sub(one, template)
        return posixpath.normpath(out) if out else out

    def sysconfdir(self) -> str:
        return self.profile.dirs.get("sysconfdir", "/etc")

    # ------------------------------------------------------------ content

    def content(self, entry: Entry) -> bytes:
        """The first CONTENT_LIMIT bytes of a file entry's final (patched) content; b'' if unreadable."""
        if entry.kind is not EntryKind.FILE or not entry.source:
            return b""
        if entry.source not in self._cache:
            try:
                with open(self.content_root / entry.source, "rb") as fh:
                    self._cache[entry.source] = fh.read(CONTENT_LIMIT)
            except OSError:
                self._cache[entry.source] = b""  # resolve already reported missing sources
        return self._cache[entry.source]

    def text(self, entry: Entry) -> str:
        return self.content(entry).decode("utf-8", errors="replace")

    def has_shebang(self, entry: Entry) -> bool:
        return self.content(entry).startswith(b"#!")

    def is_elf(self, entry: Entry) -> bool:
        return self.content(entry).startswith(b"\x7fELF")

    def runnable(self, entry: Entry) -> bool:
        """Content the kernel can execute: a script with a shebang or an ELF binary."""
        return self.has_shebang(entry) or self.is_elf(entry)

    # ------------------------------------------------------------ the map behind an entry

    def origins(self, entry: Entry) -> list[tuple[str, int]]:
        return [(t, int(i)) for t, i in _ORIGIN.findall(entry.origin)]

    def spec(self, table: str, index: int):
        items = getattr(self.layout, _TABLES[table], ())
        return items[index] if 0 <= index < len(items) else None

    def maker(self, entry: Entry) -> tuple[str, int] | None:
        """The [[tree]]/[[file]]/[[dir]]/[[symlink]] item that made the entry.

        Resolve records only the last item that touched an entry, an [[attr]]
        when one applied; the maker is then found again from the map.
        """
        for table, index in self.origins(entry):
            if table != "attr":
                return table, index
        return self._find_maker(entry)

    def _find_maker(self, entry: Entry) -> tuple[str, int] | None:
        layout = self.layout
        if entry.kind is EntryKind.FILE:
            for i, f in enumerate(layout.files):
                dst = self.expand(f.dst)
                placed = posixpath.dirname(entry.path) == dst if f.dst.endswith("/") else entry.path == dst
                src = _PLACEHOLDER.sub("*", f.src)
                if placed and entry.source and fnmatch.fnmatchcase(entry.source, posixpath.normpath(src)):
                    return "file", i
        if entry.kind is EntryKind.DIR:
            for i, d in enumerate(layout.dirs):
                if self.expand(d.path) == entry.path:
                    return "dir", i
        if entry.kind is EntryKind.SYMLINK:
            for i, s in enumerate(layout.symlinks):
                if self.expand(s.path) == entry.path:
                    return "symlink", i
        best = None
        for i, t in enumerate(layout.trees):
            dst = self.expand(t.dst)
            if is_under(entry.path, dst) and (best is None or len(dst) > best[0]):
                best = (len(dst), i)
        return ("tree", best[1]) if best else None

    def last_attr(self, entry: Entry, field_name: str) -> tuple[str, int] | None:
        """The last [[attr]] applied to the entry that sets ``field_name`` (mode/owner/group)."""
        found = None
        for table, index in self.origins(entry):
            spec = self.spec(table, index) if table == "attr" else None
            if spec is not None and getattr(spec, field_name, None) is not None:
                found = (table, index)
        return found

    def map_config(self, entry: Entry) -> ConfigKind:
        """The config flag as the map writes it (not the deb family's automatic conffiles)."""
        made = self.maker(entry)
        if made is None:
            return entry.config
        spec = self.spec(*made)
        return getattr(spec, "config", ConfigKind.NONE) if spec is not None else entry.config

    def location(self, entry: Entry | None, key: str = "") -> Location | None:
        """Where in the map the entry's ``key`` comes from: file, key path and line."""
        if entry is None:
            return None
        item = None
        if key in ("mode", "owner", "group"):
            item = self.last_attr(entry, key)
        item = item or self.maker(entry)
        if item is None:
            return None
        return self.item_location(item[0], item[1], key)

    def item_location(self, table: str, index: int, key: str = "") -> Location:
        spec = self.spec(table, index)
        loc = getattr(spec, "loc", None)
        # The loader's key knows about [distro.X] variants ('distro.debian.file[0]'); keep it.
        head = loc.key if loc is not None and loc.key else f"{table}[{index}]"
        keypath = f"{head}.{key}" if key else head
        return Location(loc.file if loc else self.map_file(), keypath, self.line_of(keypath))

    # ------------------------------------------------------------ the map file itself

    def map_file(self) -> str:
        """The file name the loader uses in its locations (the same string, for grouping)."""
        for table in _TABLES.values():
            for spec in getattr(self.layout, table, ()):
                if spec.loc is not None:
                    return spec.loc.file
        return _display(self.layout.source_file)

    def map_location(self, key: str) -> Location:
        """Location of a top-level key such as ``package.summary`` or ``scripts``, with its line."""
        return Location(self.map_file(), key, self.line_of(key))

    def line_of(self, keypath: str) -> int | None:
        """Line of a key path in the map (the nearest enclosing table's when the key is absent)."""
        if self._positions is None:
            try:
                self._positions = scan(Path(self.layout.source_file).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                self._positions = Positions()
        return self._positions.line(parse_keypath(keypath))


_KEYPART = re.compile(r'"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_-]+)|\[(\d+)\]')


def parse_keypath(text: str) -> tuple[str | int, ...]:
    """``distro.debian.file[0].mode`` -> ("distro", "debian", "file", 0, "mode")."""
    out: list[str | int] = []
    for quoted, bare, index in _KEYPART.findall(text):
        out.append(int(index) if index else (quoted or bare))
    return tuple(out)


def _display(path: Path) -> str:
    # As the loader shows it: relative to the working directory when under it.
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
