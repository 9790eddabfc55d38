"""cli_select: a run turns only its own command into a click command; what the user sees is unchanged."""

from __future__ import annotations

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from pkgtool.cli import app
from pkgtool.cli_select import ROOT_FLAGS, app_for, command_name

RUNNER = CliRunner()


def test_root_flags_are_the_root_options_and_take_no_value():
    # command_name() skips these to find the command: an option with a value would be misread.
    root = get_command(app)
    opts = {o for p in root.params if p.name not in ("version", "help") for o in (*p.opts, *p.secondary_opts)}
    assert opts == ROOT_FLAGS
    assert all(p.is_flag for p in root.params if p.name not in ("help",))


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["build", "."], "build"),
        (["-q", "--no-color", "build"], "build"),
        (["-v", "distros", "show", "debian"], "distros"),
        (["--help", "build"], None),
        (["--version"], None),
        ([], None),
        (["-q"], None),
    ],
)
def test_command_name(args, name):
    assert command_name(args) == name


def test_only_the_command_run_is_registered_and_the_app_keeps_all():
    before = (list(app.registered_commands), list(app.registered_groups))
    only = app_for(app, ["-q", "build", "."])
    assert [c.callback.__name__ for c in only.registered_commands] == ["build"] and only.registered_groups == []
    only = app_for(app, ["distros", "show", "debian"])
    assert only.registered_commands == [] and [g.name for g in only.registered_groups] == ["distros"]
    assert only.registered_callback is app.registered_callback
    assert (app.registered_commands, app.registered_groups) == before
    # A name given by the decorator (distros' "show" is in a group; schema/man by function name).
    assert [c.callback.__name__ for c in app_for(app, ["schema"]).registered_commands] == ["schema"]


@pytest.mark.parametrize("args", [["--help"], ["bild"], [], ["--version"], ["-q", "--help", "build"]])
def test_no_command_or_an_unknown_one_keeps_the_whole_app(args):
    assert app_for(app, args) is app


@pytest.mark.parametrize(
    "args",
    [
        ["build", "--help"],
        ["-q", "lint", "--help"],
        ["distros", "show", "--help"],
        ["export", "--help"],
        ["verify", "--bogus"],
        ["inspect"],
    ],
    ids=" ".join,
)
def test_help_and_usage_errors_read_as_with_the_whole_app(args):
    whole = RUNNER.invoke(app, args)
    one = RUNNER.invoke(app_for(app, args), args)
    assert (one.exit_code, one.output) == (whole.exit_code, whole.output)
    assert whole.output  # something was compared


def test_an_unknown_command_is_still_suggested_against():
    res = RUNNER.invoke(app_for(app, ["bild"]), ["bild"])
    assert res.exit_code == 2 and "No such command" in res.output
