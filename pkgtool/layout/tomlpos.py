"""Key path -> line number for a TOML text that tomllib has already accepted.

tomllib returns values without positions, so this small scanner walks the raw
text once and records the line where every key, table header and array
element starts.  It understands table headers (``[a.b]``), arrays of tables
(``[[tree]]``, counted per parent), dotted and quoted keys, inline tables,
arrays and all four string forms, so a multi-line string never shifts a line.

Positions are a convenience: if the scanner meets something it does not
understand it keeps what it found so far rather than failing the load.

The scanner also enforces ``Limits`` (nesting depth, array length, number of
keys), and stops at the first excess with a ``LimitExceeded`` that says
where: run before tomllib, it keeps a hostile map from costing minutes.
Within the limits every step is bounded, so a scan is linear in the text.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass

Part = str | int
KeyPath = tuple[Part, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_path(parts: Sequence[Part]) -> str:
    """``("tree", 2, "mode")`` -> ``tree[2].mode``; keys that are not bare are quoted."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)
        out += f".{text}" if out else text
    return out


class Positions:
    """Lines (1-based) of key paths; lookups fall back to the nearest enclosing table."""

    def __init__(self, lines: dict[KeyPath, int] | None = None):
        self.lines: dict[KeyPath, int] = lines or {}

    def line(self, parts: Sequence[Part]) -> int | None:
        path = tuple(parts)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def exact(self, parts: Sequence[Part]) -> int | None:
        return self.lines.get(tuple(parts))


@dataclass(frozen=True)
class Limits:
    """What a TOML input may hold; each is far above what a real map or profile needs."""

    depth: int = 16  # parts of one key path, array indexes included (tree[0].exclude[2] is 4)
    array: int = 10_000  # elements of one array, or tables of one [[array]]
    keys: int = 200_000  # key paths in the whole file


