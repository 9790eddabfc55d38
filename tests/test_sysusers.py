"""[[user]]/[[group]] also ship {sysusersdir}/NAME.conf: systemd-sysusers lines written by pkgtool.

The file is not in the map's tree: pkgtool writes it under pkgtool-generated/ of the staged sources
and of the source tarball, so native builds, rpmbuild and dpkg-buildpackage all install it, 0644.
Applied by the real systemd-sysusers to an empty root, it makes the same passwd/group lines as the
packages' %pre/preinst (tests/test_users_groups.py).
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile

import pytest
from test_systemd_units import EPOCH, EXAMPLE, builds  # noqa: F401 (builds: the shared module fixture)
from test_users_groups import GROUPS, PASSWD
from tooling import require_tools

from pkgtool.errors import ResolveError
from pkgtool.formats.deb.debian_dir import generate_deb
from pkgtool.formats.deb.native import build_deb
from pkgtool.formats.rpm.native import build_rpm
from pkgtool.formats.rpm.spec import generate_rpm
from pkgtool.install.apply import install
from pkgtool.layout.load import load_layout
from pkgtool.project import resolve_dir
from pkgtool.sources.generated import sysusers_text
from pkgtool.verify.artifact import verify_artifact
from pkgtool.verify.root import verify_root

CONF = "vdsm-hook-checkips.conf"
TEXT = (
    "# vdsm-hook-checkips: the accounts of its [[group]] and [[user]] tables (written by pkgtool)\n"
    "g kvm 36\n"
    "g checkips 361\n"
    'u checkips 361:checkips "VDSM checkips daemon" /var/lib/vdsm-hook-checkips /sbin/nologin\n'
    "m checkips kvm\n"
)


def test_sysusers_text_of_the_example():
    assert sysusers_text(load_layout(EXAMPLE)) == TEXT


def test_implied_own_group_and_non_system_accounts(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    (project / "pkgtool.toml").write_text(
        (EXAMPLE / "pkgtool.toml").read_text().split("# checkipsd runs as its own")[0]
        + '[[user]]\nname = "svc"\nuid = 400\ncomment = \'say "hi"\'\n\n'
        + '[[user]]\nname = "web"\ngroup = "www"\nhome = "/srv/my site"\n\n'
        + '[[user]]\nname = "human"\nsystem = false\n'
    )
    for rel in ("hooks/after_get_stats/10_checkips", "hooks/checkipsd", "systemd/vdsm-checkips.service"):
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_bytes((EXAMPLE / rel).read_bytes())
    assert sysusers_text(load_layout(project)).splitlines()[1:] == [
        "g www -",
        'u svc 400 "say \\"hi\\"" / /usr/sbin/nologin',
        'u web -:www - "/srv/my site" /usr/sbin/nologin',
    ]
    require_tools("systemd-sysusers")
    conf = tmp_path / "x.conf"
    conf.write_text(sysusers_text(load_layout(project)))
    (tmp_path / "root/etc").mkdir(parents=True)
    subprocess.run(["systemd-sysusers", "--root", str(tmp_path / "root"), str(conf)], check=True, capture_output=True)
    passwd = (tmp_path / "root/etc/passwd").read_text()
    assert 'svc:x:400:400:say "hi":/:/usr/sbin/nologin' in passwd and ":/srv/my site:/usr/sbin/nologin" in passwd
    assert "human" not in passwd  # a non-system account is left to %pre/preinst


@pytest.mark.parametrize("distro", ["fedora", "debian"])
def test_resolve_places_it_in_sysusersdir(distro):
    r = resolve_dir(EXAMPLE, distro, source_date_epoch=EPOCH)
    entry = r.by_path()[f"/usr/lib/sysusers.d/{CONF}"]
    assert (entry.mode, entry.source, entry.origin) == (0o644, f"pkgtool-generated/sysusers/{CONF}", "sysusers")
    assert not (EXAMPLE / "pkgtool-generated").exists()  # never written into the map's tree


def test_systemd_sysusers_makes_what_pre_makes(tmp_path):
    require_tools("systemd-sysusers")
    conf = tmp_path / CONF
    conf.write_text(TEXT)
    (tmp_path / "root/etc").mkdir(parents=True)
    subprocess.run(["systemd-sysusers", "--root", str(tmp_path / "root"), str(conf)], check=True, capture_output=True)
    assert (tmp_path / "root/etc/passwd").read_text().splitlines() == [PASSWD]
    assert (tmp_path / "root/etc/group").read_text().splitlines() == GROUPS


def test_spec_tarball_carries_it(tmp_path):
    r = resolve_dir(EXAMPLE, "fedora", source_date_epoch=EPOCH)
    written = generate_rpm(r, tmp_path)
    spec = next(p for p in written if p.suffix == ".spec").read_text()
    assert f"%{{_sysusersdir}}/{CONF}" in spec
    assert any(p.name.endswith(".tar.zst") for p in written)  # rpmbuild unpacks it (the system build below)
    deb = resolve_dir(EXAMPLE, "debian", source_date_epoch=EPOCH)
    tarball = next(p for p in generate_deb(deb, tmp_path / "deb") if p.name.endswith(".orig.tar.gz"))
    tree = tmp_path / "deb" / "vdsm-hook-checkips-1.0.0" / "pkgtool-generated" / "sysusers" / CONF
    assert tree.read_text() == TEXT  # the unpacked tree dpkg-source sees holds it too
    with tarfile.open(tarball) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(f"pkgtool-generated/sysusers/{CONF}"))
        assert (member.mode, member.mtime) == (0o644, EPOCH)
        assert tar.extractfile(member).read().decode() == TEXT


def _rpm_files(path) -> dict[str, str]:
    out = subprocess.run(["rpm", "-qp", "--qf", "[%{FILEMODES:perms} %{FILENAMES}\\n]", str(path)], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return {line.split(" ", 1)[1]: line.split(" ", 1)[0] for line in out.splitlines()}


def _deb_files(path) -> dict[str, str]:
    out = subprocess.run(["dpkg-deb", "-c", str(path)], check=True, capture_output=True, text=True).stdout
    return {line.split()[-1].lstrip("."): line.split()[0] for line in out.splitlines()}


@pytest.mark.parametrize("fmt", ["rpm", "deb"])
def test_native_and_system_packages_ship_it(builds, fmt):  # noqa: F811
    require_tools("rpm", "dpkg-deb")
    _, native, system = builds[fmt]
    listing = _rpm_files if fmt == "rpm" else _deb_files
    for artifact in (native, system):
        assert listing(artifact)[f"/usr/lib/sysusers.d/{CONF}"] == "-rw-r--r--", artifact.name


def test_install_writes_it_and_verify_accepts_it_and_sees_an_edit(tmp_path):
    r = resolve_dir(EXAMPLE, "debian", source_date_epoch=EPOCH)
    root = tmp_path / "R"
    install(r, root)
    placed = root / f"usr/lib/sysusers.d/{CONF}"
    assert placed.read_text() == TEXT
    assert verify_root(r, root).ok
    placed.write_text(TEXT.replace("g kvm 36", "g kvm 37"))
    assert [m.path for m in verify_root(r, root).mismatches] == [f"/usr/lib/sysusers.d/{CONF}"]


def test_layout_map_doc_shows_the_exact_text():
    doc = (EXAMPLE.parent.parent / "docs" / "layout-map.md").read_text()
    assert f"```\n{TEXT}```\n" in doc


def test_a_tree_with_pkgtool_generated_is_a_located_conflict(tmp_path):
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    (project / "pkgtool-generated" / "sysusers").mkdir(parents=True)
    (project / "pkgtool-generated" / "sysusers" / CONF).write_text("u root 0\n")
    with pytest.raises(ResolveError) as err:
        resolve_dir(project, "fedora", source_date_epoch=EPOCH)
    found = [d for d in err.value.diagnostics if d.rule == "conflict"]
    assert found and "pkgtool-generated/" in found[0].message and "pkgtool.toml" in str(found[0].location)


def test_a_map_file_on_the_same_path_is_a_conflict(tmp_path):
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    (project / "mine.conf").write_text("g mine -\n")
    text = (project / "pkgtool.toml").read_text()
    (project / "pkgtool.toml").write_text(text + f'\n[[file]]\nsrc = "mine.conf"\ndst = "{{sysusersdir}}/{CONF}"\n')
    with pytest.raises(ResolveError) as err:
        resolve_dir(project, "fedora", source_date_epoch=EPOCH)
    assert [d.rule for d in err.value.diagnostics] == ["conflict"]


def test_native_builds_with_generated_files_are_reproducible(builds, tmp_path):  # noqa: F811
    for fmt, build in (("rpm", build_rpm), ("deb", build_deb)):
        r, native, _ = builds[fmt]
        again = build(r, tmp_path / fmt)
        assert again.read_bytes() == native.read_bytes(), fmt


@pytest.mark.parametrize("fmt", ["rpm", "deb"])
def test_verify_accepts_the_artifacts_and_compares_the_content(builds, fmt, tmp_path):  # noqa: F811
    r, native, system = builds[fmt]
    for artifact in (native, system):
        assert verify_artifact(r, artifact).ok, artifact.name
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    text = (project / "pkgtool.toml").read_text()
    (project / "pkgtool.toml").write_text(text.replace("gid = 36\n", "gid = 37\n"))
    other = resolve_dir(project, "fedora" if fmt == "rpm" else "debian", source_date_epoch=EPOCH)
    paths = [m.path for m in verify_artifact(other, native).mismatches]
    assert f"/usr/lib/sysusers.d/{CONF}" in paths


def _project_with_user(tmp_path, user: str):
    project = tmp_path / "p"
    project.mkdir()
    (project / "pkgtool.toml").write_text(
        (EXAMPLE / "pkgtool.toml").read_text().split("# checkipsd runs as its own")[0] + user
    )
    for rel in ("hooks/after_get_stats/10_checkips", "hooks/checkipsd", "systemd/vdsm-checkips.service"):
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_bytes((EXAMPLE / rel).read_bytes())
    return project


def test_percent_in_a_field_is_kept_literal_not_expanded_as_a_specifier(tmp_path):
    """sysusers.d expands %-specifiers in the comment, home and shell: a '%' of the map is written '%%'."""
    project = _project_with_user(tmp_path, '[[user]]\nname = "pct"\nuid = 401\ncomment = "100% %m"\nhome = "/srv/%H"\n')
    text = sysusers_text(load_layout(project))
    assert 'u pct 401 "100%% %%m" /srv/%%H /usr/sbin/nologin' in text.splitlines()
    require_tools("systemd-sysusers")
    conf = tmp_path / "x.conf"
    conf.write_text(text)
    (tmp_path / "root/etc").mkdir(parents=True)
    subprocess.run(["systemd-sysusers", "--root", str(tmp_path / "root"), str(conf)], check=True, capture_output=True)
    assert "pct:x:401:401:100% %m:/srv/%H:/usr/sbin/nologin" in (tmp_path / "root/etc/passwd").read_text()


@pytest.mark.parametrize("key", ["home", "shell"])
def test_a_colon_in_a_passwd_field_is_a_located_error(tmp_path, key):
    from pkgtool.errors import LayoutError

    project = _project_with_user(tmp_path, f'[[user]]\nname = "c"\n{key} = "/x:y"\n')
    with pytest.raises(LayoutError) as exc:
        load_layout(project)
    text = str(exc.value) + "".join(d.to_text() for d in exc.value.diagnostics)
    assert f"user[0].{key}" in text and "':'" in text and "pkgtool.toml:" in text
