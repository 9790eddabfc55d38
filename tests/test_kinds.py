"""Plugin kinds: one module a kind, one list that the loader, lint, the scaffold and the CLI read."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pkgtool import kinds
from pkgtool.cli import app
from pkgtool.data import data_dir
from pkgtool.lint import registry
from pkgtool.model import PLUGIN_KINDS


def test_the_model_lists_the_registered_kinds_in_order():
    assert tuple(k.name for k in kinds.ALL) == PLUGIN_KINDS
    assert len(set(PLUGIN_KINDS)) == len(PLUGIN_KINDS)


@pytest.mark.parametrize("kind", kinds.ALL, ids=lambda k: k.name)
def test_each_kind_has_its_scaffold_and_summary(kind):
    base = data_dir("templates") / kind.scaffold
    assert (base / "pkgtool.toml.j2").is_file(), base
    assert kind.summary


@pytest.mark.parametrize("kind", [k for k in kinds.ALL if k.hooks_dir], ids=lambda k: k.name)
def test_a_hooks_dir_and_its_hook_points_belong_to_the_host(kind):
    """The package needs the hooks directory and the hook points as parents but must not own them."""
    assert kind.hooks_dir in kind.host_dirs
    assert any(d.startswith(kind.hooks_dir + "/") for d in kind.host_dirs)
    assert kind.hook_points


def test_lint_policies_are_for_registered_kinds_only():
    assert set(registry.POLICIES) <= set(kinds.KINDS)
    for rule in registry.RULES.values():
        if rule.applies_to != "all":
            assert set(rule.applies_to) <= set(kinds.KINDS), rule.id


def test_init_help_lists_every_kind():
    out = CliRunner().invoke(app, ["init", "--help"]).output
    assert ", ".join(kinds.KIND_NAMES) in " ".join(out.split())  # help wraps at the terminal's width


def test_unknown_kind_gets_an_empty_kind():
    k = kinds.kind_info("no-such-kind")
    assert (k.name, k.host_dirs, k.hooks_dir, k.name_prefix) == ("no-such-kind", (), "", "")
