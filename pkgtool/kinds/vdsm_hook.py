"""The vdsm-hook kind: scripts VDSM runs at its hook points (oVirt's hypervisor agent)."""

from __future__ import annotations

import re

from .base import Kind

NAME = "vdsm-hook"
HOOKS_DIR = "{libexecdir}/vdsm/hooks"

# Every hook point VDSM calls (vdsm/common/hooks.py); nothing else in hooks/ is ever run.
HOOK_POINTS: frozenset[str] = frozenset(
    [
        f"{w}_{e}"
        for w in ("before", "after")
        for e in (
            "device_create",
            "device_destroy",
            "device_migrate_source",
            "device_migrate_destination",
            "update_device",
            "vm_start",
            "vm_cont",
            "vm_pause",
            "vm_hibernate",
            "vm_dehibernate",
            "vm_migrate_source",
            "vm_migrate_destination",
            "vm_destroy",
            "vm_set_ticket",
            "nic_hotplug",
            "nic_hotunplug",
            "disk_hotplug",
            "disk_hotunplug",
            "memory_hotplug",
            "set_num_of_cpus",
            "network_setup",
            "get_vm_stats",
            "get_all_vm_stats",
            "get_caps",
            "get_stats",
        )
    ]
    + [
        "after_update_device_fail",
        "after_nic_hotplug_fail",
        "after_nic_hotunplug_fail",
        "after_disk_prepare",
        "before_vdsm_start",
        "after_vdsm_stop",
        "after_network_setup_fail",
        "after_hostdev_list_by_caps",
    ]
)
assert len(HOOK_POINTS) == 58  # the documented set; a typo above would change the count

# Hook file names: NN_name, two digits that make the order VDSM runs them in (string order) explicit.
HOOK_NAME = re.compile(r"^[0-9]{2}_[a-z0-9_]+$")
# Sudoers drop-ins that hooks ship for the commands they run as root.
SUDOERS_DIR = "{sysconfdir}/sudoers.d"

KIND = Kind(
    NAME,
    summary="VDSM hook packaged with pkgtool",
    name_prefix="vdsm-hook-",
    scaffold="init/vdsm-hook",
    host_package="vdsm",
    host_dirs=("{libexecdir}/vdsm", HOOKS_DIR, HOOKS_DIR + "/*"),
    hooks_dir=HOOKS_DIR,
    hook_points=HOOK_POINTS,
    hook_name=HOOK_NAME,
)
