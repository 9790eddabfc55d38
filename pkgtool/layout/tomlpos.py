"""Key path -> line number for a TOML text that tomllib has already accepted.

tomllib returns values without positions, so this small scanner walks the raw
text once and records the line where every key, table header and array
element starts.  It understands table headers (``[a.b]``), arrays of tables
(``[[tree]]``, counted per parent), dotted and quoted keys, inline tables,
arrays and all four string forms, so a multi-line string never shifts a line.

Positions are a convenience: if the scanner meets something it does not
understand it keeps what it found so far rather than failing the load.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence

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


class _Stop(Exception):
    """The scanner met text it does not understand; keep the positions found so far."""


class _Scanner:
    def __init__(self, text: str):
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
            self.skip_space()
            if self.peek() != ".":
                return parts
            self.advance()

    # -- values

    def value(self, path: KeyPath) -> None:
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
            if last and array:
                self.aot[path] = self.aot.get(path, -1) + 1
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
    return Positions(_Scanner(text).run())
