"""What a check sees: the Resolved, the staged sources, and small questions about the map."""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..kinds import kind_info
from ..layout.tomlpos import Positions, scan
from ..model import ConfigKind, Entry, EntryKind, Location, Resolved

_ORIGIN = re.compile(r"(tree|file|dir|symlink|attr)\[(\d+)\]")
_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")
_TABLES = {"tree": "trees", "file": "files", "dir": "dirs", "symlink": "symlinks", "attr": "attrs"}

# Checks read heads and small scripts; a huge payload file is never read whole.
CONTENT_LIMIT = 1 << 20
# What the head checks need (shebang, ELF magic), with room for an interpreter line.
HEAD_SIZE = 256
# Texts kept for rules that read the same script again; bounded so a big package is not held.
TEXT_CACHE_BYTES = 4 << 20
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


def is_under(path: str, directory: str) -> bool:
    directory = directory.rstrip("/") or "/"
    return path == directory or path.startswith(directory + "/") or directory == "/"


def under(directory: str) -> Callable[[str], bool]:
    """``is_under(path, directory)`` as a test of one argument, for a rule that asks it of every entry."""
    directory = directory.rstrip("/") or "/"
    if directory == "/":
        return lambda path: True
    prefix = directory + "/"
    return lambda path: path == directory or path.startswith(prefix)


def parts_below(path: str, directory: str) -> tuple[str, ...]:
    """The components of ``path`` below ``directory`` (a hooks directory, say), or () outside it."""
    if not path.startswith(directory + "/"):
        return ()
    return tuple(path[len(directory) + 1 :].split("/"))


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
    siblings: tuple[Resolved, ...] = ()  # the map's other binary packages
    _heads: dict[str, bytes] = field(default_factory=dict, repr=False)
    _texts: OrderedDict[str, bytes] = field(default_factory=OrderedDict, repr=False)
    _text_bytes: int = field(default=0, repr=False)
    _files: tuple[Entry, ...] | None = field(default=None, repr=False)
    _map_config: dict[str, ConfigKind] = field(default_factory=dict, repr=False)
    _origins: dict[str, list[tuple[str, int]]] = field(default_factory=dict, repr=False)
    _positions: Positions | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._root_str = os.fspath(self.content_root)
        # Sources are relative to the root: one concatenation per file is cheaper than os.path.join.
        self._prefix = self._root_str.rstrip("/") + "/"

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
        if self._files is None:  # Resolved.files builds a new tuple each time; rules ask often
            self._files = self.resolved.files
        return self._files

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

    def hooks_dir(self) -> str:
        """Where the host software of the package's kind runs its hooks from, expanded ('' for none)."""
        return self.expand(kind_info(self.kind).hooks_dir)

    def sysconfdir(self) -> str:
        return self.profile.dirs.get("sysconfdir", "/etc")

    # ------------------------------------------------------------ content

    def _path(self, source: str) -> str:
        return source if source.startswith("/") else self._prefix + source  # as os.path.join(root, source)

    def _read(self, entry: Entry, limit: int) -> bytes:
        """Up to ``limit`` bytes of the entry's final content; b'' if unreadable (resolve reported it)."""
        try:
            fd = os.open(self._path(entry.source or ""), _OPEN_FLAGS)
        except OSError:
            return b""
        try:
            # Size a big read by the file: a 1 MiB buffer for a small file costs more than the read.
            want = limit if limit <= HEAD_SIZE else min(limit, os.fstat(fd).st_size + 1)
            data = os.read(fd, want)
            if len(data) < want or want >= limit:  # a short read is the end of a regular file
                return data
            parts, total = [data], len(data)
            while total < limit and (chunk := os.read(fd, min(limit - total, 1 << 16))):  # it grew
                parts.append(chunk)
                total += len(chunk)
            return b"".join(parts)
        except OSError:
            return b""
        finally:
            os.close(fd)

    def head(self, entry: Entry) -> bytes:
        """The first HEAD_SIZE bytes of a file entry's final (patched) content, read when first asked."""
        for _, data in self.heads((entry,)):
            return data
        return b""

    def heads(self, entries: Iterable[Entry]) -> Iterator[tuple[Entry, bytes]]:
        """(entry, head(entry)) for each entry, in order: the loop for a rule that asks every file of a package.

        One open and one read per source, kept for the other rules (and distros, when the engine shares them).
        """
        cache, prefix, flags = self._heads, self._prefix, _OPEN_FLAGS
        open_, read, close, file_kind = os.open, os.read, os.close, EntryKind.FILE
        for entry in entries:
            source = entry.source
            if not source or entry.kind is not file_kind:
                yield entry, b""
                continue
            data = cache.get(source)
            if data is None:
                try:  # as os.path.join(root, source): an absolute source is itself
                    fd = open_(source if source[0] == "/" else prefix + source, flags)
                except OSError:
                    data = b""
                else:
                    try:
                        data = read(fd, HEAD_SIZE)  # a short read is the end of a regular file
                    except OSError:
                        data = b""
                    finally:
                        close(fd)
                cache[source] = data
            yield entry, data

    def content(self, entry: Entry) -> bytes:
        """The first CONTENT_LIMIT bytes of a file entry's final (patched) content; b'' if unreadable.

        The last few texts are kept (rules read a script more than once); never all of them.
        """
        if entry.kind is not EntryKind.FILE or not entry.source:
            return b""
        key = entry.source
        data = self._texts.get(key)
        if data is not None:
            self._texts.move_to_end(key)
            return data
        data = self._read(entry, CONTENT_LIMIT)
        self._texts[key] = data
        self._text_bytes += len(data)
        while self._text_bytes > TEXT_CACHE_BYTES and len(self._texts) > 1:
            self._text_bytes -= len(self._texts.popitem(last=False)[1])
        return data

    def text(self, entry: Entry) -> str:
        return self.content(entry).decode("utf-8", errors="replace")

    def has_shebang(self, entry: Entry) -> bool:
        return self.head(entry).startswith(b"#!")

    def is_elf(self, entry: Entry) -> bool:
        return self.head(entry).startswith(b"\x7fELF")

    def runnable(self, entry: Entry) -> bool:
        """Content the kernel can execute: a script with a shebang or an ELF binary."""
        return self.has_shebang(entry) or self.is_elf(entry)

    # ------------------------------------------------------------ the map behind an entry

    def origins(self, entry: Entry) -> list[tuple[str, int]]:
        found = self._origins.get(entry.origin)
        if found is None:  # many entries share one origin ('tree[0]'): parse it once
            found = self._origins[entry.origin] = [(t, int(i)) for t, i in _ORIGIN.findall(entry.origin)]
        return list(found)

    def spec(self, table: str, index: int):
        items = getattr(self.layout, _TABLES[table], ())
        return items[index] if 0 <= index < len(items) else None

    def maker(self, entry: Entry) -> tuple[str, int] | None:
        """The [[tree]]/[[file]]/[[dir]]/[[symlink]] item that made the entry.

        Resolve records the maker first in the origin, then each [[attr]] applied;
        an entry made by hand (tests) without a maker is matched against the map.
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
        # When the origin names the maker, the answer depends on the origin alone: keep it.
        found = self._map_config.get(entry.origin)
        if found is not None:
            return found
        keyed = any(t != "attr" for t, _ in self.origins(entry))
        made = self.maker(entry)
        if made is None:
            return entry.config
        spec = self.spec(*made)
        if spec is None:
            return entry.config
        found = getattr(spec, "config", ConfigKind.NONE)
        if keyed:
            self._map_config[entry.origin] = found
        return found

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
