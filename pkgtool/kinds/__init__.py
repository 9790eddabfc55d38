"""Plugin kinds: one module a kind holds everything that kind is, registered in ALL below.

A kind's module gives its Kind (name, host package, host-owned directories,
hooks directory and hook points, scaffold templates) and the data its lint
rules judge by (lint/<kind>.py holds the rules' code).  The loader, model,
resolve, lint, the scaffold and the CLI read kinds from here only.

Host-owned directories are deployed-path globs with profile placeholders
(``{libexecdir}``...).  A package of that kind needs them as parents but must
not own them: they belong to the host package (vdsm owns its hook points).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from . import app, devstack_plugin, libvirt_hook, node_plugin, otopi_plugin, vdsm_hook
from .base import Kind

# The kinds in the order help, errors and docs list them.
ALL: tuple[Kind, ...] = (
    app.KIND,
    vdsm_hook.KIND,
    libvirt_hook.KIND,
    devstack_plugin.KIND,
    otopi_plugin.KIND,
    node_plugin.KIND,
)
KINDS: Mapping[str, Kind] = MappingProxyType({k.name: k for k in ALL})
KIND_NAMES: tuple[str, ...] = tuple(KINDS)

_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")


def kind_info(kind: str) -> Kind:
    """The Kind named ``kind``; an unknown kind (refused by the loader) gets an empty one."""
    return KINDS.get(kind) or Kind(kind)


def host_dirs(kind: str, dirs: Mapping[str, str]) -> tuple[str, ...]:
    """The kind's host-owned directory globs with the profile's directories filled in."""
    out = []
    for pattern in kind_info(kind).host_dirs:
        out.append(_PLACEHOLDER.sub(lambda m: dirs.get(m.group(1), m.group(0)), pattern))
    return tuple(out)
