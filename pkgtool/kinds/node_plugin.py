"""The node-plugin kind: an oVirt Node plugin file, its hooks for Node's events, its firewall ports."""

from __future__ import annotations

import re

from .base import Kind

NAME = "node-plugin"
HOOKS_DIR = "{libexecdir}/ovirt-node/hooks"
PLUGINS_DIR = "{sysconfdir}/ovirt-plugins.d"
# The events oVirt Node runs hooks for; any other directory is never looked at.
HOOK_POINTS: tuple[str, ...] = ("pre-upgrade", "post-upgrade", "rollback", "on-boot", "on-changed-boot-image")
HOOK_NAME = re.compile(r"^[0-9]{2}-[A-Za-z0-9][A-Za-z0-9_.-]*$")
# One port and one protocol a line: the documented format, nothing more (no ranges, no services).
# Node's reader (ovirt.node.utils.firewall.process_plugins) skips a line starting with '#' and
# splits every other one at ',' into two: an empty line makes it fail.
FIREWALL_COMMENT = "#"
FIREWALL_LINE = re.compile(r"^([0-9]{1,5}),(tcp|udp)$")

KIND = Kind(
    NAME,
    summary="oVirt Node plugin packaged with pkgtool",
    scaffold="init/node-plugin",
    host_dirs=(PLUGINS_DIR, "{libexecdir}/ovirt-node", HOOKS_DIR, HOOKS_DIR + "/*"),
    hooks_dir=HOOKS_DIR,
    hook_points=HOOK_POINTS,
    hook_name=HOOK_NAME,
)
