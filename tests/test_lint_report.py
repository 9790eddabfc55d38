"""Waivers, merging across distros, report renderings, and the exemptions of the rules."""

from __future__ import annotations

from pathlib import Path

from lint_cases import CASES, DATA, OTOPI_MODULE, SH, Case, marker_line, write_project

from pkgtool.kinds.devstack_plugin import HYPERVISOR_FUNCTIONS
from pkgtool.lint import lint, lint_project, lint_resolved
from pkgtool.profiles import load_profile
from pkgtool.project import resolve_dir


def _case(rule: str) -> Case:
    return next(c for c in CASES if c.rule == rule)


def _rules(report) -> set[str]:
    return {d.rule for d in report.findings}


def _with(case: Case, **changes) -> Case:
    fields = {**case.__dict__, **changes}
    return Case(**fields)


# ---------------------------------------------------------------- waivers


def test_entry_allow_waives_and_counts(tmp_path: Path) -> None:
    case = _case("world-writable")
    body = case.body + 'allow = ["world-writable"]\n'
    report = lint_project(write_project(tmp_path, _with(case, body=body)), ["fedora"])
    assert "world-writable" not in _rules(report)
    assert report.suppressed == 1 and report.waived[0].rule == "world-writable"
    assert report.to_dict()["suppressed"] == 1


def test_attr_allow_acknowledges_setuid(tmp_path: Path) -> None:
    case = _case("setuid-unacknowledged")
    body = case.body + 'allow = ["setuid-unacknowledged"]\n'
    report = lint_project(write_project(tmp_path, _with(case, body=body)), ["fedora"])
    assert "setuid-unacknowledged" not in _rules(report)
    assert report.suppressed == 1


def test_lint_allow_waives_package_wide(tmp_path: Path) -> None:
    case = _case("summary-style")
    report = lint_project(write_project(tmp_path, _with(case, body='[lint]\nallow = ["summary-style"]\n')), ["fedora"])
    assert report.findings == () and report.suppressed == 1


def test_dir_allow_waives_owns_system_dir(tmp_path: Path) -> None:
    case = _case("owns-system-dir")
    report = lint_project(
        write_project(tmp_path, _with(case, body=case.body + 'allow = ["owns-system-dir"]\n')), ["fedora"]
    )
    assert "owns-system-dir" not in _rules(report) and report.suppressed == 1


def test_allow_of_another_rule_does_not_waive(tmp_path: Path) -> None:
    case = _case("world-writable")
    body = case.body + 'allow = ["usr-local"]\n'
    report = lint_project(write_project(tmp_path, _with(case, body=body)), ["fedora"])
    assert "world-writable" in _rules(report) and report.suppressed == 0


def test_unknown_id_in_allow_is_the_loaders_unknown_rule(tmp_path: Path) -> None:
    case = _case("world-writable")
    body = case.body + 'allow = ["world-writeable"]\n'
    report = lint_project(write_project(tmp_path, _with(case, body=body)), ["fedora"])
    assert _rules(report) == {"unknown-rule"}, report.to_text()
    d = report.findings[0]
    assert d.location.key == "file[0].allow[0]"
    assert "world-writable" in (d.message + d.hint)


def test_stage_findings_cannot_be_waived(tmp_path: Path) -> None:
    body = '[lint]\nallow = ["missing-source"]\n\n[[file]]\nsrc = "nope"\ndst = "{datadir}/tpkg/nope"\n'
    report = lint_project(write_project(tmp_path, Case("", "", body)), ["fedora"])
    assert "missing-source" in _rules(report) and not report.ok


# ---------------------------------------------------------------- several distros


def test_identical_findings_merge_across_distros(tmp_path: Path) -> None:
    report = lint_project(write_project(tmp_path, _case("world-writable")), ["fedora", "debian"])
    hits = [d for d in report.findings if d.rule == "world-writable"]
    assert len(hits) == 1
    assert report.distros_of(hits[0]) == ("fedora", "debian")
    assert report.to_dict()["findings"][0]["distros"] == ["fedora", "debian"]
    assert "only for" not in report.to_text()


def test_finding_of_one_distro_says_so(tmp_path: Path) -> None:
    body = '[[file]]\nsrc = "run/{distro}.sh"\ndst = "{datadir}/tpkg/run.sh"\n'
    files = {"run/fedora.sh": (SH, 0o755), "run/debian.sh": (SH, 0o644)}
    report = lint_project(write_project(tmp_path, Case("", "", body, files)), ["fedora", "debian"])
    hits = [d for d in report.findings if d.rule == "shebang-not-executable"]
    assert len(hits) == 1 and report.distros_of(hits[0]) == ("debian",)
    assert "(only for debian)" in report.to_text()
    assert not report.ok and report.counts()["error"] == 1


