"""[[subpackage]] and `package =`: loading, ownership per package, relations on the own version."""

from __future__ import annotations

import pytest
from subpkg_map import MAP, write_project

from pkgtool.errors import LayoutError, ResolveError
from pkgtool.layout.load import load_layout
from pkgtool.model import EntryKind
from pkgtool.profiles import load_profile
from pkgtool.resolve import resolve

FEDORA = load_profile("fedora")


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path / "p")


def test_load_names_claims_and_inheritance(project):
    lay = load_layout(project)
    assert [s.name for s in lay.subpackages] == ["acme-hooks-helper", "acme-hooks-net"]
    net = lay.subpackages[1]
    assert net.arch == "noarch" and net.kind == "app"  # inherited from [package]
    assert [(r.name, r.op, r.version) for r in net.relations["requires"]] == [
        ("acme-hooks", "=", "{version}-{release}"),
        ("acme-hooks-helper", "", ""),
    ]
    assert net.scripts == {"post-install": "src/net-post.sh"}
    # '-helper' is normalised to the full name; the main package's items say "".
    assert [f.package for f in lay.files] == ["", "", "acme-hooks-helper", "acme-hooks-net"]


def test_unknown_package_is_located_with_did_you_mean(tmp_path):
    root = write_project(tmp_path / "p", MAP.replace('package = "acme-hooks-net"', 'package = "acme-hooks-nett"'))
    with pytest.raises(LayoutError) as exc:
        load_layout(root)
    d = next(d for d in exc.value.diagnostics if d.rule == "unknown-package")
    assert d.location.key == "file[3].package" and d.location.line is not None
    assert "acme-hooks-net" in d.hint


def test_unknown_own_placeholder_is_an_error(tmp_path):
    root = write_project(tmp_path / "p", MAP.replace("= {version}-{release}", "= {verison}"))
    with pytest.raises(LayoutError) as exc:
        load_layout(root)
    d = next(d for d in exc.value.diagnostics if d.rule == "unknown-placeholder")
    assert d.location.key == "subpackage[1].requires.acme-hooks" and "'version'" in d.hint


def test_duplicate_subpackage_name(tmp_path):
    root = write_project(tmp_path / "p", MAP.replace('name = "-helper"', 'name = "acme-hooks-net"'))
    with pytest.raises(LayoutError) as exc:
        load_layout(root)
    assert any(d.rule == "conflict" and "used twice" in d.message for d in exc.value.diagnostics)


def test_entries_shared_out_per_package(project):
    r = resolve(load_layout(project), FEDORA)
    assert [p.package.name for p in r.packages] == ["acme-hooks", "acme-hooks-helper", "acme-hooks-net"]
    main, helper, net = r.packages
    owned = {p.package.name: {e.path for e in p.owned} for p in r.packages}
    assert owned["acme-hooks"] == {
        "/etc/acme",
        "/etc/acme/acme.conf",
        "/usr/libexec/acme",
        "/usr/libexec/acme/acme-run",
    }
    # /usr/libexec/acme is the main package's: the helper needs it without owning it.
    assert owned["acme-hooks-helper"] == {
        "/usr/libexec/acme/helpers",
        "/usr/libexec/acme/helpers/acme-helper",
    }
    # Only the net hook is below hooks/: it owns that implicit parent.
    assert owned["acme-hooks-net"] == {
        "/usr/libexec/acme/hooks",
        "/usr/libexec/acme/hooks/before_start",
        "/usr/libexec/acme/hooks/before_start/50_net",
        "/usr/libexec/acme/hooks/before_start/10_helper",
    }
    needed = {e.path for e in helper.entries if e.kind is EntryKind.DIR and not e.owned}
    assert "/usr/libexec/acme" in needed
    assert net.package.summary == "Network hook for the acme host agent"
    assert net.package.version == "1.2" and net.package.release == "3"
    assert [(x.name, x.op, x.own) for x in net.relations["requires"]] == [
        ("acme-hooks", "=", "{version}-{release}"),
        ("acme-hooks-helper", "", ""),
    ]
    assert net.scripts["post-install"] == "echo net hook installed\n"
    assert main.scripts == {} and main.relations["requires"] == ()
    # Every path is in exactly one package as owned.
    all_owned = [e.path for p in r.packages for e in p.owned]
    assert len(all_owned) == len(set(all_owned))


