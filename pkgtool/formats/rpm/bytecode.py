"""Python byte-code in an RPM, as the distro's python-rpm-macros make it.

Fedora's brp-python-bytecompile compiles every .py under /usr/lib/pythonX.Y
into ``__pycache__`` (``python -m compileall -o 0 -o 1``: the plain and the
opt-1 .pyc), and %files must list them.  Which optimisation levels and which
invalidation mode are profile data (``[extra] python_bytecode_opt``,
``python_bytecode_invalidation``); the interpreter is ``python{python3_version}``.

``with_bytecode`` gives the spec and the native writer the same .pyc entries;
``compile_bytecode`` makes the native writer's files with the exact interpreter,
so a byte-code file is never of another Python version than the profile's.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from ...atomic import temp_dir
from ...errors import ResolveError, ToolError
from ...model import Entry, EntryKind, Resolved
from ...printable import escape

# Run by the target interpreter: py_compile each (source, cfile, dfile, optimize) from stdin.
# dfile is the installed path, as compileall -s BUILDROOT -p / writes it into the code objects.
_COMPILER = r"""
import os, py_compile, sys
# Python 3.6 knows only timestamp byte-code (PEP 552 came in 3.7).
kw = {"invalidation_mode": py_compile.PycInvalidationMode[sys.argv[1]]} if sys.version_info >= (3, 7) else {}
for n, line in enumerate(sys.stdin.read().splitlines()):
    src, cfile, dfile, opt = line.split("\0")
    os.makedirs(os.path.dirname(cfile), exist_ok=True)
    try:
        py_compile.compile(src, cfile=cfile, dfile=dfile, doraise=True, optimize=int(opt), **kw)
    except py_compile.PyCompileError as exc:
        err = exc.exc_value
        where = getattr(err, "lineno", None) or 0
        text = "%s: %s" % (exc.exc_type_name, getattr(err, "msg", None) or err)
        sys.stdout.write("%d\0%d\0%s" % (n, where, text.replace("\n", " ")))
        sys.exit(3)
