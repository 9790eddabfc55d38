"""#!/usr/bin/env NAME rewritten to #!/usr/bin/NAME, as Fedora's brp-mangle-shebangs does.

redhat-rpm-config runs brp-mangle-shebangs over every executable file of the
build root: a ``#!/usr/bin/env python3`` script would run whichever python3
PATH finds, so it becomes ``#!/usr/bin/python3`` (and rpmbuild's generator
then requires /usr/bin/python3, not /usr/bin/env).  A profile says whether its
distro does this with ``[extra] mangle_shebangs``; the native writer then
ships the rewritten first line and the spec rewrites it in %install, so the
result does not depend on the build host's redhat-rpm-config.  ``env -S``
(several words) is left alone: lint's env-shebang reports it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ...atomic import temp_dir
from ...model import Resolved

# NAME never starts with '-': env's options (-S, -i) are left alone.
_ENV = re.compile(rb"#![ \t]*(?:/usr)?/bin/env[ \t]+([A-Za-z0-9_.+][A-Za-z0-9_.+-]*)(?=[ \t\r\n]|$)")
SED = r"1s@^#![[:space:]]*\(/usr\)\{0,1\}/bin/env[[:space:]]\{1,\}\([A-Za-z0-9_.+][A-Za-z0-9_.+-]*\)\([[:space:]]\|$\)@#!/usr/bin/\2\3@"


def mangles(resolved: Resolved) -> bool:
    return bool(resolved.profile.extra.get("mangle_shebangs", False))


def mangled(first_line: bytes) -> bytes | None:
    """The rewritten first line, or None when it is not an env shebang this rewrites."""
    m = _ENV.match(first_line)
    if m is None:
        return None
    return b"#!/usr/bin/" + m.group(1) + first_line[m.end() :]


def _first_line(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.readline(4096)


def to_mangle(resolved: Resolved, src_dir: Path) -> list[str]:
    """Deployed paths of the executable files whose first line the profile's distro rewrites."""
    if not mangles(resolved):
        return []
    return [
        e.path
        for e in resolved.files
        if e.mode & 0o111 and e.source and mangled(_first_line(os.path.join(src_dir, e.source))) is not None
    ]


@contextmanager
def mangle_shebangs(resolved: Resolved, src_dir: Path) -> Iterator[Resolved]:
    """Yield the package with each rewritten script copied into a temporary directory (absolute sources)."""
    paths = set(to_mangle(resolved, src_dir))
    if not paths:
        yield resolved
        return
    with temp_dir(prefix="pkgtool-shebang-") as tmp:
        entries = []
        for e in resolved.entries:
            if e.path in paths:
                copy = Path(tmp) / e.path.lstrip("/")
                copy.parent.mkdir(parents=True, exist_ok=True)
                with open(os.path.join(src_dir, e.source or ""), "rb") as fh, open(copy, "wb") as out:
                    out.write(mangled(fh.readline(4096)) or b"")
                    shutil.copyfileobj(fh, out)
                e = dataclasses.replace(e, source=str(copy))
            entries.append(e)
        yield dataclasses.replace(resolved, entries=tuple(entries))
