"""Deployed-path globs (pkgtool.globs) and the plugin kinds' host directories."""

from __future__ import annotations

import pytest

from pkgtool.globs import PathSet, has_magic, match
from pkgtool.kinds import KINDS, host_dirs, kind_info
from pkgtool.model import PLUGIN_KINDS
from pkgtool.profiles import load_profile


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/a/*/b", "/a/x/b", True),
        ("/a/*/b", "/a/x/y/b", False),  # '*' stays in one segment
        ("/a/*", "/a/", True),
        ("/a/?", "/a/b", True),
        ("/a/?", "/a/bc", False),
        ("/a/?", "/a//", False),
        ("/a/**/b", "/a/b", True),  # '**/' may be zero segments
        ("/a/**/b", "/a/x/y/b", True),
        ("/a/**", "/a/x/y", True),
        ("/a/**", "/a", False),
        ("**/b.sh", "/x/y/b.sh", True),
        ("/a/x**", "/a/x/y/z", True),
        ("/a/[bc]", "/a/c", True),
        ("/a/[bc]", "/a/d", False),
        ("/a/[!bc]", "/a/d", True),
        ("/a/[!bc]", "/a/b", False),
        ("/a/[a-c]x", "/a/bx", True),
        ("/a/[]]", "/a/]", True),
        ("/a/[/]", "/a//", False),  # a class never matches '/'
        ("/a/[", "/a/[", True),  # an unclosed '[' is literal
        (r"/a/\[x\]", "/a/[x]", True),
        (r"/a/\*", "/a/*", True),
        (r"/a/\*", "/a/b", False),
        ("/a/b.c", "/a/bxc", False),  # '.' is literal
        ("/a/(x)+", "/a/(x)+", True),  # regex characters are literal
        ("/a/%{x}$", "/a/%{x}$", True),
    ],
)
def test_match(pattern, path, expected):
    assert match(pattern, path) is expected


def test_has_magic():
    assert has_magic("/a/*") and has_magic("/a/[x]") and has_magic(r"/a/\x")
    assert not has_magic("/usr/share/doc")


def test_path_set_exact_and_globs():
    s = PathSet(["/usr", "/usr/lib/python3*", "/usr/share/man/man?"])
    assert "/usr" in s and "/usr/lib/python3.12" in s and "/usr/share/man/man8" in s
    assert "/usr/lib/python3.12/site-packages" not in s
    assert "/usr/share" not in s
    assert 3 not in s
    assert "/x" not in PathSet([])


def test_every_kind_described():
    assert set(KINDS) == set(PLUGIN_KINDS)
    assert kind_info("vdsm-hook").host_package == "vdsm"
    assert kind_info("no-such-kind").host_dirs == ()


def test_host_dirs_expand_profile_directories():
    assert host_dirs("vdsm-hook", load_profile("fedora").dirs) == (
        "/usr/libexec/vdsm",
        "/usr/libexec/vdsm/hooks",
        "/usr/libexec/vdsm/hooks/*",
    )
    assert host_dirs("vdsm-hook", load_profile("opensuse-leap").dirs)[0] == "/usr/lib/vdsm"
    libvirt = PathSet(host_dirs("libvirt-hook", load_profile("debian").dirs))
    assert "/etc/libvirt/hooks/qemu.d" in libvirt
    assert "/etc/libvirt/hooks/qemu" not in libvirt  # the script itself is a file, not a host dir
    assert host_dirs("app", load_profile("debian").dirs) == ()
