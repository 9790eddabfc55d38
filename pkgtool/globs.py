"""Globs over deployed paths: '*' and '?' stay inside one segment, '**' crosses segments.

``[abc]``, ``[a-z]`` and ``[!abc]`` are classes of one character (never '/');
a '[' that opens no valid class (unclosed, or a reversed range such as
``[z-a]``) is a literal character.  A backslash makes the next character
literal.

Matching is linear in the length of the path.  A pattern with at most one
wildcard (`*` or `**`) compiles to a regex, which cannot backtrack much with
a single one; any other runs as a set of states stepped once per character
(a lazily built DFA), because Python's regex backtracking on
`*a*a*a*a*a*a*a*a*!` against a 40-character name takes minutes.
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


# -- the state machine for patterns with several wildcards

_CHAR, _STAR, _DSTAR, _FORK = range(4)
_DFA_CACHE_MAX = 1 << 14  # transitions kept per pattern; past it the cache starts over


def _tokens(pattern: str) -> list[tuple[int, re.Pattern[str] | None]]:
    """The pattern as steps: one character (with its one-character regex), `*`, `**`, or `**/`."""
    out: list[tuple[int, re.Pattern[str] | None]] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                after = i + 2
                if (i == 0 or pattern[i - 1] == "/") and after < n and pattern[after] == "/":
                    # '**/' is (?:[^/]*/)*, the same language as (?:.*/)?: a fork that
                    # skips '**' and '/' or enters them.
                    out.append((_FORK, None))
                    out.append((_DSTAR, None))
                    out.append((_CHAR, re.compile("/")))
                    i = after + 1
                    continue
                out.append((_DSTAR, None))
                i = after
                continue
            out.append((_STAR, None))
        elif c == "?":
            out.append((_CHAR, re.compile("[^/]")))
        elif c == "[" and (cls := _class(pattern, i)) is not None:
            out.append((_CHAR, re.compile(cls[0])))
            i = cls[1]
            continue
        elif c == "\\" and i + 1 < n:
            out.append((_CHAR, re.compile(re.escape(pattern[i + 1]), re.DOTALL)))
            i += 2
            continue
        else:
            out.append((_CHAR, re.compile(re.escape(c), re.DOTALL)))
        i += 1
    return out


class _StateGlob:
    """A glob run as an NFA over its tokens, with the state sets it reaches cached as a DFA."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self.tokens = _tokens(pattern)
        self.start = self._closure({0})
        self.cache: dict[tuple[frozenset[int], str], frozenset[int]] = {}

    def _closure(self, states: set[int]) -> frozenset[int]:
        todo, n = list(states), len(self.tokens)
        while todo:
            i = todo.pop()
            if i < n:
                kind = self.tokens[i][0]
                skip = (i + 1,) if kind in (_STAR, _DSTAR) else (i + 1, i + 3) if kind == _FORK else ()
                for j in skip:
                    if j not in states:
                        states.add(j)
                        todo.append(j)
        return frozenset(states)

    def _step(self, states: frozenset[int], c: str) -> frozenset[int]:
        out: set[int] = set()
        n = len(self.tokens)
        for i in states:
            if i >= n:
                continue
            kind, rx = self.tokens[i]
            if kind == _CHAR:
                if rx is not None and rx.fullmatch(c):
                    out.add(i + 1)
            elif kind == _STAR:
                if c != "/":
                    out.add(i)
            elif kind == _DSTAR:
                out.add(i)
        return self._closure(out)

    def fullmatch(self, path: str) -> bool | None:
        states, cache, end = self.start, self.cache, len(self.tokens)
        for c in path:
            key = (states, c)
            nxt = cache.get(key)
            if nxt is None:
                if len(cache) >= _DFA_CACHE_MAX:
                    cache.clear()
                nxt = cache[key] = self._step(states, c)
            if not nxt:
                return None
            states = nxt
        return True if end in states else None


class _AnyGlob:
    """Several globs: one regex for the simple ones, the state machine for the others."""

    def __init__(self, simple: re.Pattern[str] | None, others: list[_StateGlob]):
        self.simple, self.others = simple, others

    def fullmatch(self, path: str) -> bool | None:
        if self.simple is not None and self.simple.fullmatch(path) is not None:
            return True
        return True if any(g.fullmatch(path) for g in self.others) else None


def _wildcards(pattern: str) -> int:
    return sum(1 for kind, _ in _tokens(pattern) if kind in (_STAR, _DSTAR))


Matcher = re.Pattern[str] | _StateGlob | _AnyGlob


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> Matcher:
    """An object whose ``fullmatch(path)`` is truthy when the glob matches, in time linear in the path."""
    if _wildcards(pattern) <= 1:
        return re.compile(translate(pattern), re.DOTALL)
    return _StateGlob(pattern)


def _combined(patterns: tuple[str, ...]) -> Matcher | None:
    simple = [p for p in patterns if _wildcards(p) <= 1]
    others = [_StateGlob(p) for p in patterns if _wildcards(p) > 1]
    rx = re.compile("|".join(f"(?:{translate(p)})" for p in simple), re.DOTALL) if simple else None
    if not others:
        return rx
    return _AnyGlob(rx, others)


def compile_any(patterns: Iterable[str]) -> Matcher | None:
    """One matcher that fullmatches what any of ``patterns`` fullmatches; None for no patterns."""
    patterns = tuple(patterns)
    if not patterns:
        return None
    if len(patterns) == 1:
        return compile_glob(patterns[0])
    return _combined(patterns)


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
        self._re = _combined(tuple(globs)) if globs else None

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        if path in self.exact:
            return True
        return self._re is not None and self._re.fullmatch(path) is not None
