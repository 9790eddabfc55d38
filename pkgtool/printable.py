"""Text from an artifact or a root, made safe to print on a terminal.

File names and link targets come from packages and trees pkgtool did not write: printed raw, a
name holding a newline forges extra lines, and control or bidi characters move the cursor or hide
text.  Everything printed for a person goes through ``escape``; JSON output stays exact.
"""

from __future__ import annotations

import re
import unicodedata

# Anything that is not plain printable text: backslash, controls (C0, DEL, C1), format
# characters (bidi overrides), line and paragraph separators, and undecodable bytes.
_UNSAFE = re.compile(r"[\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMED = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _char(c: str) -> str:
    if c in _NAMED:
        return _NAMED[c]
    n = ord(c)
    if 0xDC80 <= n <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{n - 0xDC00:02x}"
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def escape(value: object) -> str:
    """One field for a terminal: a name cannot start a new line, move the cursor or hide text.

    Backslash is escaped too, so the printed form is unambiguous; JSON output stays exact.
    """
    text = str(value)
    if _UNSAFE.search(text) is None and text.isprintable():
        return text
    return "".join(
        _char(c) if _UNSAFE.match(c) or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text
    )
