"""Targets of the benchmark, and the report: bench/results.json and bench/RESULTS.md."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness import Sample, Stats


@dataclass(frozen=True)
class Target:
    """``value(num) [/ value(den)] <= limit``; metric 'time' (median seconds) or 'rss' (peak MB)."""

    workload: str
    what: str
    num: str
    limit: float
    den: str | None = None
    metric: str = "time"

    @property
    def unit(self) -> str:
        if self.den is not None:
            return "x"
        return "MB" if self.metric == "rss" else "s"


TARGETS: tuple[Target, ...] = (
    Target("W1", "native .deb / dpkg-deb", "pkgtool-build-deb", 1.3, den="dpkg-deb"),
    Target("W1", "native .rpm / dpkg-deb", "pkgtool-build-rpm", 1.5, den="dpkg-deb"),
    Target("W1", "native .rpm / rpmbuild -bb", "pkgtool-build-rpm", 0.1, den="rpmbuild"),
    Target("W2", "native .deb / dpkg-deb", "pkgtool-build-deb", 1.3, den="dpkg-deb"),
    Target("W2", "native .rpm / dpkg-deb", "pkgtool-build-rpm", 1.5, den="dpkg-deb"),
    Target("W2", "native .rpm / rpmbuild -bb", "pkgtool-build-rpm", 0.1, den="rpmbuild"),
    Target("W3", "whole `pkgtool build` (.rpm)", "pkgtool-build-rpm", 0.4),
    Target("W3", "whole `pkgtool build` (.deb)", "pkgtool-build-deb", 0.4),
    Target("W3", "`pkgtool --version`", "pkgtool-version", 0.15),
    Target("W2", "`verify --root` / `rpm -V`", "pkgtool-verify-root", 1.0, den="rpm-V"),
    Target("W2", "`generate` (spec + tarball)", "pkgtool-generate-rpm", 1.0),
    Target("W2", "`generate` (debian/ + orig tarball)", "pkgtool-generate-deb", 1.0),
    Target("W2", "`lint`", "pkgtool-lint", 1.0),
    Target("W1", "peak memory, native .rpm build", "pkgtool-build-rpm", 150, metric="rss"),
    Target("W1", "peak memory, native .deb build", "pkgtool-build-deb", 150, metric="rss"),
    Target("W4", "`build --distro all` / five builds in a row", "pkgtool-build-all", 0.65, den="pkgtool-build-each"),
    # zstd 3 against what a Debian build really runs, and against the peer packager
    Target("W1", "native .deb / dh_md5sums + dpkg-deb", "pkgtool-build-deb", 1.0, den="dh-md5sums-dpkg-deb"),
    Target("W2", "native .deb / dh_md5sums + dpkg-deb", "pkgtool-build-deb", 1.0, den="dh-md5sums-dpkg-deb"),
    Target("W1", "native .deb / nfpm .deb", "pkgtool-build-deb", 1.0, den="nfpm-deb"),
    Target("W1", "native .rpm / nfpm .rpm", "pkgtool-build-rpm", 1.0, den="nfpm-rpm"),
    Target("W2", "native .deb / nfpm .deb", "pkgtool-build-deb", 1.0, den="nfpm-deb"),
    Target("W2", "native .rpm / nfpm .rpm", "pkgtool-build-rpm", 1.0, den="nfpm-rpm"),
    # the shipped profiles: debian xz 6, fedora zstd 19
    Target("W1", "debian default / dpkg-deb (xz)", "pkgtool-build-deb-default", 1.0, den="dpkg-deb-default"),
    Target("W2", "debian default / dpkg-deb (xz)", "pkgtool-build-deb-default", 1.0, den="dpkg-deb-default"),
    Target("W1", "fedora default / tar | zstd -19 -T0", "pkgtool-build-rpm-default", 1.1, den="tar-zstd19"),
    Target("W2", "fedora default / tar | zstd -19 -T0", "pkgtool-build-rpm-default", 1.1, den="tar-zstd19"),
    Target("W1", "fedora default / rpmbuild -bb (w19)", "pkgtool-build-rpm-default", 0.05, den="rpmbuild-default"),
    Target("W1", "peak memory, debian default build", "pkgtool-build-deb-default", 150, metric="rss"),
    Target("W1", "peak memory, fedora default build", "pkgtool-build-rpm-default", 150, metric="rss"),
    Target("W1", "peak memory, opensuse-leap default build", "pkgtool-build-leap-default", 150, metric="rss"),
    Target("W1", "`verify --root` / `rpm -V`", "pkgtool-verify-root", 1.0, den="rpm-V"),
)

# Each workload's tables show ratios to this case, the fastest real archiver.
REFERENCE = "dpkg-deb"


def _value(stats: dict[str, Stats], name: str, metric: str) -> float | None:
    st = stats.get(name)
    if st is None or not st.ok:
        return None
    return st.peak_rss_mb if metric == "rss" else st.median


def evaluate(results: dict[str, dict[str, Stats]]) -> list[dict[str, object]]:
    """Every target with its measured value, whether it is met and by how much it is missed."""
    out = []
    for t in TARGETS:
        stats = results.get(t.workload)
        if stats is None:
            continue
        value = _value(stats, t.num, t.metric)
        if value is not None and t.den is not None:
            den = _value(stats, t.den, t.metric)
            value = value / den if den else None
        row: dict[str, object] = {
            "workload": t.workload,
            "target": t.what,
            "limit": t.limit,
            "unit": t.unit,
            "value": None if value is None else round(value, 4),
            "met": None if value is None else value <= t.limit,
            "miss_factor": None if value is None or value <= t.limit else round(value / t.limit, 2),
        }
        out.append(row)
    return out


def _run(cmd: list[str]) -> str:
    if shutil.which(cmd[0]) is None:
        return "not installed"
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def machine() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "tools": {
            "dpkg-deb": _run(["dpkg-deb", "--version"]),
            "rpm": _run(["rpm", "--version"]),
            "rpmbuild": _run(["rpmbuild", "--version"]),
            "zstd": _run(["zstd", "--version"]),
            "tar": _run(["tar", "--version"]),
            "dpkg-buildpackage": _run(["dpkg-buildpackage", "--version"]),
        },
    }


def to_json(meta: dict[str, object], descriptions: dict[str, dict[str, object]], results: dict[str, dict[str, Stats]]):
    return {
        "meta": meta,
        "workloads": {
            w: {**descriptions.get(w, {}), "cases": {n: s.to_dict() for n, s in stats.items()}}
            for w, stats in results.items()
        },
        "targets": evaluate(results),
    }


def _fmt(x: object, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def _workload_table(stats: dict[str, Stats]) -> list[str]:
    ref = stats.get(REFERENCE)
    ref_median = ref.median if ref is not None and ref.ok else None
    lines = [
        f"| case | command | runs | median s | min s | max s | peak RSS MB | ×{REFERENCE} |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for st in stats.values():
        label = st.label.replace("|", "\\|")
        cmd = st.command.replace("|", "\\|")
        if len(cmd) > 90:
            cmd = cmd[:87] + "..."
        if not st.samples:
            why = st.error.splitlines()[0] if st.skipped else "failed (see below)" if st.error else "no samples"
            lines.append(f"| {label} | `{cmd}` | 0 | {why} | | | | |")
            continue
        ratio = st.median / ref_median if ref_median else None
        lines.append(
            f"| {label} | `{cmd}` | {len(st.samples)} | {_fmt(st.median)} | {_fmt(st.min)} | {_fmt(st.max)} "
            f"| {_fmt(st.peak_rss_mb, 0)} | {_fmt(ratio, 2)} |"
        )
    return lines


def _errors(stats: dict[str, Stats]) -> list[str]:
    out = []
    for st in stats.values():
        if st.error and not st.skipped:
            out += [f"- **{st.label}** failed:", "", "  ```", *("  " + ln for ln in st.error.splitlines()), "  ```"]
    return out


def to_markdown(data: dict[str, object], notes: str = "", profiles: dict[str, str] | None = None) -> str:
    meta = data["meta"]
    m = meta["machine"]
    lines = [
        "# pkgtool benchmark results",
        "",
        f"Date: {meta['date']}. Reproduce with `{meta['command']}` (full size: `make bench`).",
        f"Scale {meta['scale']}; {meta['runs']} timed runs per fast case, {meta['slow_runs']} for rpmbuild and "
        "dpkg-buildpackage, each after one untimed warm-up (warm page cache); runs of all cases of a workload are "
        "interleaved, so every ratio comes from one run of the bench. Wall time of the whole process; peak RSS is "
        "the largest `ru_maxrss` of the process tree (wait4).",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, Linux {m['kernel']}, Python {m['python']}.",
        "Tools: " + "; ".join(f"{k}: {str(v).rstrip('.')}" for k, v in m["tools"].items()) + ".",
        "",
        "## Targets",
        "",
        "| workload | target | measured | limit | met |",
        "|---|---|---:|---:|---|",
    ]
    for t in data["targets"]:
        met = {True: "yes", False: f"**no** ({t['miss_factor']}× over)", None: "not measured"}[t["met"]]
        lines.append(
            f"| {t['workload']} | {t['target']} | {_fmt(t['value'], 3)} {t['unit']} | {_fmt(t['limit'], 2)} "
            f"{t['unit']} | {met} |"
        )
    for w, wd in data["workloads"].items():
        lines += ["", f"## {w}: {wd.get('description', '')}", ""]
        if "files" in wd:
            size = f"{wd['bytes'] / 1e6:.1f} MB" if wd["bytes"] >= 1e5 else f"{wd['bytes']} bytes"
            lines += [f"{wd['files']} files, {size} of content.", ""]
        stats = wd["_stats"]
        lines += _workload_table(stats)
        errs = _errors(stats)
        if errs:
            lines += ["", *errs]
    if profiles:
        lines += ["", "## Profiles", ""]
        for title, text in profiles.items():
            lines += [f"### {title}", "", "```", text.rstrip(), "```", ""]
    if notes.strip():
        lines += ["", notes.strip()]
    return "\n".join(lines).rstrip() + "\n"


def write(
    out_dir: Path,
    meta: dict[str, object],
    descriptions: dict[str, dict[str, object]],
    results: dict[str, dict[str, Stats]],
    notes: str = "",
    profiles: dict[str, str] | None = None,
) -> dict[str, object]:
    """Write results.json and RESULTS.md into ``out_dir``; return the JSON data."""
    data = to_json(meta, descriptions, results)
    if profiles:
        data["profiles"] = profiles
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    md_data = {**data, "workloads": {w: {**wd, "_stats": results[w]} for w, wd in data["workloads"].items()}}
    (out_dir / "RESULTS.md").write_text(to_markdown(md_data, notes, profiles))
    return data


def load_stats(data: dict[str, object]) -> dict[str, dict[str, Stats]]:
    """Stats back from results.json (per-run RSS where recorded, else the peak for every run)."""
    out: dict[str, dict[str, Stats]] = {}
    for w, wd in data["workloads"].items():
        out[w] = {}
        for name, c in wd["cases"].items():
            rss = c.get("samples_rss_mb") or [c["peak_rss_mb"] or 0] * len(c["samples_s"])
            samples = [Sample(wall, int(r * 1024), 0) for wall, r in zip(c["samples_s"], rss, strict=True)]
            out[w][name] = Stats(name, c["label"], c["command"], samples, c["error"], c["skipped"])
    return out


def rewrite(out_dir: Path, notes: str = "") -> dict[str, object]:
    """Rewrite RESULTS.md (and results.json) from results.json, with the current notes."""
    data = json.loads((out_dir / "results.json").read_text())
    results = load_stats(data)
    descriptions = {w: {k: v for k, v in wd.items() if k != "cases"} for w, wd in data["workloads"].items()}
    return write(out_dir, data["meta"], descriptions, results, notes, data.get("profiles"))
