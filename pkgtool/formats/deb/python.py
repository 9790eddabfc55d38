"""Python modules in a .deb, as dh_python3 handles them: no byte-code shipped.

Debian never ships .pyc: dh_python3 adds a postinst that runs ``py3compile -p
NAME`` (byte-code for every installed Python) and a prerm that runs ``py3clean
-p NAME``, from debhelper's autoscripts postinst-py3compile / prerm-py3clean,
and ``python3:any`` to Depends.  pkgtool's debian/rules runs no dh_python3 (no
step may add what the map did not say), so the same snippets come from here,
for the native writer and debian/ alike.
"""

from __future__ import annotations

import os
import re

from ...errors import ResolveError
from ...model import Resolved, ResolvedRelation
from ...sources.regular import open_regular
from ...sources.staging import staged_sources
from ...templating import shell_quote

PYTHON_DEPENDS = ResolvedRelation("python3:any", logical="python3:any")
# #!/usr/bin/python3, #!/usr/bin/python3.11, #!/usr/bin/env python3 (what dh_python3 maps to python3:any)
_PYTHON_SHEBANG = re.compile(rb"#![ \t]*(/usr/bin/python3(\.\d+)?|/usr/bin/env[ \t]+python3(\.\d+)?)([ \t\r\n]|$)")

# debhelper's autoscripts (dh-python).  #ARGS#: the [python] compile dirs (dh_python3's private dirs);
# py3compile finds the dist-packages modules itself, by dpkg -L.
PY3COMPILE = """\
if command -v py3compile >/dev/null 2>&1; then
	py3compile -p {package}{args}
fi
if command -v pypy3compile >/dev/null 2>&1; then
	pypy3compile -p {package}{args} || true
fi
"""
PY3CLEAN = """\
if command -v py3clean >/dev/null 2>&1; then
	py3clean -p {package}
else
	dpkg -L {package} | sed -En -e '/^(.*)\\/(.+)\\.py$/s,,rm "\\1/__pycache__/\\2".*,e'
	find /usr/lib/python3/dist-packages/ -type d -name __pycache__ -empty -print0 | xargs --null --no-run-if-empty rmdir
fi
"""


def _dirs_with_modules(resolved: Resolved) -> list[str]:
    """dist-packages and each [python] compile dir that holds a .py file of the package."""
    sitelib = resolved.profile.dirs.get("python3_sitelib", "")
    dirs = dict.fromkeys(d.rstrip("/") for d in (sitelib, *resolved.python_compile) if d)
    py = [e.path for e in resolved.files if e.path.endswith(".py")]
    return [d for d in dirs if any(p.startswith(d + "/") for p in py)]


def has_python_modules(resolved: Resolved) -> bool:
    """What dh_python3 byte-compiles at install time: modules in dist-packages or a private dir."""
    return bool(_dirs_with_modules(resolved))


def python_snippets(resolved: Resolved) -> dict[str, str]:
    """Maintainer script -> the dh_python3 snippet it runs (postinst configure, prerm)."""
    if not has_python_modules(resolved):
        return {}
    name = resolved.package.name
    sitelib = resolved.profile.dirs.get("python3_sitelib", "")
    # As dh_python3: one py3compile for the public modules, one per private dir; one py3clean for all.
    args = ["" if d == sitelib else " " + shell_quote(d) for d in _dirs_with_modules(resolved)]
    postinst = "".join(PY3COMPILE.format(package=name, args=a) for a in args)
    return {"postinst": postinst, "prerm": PY3CLEAN.format(package=name)}


def has_python_scripts(resolved: Resolved) -> bool:
    """An executable file whose #! names Python 3: dh_python3 reads shebangs and depends on python3:any."""
    executables = [e for e in resolved.files if e.mode & 0o111 and e.source]
    if not executables:
        return False
    with staged_sources(resolved) as tree:  # the shebang after the map's patches and templates
        for e in executables:
            fd, _ = open_regular(os.path.join(tree, e.source or ""), ResolveError)
            with os.fdopen(fd, "rb") as fh:
                if _PYTHON_SHEBANG.match(fh.readline(4096)):
                    return True
    return False


def python_depends(resolved: Resolved) -> tuple[ResolvedRelation, ...]:
    return (PYTHON_DEPENDS,) if has_python_modules(resolved) or has_python_scripts(resolved) else ()