class LimitExceeded(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message, self.line = message, line


class _Stop(Exception):
    """The scanner met text it does not understand; keep the positions found so far."""


class _Scanner:
    def __init__(self, text: str, limits: Limits | None = None):
        self.limits = limits or Limits()
        self.s = text
        self.i = 0
        self.line = 1
        self.lines: dict[KeyPath, int] = {}
        self.aot: dict[KeyPath, int] = {}  # array-of-tables path -> index of its last element

    # -- characters

    def peek(self, n: int = 1) -> str:
        return self.s[self.i : self.i + n]

    def advance(self, n: int = 1) -> None:
        chunk = self.s[self.i : self.i + n]
        self.line += chunk.count("\n")
        self.i += n

    def record(self, path: KeyPath, line: int) -> None:
        self.lines.setdefault(path, line)
        if len(self.lines) > self.limits.keys:
            raise LimitExceeded(f"more than {self.limits.keys} keys", line)

    def deep(self, length: int) -> None:
        if length > self.limits.depth:
            raise LimitExceeded(f"keys nested more than {self.limits.depth} deep", self.line)

    def skip_space(self, newlines: bool = False) -> None:
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t" or (newlines and c in "\r\n"):
                self.advance()
            elif c == "#":
                end = self.s.find("\n", self.i)
                self.advance((len(self.s) if end < 0 else end) - self.i)
            else:
                return

    # -- strings and keys

    def string(self) -> str:
        """Consume one string of any form; return its raw text (quotes included)."""
        start = self.i
        quote = self.peek()
        if self.peek(3) == quote * 3:
            self.advance(3)
            while True:
                if self.i >= len(self.s):
                    raise _Stop
                if quote == '"' and self.peek() == "\\":
                    self.advance(2)
                    continue
                if self.peek(3) == quote * 3:
                    # Up to two more quotes may belong to the content: """a"""" is 'a"'.
                    n = 3
                    while n < 5 and self.s[self.i + n : self.i + n + 1] == quote:
                        n += 1
                    self.advance(n)
                    return self.s[start : self.i]
                self.advance()
        self.advance()
        while True:
            if self.i >= len(self.s) or self.peek() == "\n":
                raise _Stop
            c = self.peek()
            if quote == '"' and c == "\\":
                self.advance(2)
                continue
            self.advance()
            if c == quote:
                return self.s[start : self.i]

    def key(self) -> list[str]:
        """A dotted key: bare and quoted parts, decoded."""
        parts: list[str] = []
        while True:
            self.skip_space()
            c = self.peek()
            if c in ('"', "'"):
                raw = self.string()
                parts.append(tomllib.loads(f"k = {raw}")["k"])
            else:
                m = _BARE_KEY.match(self.s, self.i)
                if not m:
                    raise _Stop
                parts.append(m.group())
                self.advance(m.end() - self.i)
            self.deep(len(parts))
            self.skip_space()
            if self.peek() != ".":
                return parts
            self.advance()

    # -- values

    def value(self, path: KeyPath) -> None:
        self.deep(len(path))
        self.skip_space()
        c = self.peek()
        if c in ('"', "'"):
            self.string()
        elif c == "[":
            self.array(path)
        elif c == "{":
            self.inline_table(path)
        else:
            m = re.compile(r"[^,\]}#\r\n]*").match(self.s, self.i)
            assert m is not None  # the pattern matches the empty string
            if not m.group().strip():
                raise _Stop
            self.advance(m.end() - self.i)

    def array(self, path: KeyPath) -> None:
        self.advance()  # '['
        index = 0
        while True:
            self.skip_space(newlines=True)
            if self.peek() == "]":
                self.advance()
                return
            if not self.peek():
                raise _Stop
            if index >= self.limits.array:
                raise LimitExceeded(f"an array of more than {self.limits.array} elements", self.line)
            self.record((*path, index), self.line)
            self.value((*path, index))
            index += 1
            self.skip_space(newlines=True)
            if self.peek() == ",":
                self.advance()
            elif self.peek() != "]":
                raise _Stop

    def inline_table(self, path: KeyPath) -> None:
        self.advance()  # '{'
        while True:
            self.skip_space(newlines=True)
            if self.peek() == "}":
                self.advance()
                return
            self.key_value(path)
            self.skip_space(newlines=True)
            if self.peek() == ",":
                self.advance()
            elif self.peek() != "}":
                raise _Stop

    def key_value(self, table: KeyPath) -> None:
        line = self.line
        parts = self.key()
        self.deep(len(table) + len(parts))
        path = table
        for part in parts:
            path = (*path, part)
            self.record(path, line)
        self.skip_space()
        if self.peek() != "=":
            raise _Stop
        self.advance()
        self.value(path)

    # -- tables

    def header(self) -> KeyPath:
        line = self.line
        array = self.peek(2) == "[["
        self.advance(2 if array else 1)
        parts = self.key()
        if self.peek(2 if array else 1) != ("]]" if array else "]"):
            raise _Stop
        self.advance(2 if array else 1)
        # Each parent that is an array of tables means its last element.
        path: KeyPath = ()
        for n, part in enumerate(parts):
            path = (*path, part)
            last = n == len(parts) - 1
            self.deep(len(path))
            if last and array:
                self.aot[path] = self.aot.get(path, -1) + 1
                if self.aot[path] >= self.limits.array:
                    raise LimitExceeded(f"more than {self.limits.array} [[{format_path(path)}]] tables", line)
                self.record(path, line)
                path = (*path, self.aot[path])
            elif path in self.aot:
                path = (*path, self.aot[path])
            self.record(path, line)
        return path

    def run(self) -> dict[KeyPath, int]:
        table: KeyPath = ()
        try:
            while True:
                self.skip_space(newlines=True)
                if self.i >= len(self.s):
                    break
                if self.peek() == "[":
                    table = self.header()
                else:
                    self.key_value(table)
        except (_Stop, IndexError, ValueError, tomllib.TOMLDecodeError, RecursionError):
            pass  # positions are best effort; what was found so far stays useful
        return self.lines


def scan(text: str) -> Positions:
    """Map every key path of ``text`` (valid TOML) to the line where it is written."""
    scanner = _Scanner(text)
    try:
        return Positions(scanner.run())
    except LimitExceeded:
        return Positions(scanner.lines)  # the positions found up to the limit still serve


def check_limits(text: str, limits: Limits | None = None) -> Positions:
    """Scan ``text`` (before it is parsed) and raise LimitExceeded at the first limit it passes."""
    return Positions(_Scanner(text, limits).run())
