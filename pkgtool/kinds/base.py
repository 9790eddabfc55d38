"""What a plugin kind is, as data: one Kind per module of this package, registered in kinds/__init__.py.

Only the standard library here: model, the loader, resolve, lint and the
scaffold all read kinds, so kinds imports none of them.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """Everything pkgtool knows about one plugin kind, as data (its lint rules are in lint/)."""

    name: str  # the map's [package] kind
    summary: str = ""  # the summary `pkgtool init` writes into a new map
    name_prefix: str = ""  # the prefix packages of this kind carry by convention ('' = none)
    scaffold: str = ""  # the templates `pkgtool init` renders, under templates/
    host_package: str = ""  # logical relation name of the host software ('' = none)
    # Deployed-path globs, with profile placeholders, that the host package owns: a package of
    # this kind needs them as parents but must not own them (vdsm owns its hook points).
    host_dirs: tuple[str, ...] = ()
    hooks_dir: str = ""  # where the host software runs this kind's hooks from ('' = none)
    hook_points: Collection[str] = ()  # the names the host software calls below hooks_dir
    hook_name: re.Pattern[str] | None = None  # the file names the host software runs in a hook point
    # (check, deployed-path glob): what the distro linters report that the kind itself requires
    # (a DevStack plugin lives in DevStack's checkout under /opt/stack); the generated rpmlintrc
    # and lintian overrides waive each for the matching paths of a package of this kind.
    rpmlint_waivers: tuple[tuple[str, str], ...] = ()
    lintian_waivers: tuple[tuple[str, str], ...] = ()
