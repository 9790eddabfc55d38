"""The system backend: rpmbuild -bb and -bs on the generated spec, in a private _topdir.

The output of rpmbuild is captured and carried whole by the ToolError when it
fails.  Builds are reproducible: SOURCE_DATE_EPOCH from the resolved map, the
build time and file mtimes clamped to it, and a fixed build host.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ...atomic import atomic_file, temp_dir
from ...errors import ToolError
from ...model import Resolved
from ..tools import DEFAULT_TIMEOUT, run_tool
from .spec import generate_rpm

# rpmbuild's %_binary_payload per compression (level from the profile).
PAYLOAD_IO = {"zstd": "zstdio", "xz": "xzdio", "gzip": "gzdio", "none": "ufdio"}


def binary_payload(resolved: Resolved) -> str:
    profile = resolved.profile
    io = PAYLOAD_IO.get(profile.compression, "gzdio")
    return f"w{profile.compression_level}.{io}" if io != "ufdio" else "w.ufdio"


def rpmbuild_defines(resolved: Resolved, topdir: Path) -> list[str]:
    payload = binary_payload(resolved)
    defines = {
        "_topdir": str(topdir),
        "_sourcedir": str(topdir / "SOURCES"),
        "dist": resolved.profile.dist_tag,
        "_buildhost": "pkgtool",
        "use_source_date_epoch_as_buildtime": "1",
        "clamp_mtime_to_source_date_epoch": "1",
        "_binary_payload": payload,
        "_source_payload": payload,
        # Debian's rpmbuild keeps its database in ~/.rpmdb; -bb does not need one at all.
        "_dbpath": str(topdir / "rpmdb"),
    }
    args = []
    for key, value in defines.items():
        args += ["--define", f"{key} {value}"]
    return args


def build_rpm_system(resolved: Resolved, out_dir: Path, timeout: float | None = None) -> list[Path]:
    """rpmbuild -bb and -bs; copy the .rpm and .src.rpm into out_dir (atomically) and return them."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with temp_dir(prefix="pkgtool-rpmbuild-") as tmp:
        top = Path(tmp)
        sources = top / "SOURCES"
        generated = generate_rpm(resolved, sources)
        spec = next(p for p in generated if p.suffix == ".spec")
        env = {"SOURCE_DATE_EPOCH": str(resolved.source_date_epoch), "LC_ALL": "C", "TZ": "UTC"}
        defines = rpmbuild_defines(resolved, top)
        t = DEFAULT_TIMEOUT if timeout is None else timeout
        run_tool(["rpmbuild", "-bb", *defines, str(spec)], cwd=top, env=env, timeout=t)
        run_tool(["rpmbuild", "-bs", *defines, str(spec)], cwd=top, env=env, timeout=t)
        built = sorted((top / "RPMS").rglob("*.rpm")) + sorted((top / "SRPMS").glob("*.src.rpm"))
        if not built:
            raise ToolError("rpmbuild succeeded but wrote no package", command=["rpmbuild", str(spec)])
        out = []
        for path in built:
            dest = out_dir / path.name
            with atomic_file(dest) as tmp_dest:
                shutil.copyfile(path, tmp_dest)
            out.append(dest)
        return out
