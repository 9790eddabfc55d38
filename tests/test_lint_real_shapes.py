"""Kind rules held against the shapes of real projects: what their hosts read is accepted, what breaks them is not.

Each layout below copies the shape (paths, modes, the lines that matter) of a real package:
ovirt-node-plugin-vdsm's firewall file, vdsm's checkips hook with its daemon, a libvirt qemu
dispatcher with its JSON beside it, a qemu hook shipped as a symlink.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lint_cases import SH, Case, marker_line, write_project

from pkgtool.lint import lint_project
from pkgtool.scaffold import default_name, init_project

DISTROS = ["fedora", "el9", "opensuse-leap", "debian", "ubuntu"]
NODE_PF = '[[file]]\nsrc = "pf"\ndst = "{sysconfdir}/ovirt-plugins.d/tpkg"\nconfig = true\n\n'
FIREWALL = '[[file]]\nsrc = "fw"\ndst = "{sysconfdir}/ovirt-plugins.d/vdsm-plugin.firewall"\nconfig = true\n'


def _lint(tmp_path: Path, case: Case, distros=DISTROS):
    root = write_project(tmp_path / "p", case)
    return root, lint_project(root, list(distros))


def _rules(report) -> list[str]:
    return sorted(d.rule for d in report.findings)


# ---- oVirt Node: conf/vdsm-plugin.firewall of ovirt-node-plugin-vdsm, read by
# ovirt.node.utils.firewall.process_plugins (skips '#' lines, splits the others at ',').


def test_node_firewall_with_a_comment_line_is_clean(tmp_path: Path) -> None:
    fw = "#ports and protocols that vdsm needs opened\n54321,tcp\n"
    _, report = _lint(tmp_path, _node(fw))
    assert report.findings == (), report.to_text()


def _node(firewall: str) -> Case:
    files = {"pf": ("Name: tpkg\nVersion: 1.0\n", 0o644), "fw": (firewall, 0o644)}
    return Case("", "", NODE_PF + FIREWALL, files, kind="node-plugin")


@pytest.mark.parametrize(("text", "line"), [("54321,tcp\n\n", 2), ("\n54321,tcp\n", 1), ("54321,tcp\n \n", 2)])
def test_node_firewall_empty_line_is_an_error(tmp_path: Path, text: str, line: int) -> None:
    _, report = _lint(tmp_path, _node(text))
    assert _rules(report) == ["node-firewall-format"], report.to_text()  # one finding for the five profiles
    assert not report.ok
    assert f"line {line}:" in report.findings[0].message


# ---- vdsm: vdsm_hooks/checkips installs after_get_stats/10_checkips (0755), its helper
# checkips_utils.py beside it (0644), and the daemon checkipsd directly in hooks/, run by a unit.

CHECKIPS = (
    '[[file]]\nsrc = "after_get_stats.py"\ndst = "{libexecdir}/vdsm/hooks/after_get_stats/10_checkips"\n'
    'mode = "0755"\n\n'
    '[[file]]\nsrc = "checkips_utils.py"\ndst = "{libexecdir}/vdsm/hooks/after_get_stats/checkips_utils.py"\n\n'
    '[[file]]\nsrc = "checkipsd"\ndst = "{libexecdir}/vdsm/hooks/checkipsd"\nmode = "0755"\n\n'
    '[[file]]\nsrc = "vdsm-checkips.service"\ndst = "{unitdir}/vdsm-checkips.service"\n'
)
PY = "#!/usr/bin/python3\nimport sys\nsys.exit(0)\n"


def _checkips(unit_exec: str, extra: str = "", files=None) -> Case:
    unit = f"[Service]\nType=simple\nExecStart={unit_exec}\n"
    srcs = {
        "after_get_stats.py": (PY, 0o755),
        "checkips_utils.py": ("import socket\n", 0o644),
        "checkipsd": (PY, 0o755),
        "vdsm-checkips.service": (unit, 0o644),
        **(files or {}),
    }
    return Case("", "", CHECKIPS + extra, srcs, kind="vdsm-hook", name="vdsm-hook-checkips")


@pytest.mark.parametrize("distro", ["fedora", "opensuse-leap"])
def test_vdsm_daemon_in_hooks_dir_run_by_a_unit_is_clean(tmp_path: Path, distro: str) -> None:
    libexec = "/usr/lib" if distro == "opensuse-leap" else "/usr/libexec"
    _, report = _lint(tmp_path, _checkips(f"{libexec}/vdsm/hooks/checkipsd"), [distro])
    assert report.findings == (), report.to_text()


def test_vdsm_daemon_in_hooks_dir_not_told_to_move_even_unreferenced(tmp_path: Path) -> None:
    _, report = _lint(tmp_path, _checkips("/usr/bin/true"))
    assert "vdsm-hook-point" not in _rules(report), report.to_text()


def test_vdsm_hook_named_file_directly_in_hooks_is_still_reported(tmp_path: Path) -> None:
    extra = '\n[[file]]\nsrc = "h"\ndst = "{libexecdir}/vdsm/hooks/50_checkips"\nmode = "0755"\n'
    root, report = _lint(tmp_path, _checkips("/usr/bin/true", extra, {"h": (SH, 0o755)}), ["fedora"])
    assert _rules(report) == ["vdsm-hook-point"], report.to_text()
    d = report.findings[0]
    assert d.path == "/usr/libexec/vdsm/hooks/50_checkips" and "hook-point directory" in d.message
    assert d.location.line == marker_line(root, "hooks/50_checkips")


# ---- libvirt: a qemu dispatcher with the JSON it reads beside it; a qemu hook as a symlink.

DISPATCHER = (
    '[[file]]\nsrc = "qemu"\ndst = "{sysconfdir}/libvirt/hooks/qemu"\nmode = "0755"\n\n'
    '[[file]]\nsrc = "hooks.json"\ndst = "{sysconfdir}/libvirt/hooks/hooks.json"\nconfig = "noreplace"\n'
)


def test_libvirt_dispatcher_data_file_is_not_a_misnamed_hook(tmp_path: Path) -> None:
    files = {"qemu": ("#!/usr/bin/python3\nimport json\n", 0o755), "hooks.json": ('{"forward": []}\n', 0o644)}
    case = Case("", "", DISPATCHER, files, kind="libvirt-hook", name="libvirt-hook-portfwd")
    _, report = _lint(tmp_path, case, ["fedora", "debian"])
    assert "libvirt-hook-name" not in _rules(report), report.to_text()
    assert "libvirt-hook-main-script" in _rules(report)


def test_libvirt_executable_misnamed_file_is_still_reported(tmp_path: Path) -> None:
    body = '[[file]]\nsrc = "kvm"\ndst = "{sysconfdir}/libvirt/hooks/kvm"\nmode = "0755"\n'
    case = Case("", "", body, {"kvm": (SH, 0o755)}, kind="libvirt-hook", name="libvirt-hook-t")
    _, report = _lint(tmp_path, case, ["fedora"])
    assert "libvirt-hook-name" in _rules(report), report.to_text()


def test_libvirt_main_script_as_symlink_is_reported(tmp_path: Path) -> None:
    body = (
        '[[file]]\nsrc = "qemu"\ndst = "/opt/kvm-passthrough/hooks/qemu"\nmode = "0755"\n\n'
        '[[symlink]]\npath = "{sysconfdir}/libvirt/hooks/qemu"\ntarget = "/opt/kvm-passthrough/hooks/qemu"\n'
    )
    case = Case("", "", body, {"qemu": (SH, 0o755)}, kind="libvirt-hook", name="libvirt-hook-t")
    root, report = _lint(tmp_path, case, ["fedora"])
    hits = [d for d in report.findings if d.rule == "libvirt-hook-main-script"]
    assert len(hits) == 1, report.to_text()
    assert hits[0].path == "/etc/libvirt/hooks/qemu" and hits[0].location.key == "symlink[0].path"
    assert hits[0].location.line == marker_line(root, 'path = "{sysconfdir}/libvirt/hooks/qemu"')


# ---- pkgtool init: a directory named for the kind (vdsm's tree calls its hooks vdsm_hooks/).


@pytest.mark.parametrize(
    ("directory", "name"),
    [("mydriver", "vdsm-hook-mydriver"), ("vdsm-hook-acme", "vdsm-hook-acme"), ("vdsm_hooks-acme", "vdsm-hook-acme"),
     ("vdsm_hook_nestedvt", "vdsm-hook-nestedvt"), ("vdsmhook", "vdsm-hook-vdsmhook")],
)  # fmt: skip
def test_init_name_carries_the_prefix_once(tmp_path: Path, directory: str, name: str) -> None:
    assert default_name(tmp_path / directory, "vdsm-hook") == name
    assert default_name(tmp_path / directory, "app") == directory.replace("_", "-")


def test_init_in_a_directory_named_for_the_kind(tmp_path: Path) -> None:
    written = init_project(tmp_path / "vdsm-hook", "vdsm-hook")
    assert 'name = "vdsm-hook-example"' in written[0].read_text()
    assert default_name(tmp_path / "vdsm_hooks", "vdsm-hook") == "vdsm-hook-example"
    written = init_project(tmp_path / "vdsm-hooks", "vdsm-hook", name="vdsm-hook-acme")
    assert 'name = "vdsm-hook-acme"' in written[0].read_text()
    # init's placeholder maintainer is the one thing lint holds against a fresh map.
    rules = [f.rule for f in lint_project(tmp_path / "vdsm-hook", ["fedora"]).findings]
    assert rules == ["placeholder-maintainer"]
