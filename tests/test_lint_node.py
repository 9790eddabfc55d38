"""node-plugin lint rules: a correct plugin is clean on every distro; each way of getting it wrong is caught."""

from __future__ import annotations

from pathlib import Path

import pytest
from lint_cases import SH, Case, write_project

from pkgtool.kinds.node_plugin import FIREWALL_LINE, HOOK_POINTS
from pkgtool.lint import lint_project
from pkgtool.lint.registry import policy_for

DISTROS = ["fedora", "el9", "opensuse-leap", "debian", "ubuntu"]
HOOKS = "{libexecdir}/ovirt-node/hooks"
PLUGIN_FILE = '[[file]]\nsrc = "pf"\ndst = "{sysconfdir}/ovirt-plugins.d/tpkg"\nconfig = true\n\n'
PF = {"pf": ("Name: tpkg\nVersion: 1.0\nInstall Date: at install\n", 0o644)}


def _hook(event: str, name: str, mode: str = "0755", src: str = "h") -> str:
    return f'[[file]]\nsrc = "{src}"\ndst = "{HOOKS}/{event}/{name}"\nmode = "{mode}"\n\n'


def _lint(tmp_path: Path, body: str, files: dict[str, tuple[str, int]], distros=("fedora",), kind="node-plugin"):
    root = write_project(tmp_path / "p", Case("", "", body, files, kind=kind))
    return lint_project(root, list(distros))


def _rules(report) -> list[str]:
    return sorted(d.rule for d in report.findings)


def _messages(report, rule: str) -> list[str]:
    return [d.message for d in report.findings if d.rule == rule]


def test_correct_plugin_is_clean_on_every_distro(tmp_path: Path) -> None:
    body = (
        PLUGIN_FILE
        + "".join(_hook(event, f"{i}0-tpkg") for i, event in enumerate(HOOK_POINTS, 1))
        + '[[file]]\nsrc = "fw"\ndst = "{sysconfdir}/ovirt-plugins.d/tpkg.firewall"\nconfig = true\n\n'
        + '[[file]]\nsrc = "min"\ndst = "{sysconfdir}/ovirt-plugins.d/tpkg.minimize"\nconfig = true\n'
    )
    files = {
        "h": (SH, 0o755),
        "fw": ("# VNC and SPICE\n5900,tcp\n65535,udp\n1,tcp\n", 0o644),
        "min": ("drop /usr/share/doc\n", 0o644),
    }
    report = _lint(tmp_path, body, {**files, **PF}, DISTROS)
    assert report.findings == (), report.to_text()
    assert report.ok and report.distros == tuple(DISTROS)


def test_version_release_is_accepted(tmp_path: Path) -> None:
    report = _lint(tmp_path, PLUGIN_FILE, {"pf": ("Name:tpkg\nVersion:1.0-1\n", 0o644)})
    assert report.findings == (), report.to_text()


def test_missing_plugin_file_points_at_package_name(tmp_path: Path) -> None:
    report = _lint(tmp_path, _hook("on-boot", "50-tpkg"), {"h": (SH, 0o755)})
    assert _rules(report) == ["node-plugin-file"], report.to_text()
    d = report.findings[0]
    assert d.path == "/etc/ovirt-plugins.d/tpkg" and d.location is not None and d.location.key == "package.name"
    assert "ships no /etc/ovirt-plugins.d/tpkg" in d.message
    assert report.ok  # a warning: the plugin still works


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("Version: 1.0\n", "has no 'Name:' line"),
        ("Name: tpkg\n", "has no 'Version:' line"),
        ("Name:\nVersion: 1.0\n", "has no 'Name:' line"),
        ("Name: other\nVersion: 1.0\n", "says Name: other, but the package is tpkg"),
        ("Name: tpkg\nVersion: 1.1\n", "says Version: 1.1, but the package version is 1.0"),
        ("Name: tpkg\nVersion: 1.0-2\n", "says Version: 1.0-2"),
    ],
)
def test_plugin_file_content_is_checked(tmp_path: Path, content: str, expected: str) -> None:
    report = _lint(tmp_path, PLUGIN_FILE, {"pf": (content, 0o644)})
    assert _rules(report) == ["node-plugin-file"], report.to_text()
    assert expected in report.findings[0].message
    assert report.findings[0].location.key == "file[0].src"


def test_plugin_file_named_for_another_package(tmp_path: Path) -> None:
    body = PLUGIN_FILE + '[[file]]\nsrc = "pf"\ndst = "{sysconfdir}/ovirt-plugins.d/ghost"\nconfig = true\n'
    report = _lint(tmp_path, body, PF)
    assert _rules(report) == ["node-plugin-file"], report.to_text()
    assert report.findings[0].path == "/etc/ovirt-plugins.d/ghost"
    assert "'ghost'" in report.findings[0].message


