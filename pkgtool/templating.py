"""The Jinja2 environment for templates/: StrictUndefined, and escaping filters for every target syntax."""

from __future__ import annotations

import re
import shlex
from functools import cache
from typing import TYPE_CHECKING

from .data import data_dir

if TYPE_CHECKING:
    import jinja2


def rpm_escape(value: object) -> str:
    """Text for a spec: every '%' doubled so that rpm expands no macro from user data."""
    return str(value).replace("%", "%%")


# The words shlex.quote leaves as they are, less '%' and '$' (which the spec and make
# escapes change): most paths of a package, quoted without a call.
_PLAIN_WORD = re.compile(r"[\w@+=:,./-]+", re.ASCII)


def rpm_shell_quote(value: str) -> str:
    """A shell word inside a spec: shell-quoted, then every '%' doubled."""
    return value if _PLAIN_WORD.fullmatch(value) else rpm_escape(shlex.quote(value))


def shell_quote(value: object) -> str:
    """One shell word, single-quoted when needed."""
    return shlex.quote(str(value))


def make_escape(value: object) -> str:
    """Text inside a make recipe line: '$' doubled; newlines are refused earlier by the loader."""
    return str(value).replace("$", "$$")


def make_shell_quote(value: object) -> str:
    """A shell word inside a make recipe: shell-quoted, then '$' doubled for make."""
    text = str(value)
    return text if _PLAIN_WORD.fullmatch(text) else make_escape(shlex.quote(text))


def command_lines(head: str, words: list[str], indent: str = "    ") -> str:
    """``head`` and its argument words, one word per continued line (shell and make both read `\\`)."""
    return " \\\n".join([head, *(indent + w for w in words)])


def octal(mode: int, width: int = 4) -> str:
    return format(mode, f"0{width}o")


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def one_line(value: object) -> str:
    """Collapse whitespace runs (including newlines) so a value cannot open a new field or line."""
    return " ".join(_CONTROL_CHARS.sub(" ", str(value)).split())


@cache
def environment() -> jinja2.Environment:
    # Imported here: the native builders use this module's filters but never a template.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        rpm_escape=rpm_escape,
        shell_quote=shell_quote,
        make_escape=make_escape,
        make_shell_quote=make_shell_quote,
        octal=octal,
        one_line=one_line,
    )
    return env
