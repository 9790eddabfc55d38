"""`pkgtool init`: a commented pkgtool.toml and tiny sample sources for one plugin kind.

The scaffolds live in templates/<Kind.scaffold>/: ``pkgtool.toml.j2`` and sample
files, each rendered with Jinja2.  In a template's path ``__name__``,
``__ident__`` and ``__group__`` stand for the package name and its
identifier form; a sample whose text starts with ``#!`` is written executable.
"""

from __future__ import annotations

import re
from pathlib import Path

from .atomic import write_bytes_atomic
from .data import data_dir
from .errors import UsageError
from .kinds import KIND_NAMES, KINDS, kind_info
from .layout.load import MAP_NAME, NAME_RE
from .templating import environment


def default_name(directory: Path, kind: str) -> str:
    """A valid package name from the directory's name, with the kind's conventional prefix."""
    raw = Path(directory).absolute().name.lower()
    name = re.sub(r"[^a-z0-9+.-]+", "-", raw).lstrip("+.-") or "example"
    prefix = kind_info(kind).name_prefix
    if not prefix:
        return name
    # A directory already named for the kind (vdsm-hook-acme, vdsm_hooks-acme as vdsm's own tree
    # has vdsm_hooks/) gets the prefix once, never 'vdsm-hook-vdsm-hook'; one named just for the
    # kind, like an empty name, gets the placeholder 'example'.
    stem = re.match(rf"{re.escape(prefix.rstrip('-'))}s?(-|$)", name)
    rest = name[stem.end() :] if stem else name
    return prefix + (rest or "example")


def _ident(name: str, kind: str) -> str:
    """The name as a Python/shell identifier, without the kind's prefix: vdsm-hook-acme -> acme."""
    prefix = kind_info(kind).name_prefix
    short = name[len(prefix) :] if prefix and name.startswith(prefix) and name != prefix else name
    ident = re.sub(r"[^a-z0-9_]+", "_", short).strip("_") or "plugin"
    return ident if not ident[0].isdigit() else f"p{ident}"


PLACEHOLDER_MAINTAINER = "Your Name <you@example.org>"


def _maintainer(directory: Path) -> str:
    """An adopted tree is someone's: DEBFULLNAME/DEBEMAIL or git's user, as `pkgtool bump` finds them."""
    import os

    from .bump import find_author
    from .layout.grammar import MAINTAINER_RE

    who = find_author(None, os.environ, directory)
    ok = who and MAINTAINER_RE.fullmatch(who) and not set('"\\') & set(who)
    return who if ok else PLACEHOLDER_MAINTAINER


def _render_path(rel: Path, values: dict[str, str]) -> Path:
    text = str(rel).removesuffix(".j2")
    for token in ("name", "ident", "group"):
        text = text.replace(f"__{token}__", values[token])
    return Path(text)


def init_project(directory: Path, kind: str, name: str | None = None, force: bool = False) -> list[Path]:
    """Write ``directory/pkgtool.toml`` and sample sources for ``kind``; return the files written.

    In a directory that already has files, the map lists them (adopt.py) and no sample is added.
    Refuses (UsageError) when pkgtool.toml exists, unless ``force``; sample files that exist are left alone.
    """
    if kind not in KINDS:
        from .diagnostics import nearest

        guess = nearest(kind, KIND_NAMES)
        hint = (f"did you mean {guess!r}? " if guess else "") + f"one of: {', '.join(KIND_NAMES)}"
        raise UsageError(f"unknown kind {kind!r}", hint=hint)
    info = KINDS[kind]
    directory = Path(directory)
    name = name if name is not None else default_name(directory, kind)
    if not NAME_RE.fullmatch(name):
        raise UsageError(
            f"{name!r} is not a valid package name", hint="use lower case letters, digits and + . - ; start with one"
        )
    target = directory / MAP_NAME
    if (target.exists() or target.is_symlink()) and not force:
        raise UsageError(f"{target} already exists; pkgtool init never overwrites it", hint="--force replaces it")
    ident = _ident(name, kind)
    values = {
        "name": name,
        "kind": kind,
        "ident": ident,
        "group": ident,
        "summary": info.summary,
        "hooks_dir": info.hooks_dir,
        "description": f"{name}: describe here what the package does and for whom.",
        "maintainer": PLACEHOLDER_MAINTAINER,
    }
    env = environment()
    from .adopt import adopted_map, present_files

    if directory.is_dir() and present_files(directory):  # take in what is there, add no sample
        values["maintainer"] = _maintainer(directory)
        scaffold = env.get_template(f"{info.scaffold}/{MAP_NAME}.j2").render(**values)
        header = env.get_template("init/common/header.toml.j2").render(**values)
        write_bytes_atomic(target, adopted_map(directory, name, scaffold, header).encode())
        return [target]
    base = data_dir("templates") / info.scaffold
    written: list[Path] = []
    samples = sorted(p for p in base.rglob("*") if p.is_file() and p.name != f"{MAP_NAME}.j2")
    for template in samples:
        rel = template.relative_to(base)
        dest = directory / _render_path(rel, values)
        if dest.exists() or dest.is_symlink():
            continue
        text = env.get_template(f"{info.scaffold}/{rel.as_posix()}").render(**values)
        write_bytes_atomic(dest, text.encode(), 0o755 if text.startswith("#!") else 0o644)
        written.append(dest)
    text = env.get_template(f"{info.scaffold}/{MAP_NAME}.j2").render(**values)
    write_bytes_atomic(target, text.encode())
    return [target, *written]
