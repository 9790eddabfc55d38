"""`pkgtool completion SHELL` prints a script the shell accepts, and the requests it makes are answered."""

from __future__ import annotations

import subprocess

import pytest
from test_cli import run


def test_bash_script_defines_the_function_and_parses(tmp_path):
    proc = run("completion", "bash")
    assert proc.returncode == 0, proc.stderr
    script = proc.stdout
    assert "_pkgtool_completion()" in script and "complete -o default -F _pkgtool_completion pkgtool" in script
    (tmp_path / "pkgtool.bash").write_text(script)
    check = subprocess.run(["bash", "-n", str(tmp_path / "pkgtool.bash")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_bash_requests_are_answered():
    env = {"COMP_WORDS": "pkgtool bu", "COMP_CWORD": "1", "_PKGTOOL_COMPLETE": "complete_bash"}
    proc = run(env=env)
    assert proc.returncode == 0, proc.stderr
    assert sorted(proc.stdout.split()) == ["build", "bump", "bundle"]
    env = {"COMP_WORDS": "pkgtool build --no-", "COMP_CWORD": "2", "_PKGTOOL_COMPLETE": "complete_bash"}
    assert "--no-lint" in run(env=env).stdout.split()


@pytest.mark.parametrize(("shell", "marker"), [("zsh", "compdef _pkgtool_completion pkgtool"), ("fish", "complete")])
def test_zsh_and_fish(shell, marker):
    proc = run("completion", shell)
    assert proc.returncode == 0 and marker in proc.stdout and "_PKGTOOL_COMPLETE=complete_" + shell in proc.stdout


def test_unknown_shell_is_a_usage_error():
    proc = run("completion", "tcsh")
    assert proc.returncode == 2 and "tcsh" in proc.stderr and "Traceback" not in proc.stderr
