"""What each plugin kind brings: the host software's package and the directories it owns.

Host-owned directories are deployed-path globs with profile placeholders
(``{libexecdir}``...).  A package of that kind needs them as parents but must
not own them: they belong to the host package (vdsm owns its hook points).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..model import PLUGIN_KINDS


@dataclass(frozen=True)
class KindInfo:
    name: str
    host_package: str = ""  # logical relation name of the host software ('' = none)
    host_dirs: tuple[str, ...] = ()  # deployed-path globs, with placeholders


_VDSM_HOOKS = "{libexecdir}/vdsm/hooks"
_NODE_HOOKS = "{libexecdir}/ovirt-node/hooks"

KINDS: Mapping[str, KindInfo] = {
    "app": KindInfo("app"),
    "vdsm-hook": KindInfo(
        "vdsm-hook",
        host_package="vdsm",
        host_dirs=("{libexecdir}/vdsm", _VDSM_HOOKS, _VDSM_HOOKS + "/*"),
    ),
    "libvirt-hook": KindInfo(
        "libvirt-hook",
        host_package="libvirt",
        host_dirs=("{sysconfdir}/libvirt", "{sysconfdir}/libvirt/hooks", "{sysconfdir}/libvirt/hooks/*.d"),
    ),
    # DevStack lives in a git checkout, conventionally /opt/stack/devstack; its lib/ and extras.d/ are its own.
    "devstack-plugin": KindInfo(
        "devstack-plugin",
        host_package="",
        host_dirs=(
            "/opt/stack",
            "/opt/stack/devstack",
            "/opt/stack/devstack/extras.d",
            "/opt/stack/devstack/lib",
            "/opt/stack/devstack/lib/nova_plugins",
        ),
    ),
    # otopi and ovirt-host-deploy own their plugin roots and their own plugin groups.
    "otopi-plugin": KindInfo(
        "otopi-plugin",
        host_package="otopi",
        host_dirs=(
            "{datadir}/otopi",
            "{datadir}/otopi/plugins",
            "{datadir}/otopi/plugins/otopi",
            "{datadir}/ovirt-host-deploy",
            "{datadir}/ovirt-host-deploy/plugins",
            "{datadir}/ovirt-host-deploy/plugins/ovirt-host-deploy",
        ),
    ),
    "node-plugin": KindInfo(
        "node-plugin",
        host_package="",
        host_dirs=(
            "{sysconfdir}/ovirt-plugins.d",
            "{libexecdir}/ovirt-node",
            _NODE_HOOKS,
            _NODE_HOOKS + "/*",
        ),
    ),
}

assert set(KINDS) == set(PLUGIN_KINDS), "every plugin kind needs a KindInfo"

_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")


def kind_info(kind: str) -> KindInfo:
    """The KindInfo of ``kind``; an unknown kind (refused by the loader) gets an empty one."""
    return KINDS.get(kind, KindInfo(kind))


def host_dirs(kind: str, dirs: Mapping[str, str]) -> tuple[str, ...]:
    """The kind's host-owned directory globs with the profile's directories filled in."""
    out = []
    for pattern in kind_info(kind).host_dirs:
        out.append(_PLACEHOLDER.sub(lambda m: dirs.get(m.group(1), m.group(0)), pattern))
    return tuple(out)