def test_layout_error_stops_lint(tmp_path: Path) -> None:
    (tmp_path / "pkgtool.toml").write_text("schema = 1\n[package\n")
    report = lint_project(tmp_path, ["fedora"])
    assert _rules(report) == {"toml-syntax"}
    assert report.findings[0].location.line == 2


def test_sarif_and_json_shapes(tmp_path: Path) -> None:
    root = write_project(tmp_path, _case("usr-local"))
    report = lint_project(root, ["fedora"])
    sarif = report.to_sarif()
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["usr-local"]
    assert results[0]["level"] == "error"
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == marker_line(
        root, "/usr/local/share/t"
    )
    data = report.to_dict()
    assert data["ok"] is False and data["counts"] == {"error": 1, "warning": 0, "info": 0}
    assert data["findings"][0]["path"] == "/usr/local/share/t"
    assert report.to_text().endswith("1 error(s), 0 warning(s), 0 note(s) [fedora]")


def test_lint_resolved_and_dispatcher(tmp_path: Path) -> None:
    root = write_project(tmp_path, _case("etc-not-config"))
    resolved = resolve_dir(root, "fedora")
    assert _rules(lint_resolved(resolved)) == {"etc-not-config"}
    assert _rules(lint(resolved)) == {"etc-not-config"}
    assert _rules(lint(root, ["debian"])) == {"etc-not-config"}  # mapped, even though Debian makes it a conffile
    assert load_profile("debian").auto_config_dirs == ("/etc",)


def test_patched_content_is_linted(tmp_path: Path) -> None:
    # The source has no shebang; the map's patch adds one, so the 0644 file becomes a script.
    patch = "--- a/run\n+++ b/run\n@@ -1 +1,2 @@\n+#!/bin/sh\n echo hi\n"
    body = '[[file]]\nsrc = "run"\ndst = "{datadir}/tpkg/run"\nmode = "0644"\n\n[[patch]]\nfile = "p.patch"\n'
    files = {"run": ("echo hi\n", 0o644), "p.patch": (patch, 0o644)}
    report = lint_project(write_project(tmp_path, Case("", "", body, files)), ["fedora"])
    assert "shebang-not-executable" in _rules(report), report.to_text()


# ---------------------------------------------------------------- exemptions: the rules' edges


def _lint_body(tmp_path: Path, body: str, files=None, **kw) -> set[str]:
    report = lint_project(write_project(tmp_path, Case("", "", body, files or {}, **kw)), ["fedora"])
    return _rules(report)


def test_sticky_shared_dir_and_setgid_dir_are_fine(tmp_path: Path) -> None:
    body = '[[dir]]\npath = "/var/lib/tpkg/drop"\nmode = "1777"\n\n[[dir]]\npath = "/var/lib/tpkg/g"\nmode = "2775"\n'
    assert _lint_body(tmp_path, body) == set()
    assert "world-writable" in _lint_body(tmp_path / "b", '[[dir]]\npath = "/var/lib/tpkg/drop"\nmode = "0777"\n')


def test_symlinks_to_file_dependency_inside_package_and_through_links(tmp_path: Path) -> None:
    body = (
        '[requires]\n"/usr/bin/python3" = ""\n\n'
        '[[file]]\nsrc = "t"\ndst = "{datadir}/tpkg/real/t"\n\n'
        '[[symlink]]\npath = "{bindir}/tpkg-python"\ntarget = "/usr/bin/python3"\n\n'
        '[[symlink]]\npath = "{datadir}/tpkg/cur"\ntarget = "real"\n\n'
        '[[symlink]]\npath = "{bindir}/tpkg"\ntarget = "../share/tpkg/cur/t"\n\n'
        '[[symlink]]\npath = "{datadir}/tpkg/sys"\ntarget = "/usr/bin"\n'
    )
    assert _lint_body(tmp_path, body, {"t": (DATA, 0o644)}) == set()
    broken = body.replace('target = "real"', 'target = "unreal"')
    assert _lint_body(tmp_path / "b", broken, {"t": (DATA, 0o644)}) == {"dangling-symlink"}