"""


def python_version(resolved: Resolved) -> str:
    return str(resolved.profile.extra.get("python3_version", ""))


def opt_levels(resolved: Resolved) -> tuple[int, ...]:
    return tuple(int(x) for x in resolved.profile.extra.get("python_bytecode_opt", ()))  # type: ignore[union-attr]


def invalidation_mode(resolved: Resolved) -> str:
    return str(resolved.profile.extra.get("python_bytecode_invalidation", "timestamp"))


def sitelib(resolved: Resolved) -> str:
    return resolved.profile.dirs.get("python3_sitelib", "")


def compile_dirs(resolved: Resolved) -> tuple[str, ...]:
    """The directories whose .py files get byte-code: site-packages (brp-python-bytecompile's) and [python] compile."""
    if not (opt_levels(resolved) and python_version(resolved)):
        return ()
    return tuple(dict.fromkeys(d for d in (sitelib(resolved), *resolved.python_compile) if d))


def _under(path: str, directory: str) -> bool:
    return path.startswith(directory.rstrip("/") + "/")


def sources_to_compile(resolved: Resolved) -> tuple[Entry, ...]:
    dirs = compile_dirs(resolved)
    return tuple(e for e in resolved.files if e.path.endswith(".py") and any(_under(e.path, d) for d in dirs))


def pyc_path(py: str, version: str, opt: int) -> str:
    """``a/b.py`` -> ``a/__pycache__/b.cpython-312[.opt-1].pyc`` (as Python's cache_from_source names it)."""
    p = PurePosixPath(py)
    tag = "cpython-" + version.replace(".", "")
    suffix = f".opt-{opt}" if opt else ""
    return str(p.parent / "__pycache__" / f"{p.stem}.{tag}{suffix}.pyc")


def bytecode_pairs(resolved: Resolved) -> list[tuple[Entry, str, int]]:
    """(source entry, .pyc path, optimisation level) for every byte-code file of the package."""
    version = python_version(resolved)
    return [
        (e, pyc_path(e.path, version, opt), opt) for e in sources_to_compile(resolved) for opt in opt_levels(resolved)
    ]


def with_bytecode(resolved: Resolved, sources: dict[str, str] | None = None) -> Resolved:
    """The package with its __pycache__ dirs and .pyc files added (each .pyc 0644, owned like its .py).

    ``sources`` maps a .pyc path to the compiled file (native writer); the spec needs none.
    """
    pairs = bytecode_pairs(resolved)
    if not pairs:
        return resolved
    known = {e.path for e in resolved.entries}
    added: dict[str, Entry] = {}
    for src, pyc, _ in pairs:
        cache = str(PurePosixPath(pyc).parent)
        if cache not in known and cache not in added:
            added[cache] = Entry(cache, EntryKind.DIR, 0o755, src.owner, src.group, origin="python bytecode")
        added[pyc] = Entry(
            pyc, EntryKind.FILE, 0o644, src.owner, src.group, source=(sources or {}).get(pyc), origin="python bytecode"
        )
    entries = tuple(sorted((*resolved.entries, *added.values()), key=lambda e: e.path))
    return dataclasses.replace(resolved, entries=entries)


def interpreter(resolved: Resolved) -> str | None:
    """The profile's interpreter, proven by running it (a pyenv shim of an inactive version does not run)."""
    version = python_version(resolved)
    found = shutil.which("python" + version)
    if found is None:
        return None
    ask = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        done = subprocess.run([found, "-c", ask], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found if done.returncode == 0 and done.stdout.strip() == version else None


@contextmanager
def compile_bytecode(resolved: Resolved, src_dir: Path) -> Iterator[Resolved]:
    """Yield the package with its byte-code compiled into a temporary directory (absolute entry sources).

    Each .py is copied with mtime SOURCE_DATE_EPOCH first: the native writer gives the
    installed .py that mtime, and a timestamp .pyc must name it or Python recompiles.
    """
    pairs = bytecode_pairs(resolved)
    if not pairs:
        yield resolved
        return
    python = interpreter(resolved)
    if python is None:
        # No byte-code rather than byte-code of another version.
        raise ToolError(missing_interpreter_message(resolved), command=["python" + python_version(resolved)])
    epoch = resolved.source_date_epoch
    with temp_dir(prefix="pkgtool-pyc-") as tmp:
        work = Path(tmp)
        lines, sources = [], {}
        for entry, pyc, opt in pairs:
            copy = work / "src" / entry.path.lstrip("/")
            if not copy.exists():
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src_dir / (entry.source or ""), copy)
                os.utime(copy, (epoch, epoch))
            out = work / "pyc" / pyc.lstrip("/")
            sources[pyc] = str(out)
            lines.append("\0".join((str(copy), str(out), entry.path, str(opt))))
        mode = invalidation_mode(resolved).upper().replace("-", "_")
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0", "LC_ALL": "C"}
        env.update({k: v for k, v in os.environ.items() if k.startswith("PYENV")})
        done = subprocess.run(
            [python, "-s", "-B", "-c", _COMPILER, mode], input="\n".join(lines), text=True, capture_output=True, env=env
        )
        if done.returncode == 3 and done.stdout.count("\0") == 2:
            # A module that does not compile: a located error, not the compiler's traceback.
            index, line, text = done.stdout.split("\0")
            entry = pairs[int(index)][0]
            at = f", line {line}" if line != "0" else ""
            raise ResolveError(
                f"{escape(entry.source)}{at} (deployed as {escape(entry.path)}): {escape(text)}; "
                f"python{python_version(resolved)} cannot byte-compile it, so no package was written"
            )
        if done.returncode:
            tail = done.stderr.strip()[-2000:]
            raise ToolError(f"byte-compiling with {python} failed", [python, "-m", "py_compile"], tail, done.returncode)
        yield with_bytecode(resolved, sources)


def missing_interpreter_message(resolved: Resolved) -> str:
    version = python_version(resolved)
    return (
        f"python{version} is not on PATH: profile {resolved.profile.id} byte-compiles with Python {version}, "
        f"and byte-code of another version would never load; no package was written. Install python{version} "
        f"(or build with --backend system on a {resolved.profile.description} host, where rpmbuild compiles it)"
    )


def byte_compile_lines(resolved: Resolved) -> list[str]:
    """%install lines: %py_byte_compile for each [python] compile dir with sources (%py_byte_compile's use:
    the brp script compiles site-packages only); site-packages itself only where this rpmbuild has no brp script."""
    sources = sources_to_compile(resolved)
    out = []
    for d in compile_dirs(resolved):
        if not any(_under(e.path, d) for e in sources):
            continue
        line = f"%py_byte_compile %{{python3}} %{{buildroot}}{d}"
        out += ["%if 0%{?pkgtool_compile_sitelib}", line, "%endif"] if d == sitelib(resolved) else [line]
    return out


def spec_fallbacks(resolved: Resolved) -> Sequence[str]:
    """Defined only where python-rpm-macros is missing (a non-distro rpmbuild): the same compileall call."""
    levels = " ".join(f"-o {o}" for o in opt_levels(resolved))
    version = python_version(resolved)
    mode = invalidation_mode(resolved)
    return [
        f"%{{!?python3:%global python3 python{version}}}",
        # Without python-rpm-macros there is no brp script compiling site-packages either.
        "%{!?py_byte_compile:%global pkgtool_compile_sitelib 1}",
        "%{!?py_byte_compile:%global py_byte_compile() PYTHONHASHSEED=0 %1 -s -B -m compileall "
        f"{levels} --invalidation-mode {mode} -q -f -s $RPM_BUILD_ROOT -p / %2}}",
    ]
