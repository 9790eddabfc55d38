"""Tiny layout maps for the lint tests: write a pkgtool.toml and its sources into a directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

HEADER = """schema = 1

[package]
name = "{name}"
version = "1.0"
summary = "{summary}"
description = "A package made by a test."
license = "MIT"
maintainer = "{maintainer}"
kind = "{kind}"

"""


@dataclass(frozen=True)
class Case:
    """A map that triggers ``rule`` once: at deployed ``path``, key path ``key``, on the line holding ``marker``."""

    rule: str
    severity: str
    body: str  # TOML after [package]
    files: dict[str, tuple[str, int]] = field(default_factory=dict)  # src -> (content, mode)
    path: str | None = None  # deployed path of the finding (None: about the map itself)
    key: str = ""
    marker: str | None = None  # text of the line the finding must point at (None: no line)
    kind: str = "app"
    name: str = "tpkg"
    summary: str = "Package made by a test"
    maintainer: str = "Tess Ter <tess@example.org>"
    distro: str = "fedora"  # the profile linted


def write_project(root: Path, case: Case) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = HEADER.format(name=case.name, summary=case.summary, kind=case.kind, maintainer=case.maintainer) + case.body
    (root / "pkgtool.toml").write_text(text, encoding="utf-8")
    for rel, (content, mode) in case.files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content, encoding="utf-8")
        p.chmod(mode)
    return root


def marker_line(root: Path, marker: str) -> int:
    for number, line in enumerate((root / "pkgtool.toml").read_text().splitlines(), 1):
        if marker in line:
            return number
    raise AssertionError(f"marker {marker!r} not in the map")


SH = "#!/bin/sh\nexit 0\n"
DATA = "some data\n"

CASES: tuple[Case, ...] = (
    # ---- core
    Case(
        "world-writable",
        "error",
        '[[file]]\nsrc = "f"\ndst = "{datadir}/tpkg/f"\nmode = "0666"\n',
        {"f": (DATA, 0o644)},
        "/usr/share/tpkg/f",
        "file[0].mode",
        'mode = "0666"',
    ),
    Case(
        "setuid-unacknowledged",
        "error",
        '[[file]]\nsrc = "f"\ndst = "{bindir}/tpkg"\n\n[[attr]]\npath = "{bindir}/tpkg"\nmode = "4755"\n',
        {"f": (SH, 0o755)},
        "/usr/bin/tpkg",
        "attr[0].mode",
        'mode = "4755"',
    ),
    Case(
        "shebang-not-executable",
        "error",
        '[[tree]]\nsrc = "lib/"\ndst = "{datadir}/tpkg/"\nmode = "0644"\n',
        {"lib/run.sh": (SH, 0o755)},
        "/usr/share/tpkg/run.sh",
        "tree[0].mode",
        'mode = "0644"',
    ),
    Case(
        "env-shebang",
        "warning",
        '[[file]]\nsrc = "tool"\ndst = "{bindir}/tpkg-tool"\nmode = "0755"\n',
        {"tool": ("#!/usr/bin/env -S python3 -u\nprint(1)\n", 0o755)},  # env -S: no profile rewrites it
        "/usr/bin/tpkg-tool",
        "file[0].src",
        'src = "tool"',
    ),
    Case(
        "executable-config",
        "warning",
        '[[file]]\nsrc = "t.conf"\ndst = "{sysconfdir}/t.conf"\nmode = "0755"\nconfig = "noreplace"\n',
        {"t.conf": (DATA, 0o644)},
        "/etc/t.conf",
        "file[0].mode",
        'mode = "0755"',
    ),
    Case(
        "config-outside-etc",
        "warning",
        '[[file]]\nsrc = "t.conf"\ndst = "{datadir}/tpkg/t.conf"\nconfig = true\n',
        {"t.conf": (DATA, 0o644)},
        "/usr/share/tpkg/t.conf",
        "file[0].config",
        "config = true",
    ),
    Case(
        "etc-not-config",
        "warning",
        '[[file]]\nsrc = "t.conf"\ndst = "{sysconfdir}/t.conf"\n',
        {"t.conf": (DATA, 0o644)},
        "/etc/t.conf",
        "file[0].config",
        "[[file]]",  # no config key: the item's line
    ),
    Case(
        "usr-local",
        "error",
        '[[file]]\nsrc = "t"\ndst = "/usr/local/share/t"\n',
        {"t": (DATA, 0o644)},
        "/usr/local/share/t",
        "file[0].dst",
        'dst = "/usr/local/share/t"',
    ),
    Case(
        "dangling-symlink",
        "error",
        '[[file]]\nsrc = "t"\ndst = "{datadir}/tpkg/t"\n\n[[symlink]]\npath = "{bindir}/tpkg"\ntarget = "{datadir}/tpkg/tt"\n',
        {"t": (DATA, 0o644)},
        "/usr/bin/tpkg",
        "symlink[0].target",
        'target = "{datadir}/tpkg/tt"',
    ),
    Case(
        "owns-system-dir",
        "error",
        '[[dir]]\npath = "{bindir}"\n',
        {},
        "/usr/bin",
        "dir[0].path",
        'path = "{bindir}"',
    ),
    Case(
        "summary-style",
        "warning",
        "",
        {},
        None,
        "package.summary",
        "summary = ",
        summary="Package made by a test.",
    ),
    Case(
        "override-replaces",
        "warning",
        '[[file]]\nsrc = "a"\ndst = "/usr/share/tpkg/a"\n\n[[distro.fedora.file]]\nsrc = "b"\ndst = "/usr/share/tpkg/b"\n',
        {"a": ("a\n", 0o644), "b": ("b\n", 0o644)},
        None,
        "distro.fedora.file",
        "[[distro.fedora.file]]",
    ),
    Case(
        "placeholder-maintainer",
        "error",
        "",
        {},
        None,
        "package.maintainer",
        "maintainer = ",
        maintainer="Your Name <you@example.org>",
    ),
    Case(
        "transaction-script-on-debian",
        "warning",
        '[scripts]\npost-transaction = "posttrans.sh"\n',
        {"posttrans.sh": (SH, 0o644)},
        None,
        "scripts.post-transaction",
        "post-transaction = ",
        distro="debian",
    ),
    # ---- vdsm-hook
    Case(
        "vdsm-hook-point",
        "error",
        '[[file]]\nsrc = "h"\ndst = "{libexecdir}/vdsm/hooks/before_vm_started/50_t"\nmode = "0755"\n',
        {"h": (SH, 0o755)},
        "/usr/libexec/vdsm/hooks/before_vm_started/50_t",
        "file[0].dst",
        "before_vm_started",
        kind="vdsm-hook",
        name="vdsm-hook-t",
    ),
    Case(
        "vdsm-hook-not-executable",
        "error",
        '[[file]]\nsrc = "h"\ndst = "{libexecdir}/vdsm/hooks/before_vm_start/50_t"\nmode = "0644"\n',
        {"h": (SH, 0o755)},
        "/usr/libexec/vdsm/hooks/before_vm_start/50_t",
        "file[0].mode",
        'mode = "0644"',
        kind="vdsm-hook",
        name="vdsm-hook-t",
    ),
    Case(
        "vdsm-helper-executable",
        "error",
        '[[tree]]\nsrc = "hooks/"\ndst = "{libexecdir}/vdsm/hooks/before_vm_start/"\nmode = "0755"\n',
        {"hooks/50_t": (SH, 0o755), "hooks/t_helper.py": ("VALUE = 1\n", 0o644)},
        "/usr/libexec/vdsm/hooks/before_vm_start/t_helper.py",
        "tree[0].mode",
        'mode = "0755"',
        kind="vdsm-hook",
        name="vdsm-hook-t",
    ),
    Case(
        "vdsm-hook-name",
        "warning",
        '[[file]]\nsrc = "h"\ndst = "{libexecdir}/vdsm/hooks/after_vm_destroy/cleanup.sh"\nmode = "0755"\n',
        {"h": (SH, 0o755)},
        "/usr/libexec/vdsm/hooks/after_vm_destroy/cleanup.sh",
        "file[0].dst",
        "cleanup.sh",
        kind="vdsm-hook",
        name="vdsm-hook-t",
    ),
    Case(
        "vdsm-hook-dotfile",
        "error",
        '[[file]]\nsrc = "h"\ndst = "{libexecdir}/vdsm/hooks/before_vm_start/.50_t"\nmode = "0755"\n',
        {"h": (SH, 0o755)},
        "/usr/libexec/vdsm/hooks/before_vm_start/.50_t",
        "file[0].dst",
        ".50_t",
        kind="vdsm-hook",
        name="vdsm-hook-t",
    ),
    Case(
        "vdsm-sudoers-mode",
        "error",
        '[[file]]\nsrc = "s"\ndst = "{sysconfdir}/sudoers.d/50_vdsm_hook_t"\nmode = "0644"\nconfig = "noreplace"\n',
        {"s": ("vdsm ALL=(ALL) NOPASSWD: /bin/true\n", 0o644)},
        "/etc/sudoers.d/50_vdsm_hook_t",
        "file[0].mode",
        'mode = "0644"',
        kind="vdsm-hook",
        name="vdsm-hook-t",
    ),
    Case(
        "vdsm-hook-package-name",
        "warning",
        "",
        {},
        None,
        "package.name",
        'name = "hook-t"',
        kind="vdsm-hook",
        name="hook-t",
    ),
    # ---- libvirt-hook
    Case(
        "libvirt-hook-name",
        "error",
        '[[file]]\nsrc = "h"\ndst = "{sysconfdir}/libvirt/hooks/kvm.d/50-t"\nmode = "0755"\nconfig = "noreplace"\n',
        {"h": (SH, 0o755)},
        "/etc/libvirt/hooks/kvm.d/50-t",
        "file[0].dst",
        "kvm.d",
        kind="libvirt-hook",
    ),
    Case(
        "libvirt-hook-not-executable",
        "error",
        '[[file]]\nsrc = "h"\ndst = "{sysconfdir}/libvirt/hooks/qemu.d/50-t"\nmode = "0644"\nconfig = "noreplace"\n',
        {"h": (SH, 0o755)},
        "/etc/libvirt/hooks/qemu.d/50-t",
        "file[0].mode",
        'mode = "0644"',
        kind="libvirt-hook",
    ),
    Case(
        "libvirt-hook-main-script",
        "warning",
        '[[file]]\nsrc = "h"\ndst = "{sysconfdir}/libvirt/hooks/qemu"\nmode = "0755"\nconfig = "noreplace"\n',
        {"h": (SH, 0o755)},
        "/etc/libvirt/hooks/qemu",
        "file[0].dst",
        'dst = "{sysconfdir}/libvirt/hooks/qemu"',
        kind="libvirt-hook",
    ),
    Case(
        "libvirt-hook-calls-libvirt",
        "warning",
        '[[file]]\nsrc = "h"\ndst = "{sysconfdir}/libvirt/hooks/qemu.d/50-t"\nmode = "0755"\nconfig = "noreplace"\n',
        {"h": ('#!/bin/sh\nvirsh dumpxml "$1" > /tmp/x\n', 0o755)},
        "/etc/libvirt/hooks/qemu.d/50-t",
        "file[0].src",
        'src = "h"',
        kind="libvirt-hook",
    ),
    Case(
        "libvirt-hook-reload",
        "info",
        '[[file]]\nsrc = "h"\ndst = "{sysconfdir}/libvirt/hooks/qemu.d/50-t"\nmode = "0755"\nconfig = "noreplace"\n\n'
        '[scripts]\npost-install = "p.sh"\n',
        {"h": (SH, 0o755), "p.sh": ("# reload libvirtd? not here\necho hi\n", 0o644)},
        None,
        "scripts",
        "[scripts]",
        kind="libvirt-hook",
    ),
)

HYPERVISOR_OK = "".join(f"function {f} {{\n    :\n}}\n" for f in (
    "install_nova_hypervisor", "configure_nova_hypervisor", "start_nova_hypervisor", "stop_nova_hypervisor",
))  # fmt: skip
OTOPI_MODULE = (
    "from otopi import plugin\n\n\n@plugin.export\nclass Plugin(plugin.PluginBase):\n"
    "    @plugin.event(stage=plugin.Stages.STAGE_CLOSE_UP)\n    def _closeup(self):\n        pass\n"
)
_DS = "/opt/stack/tpkg/devstack"

CASES += (
    # ---- devstack-plugin
    Case(
        "devstack-extras-name",
        "error",
        '[[file]]\nsrc = "x.sh"\ndst = "/opt/stack/devstack/extras.d/95-tpkg.sh"\nmode = "0644"\n',
        {"x.sh": ("echo hi\n", 0o644)},
        "/opt/stack/devstack/extras.d/95-tpkg.sh",
        "file[0].dst",
        "95-tpkg.sh",
        kind="devstack-plugin",
    ),
    Case(
        "devstack-extras-deprecated",
        "warning",
        '[[file]]\nsrc = "x.sh"\ndst = "/opt/stack/devstack/extras.d/70-tpkg.sh"\nmode = "0644"\n',
        {"x.sh": ("#!/bin/bash\necho hi\n", 0o644)},
        "/opt/stack/devstack/extras.d/70-tpkg.sh",
        "file[0].dst",
        "70-tpkg.sh",
        kind="devstack-plugin",
    ),
    Case(
        "devstack-hypervisor-functions",
        "error",
        '[[file]]\nsrc = "hv"\ndst = "/opt/stack/devstack/lib/nova_plugins/hypervisor-tpkg"\nmode = "0644"\n',
        {"hv": (HYPERVISOR_OK, 0o644)},
        "/opt/stack/devstack/lib/nova_plugins/hypervisor-tpkg",
        "file[0].src",
        'src = "hv"',
        kind="devstack-plugin",
    ),
    Case(
        "devstack-sourced-exit",
        "error",
        f'[[tree]]\nsrc = "devstack/"\ndst = "{_DS}/"\nmode = "0644"\n',
        {"devstack/settings": ("define_plugin tpkg\nexit 0\n", 0o644)},
        f"{_DS}/settings",
        "tree[0].src",
        'src = "devstack/"',
        kind="devstack-plugin",
    ),
    Case(
        "devstack-unknown-phase",
        "warning",
        f'[[tree]]\nsrc = "devstack/"\ndst = "{_DS}/"\nmode = "0644"\n',
        {
            "devstack/plugin.sh": (
                '#!/bin/bash\nif [[ "$1" == "stack" && "$2" == "post-extra" ]]; then\n    echo hi\nfi\n',
                0o644,
            ),
            "devstack/settings": ("define_plugin tpkg\n", 0o644),
        },
        f"{_DS}/plugin.sh",
        "tree[0].src",
        'src = "devstack/"',
        kind="devstack-plugin",
    ),
    Case(
        "devstack-settings-define",
        "warning",
        f'[[tree]]\nsrc = "devstack/"\ndst = "{_DS}/"\nmode = "0644"\n',
        {"devstack/settings": ("enable_service tpkg\n", 0o644)},
        f"{_DS}/settings",
        "tree[0].src",
        'src = "devstack/"',
        kind="devstack-plugin",
    ),
    # ---- otopi-plugin
    Case(
        "otopi-create-plugins",
        "error",
        '[[tree]]\nsrc = "plugins/"\ndst = "{datadir}/tpkg/plugins/"\n',
        {"plugins/tgroup/tplug/core.py": (OTOPI_MODULE.replace("CLOSE_UP", "CLOSEUP"), 0o644)},
        "/usr/share/tpkg/plugins/tgroup/tplug/core.py",
        "tree[0].dst",
        'dst = "{datadir}/tpkg/plugins/"',
        kind="otopi-plugin",
    ),
    Case(
        "otopi-unknown-stage",
        "error",
        '[[tree]]\nsrc = "plugins/"\ndst = "{datadir}/tpkg/plugins/"\n',
        {
            "plugins/tgroup/tplug/__init__.py": (
                "from . import core\n\n\ndef createPlugins(context):\n    core.Plugin(context=context)\n",
                0o644,
            ),
            "plugins/tgroup/tplug/core.py": (OTOPI_MODULE, 0o644),
        },
        "/usr/share/tpkg/plugins/tgroup/tplug/core.py",
        "tree[0].src",
        'src = "plugins/"',
        kind="otopi-plugin",
    ),
    Case(
        "otopi-plugin-dir-name",
        "error",
        '[[tree]]\nsrc = "plugins/"\ndst = "{datadir}/tpkg/plugins/"\n',
        {
            "plugins/tgroup/_tplug/__init__.py": (
                "from . import core\n\n\ndef createPlugins(context):\n    core.Plugin(context=context)\n",
                0o644,
            ),
            "plugins/tgroup/_tplug/core.py": (OTOPI_MODULE.replace("CLOSE_UP", "CLOSEUP"), 0o644),
        },
        "/usr/share/tpkg/plugins/tgroup/_tplug/__init__.py",
        "tree[0].dst",
        'dst = "{datadir}/tpkg/plugins/"',
        kind="otopi-plugin",
    ),
)

# A driverdeploy-shaped plugin whose installer opens a file it does not carry.
OTOPI_INIT = "from . import core\n\n\ndef createPlugins(context):\n    core.Plugin(context=context)\n"
OTOPI_OPENS = OTOPI_MODULE.replace("CLOSE_UP", "PACKAGES").replace(
    "pass", "open(os.path.join(os.path.dirname(__file__), 'acme.conf')).read()"
)
CASES += (
    Case(
        "otopi-plugin-missing-file",
        "error",
        '[[tree]]\nsrc = "plugins/"\ndst = "{datadir}/tpkg/plugins/"\n',
        {
            "plugins/tgroup/tplug/__init__.py": (OTOPI_INIT, 0o644),
            "plugins/tgroup/tplug/core.py": ("import os\n" + OTOPI_OPENS, 0o644),
        },
        "/usr/share/tpkg/plugins/tgroup/tplug/core.py",
        "tree[0].src",
        'src = "plugins/"',
        kind="otopi-plugin",
    ),
)

_NODE_HOOKS = "{libexecdir}/ovirt-node/hooks"
# The plugin file every node-plugin ships, so that each case below triggers only its own rule.
_NODE_PLUGIN_FILE = '[[file]]\nsrc = "pf"\ndst = "{sysconfdir}/ovirt-plugins.d/tpkg"\nconfig = true\n\n'
_NODE_PF = {"pf": ("Name: tpkg\nVersion: 1.0\n", 0o644)}

CASES += (
    # ---- node-plugin
    Case(
        "node-hook-point",
        "error",
        _NODE_PLUGIN_FILE + f'[[file]]\nsrc = "h"\ndst = "{_NODE_HOOKS}/on_boot/50-t"\nmode = "0755"\n',
        {"h": (SH, 0o755), **_NODE_PF},
        "/usr/libexec/ovirt-node/hooks/on_boot/50-t",
        "file[1].dst",
        "on_boot/50-t",
        kind="node-plugin",
    ),
    Case(
        "node-hook-not-executable",
        "error",
        _NODE_PLUGIN_FILE + f'[[file]]\nsrc = "h"\ndst = "{_NODE_HOOKS}/on-boot/50-t"\nmode = "0644"\n',
        {"h": (SH, 0o755), **_NODE_PF},
        "/usr/libexec/ovirt-node/hooks/on-boot/50-t",
        "file[1].mode",
        'mode = "0644"',
        kind="node-plugin",
    ),
    Case(
        "node-hook-name",
        "warning",
        _NODE_PLUGIN_FILE + f'[[file]]\nsrc = "h"\ndst = "{_NODE_HOOKS}/pre-upgrade/save.sh"\nmode = "0755"\n',
        {"h": (SH, 0o755), **_NODE_PF},
        "/usr/libexec/ovirt-node/hooks/pre-upgrade/save.sh",
        "file[1].dst",
        "save.sh",
        kind="node-plugin",
    ),
    Case(
        "node-plugin-file",
        "warning",
        _NODE_PLUGIN_FILE,
        {"pf": ("Name: tpkg\nVersion: 0.9\n", 0o644)},
        "/etc/ovirt-plugins.d/tpkg",
        "file[0].src",
        'src = "pf"',
        kind="node-plugin",
    ),
    Case(
        "node-firewall-format",
        "error",
        _NODE_PLUGIN_FILE + '[[file]]\nsrc = "fw"\ndst = "{sysconfdir}/ovirt-plugins.d/tpkg.firewall"\nconfig = true\n',
        {"fw": ("5900,tcp\n5901-5910,tcp\n", 0o644), **_NODE_PF},
        "/etc/ovirt-plugins.d/tpkg.firewall",
        "file[1].src",
        'src = "fw"',
        kind="node-plugin",
    ),
)
