"""Distro profiles: the five shipped ones, inheritance, project overrides and errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tooling import require_tools

from pkgtool.errors import ProfileError
from pkgtool.model import DIR_PLACEHOLDERS, Family
from pkgtool.profiles import PACKAGE_DIRS, expand_distros, list_profiles, load_profile, profile_summary

SHIPPED = ["debian", "el9", "fedora", "opensuse-leap", "ubuntu"]


def write(project: Path, name: str, text: str) -> Path:
    d = project / "distros"
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{name}.toml"
    p.write_text(text)
    return p


def test_five_shipped_profiles_sorted_with_every_directory():
    profiles = list_profiles()
    assert [p.id for p in profiles] == SHIPPED
    for p in profiles:
        assert set(p.dirs) == set(DIR_PLACEHOLDERS) | set(PACKAGE_DIRS), p.id
        assert all(v.startswith("/") for v in p.dirs.values())
        assert p.origin == Path(__file__).resolve().parent.parent / "distros" / f"{p.id}.toml"
        assert "/usr/bin" in p.system_dirs and "/etc" in p.system_dirs and "/" in p.system_dirs


def test_families_chains_and_directories():
    fedora, el9, leap = load_profile("fedora"), load_profile("el9"), load_profile("opensuse-leap")
    debian, ubuntu = load_profile("debian"), load_profile("ubuntu")
    assert {fedora.family, el9.family, leap.family} == {Family.RPM}
    assert {debian.family, ubuntu.family} == {Family.DEB}
    assert el9.chain == ("el9", "fedora")
    assert ubuntu.chain == ("ubuntu", "debian")
    assert fedora.chain == ("fedora",)
    assert leap.dirs["libexecdir"] == "/usr/lib"
    assert fedora.dirs["libexecdir"] == el9.dirs["libexecdir"] == "/usr/libexec"
    assert debian.dirs["unitdir"] == "/lib/systemd/system"
    assert ubuntu.dirs["unitdir"] == fedora.dirs["unitdir"] == "/usr/lib/systemd/system"
    assert fedora.dirs["python3_sitelib"] == "/usr/lib/python3.12/site-packages"
    assert el9.dirs["python3_sitelib"] == "/usr/lib/python3.9/site-packages"
    assert leap.dirs["python3_sitelib"] == "/usr/lib/python3.6/site-packages"
    assert debian.dirs["python3_sitelib"] == ubuntu.dirs["python3_sitelib"] == "/usr/lib/python3/dist-packages"
    assert debian.auto_config_dirs == ubuntu.auto_config_dirs == ("/etc",)
    assert fedora.auto_config_dirs == ()
    assert (fedora.dist_tag, el9.dist_tag, leap.dist_tag) == (".fc40", ".el9", ".lp156")
    assert (debian.compression, ubuntu.compression, fedora.compression) == ("xz", "zstd", "zstd")
    assert debian.standards_version == "4.6.2"
    # el9 inherits fedora's system dirs; leap adds its own
    assert el9.system_dirs == fedora.system_dirs
    assert leap.system_dirs > fedora.system_dirs


def test_names_differ_per_distro():
    names = {p.id: p.names for p in list_profiles()}
    required = [
        "python",
        "python3",
        "pygtk",
        "paramiko",
        "xen",
        "vte",
        "curses",
        "vdsm",
        "libvirt",
        "qemu",
        "systemd",
        "pyyaml",
        "pygobject",
    ]
    for distro, mapping in names.items():
        assert set(required) <= set(mapping), distro
    assert names["fedora"]["pygobject"] == "python3-gobject"
    assert names["debian"]["pygobject"] == names["ubuntu"]["pygobject"] == "python3-gi"
    assert names["fedora"]["pyyaml"] == "python3-pyyaml"
    assert names["opensuse-leap"]["pyyaml"] == "python3-PyYAML"
    assert names["debian"]["pyyaml"] == "python3-yaml"
    assert names["fedora"]["libvirt"] == "libvirt-daemon"
    assert names["debian"]["libvirt"] == "libvirt-daemon-system"


def test_rpm_macros_only_where_safe():
    fedora, leap = load_profile("fedora"), load_profile("opensuse-leap")
    assert fedora.rpm_macros["datadir"] == "%{_datadir}"
    assert fedora.rpm_macros["unitdir"] == "%{_unitdir}" and fedora.rpm_macros["udevrulesdir"] == "%{_udevrulesdir}"
    assert "modprobedir" not in leap.rpm_macros
    # an empty value in the child removes the inherited macro: Leap's libexec differs from rpm's default
    assert "libexecdir" not in leap.rpm_macros
    assert leap.rpm_macros["bindir"] == "%{_bindir}"
    assert load_profile("debian").rpm_macros == {}


def test_rpm_macros_expand_to_the_profile_directories():
    require_tools("rpm")
    for profile in (load_profile("fedora"), load_profile("el9"), load_profile("opensuse-leap")):
        for placeholder, macro in profile.rpm_macros.items():
            # A macro this rpm lacks is defined by the spec's fallback %global, as macro_fallbacks writes it.
            name = macro[2:-1]
            fallback = f"%{{!?{name}:%global {name} {profile.dirs[placeholder]}}}"
            argv = ["rpm", "--eval", fallback, "--eval", macro]
            out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
            assert out == profile.dirs[placeholder], (profile.id, macro)


def test_expand_distros():
    assert expand_distros("all") == SHIPPED
    assert expand_distros("ubuntu, fedora,ubuntu") == ["ubuntu", "fedora"]
    with pytest.raises(ProfileError, match="known: debian, el9, fedora, opensuse-leap, ubuntu"):
        expand_distros("fedora,gentoo")
    with pytest.raises(ProfileError):
        expand_distros(" , ")


def test_unknown_id_lists_known_ones():
    with pytest.raises(ProfileError) as err:
        load_profile("arch")
    assert "'arch'" in str(err.value)
    assert "fedora" in str(err.value) and "ubuntu" in err.value.hint


def test_project_adds_a_profile_inheriting_ubuntu(tmp_path):
    path = write(
        tmp_path,
        "ubuntu-22.04",
        'inherits = "ubuntu"\nrelease = "22.04"\n[dirs]\npython3_sitelib = "/usr/lib/python3/site-x"\n',
    )
    p = load_profile("ubuntu-22.04", tmp_path)
    assert p.chain == ("ubuntu-22.04", "ubuntu", "debian")
    assert p.release == "22.04"
    assert p.dirs["python3_sitelib"] == "/usr/lib/python3/site-x"
    assert p.dirs["unitdir"] == "/usr/lib/systemd/system"  # from ubuntu
    assert p.names["pygobject"] == "python3-gi"  # from debian
    assert p.compression == "zstd"
    assert p.origin == path
    assert "ubuntu-22.04" in expand_distros("all", tmp_path)
    assert "ubuntu-22.04" not in expand_distros("all")
    summary = profile_summary(p)
    assert summary["chain"] == ["ubuntu-22.04", "ubuntu", "debian"] and summary["origin"] == str(path)


def test_project_file_overrides_shipped_profile_key_by_key(tmp_path):
    path = write(
        tmp_path,
        "fedora",
        'release = "41"\ndist_tag = ".fc41"\nsystem_dirs_add = ["/opt/acme"]\n[names]\nxen = "xen-runtime"\n',
    )
    fedora = load_profile("fedora", tmp_path)
    assert fedora.origin == path
    assert (fedora.release, fedora.dist_tag) == ("41", ".fc41")
    assert fedora.names["xen"] == "xen-runtime"
    assert fedora.names["pygobject"] == "python3-gobject"  # the rest of [names] is kept
    assert fedora.dirs["bindir"] == "/usr/bin"
    assert "/opt/acme" in fedora.system_dirs and "/usr/bin" in fedora.system_dirs
    # el9 inherits from the overridden fedora, but keeps its own keys
    el9 = load_profile("el9", tmp_path)
    assert el9.names["xen"] == "xen-runtime"
    assert el9.dist_tag == ".el9"


def test_inheritance_cycle(tmp_path):
    write(tmp_path, "aa", 'inherits = "bb"\n')
    write(tmp_path, "bb", 'inherits = "aa"\n')
    with pytest.raises(ProfileError, match="cycle") as err:
        load_profile("aa", tmp_path)
    assert "inherits" in str(err.value) and ".toml" in str(err.value)


def test_self_inheritance_is_a_cycle(tmp_path):
    write(tmp_path, "selfish", 'inherits = "selfish"\n')
    with pytest.raises(ProfileError, match="cycle"):
        load_profile("selfish", tmp_path)


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ('inherits = "fedora"\ndirz = {}\n', "dirz", 2),
        ('inherits = "fedora"\ncompression_level = "high"\n', "compression_level", 2),
        ('inherits = "fedora"\n[dirs]\nbindirr = "/usr/bin"\n', "dirs.bindirr", 3),
        ('inherits = "fedora"\n[dirs]\nbindir = "usr/bin"\n', "dirs.bindir", 3),
        ('inherits = "fedora"\nfamily = "apk"\n', "family", 2),
        ('inherits = "fedora"\ncompression = "lz4"\n', "compression", 2),
        ('inherits = "fedora"\nsystem_dirs = "/usr"\n', "system_dirs", 2),
        ('inherits = "fedora"\n\nauto_config_dirs = ["/etc", "etc/x"]\n', "auto_config_dirs", 3),
        ('inherits = "fedora"\nsystem_dirs_add = ["usr/x"]\n', "system_dirs_add", 2),
        ('inherits = "gentoo"\n', "inherits", 1),
        ('family = "rpm"\ncompression = "xz"\n', "dirs.prefix", None),  # missing: no line to name
        ('inherits = "fedora"\n[names]\nxen = 3\n', "names.xen", 3),
    ],
)
def test_bad_profile_names_file_line_and_key(tmp_path, text, key, line):
    path = write(tmp_path, "custom", text)
    with pytest.raises(ProfileError) as err:
        load_profile("custom", tmp_path)
    where = f"{path}:{line}" if line else str(path)
    assert str(err.value).startswith(f"{where}: {key}: "), str(err.value)


def test_a_bad_inherited_value_names_the_file_and_line_that_set_it(tmp_path):
    # The merged value is checked, but the error points at the parent's line, not at the child.
    parent = write(tmp_path, "base", 'inherits = "fedora"\n# comment\n[dirs]\nbindir = "usr/bin"\n')
    write(tmp_path, "child", 'inherits = "base"\ncompression = "xz"\n')
    with pytest.raises(ProfileError) as err:
        load_profile("child", tmp_path)
    assert str(err.value).startswith(f"{parent}:4: dirs.bindir: must be an absolute path"), str(err.value)


def test_a_profile_that_is_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "distros" / "latin.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'inherits = "fedora"\ndescription = "caf\xe9"\n')
    with pytest.raises(ProfileError, match="not valid UTF-8") as err:
        load_profile("latin", tmp_path)
    assert str(path) in str(err.value)


def test_malformed_toml(tmp_path):
    path = write(tmp_path, "broken", "family = \n")
    with pytest.raises(ProfileError, match="not valid TOML") as err:
        load_profile("broken", tmp_path)
    assert str(path) in str(err.value)


def test_source_compression_is_per_profile_and_checked_against_the_family(tmp_path):
    shipped = {p: load_profile(p).source_compression for p in ("fedora", "el9", "opensuse-leap", "debian", "ubuntu")}
    assert shipped == {"fedora": "zstd", "el9": "zstd", "opensuse-leap": "gzip", "debian": "gzip", "ubuntu": "gzip"}
    assert profile_summary(load_profile("el9"))["source_compression"] == "zstd"
    write(tmp_path, "leap-zst", 'inherits = "opensuse-leap"\nsource_compression = "zstd"\n')
    assert load_profile("leap-zst", tmp_path).source_compression == "zstd"
    # dpkg-source cannot unpack a zstd orig tarball; an unknown name is refused in every family.
    write(tmp_path, "deb-zst", 'inherits = "debian"\nsource_compression = "zstd"\n')
    with pytest.raises(ProfileError, match=r"source_compression: must be one of gzip for the deb family"):
        load_profile("deb-zst", tmp_path)
    write(tmp_path, "rpm-xz", 'inherits = "fedora"\nsource_compression = "xz"\n')
    with pytest.raises(ProfileError, match=r"rpm-xz\.toml:2: source_compression: must be one of gzip, zstd"):
        load_profile("rpm-xz", tmp_path)
