"""Globs over deployed paths: '*' and '?' stay inside one segment, '**' crosses segments.

``[abc]``, ``[a-z]`` and ``[!abc]`` are classes of one character (never '/');
a '[' that opens no valid class (unclosed, or a reversed range such as
``[z-a]``) is a literal character.  A backslash makes the next character
literal.  Patterns compile once to a regex.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_MAGIC = re.compile(r"[*?\[\\]")


def has_magic(pattern: str) -> bool:
    return _MAGIC.search(pattern) is not None


def _class(pattern: str, i: int) -> tuple[str, int] | None:
    """Translate the class starting at pattern[i] == '['; None when it is not closed."""
    j = i + 1
    negate = j < len(pattern) and pattern[j] in "!^"
    if negate:
        j += 1
    start = j
    if j < len(pattern) and pattern[j] == "]":
        j += 1  # a leading ']' is literal
    while j < len(pattern) and pattern[j] != "]":
        j += 1
    if j >= len(pattern):
        return None
    body = pattern[start:j].replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[")
    body = body.replace("/", "")  # a class never matches '/'
    if negate:
        out = f"[^/{body}]"
    elif not body:
        return "(?!)", j + 1  # a class of only '/' matches nothing
    else:
        out = f"[{body}]"
    try:
        re.compile(out)
    except re.error:
        return None  # a class re refuses ('[z-a]'): literal text, as an unclosed one is
    return out, j + 1


def translate(pattern: str) -> str:
    """The regex source (anchored at both ends) for a deployed-path glob."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                before_ok = i == 0 or pattern[i - 1] == "/"
                after = i + 2
                if before_ok and after < n and pattern[after] == "/":
                    out.append("(?:[^/]*/)*")  # '**/' : zero or more whole segments
                    i = after + 1
                    continue
                out.append(".*")  # a trailing or embedded '**': anything, across '/'
                i = after
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            cls = _class(pattern, i)
            if cls is None:
                out.append(re.escape(c))
            else:
                out.append(cls[0])
                i = cls[1]
                continue
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    return re.compile(translate(pattern), re.DOTALL)


def compile_any(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regex that fullmatches what any of ``patterns`` fullmatches; None for no patterns."""
    patterns = tuple(patterns)
    if not patterns:
        return None
    if len(patterns) == 1:
        return compile_glob(patterns[0])
    return re.compile("|".join(f"(?:{translate(p)})" for p in patterns), re.DOTALL)


def match(pattern: str, path: str) -> bool:
    return compile_glob(pattern).fullmatch(path) is not None


class PathSet:
    """A set of exact paths and glob patterns, asked 'is this path in it?' many times."""

    def __init__(self, patterns: Iterable[str]):
        self.exact: set[str] = set()
        globs: list[str] = []
        for p in patterns:
            if has_magic(p):
                globs.append(p)
            else:
                self.exact.add(p)
        self._re = re.compile("|".join(f"(?:{translate(g)})" for g in globs), re.DOTALL) if globs else None

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        if path in self.exact:
            return True
        return self._re is not None and self._re.fullmatch(path) is not None
