"""The benchmark code at a tiny size, so it cannot rot.  No timing is asserted here: the bench measures."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest
import zstandard
from tooling import require_root, require_tools

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

workloads = importlib.import_module("workloads")
harness = importlib.import_module("harness")
report = importlib.import_module("report")
bench_run = importlib.import_module("run")

TINY = 0.002  # W1: 10 files in 1 directory; W2: 40 files


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_workloads_are_deterministic(tmp_path):
    a = workloads.ensure("W1", tmp_path / "a", TINY)
    b = workloads.ensure("W1", tmp_path / "b", TINY)
    assert a.name == b.name  # the cache key depends on the parameters only
    assert _files(a) == _files(b)
    other_seed = workloads.ensure("W1", tmp_path / "c", TINY, seed=workloads.SEED + 1)
    assert _files(other_seed)["data/d000/file00000.txt"] != _files(a)["data/d000/file00000.txt"]


def test_workload_shapes(tmp_path):
    w1 = workloads.ensure("W1", tmp_path, TINY)
    st = workloads.stats(w1)
    data = sorted((w1 / "data").rglob("*.txt"))
    assert len(data) == st["files"] == 10
    assert sum(p.stat().st_size for p in data) == st["bytes"]
    assert all(8_000 <= p.stat().st_size <= 72_000 for p in data)
    w2 = workloads.ensure("W2", tmp_path, TINY)
    sizes = {p.stat().st_size for p in (w2 / "data").rglob("*.txt")}
    assert sizes == {4096}
    w3 = workloads.ensure("W3", tmp_path, TINY)
    assert len([p for p in (w3 / "hooks").rglob("*") if p.is_file()]) + 1 == workloads.stats(w3)["files"] == 3
    for w in (w1, w2, w3):
        assert (w / "pkgtool.toml").is_file()
        for distro in (workloads.RPM_DISTRO, workloads.DEB_DISTRO):
            assert "compression_level = 3" in (w / "distros" / f"{distro}.toml").read_text()


def test_text_is_text_like():
    text = workloads.TextSource().text(200_000)
    assert len(text) == 200_000 and text.endswith(b"\n")
    assert text.isascii() and b"\0" not in text
    ratio = len(text) / len(zstandard.ZstdCompressor(level=3).compress(text))
    # Real text compresses 2-5x at level 3; random bytes ~1x, repeated text far more.
    assert 2.0 < ratio < 6.0


def test_profiles_of_the_workload_load(tmp_path):
    from pkgtool.profiles import load_profile

    w3 = workloads.ensure("W3", tmp_path, TINY)
    rpm = load_profile(workloads.RPM_DISTRO, w3)
    deb = load_profile(workloads.DEB_DISTRO, w3)
    assert (rpm.family.value, rpm.compression, rpm.compression_level) == ("rpm", "zstd", 3)
    assert (deb.family.value, deb.compression, deb.compression_level) == ("deb", "zstd", 3)
    assert rpm.dirs["datadir"] == deb.dirs["datadir"] == bench_run.DATADIR


def test_harness_records_failures_and_samples(tmp_path):
    cases = [
        harness.Case("ok", "ok", [sys.executable, "-c", "x = bytearray(30 * 1024 * 1024)"], runs=3),
        harness.Case("fails", "fails", "echo broken >&2; exit 3", runs=3),
        harness.Case("absent", "absent", ["no-such-tool-here"], needs=("no-such-tool-here",)),
        harness.Case("unprepared", "unprepared", "(not run)", error="generate failed"),
    ]
    stats = harness.measure(cases, tmp_path / "logs", progress=lambda _msg: None)
    assert len(stats["ok"].samples) == 3 and stats["ok"].ok
    assert stats["ok"].peak_rss_mb > 30  # the child's own memory, from wait4
    assert stats["ok"].min <= stats["ok"].median <= stats["ok"].max
    assert not stats["fails"].samples and "exit code 3" in stats["fails"].error and "broken" in stats["fails"].error
    assert stats["absent"].skipped and not stats["absent"].samples
    assert stats["unprepared"].error == "generate failed"


def _stats(name: str, walls: list[float], rss_kb: int = 1024) -> harness.Stats:
    return harness.Stats(name, name, name, [harness.Sample(w, rss_kb, 0) for w in walls])


def test_targets_are_ratios_of_medians():
    w1 = {
        "dpkg-deb": _stats("dpkg-deb", [1.0, 2.0, 3.0]),
        "pkgtool-build-deb": _stats("pkgtool-build-deb", [2.0, 2.4, 9.0], rss_kb=200 * 1024),
        "pkgtool-build-rpm": _stats("pkgtool-build-rpm", [1.0, 1.2, 1.4]),
        "rpmbuild": _stats("rpmbuild", [40.0]),
    }
    rows = {(r["workload"], r["target"]): r for r in report.evaluate({"W1": w1})}
    deb = rows[("W1", "native .deb / dpkg-deb")]
    assert deb["value"] == pytest.approx(1.2) and deb["met"] is True and deb["miss_factor"] is None
    rpm_vs_rpmbuild = rows[("W1", "native .rpm / rpmbuild -bb")]
    assert rpm_vs_rpmbuild["value"] == pytest.approx(0.03) and rpm_vs_rpmbuild["met"] is True
    mem = rows[("W1", "peak memory, native .deb build")]
    assert mem["value"] == pytest.approx(200) and mem["met"] is False and mem["miss_factor"] == pytest.approx(1.33)
    assert all(r["workload"] == "W1" for r in rows.values())


def test_bench_runs_end_to_end_at_a_tiny_size(tmp_path):
    out = tmp_path / "report"
    code = bench_run.main(
        [
            "--workloads",
            "W3,W2",
            "--runs",
            "1",
            "--scale",
            str(TINY),
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
            "--no-system",
        ]  # fmt: skip
    )
    assert code == 0
    data = json.loads((out / "results.json").read_text())
    assert set(data["workloads"]) == {"W3", "W2"}
    w2 = data["workloads"]["W2"]["cases"]
    assert w2["dpkg-deb"]["runs"] == 1 and w2["dpkg-deb"]["median_s"] > 0
    assert w2["tar-zstd"]["runs"] == 1
    assert data["workloads"]["W3"]["cases"]["pkgtool-version"]["runs"] == 1
    assert {t["target"] for t in data["targets"]} >= {"`pkgtool --version`", "native .deb / dpkg-deb"}
    md = (out / "RESULTS.md").read_text()
    assert "## Targets" in md and "## W2" in md and "## W3" in md
    assert data["meta"]["machine"]["cores"] >= 1


@pytest.mark.slow
@pytest.mark.tools
def test_bench_system_baselines_at_a_tiny_size(tmp_path):
    require_tools("rpmbuild", "dpkg-buildpackage", "dpkg-deb", "zstd", "rpm")
    require_root()
    out = tmp_path / "report"
    code = bench_run.main(
        [
            "--workloads",
            "W1",
            "--runs",
            "1",
            "--scale",
            str(TINY),
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ]  # fmt: skip
    )
    assert code == 0
    cases = json.loads((out / "results.json").read_text())["workloads"]["W1"]["cases"]
    for name in ("dpkg-deb", "tar-zstd", "rpmbuild", "dpkg-buildpackage"):
        assert cases[name]["runs"] == 1, (name, cases[name]["error"])
