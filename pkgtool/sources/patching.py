"""A small unified-diff applier: exact context (fuzz 0), hunks may move by any line offset.

Works on bytes, so any encoding and CRLF files survive.  Understands
``---``/``+++`` headers (with timestamps), git's extended headers (ignored),
``/dev/null`` for created and deleted files, and ``\\ No newline at end of file``.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..diagnostics import Diagnostic, Severity
from ..errors import ResolveError
from ..model import Location

_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_EOL = b"\\ No newline at end of file"
DEV_NULL = "/dev/null"


@dataclass
class Hunk:
    old_start: int  # 1-based line in the original file
    old: list[bytes] = field(default_factory=list)  # lines with their endings
    new: list[bytes] = field(default_factory=list)
    line: int = 0  # 1-based line of the '@@' in the patch file


@dataclass
class FilePatch:
    old_path: str
    new_path: str
    hunks: list[Hunk] = field(default_factory=list)
    line: int = 0  # line of the '---' header

    def target(self, strip: int) -> str:
        """The path the patch changes, relative, after ``strip`` leading components."""
        raw = self.new_path if self.new_path != DEV_NULL else self.old_path
        return strip_path(raw, strip)

    @property
    def creates(self) -> bool:
        return self.old_path == DEV_NULL

    @property
    def deletes(self) -> bool:
        return self.new_path == DEV_NULL


class PatchFormatError(ValueError):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def strip_path(raw: str, strip: int) -> str:
    parts = [p for p in raw.split("/") if p]
    if strip >= len(parts):
        raise ValueError(f"cannot strip {strip} components from {raw!r}")
    return "/".join(parts[strip:])


def _header_path(line: bytes) -> str:
    text = line[4:].rstrip(b"\r\n").decode("utf-8", "surrogateescape")
    text = text.split("\t", 1)[0]  # drop a timestamp
    if text.startswith('"') and text.endswith('"') and len(text) > 1:
        text = text[1:-1]  # git quotes names with odd characters
    return text.strip()


def parse_patch(data: bytes) -> list[FilePatch]:
    """Every file section of a unified diff; text before the first '---' (mail headers) is ignored."""
    lines = data.splitlines(keepends=True)
    out: list[FilePatch] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(b"--- ") and i + 1 < len(lines) and lines[i + 1].startswith(b"+++ "):
            fp = FilePatch(_header_path(line), _header_path(lines[i + 1]), line=i + 1)
            out.append(fp)
            i += 2
            while i < len(lines) and lines[i].startswith(b"@@"):
                i = _parse_hunk(lines, i, fp)
            continue
        i += 1
    if not out:
        raise PatchFormatError("no unified diff found ('--- a/FILE' / '+++ b/FILE' headers)", 1)
    return out


def _parse_hunk(lines: list[bytes], i: int, fp: FilePatch) -> int:
    m = _HUNK.match(lines[i])
    if m is None:
        raise PatchFormatError("malformed hunk header", i + 1)
    old_len = 1 if m.group(2) is None else int(m.group(2))
    new_len = 1 if m.group(4) is None else int(m.group(4))
    hunk = Hunk(int(m.group(1)), line=i + 1)
    fp.hunks.append(hunk)
    i += 1
    last: list[list[bytes]] = []
    while i < len(lines) and (len(hunk.old) < old_len or len(hunk.new) < new_len or lines[i].startswith(b"\\")):
        line = lines[i]
        tag, body = line[:1], line[1:]
        if line.startswith(_NO_EOL[:2]):
            for side in last:  # the previous line has no newline
                side[-1] = side[-1].rstrip(b"\r\n")
        elif tag == b" " or line in (b"\n", b"\r\n"):  # some tools drop the space of an empty context line
            body = body if tag == b" " else line
            hunk.old.append(body)
            hunk.new.append(body)
            last = [hunk.old, hunk.new]
        elif tag == b"-":
            hunk.old.append(body)
            last = [hunk.old]
        elif tag == b"+":
            hunk.new.append(body)
            last = [hunk.new]
        else:
            raise PatchFormatError(f"unexpected line in hunk: {line[:40]!r}", i + 1)
        i += 1
    if len(hunk.old) != old_len or len(hunk.new) != new_len:
        raise PatchFormatError("hunk is shorter than its header says", hunk.line)
    return i


def _find(lines: list[bytes], old: list[bytes], want: int, floor: int) -> int | None:
    """Where ``old`` occurs exactly, nearest to ``want`` first, never before ``floor``."""
    n = len(old)
    limit = len(lines) - n
    for delta in range(0, max(limit, 0) + len(lines) + 1):
        for pos in (want - delta, want + delta) if delta else (want,):
            if floor <= pos <= limit and lines[pos : pos + n] == old:
                return pos
        if want - delta < floor and want + delta > limit:
            break
    return None


def apply_hunks(lines: list[bytes], hunks: list[Hunk]) -> list[bytes] | Hunk:
    """The patched lines, or the first hunk that does not apply."""
    out = list(lines)
    offset = 0
    floor = 0
    for h in hunks:
        want = max(h.old_start - 1, 0) + offset
        if not h.old:  # pure addition: old_start is the line after which to insert
            want = h.old_start + offset if h.old_start else 0
            pos: int | None = want if floor <= want <= len(out) else None
        else:
            pos = _find(out, h.old, want, floor)
        if pos is None:
            return h
        out[pos : pos + len(h.old)] = h.new
        offset += len(h.new) - len(h.old) + (pos - want)
        floor = pos + len(h.new)
    return out


def _fail(patch_name: str, message: str, line: int | None, target: str = "") -> ResolveError:
    diag = Diagnostic("patch-failed", Severity.ERROR, message, Location(patch_name, "", line), path=target)
    return ResolveError(f"{patch_name}:{line}: {message}" if line else f"{patch_name}: {message}", [diag])


def apply_patch(data: bytes, tree: Path, strip: int = 1, patch_name: str = "patch") -> list[str]:
    """Apply a unified diff to files under ``tree``; return the relative paths changed.

    Raises ResolveError naming the patch, the target file and the hunk's line.
    Nothing is written unless every file of the patch applies.
    """
    try:
        sections = parse_patch(data)
    except PatchFormatError as exc:
        raise _fail(patch_name, str(exc), exc.line) from None
    results: list[tuple[str, list[bytes] | None]] = []
    for fp in sections:
        try:
            rel = fp.target(strip)
        except ValueError as exc:
            raise _fail(patch_name, str(exc), fp.line) from None
        norm = posixpath.normpath(rel)
        if norm.startswith("../") or norm == ".." or rel.startswith("/"):
            raise _fail(patch_name, f"patch names a file outside the tree: {rel!r}", fp.line, rel)
        path = tree / norm
        if fp.creates:
            original: list[bytes] = []
            if path.exists():
                raise _fail(patch_name, f"{norm}: patch creates the file but it already exists", fp.line, norm)
        else:
            try:
                original = path.read_bytes().splitlines(keepends=True)
            except FileNotFoundError:
                raise _fail(patch_name, f"{norm}: file to patch not found", fp.line, norm) from None
        patched = apply_hunks(original, fp.hunks)
        if isinstance(patched, Hunk):
            raise _fail(
                patch_name, f"{norm}: hunk at line {patched.line} does not apply (context differs)", patched.line, norm
            )
        results.append((norm, None if fp.deletes else patched))
    for norm, content in results:
        path = tree / norm
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode if path.exists() else None
        path.write_bytes(b"".join(content))
        if mode is not None:
            os.chmod(path, mode & 0o7777)
    return [n for n, _ in results]
