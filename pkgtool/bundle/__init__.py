"""`pkgtool bundle`: an oVirt Node plugin bundle, NAME-VERSION.plugin.tar[.gz|.xz].

The map's RPMs are built natively with the Node release's profile (distros/node/ovirt-node.toml),
the ``--with`` dependencies the image lacks are added, and the tarball holds ``manifest``
(manifest.py), ``recipe.ks`` (recipe.py) and ``rpms/``.  The tar is deterministic: members sorted,
mtime SOURCE_DATE_EPOCH (0 without it), owner root, mode 0644, no compressor timestamps.

The builder is bundle/build.py, the reader bundle/reader.py; this file holds only what names a
bundle, so that `verify` can ask whether a path is one without importing either.
"""

from __future__ import annotations

from pathlib import Path

SUFFIXES = (".plugin.tar", ".plugin.tar.gz", ".plugin.tar.xz")


def is_bundle_name(path: Path | str) -> bool:
    return str(path).endswith(SUFFIXES)