@pytest.mark.parametrize(
    ("line", "ok"),
    [
        ("5900,tcp", True),
        ("53,udp", True),
        ("65535,tcp", True),
        ("0,tcp", False),
        ("65536,tcp", False),
        ("5900:5910,tcp", False),  # ranges are not in the documented format
        ("5900,sctp", False),
        ("5900, tcp", False),
        ("tcp,5900", False),
        ("5900", False),
        ("# vnc", True),  # Node's reader skips lines starting with '#'
        (" # vnc", False),  # ... in the first column only: this one it splits at ','
        ("", False),  # an empty line stops Node's reader (no ',' to split at)
        ("   ", False),
        ("5900,tcp,extra", False),
    ],
)
def test_firewall_lines(tmp_path: Path, line: str, ok: bool) -> None:
    body = PLUGIN_FILE + '[[file]]\nsrc = "fw"\ndst = "{sysconfdir}/ovirt-plugins.d/tpkg.firewall"\nconfig = true\n'
    report = _lint(tmp_path, body, {"fw": (f"22,tcp\n{line}\n", 0o644), **PF})
    assert _rules(report) == ([] if ok else ["node-firewall-format"]), report.to_text()
    if not ok:
        assert "line 2" in report.findings[0].message and not report.ok


def test_firewall_reports_once_per_file_with_a_count(tmp_path: Path) -> None:
    body = PLUGIN_FILE + '[[file]]\nsrc = "fw"\ndst = "{sysconfdir}/ovirt-plugins.d/tpkg.firewall"\nconfig = true\n'
    report = _lint(tmp_path, body, {"fw": ("a\nb\nc\n", 0o644), **PF})
    assert _messages(report, "node-firewall-format") == [
        "/etc/ovirt-plugins.d/tpkg.firewall line 1: 'a' is not 'port,proto' (and 2 more)"
    ]


def test_firewall_regex_matches_whole_line() -> None:
    assert FIREWALL_LINE.match("5900,tcp") and not FIREWALL_LINE.match("5900,tcpx")


@pytest.mark.parametrize(
    ("dst", "expected"),
    [
        (f"{HOOKS}/50-tpkg", "directly in /usr/libexec/ovirt-node/hooks"),
        (f"{HOOKS}/post-install/50-tpkg", "'post-install' is not an oVirt Node hook event"),
        (f"{HOOKS}/on-boot/sub/50-tpkg", "in a subdirectory of on-boot/"),
    ],
)
def test_hook_point(tmp_path: Path, dst: str, expected: str) -> None:
    body = PLUGIN_FILE + f'[[file]]\nsrc = "h"\ndst = "{dst}"\nmode = "0755"\n'
    report = _lint(tmp_path, body, {"h": (SH, 0o755), **PF})
    assert _rules(report) == ["node-hook-point"], report.to_text()
    assert expected in report.findings[0].message and not report.ok


def test_unknown_event_directory_reported_once(tmp_path: Path) -> None:
    body = PLUGIN_FILE + _hook("onboot", "10-a") + _hook("onboot", "20-b")
    report = _lint(tmp_path, body, {"h": (SH, 0o755), **PF})
    assert _rules(report) == ["node-hook-point"], report.to_text()


def test_executable_hook_without_shebang(tmp_path: Path) -> None:
    report = _lint(tmp_path, PLUGIN_FILE + _hook("rollback", "50-tpkg"), {"h": ("echo hi\n", 0o755), **PF})
    assert _rules(report) == ["node-hook-not-executable"], report.to_text()
    assert "no '#!' line" in report.findings[0].message


def test_elf_hook_is_runnable(tmp_path: Path) -> None:
    report = _lint(tmp_path, PLUGIN_FILE + _hook("on-boot", "50-tpkg"), {"h": ("\x7fELF rest", 0o755), **PF})
    assert report.findings == (), report.to_text()


def test_hook_without_x_bit_not_doubled_by_core_rule(tmp_path: Path) -> None:
    report = _lint(tmp_path, PLUGIN_FILE + _hook("on-boot", "50-tpkg", mode="0644"), {"h": (SH, 0o644), **PF})
    assert _rules(report) == ["node-hook-not-executable"], report.to_text()
    assert "mode 0644" in report.findings[0].message


@pytest.mark.parametrize(("name", "ok"), [("50-tpkg", True), ("01-a.b_c", True), ("tpkg", False), ("5-tpkg", False),
                                          ("50_tpkg", False), ("50-", False)])  # fmt: skip
def test_hook_name(tmp_path: Path, name: str, ok: bool) -> None:
    report = _lint(tmp_path, PLUGIN_FILE + _hook("post-upgrade", name), {"h": (SH, 0o755), **PF})
    assert _rules(report) == ([] if ok else ["node-hook-name"]), report.to_text()


def test_hook_name_applies_to_symlinks(tmp_path: Path) -> None:
    body = PLUGIN_FILE + f'[[symlink]]\npath = "{HOOKS}/on-boot/start"\ntarget = "/usr/bin/true"\n'
    report = _lint(tmp_path, body, PF)
    assert "node-hook-name" in _rules(report), report.to_text()


def test_rules_apply_only_to_node_plugins(tmp_path: Path) -> None:
    body = _hook("onboot", "hook", mode="0644")
    report = _lint(tmp_path, body, {"h": ("echo hi\n", 0o644)}, kind="app")
    assert not any(r.startswith("node-") for r in _rules(report)), report.to_text()


def test_policy_is_registered() -> None:
    assert policy_for("node-plugin").exec_judged is not policy_for("app").exec_judged
