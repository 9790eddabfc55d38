"""One architecture vocabulary: the canonical names (rpm's) and each family's spelling of them.

A map may write either family's name (``amd64`` or ``x86_64``); the loader stores the canonical
one and each writer spells it its own way.  A name neither family knows is a located error.
"""

from __future__ import annotations

# canonical (rpm) -> Debian
ARCHES: dict[str, str] = {
    "noarch": "all",
    "x86_64": "amd64",
    "aarch64": "arm64",
    "i686": "i386",
    "ppc64le": "ppc64el",
    "s390x": "s390x",
    "armv7hl": "armhf",
    "riscv64": "riscv64",
}
# Any spelling -> canonical.  `native` is the build host's architecture, found at build time.
SPELLINGS: dict[str, str] = {
    **{deb: canon for canon, deb in ARCHES.items()},
    **{canon: canon for canon in ARCHES},
    "i386": "i686",
    "native": "native",
}


def arch_list(text: str) -> tuple[str, ...]:
    """``--arch x86_64,arm64``: the canonical names, each once, in the order given.

    Raises UsageError for an empty list or a name neither family knows (with the nearest one).
    """
    from .diagnostics import nearest
    from .errors import UsageError

    out: list[str] = []
    for word in (w.strip() for w in text.split(",")):
        name = canonical(word)
        if name is None:
            close = nearest(word, SPELLINGS)
            hint = f"did you mean {close!r}?" if close else f"known: {', '.join(SPELLINGS)}"
            raise UsageError(f"--arch {word!r} is no architecture pkgtool knows; {hint}")
        if name not in out:
            out.append(name)
    return tuple(out)


def canonical(name: str) -> str | None:
    """The canonical name of ``name`` in either family's spelling; None for a name neither knows."""
    return SPELLINGS.get(name)


def deb_name(arch: str) -> str:
    """Debian's name for a canonical (or host) architecture."""
    return ARCHES.get(canonical(arch) or arch, arch)


def rpm_name(arch: str) -> str:
    return canonical(arch) or arch
