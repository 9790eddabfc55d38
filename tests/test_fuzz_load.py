"""A fixed-budget fuzz run of the loader: raw bytes, and byte-level mutations of the real examples.

Whatever pkgtool.toml holds, load_layout returns a Layout or raises
LayoutError (a PkgtoolError) with a message; never anything else, never a hang.
The budget is fixed and the run derandomized, so CI is repeatable; raise
PKGTOOL_FUZZ_EXAMPLES for a longer local run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from conftest import EXAMPLE_NAMES, EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pkgtool.errors import LayoutError
from pkgtool.layout.load import load_layout

BUDGET = int(os.environ.get("PKGTOOL_FUZZ_EXAMPLES", "400"))
FUZZ = settings(max_examples=BUDGET, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [(EXAMPLES / n / "pkgtool.toml").read_bytes() for n in EXAMPLE_NAMES]
TOKENS = [b"[[", b"]]", b"[", b"]", b"=", b'"', b"'''", b'"""', b"\n", b"\\", b"{", b"}", b"\x00", b"\xff", b"\r"]


def _load(data: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="pkgtool-fuzz-") as tmp:
        (Path(tmp) / "pkgtool.toml").write_bytes(data)
        try:
            load_layout(tmp)
        except LayoutError as exc:
            assert exc.message
            for d in exc.diagnostics:
                assert d.rule and d.message and d.location is not None


@FUZZ
@given(st.binary(max_size=2000))
def test_loader_survives_raw_bytes(data: bytes):
    _load(data)


@st.composite
def mutated_examples(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["flip", "insert", "delete", "token", "dup"]))
        if op == "flip" and pos < len(data):
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 40))]
        elif op == "token":
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == "dup":
            end = min(len(data), pos + draw(st.integers(1, 200)))
            data[pos:pos] = data[pos:end]
    return bytes(data)


@FUZZ
@given(mutated_examples())
def test_loader_survives_mutated_examples(data: bytes):
    _load(data)


def test_loader_survives_deep_nesting():
    """Arrays and inline tables nested far beyond any real map: an error, not a RecursionError."""
    for depth in (100, 1000, 50_000):
        _load(b"schema = 1\nx = " + b"[" * depth + b"]" * depth + b"\n")
        _load(b"schema = 1\nx = " + b"{a = " * depth + b"1" + b"}" * depth + b"\n")
