"""Python modules in a .deb, as dh_python3 handles them: no byte-code shipped.

Debian never ships .pyc: dh_python3 adds a postinst that runs ``py3compile -p
NAME`` (byte-code for every installed Python) and a prerm that runs ``py3clean
-p NAME``, from debhelper's autoscripts postinst-py3compile / prerm-py3clean,
and ``python3:any`` to Depends.  pkgtool's debian/rules runs no dh_python3 (no
step may add what the map did not say), so the same snippets come from here,
for the native writer and debian/ alike.
"""

from __future__ import annotations

from ...model import Resolved, ResolvedRelation

PYTHON_DEPENDS = ResolvedRelation("python3:any", logical="python3:any")

# debhelper's autoscripts (dh-python), #ARGS# empty: py3compile finds the package's modules by dpkg -L.
PY3COMPILE = """\
if command -v py3compile >/dev/null 2>&1; then
	py3compile -p {package}
fi
if command -v pypy3compile >/dev/null 2>&1; then
	pypy3compile -p {package} || true
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


def has_python_modules(resolved: Resolved) -> bool:
    """A .py file under the profile's dist-packages: what dh_python3 byte-compiles at install time."""
    sitelib = resolved.profile.dirs.get("python3_sitelib", "")
    return bool(sitelib) and any(e.path.endswith(".py") and e.path.startswith(sitelib + "/") for e in resolved.files)


def python_snippets(resolved: Resolved) -> dict[str, str]:
    """Maintainer script -> the dh_python3 snippet it runs (postinst configure, prerm)."""
    if not has_python_modules(resolved):
        return {}
    name = resolved.package.name
    return {"postinst": PY3COMPILE.format(package=name), "prerm": PY3CLEAN.format(package=name)}


def python_depends(resolved: Resolved) -> tuple[ResolvedRelation, ...]:
    return (PYTHON_DEPENDS,) if has_python_modules(resolved) else ()