def test_shared_implicit_parent_of_two_subpackages_owned_by_each(tmp_path):
    text = MAP.replace(
        'dst = "{libexecdir}/acme/helpers/acme-helper"', 'dst = "/usr/share/acme-extra/helpers/acme-helper"'
    ).replace('dst = "{libexecdir}/acme/hooks/before_start/50_net"', 'dst = "/usr/share/acme-extra/hooks/50_net"')
    r = resolve(load_layout(write_project(tmp_path / "p", text)), FEDORA)
    owners = [p.package.name for p in r.packages if "/usr/share/acme-extra" in {e.path for e in p.owned}]
    assert owners == ["acme-hooks-helper", "acme-hooks-net"]


def test_path_in_two_packages_is_a_conflict_naming_both(tmp_path):
    text = MAP.replace('dst = "{libexecdir}/acme/helpers/acme-helper"', 'dst = "{libexecdir}/acme/acme-run"')
    with pytest.raises(ResolveError) as exc:
        resolve(load_layout(write_project(tmp_path / "p", text)), FEDORA)
    d = next(d for d in exc.value.diagnostics if d.rule == "conflict")
    assert "acme-hooks-helper" in d.message and "'acme-hooks'" in d.message


def test_map_without_subpackages_is_unchanged(tmp_path):
    text = MAP.split("[[subpackage]]")[0]
    r = resolve(load_layout(write_project(tmp_path / "p", text)), FEDORA)
    assert r.subpackages == () and r.packages == (r,)
    assert "/usr/libexec/acme/acme-run" in r.by_path()


def test_own_version_relations_carry_value_and_text(project):
    r = resolve(load_layout(project), FEDORA)
    net = r.subpackages[1]
    req = net.relations["requires"][0]
    dist = FEDORA.dist_tag
    assert (req.name, req.op, req.version, req.own) == ("acme-hooks", "=", f"1.2-3{dist}", "{version}-{release}")
    (obs,) = net.relations["replaces"]
    assert (obs.op, obs.version, obs.own) == ("<", "1.2", "{version}")
    deb = resolve(load_layout(project), load_profile("debian")).subpackages[1]
    assert deb.relations["requires"][0].version == "1.2-3"


# ------------------------------------------------------------------ rendered shapes (golden files)


@pytest.mark.parametrize("profile", ["fedora", "el9"])
def test_spec_with_subpackages_golden(project, profile):
    from golden import assert_golden

    from pkgtool.formats.rpm.spec import render_spec

    r = resolve(load_layout(project), load_profile(profile), source_date_epoch=1736121600)
    assert_golden(f"rpm/subpackages-{profile}.spec", render_spec(r))


def test_debian_dir_with_subpackages_golden(project):
    from golden import assert_golden

    from pkgtool.formats.deb.debian_dir import debian_files

    r = resolve(load_layout(project), load_profile("debian"), source_date_epoch=1736121600)
    files = {f.rel: f.text for f in debian_files(r)}
    for rel in ("control", "rules", "acme-hooks-net.links", "acme-hooks-net.postinst"):
        assert_golden(f"deb/subpackages/{rel}", files[rel])


# ------------------------------------------------------------------ lint per package


def test_lint_applies_a_kinds_rules_per_package(tmp_path):
    from pkgtool.lint.engine import lint_project

    text = MAP.replace(
        'summary = "Network hook for the acme host agent"',
        'summary = "Network hook for the acme host agent"\nkind = "vdsm-hook"',
    )
    report = lint_project(write_project(tmp_path / "p", text), ["fedora"])
    named = [d for d in report.findings if d.rule == "vdsm-hook-package-name"]
    # Only the sub-package of kind vdsm-hook is held to oVirt's naming; the main package is an app.
    assert len(named) == 1 and "acme-hooks-net" in named[0].message
    # Its kind also adds the host to its requires, not to the main package's.
    r = resolve(load_layout(write_project(tmp_path / "q", text)), FEDORA)
    assert "vdsm" in {x.name for x in r.subpackages[1].relations["requires"]}
    assert "vdsm" not in {x.name for x in r.relations["requires"]}


def test_link_into_a_required_sibling_is_not_dangling(project):
    from pkgtool.lint.engine import lint_project

    assert not [d for d in lint_project(project, ["fedora"]).findings if d.rule == "dangling-symlink"]
