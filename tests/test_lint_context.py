"""LintContext reads lazily and keeps little: heads for the shebang rules, a bounded cache of texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLE_NAMES, EXAMPLES

from pkgtool.lint import context as lint_context
from pkgtool.lint.context import CONTENT_LIMIT, HEAD_SIZE, LintContext
from pkgtool.model import Entry, EntryKind
from pkgtool.project import resolve_dir


def _ctx(tmp_path: Path) -> LintContext:
    resolved = resolve_dir(EXAMPLES / "convirt", "fedora")
    return LintContext(resolved, tmp_path)


def _file(tmp_path: Path, name: str, data: bytes) -> Entry:
    (tmp_path / name).write_bytes(data)
    return Entry("/opt/" + name, EntryKind.FILE, 0o644, source=name)


@pytest.mark.parametrize("size", [0, 1, HEAD_SIZE - 1, HEAD_SIZE, HEAD_SIZE + 1, 3 * CONTENT_LIMIT // 2])
def test_head_and_content_are_prefixes_of_the_file(tmp_path, size):
    data = (b"#!/bin/sh\n" + bytes(range(256)) * (size // 256 + 1))[:size]
    ctx = _ctx(tmp_path)
    e = _file(tmp_path, "f", data)
    assert ctx.head(e) == data[:HEAD_SIZE]
    assert ctx.content(e) == data[:CONTENT_LIMIT]
    assert ctx.has_shebang(e) is data.startswith(b"#!")


def test_shebang_rules_read_only_the_head(tmp_path):
    ctx = _ctx(tmp_path)
    big = _file(tmp_path, "big", b"#!/bin/sh\n" + b"x" * (2 * CONTENT_LIMIT))
    elf = _file(tmp_path, "elf", b"\x7fELF" + b"\0" * 5000)
    assert ctx.has_shebang(big) and ctx.runnable(big) and not ctx.is_elf(big)
    assert ctx.is_elf(elf) and ctx.runnable(elf) and not ctx.has_shebang(elf)
    assert all(len(h) <= HEAD_SIZE for h in ctx._heads.values())
    assert not ctx._texts, "no whole text read for a shebang question"


def test_texts_kept_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(lint_context, "TEXT_CACHE_BYTES", 3000)
    ctx = _ctx(tmp_path)
    entries = [_file(tmp_path, f"s{i}", (f"#{i}\n".encode()) * 250) for i in range(10)]
    for e in entries:
        ctx.text(e)
        assert ctx._text_bytes <= 3000
        assert ctx._text_bytes == sum(len(t) for t in ctx._texts.values())
    assert len(ctx._texts) < len(entries)
    for i, e in enumerate(entries):  # evicted or not, the answer is the file
        assert ctx.text(e) == f"#{i}\n" * 250


def test_unreadable_source_reads_as_empty(tmp_path):
    ctx = _ctx(tmp_path)
    gone = Entry("/opt/gone", EntryKind.FILE, 0o644, source="gone")
    (tmp_path / "adir").mkdir()
    a_dir = Entry("/opt/adir", EntryKind.FILE, 0o644, source="adir")
    for e in (gone, a_dir):
        assert ctx.head(e) == b"" and ctx.content(e) == b"" and not ctx.has_shebang(e)


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
@pytest.mark.parametrize("distro", ["fedora", "debian"])
def test_map_config_cached_by_origin_matches_a_fresh_context(example, distro):
    resolved = resolve_dir(EXAMPLES / example, distro)
    shared = LintContext(resolved, resolved.root)
    for e in resolved.files:
        assert shared.map_config(e) is LintContext(resolved, resolved.root).map_config(e), e.path
