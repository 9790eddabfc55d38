"""Man pages (roff, section 1) of every pkgtool command, generated from the command line itself.

The Click tree typer builds is walked, so a new command or option has its page with
no second description to keep.  Pages are deterministic: sorted by name, dated from
SOURCE_DATE_EPOCH (no date without it), nothing from the clock or the environment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

SECTION = "1"
MANUAL = "pkgtool manual"


@dataclass(frozen=True)
class ManPage:
    name: str  # "pkgtool-lint"
    text: str  # the roff source

    @property
    def filename(self) -> str:
        return f"{self.name}.{SECTION}"


def roff(text: str) -> str:
    """Text safe in a roff body: backslashes escaped, hyphens literal, no line read as a request."""
    out = []
    for line in text.replace("\\", "\\e").replace("-", "\\-").splitlines():
        line = line.strip()
        # A line opening with . or ' would be a roff request; \& makes it text.
        out.append("\\&" + line if line.startswith((".", "'")) else line)
    return "\n".join(out)


def _paragraphs(text: str) -> str:
    blocks = [b for b in (text or "").strip().split("\n\n") if b.strip()]
    return "\n.PP\n".join(
        roff(" ".join(b.split())) if not b.lstrip().startswith("Example:") else roff(b) for b in blocks
    )


def _date(source_date_epoch: int | None) -> str:
    if source_date_epoch is None:
        return ""
    return dt.datetime.fromtimestamp(source_date_epoch, dt.UTC).strftime("%Y-%m-%d")


def _page(path: list[str], cmd: Any, ctx: Any, version: str, date: str, see_also: list[str]) -> ManPage:
    name = "-".join(path)
    title = name.upper()
    summary = (cmd.help or "").strip().split("\n\n")[0]
    one_line = " ".join(summary.split()) or " ".join(path)
    lines = [
        f'.TH "{title}" "{SECTION}" "{date}" "pkgtool {roff(version)}" "{MANUAL}"',
        ".SH NAME",
        f"{roff(name)} \\- {roff(one_line)}",
        ".SH SYNOPSIS",
        f".B {roff(' '.join(path))}",
        roff(" ".join(cmd.collect_usage_pieces(ctx))),
        ".SH DESCRIPTION",
        _paragraphs(cmd.help or ""),
    ]
    params = [p for p in cmd.get_params(ctx) if p.get_help_record(ctx)]
    args = [p for p in params if p.param_type_name == "argument"]
    opts = [p for p in params if p.param_type_name == "option"]
    for heading, group in (("ARGUMENTS", args), ("OPTIONS", opts)):
        if not group:
            continue
        lines.append(f".SH {heading}")
        for p in group:
            term, help_text = p.get_help_record(ctx)
            lines += [".TP", f".B {roff(term)}", roff(" ".join((help_text or "").split()))]
    subs = getattr(cmd, "commands", {})
    if subs:
        lines.append(".SH COMMANDS")
        for sub_name in sorted(subs):
            sub = subs[sub_name]
            lines += [".TP", f".B {roff(sub_name)}", roff(sub.get_short_help_str(200))]
    lines += [
        ".SH EXIT STATUS",
        "0 ok; 1 findings, mismatches or a failed build; 2 a usage or input error; 130 interrupted.",
        ".SH SEE ALSO",
        ", ".join(f"\\fB{roff(s)}\\fR({SECTION})" for s in see_also),
    ]
    return ManPage(name, "\n".join(lines) + "\n")


def man_pages(root: Any, version: str, source_date_epoch: int | None = None) -> list[ManPage]:
    """One page per command and group of the Click command ``root`` (typer.main.get_command(app))."""
    date = _date(source_date_epoch)
    found: list[tuple[list[str], Any, Any]] = []

    def walk(path: list[str], cmd: Any, parent: Any) -> None:
        ctx = cmd.context_class(cmd, info_name=path[-1], parent=parent)
        found.append((path, cmd, ctx))
        for name in sorted(getattr(cmd, "commands", {})):
            walk([*path, name], cmd.commands[name], ctx)

    walk(["pkgtool"], root, None)
    names = sorted("-".join(p) for p, _, _ in found)
    pages = []
    for path, cmd, ctx in found:
        name = "-".join(path)
        related = [n for n in names if n != name and (n.startswith(name + "-") or name.startswith(n + "-"))]
        pages.append(_page(path, cmd, ctx, version, date, related or ["pkgtool"]))
    return sorted(pages, key=lambda p: p.name)