def test_summary_may_start_with_a_lowercase_project_name(tmp_path: Path) -> None:
    assert _lint_body(tmp_path / "a", "", name="libvirt-hook-t", summary="libvirt hook that logs") == set()
    assert _lint_body(tmp_path / "b", "", summary="iSCSI helper for hosts") == set()
    assert _lint_body(tmp_path / "c", "", summary="a helper for hosts") == {"summary-style"}
    assert _lint_body(tmp_path / "d", "", summary="The tpkg helper") == {"summary-style"}


def test_libvirt_hook_comments_do_not_count_as_calls(tmp_path: Path) -> None:
    case = _case("libvirt-hook-calls-libvirt")
    files = {"h": ("#!/bin/sh\n# never call virsh here\nlogger hi\n", 0o755)}
    report = lint_project(write_project(tmp_path, _with(case, files=files)), ["fedora"])
    assert "libvirt-hook-calls-libvirt" not in _rules(report)
    py = {"h": ("#!/usr/bin/python3\nimport sys\nimport libvirt\n", 0o755)}
    report = lint_project(write_project(tmp_path / "py", _with(case, files=py)), ["fedora"])
    assert "libvirt-hook-calls-libvirt" in _rules(report)


def test_libvirt_hook_config_may_be_executable_but_others_not(tmp_path: Path) -> None:
    case = _case("libvirt-hook-not-executable")
    ok = _with(case, body=case.body.replace('"0644"', '"0755"'))
    report = lint_project(write_project(tmp_path, ok), ["fedora", "debian"])
    assert _rules(report) == {"libvirt-hook-reload"}  # only the note: no post-install script here


def test_vdsm_helper_outside_hook_point_and_binary_hook(tmp_path: Path) -> None:
    body = (
        '[[file]]\nsrc = "bin"\ndst = "{libexecdir}/vdsm/hooks/before_vm_start/50_bin"\nmode = "0755"\n\n'
        '[[file]]\nsrc = "helper.py"\ndst = "{libexecdir}/vdsm/hooks/before_vm_start/helper.py"\nmode = "0644"\n'
    )
    root = tmp_path / "p"
    write_project(root, Case("", "", body, {"helper.py": ("X = 1\n", 0o644)}, kind="vdsm-hook", name="vdsm-hook-t"))
    (root / "bin").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(32))
    (root / "bin").chmod(0o755)
    assert _rules(lint_project(root, ["fedora"])) == set()


def test_vdsm_hook_point_dir_is_host_owned(tmp_path: Path) -> None:
    body = '[[dir]]\npath = "{libexecdir}/vdsm/hooks/before_vm_start"\n'
    assert _lint_body(tmp_path, body, kind="vdsm-hook", name="vdsm-hook-t") == {"owns-system-dir"}


def test_clean_devstack_plugin_is_sourced_not_run(tmp_path: Path) -> None:
    plugin = (
        '#!/bin/bash\n# not post-extra: "$2" == "post-extra" in a comment does not count\n'
        'if [[ "$1" == "stack" && "$2" == "install" ]]; then\n    echo install\n'
        'elif [[ "$1" == "unstack" ]]; then\n    echo stop\nfi\n'
    )
    hv = "".join(f"{f}() {{\n    :\n}}\n" for f in HYPERVISOR_FUNCTIONS)
    body = (
        '[[tree]]\nsrc = "devstack/"\ndst = "/opt/stack/tpkg/devstack/"\nmode = "0644"\n\n'
        '[[file]]\nsrc = "hv"\ndst = "/opt/stack/devstack/lib/nova_plugins/hypervisor-tpkg"\nmode = "0644"\n'
    )
    files = {
        "devstack/plugin.sh": (plugin, 0o644),
        "devstack/settings": ("#!/bin/bash\ndefine_plugin tpkg\n", 0o644),
        "hv": ("#!/bin/bash\n" + hv, 0o644),
    }
    assert _lint_body(tmp_path, body, files, kind="devstack-plugin") == set()


def test_clean_otopi_plugin(tmp_path: Path) -> None:
    init = "from . import core\n\n\ndef createPlugins(context):\n    core.Plugin(context=context)\n"
    files = {
        "plugins/tgroup/tplug/__init__.py": (init, 0o644),
        "plugins/tgroup/tplug/core.py": (OTOPI_MODULE.replace("CLOSE_UP", "CLOSEUP"), 0o644),
        "plugins/tgroup/tplug/payload.bin": ("data\n", 0o644),
    }
    body = '[[tree]]\nsrc = "plugins/"\ndst = "{datadir}/tpkg/plugins/"\n'
    assert _lint_body(tmp_path, body, files, kind="otopi-plugin") == set()
