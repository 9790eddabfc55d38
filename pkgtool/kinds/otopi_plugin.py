"""The otopi-plugin kind: Python plugins of otopi (and ovirt-host-deploy), run stage by stage."""

from __future__ import annotations

from .base import Kind

NAME = "otopi-plugin"
# The stages otopi runs plugins' events in (otopi.plugin.Stages.STAGE_*).
STAGES = (
    "BOOT",
    "INIT",
    "SETUP",
    "INTERNAL_PACKAGES",
    "PROGRAMS",
    "LATE_SETUP",
    "CUSTOMIZATION",
    "VALIDATION",
    "TRANSACTION_BEGIN",
    "EARLY_MISC",
    "PACKAGES",
    "MISC",
    "TRANSACTION_END",
    "CLOSEUP",
    "CLEANUP",
    "PRE_TERMINATE",
    "TERMINATE",
    "REBOOT",
)

KIND = Kind(
    NAME,
    summary="otopi plugin packaged with pkgtool",
    scaffold="init/otopi-plugin",
    host_package="otopi",
    # otopi and ovirt-host-deploy own their plugin roots and their own plugin groups.
    host_dirs=(
        "{datadir}/otopi",
        "{datadir}/otopi/plugins",
        "{datadir}/otopi/plugins/otopi",
        "{datadir}/ovirt-host-deploy",
        "{datadir}/ovirt-host-deploy/plugins",
        "{datadir}/ovirt-host-deploy/plugins/ovirt-host-deploy",
    ),
)
