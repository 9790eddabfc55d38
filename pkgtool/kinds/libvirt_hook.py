"""The libvirt-hook kind: scripts libvirt's daemons run for their drivers' events."""

from __future__ import annotations

from .base import Kind

NAME = "libvirt-hook"
HOOKS_DIR = "{sysconfdir}/libvirt/hooks"
# The drivers libvirt runs a hook for: <driver> itself, or each file of <driver>.d/.
DRIVERS: frozenset[str] = frozenset({"daemon", "qemu", "lxc", "libxl", "bhyve", "network"})

KIND = Kind(
    NAME,
    summary="libvirt QEMU hook packaged with pkgtool",
    scaffold="init/libvirt-hook",
    host_package="libvirt",
    host_dirs=("{sysconfdir}/libvirt", HOOKS_DIR, HOOKS_DIR + "/*.d"),
    hooks_dir=HOOKS_DIR,
    hook_points=DRIVERS,
)
