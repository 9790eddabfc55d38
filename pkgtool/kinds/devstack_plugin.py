"""The devstack-plugin kind: a plugin DevStack sources from its git checkout while it stacks."""

from __future__ import annotations

import re

from .base import Kind

NAME = "devstack-plugin"
# DevStack lives in a git checkout, conventionally /opt/stack/devstack; its lib/ and extras.d/ are its own.
DEVSTACK_DIRS = (
    "/opt/stack",
    "/opt/stack/devstack",
    "/opt/stack/devstack/extras.d",
    "/opt/stack/devstack/lib",
    "/opt/stack/devstack/lib/nova_plugins",
)
# extras.d/NN-name.sh: DevStack sources these files in name order.
EXTRAS_NAME = re.compile(r"^([0-9]{2})-[a-z0-9_-]+\.sh$")
# What a nova hypervisor plugin (lib/nova_plugins/hypervisor-*) must define.
HYPERVISOR_FUNCTIONS = (
    "install_nova_hypervisor",
    "configure_nova_hypervisor",
    "start_nova_hypervisor",
    "stop_nova_hypervisor",
    "cleanup_nova_hypervisor",
)
MODES = frozenset({"stack", "unstack", "clean"})  # plugin.sh's $1
PHASES = frozenset({"pre-install", "install", "post-config", "extra", "test-config"})  # $2 of 'stack'

KIND = Kind(
    NAME,
    summary="DevStack plugin packaged with pkgtool",
    scaffold="init/devstack-plugin",
    host_dirs=DEVSTACK_DIRS,
    # FHS keeps /opt for add-on packages; DevStack's plugins live in its checkout there by design.
    rpmlint_waivers=(("dir-or-file-in-opt", "/opt/stack/*"),),
    lintian_waivers=(("dir-or-file-in-opt", "/opt/stack"), ("dir-or-file-in-opt", "/opt/stack/*")),
)
