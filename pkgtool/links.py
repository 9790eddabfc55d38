"""The text written into a deployed symlink: one function for every writer of links.

An absolute target is stored relative to the link's directory, as the packages do
(the RPM spec's %install, the native writers, install into a root), so the link
also works seen from outside the root.  A relative target is kept as written.
A [[symlink]] with ``absolute = true`` is stored absolute instead (a relative
target made absolute from the link's directory): a libvirt hook dispatcher
such as /etc/libvirt/hooks/qemu names its program by absolute path.  Debian's
writers do not use this function: they follow dh_link (Policy 10.5).
"""

from __future__ import annotations

import posixpath

from .model import Entry


def link_text(entry: Entry) -> str:
    """The relative target a link entry gets on disk."""
    target = entry.target or ""
    if entry.absolute:
        return posixpath.normpath(posixpath.join(posixpath.dirname(entry.path), target))
    if not target.startswith("/"):
        return target
    return posixpath.relpath(target, posixpath.dirname(entry.path))
