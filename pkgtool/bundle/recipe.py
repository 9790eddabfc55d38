"""recipe.ks: the kickstart edit-node (ovirt-node tools/edit-node, --kickstart) reads to put the bundle's RPMs into a Node image.

Only the directives a plugin needs, in ovirt-node's recipe/ style: ``part /`` (the image's root
size), ``repo`` pointing at the bundle's rpms/ directory once unpacked (a file:// URL, given at
bundle time as the directory the bundle is unpacked into on the build host), ``%packages`` naming
every bundled package, ``bootloader --append`` when the map has ``[package] node_kernel_args``, and ``%pre`` / ``%post`` that log the edit (a plugin's own files, such as its
/etc/ovirt-plugins.d entry, come from its package).  Every value written is
checked against a plain-word pattern, so nothing from a package name reaches the kickstart's shell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import ResolveError
from ..layout.grammar import KERNEL_ARGS_RE

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+~-]*")
_URL_PATH = re.compile(r"/[A-Za-z0-9._+~/-]*")
UNPACK_DIR = "/tmp/pkgtool-node-bundle"  # where the recipe expects the bundle to be unpacked


def _word(value: str, what: str) -> str:
    if not _WORD.fullmatch(value):
        raise ResolveError(f"{what} {value!r} cannot be written into a kickstart (plain words only)")
    return value


def render_recipe(
    name: str,
    version: str,
    packages: Sequence[str],
    root_size_mib: int,
    kernel_args: str = "",
    unpack_dir: str = UNPACK_DIR,
) -> bytes:
    _word(name, "plugin name")
    _word(version, "plugin version")
    if kernel_args and not KERNEL_ARGS_RE.fullmatch(
        kernel_args
    ):  # the loader checked it; a kickstart is no place to trust
        raise ResolveError(f"kernel arguments {kernel_args!r} cannot be written into a kickstart")
    if not _URL_PATH.fullmatch(unpack_dir):
        raise ResolveError(f"unpack directory {unpack_dir!r} is not a plain absolute path")
    lines = [
        f"# {name} {version}: add to an oVirt Node image with",
        f"#   edit-node --kickstart {unpack_dir}/recipe.ks ovirt-node-image.iso",
        f"part / --size {int(root_size_mib)}",
        *([f'bootloader --append="{kernel_args}"'] if kernel_args else []),  # the loader checked its words
        f"repo --name={name} --baseurl=file://{unpack_dir}/rpms",
        "",
        "%pre",
        f"echo 'pkgtool bundle: adding {name} {version}'",
        "%end",
        "",
        "%packages --excludedocs --nobase",
        *[_word(p, "package name") for p in packages],
        "%end",
        "",
        "%post",
        f"echo 'pkgtool bundle: {name} {version} added'",
        "%end",
    ]
    return ("\n".join(lines) + "\n").encode()
