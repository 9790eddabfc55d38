from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
sys.path.insert(0, str(Path(__file__).parent))  # tests/tooling.py, tests/golden.py

EXAMPLE_NAMES = ("convirt", "vdsm-hook-acme", "libvirt-hook-acme")


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture(autouse=True)
def _fixed_epoch(monkeypatch):
    # Tests never depend on the clock or the caller's environment.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1736121600")  # 2025-01-06


@pytest.fixture(autouse=True)
def _built_rpms_agree_with_rpmfile(request):
    """After a test, every binary .rpm left in its tmp_path reads the same through rpmfile and through pkgtool.

    Tests that damage packages on purpose carry the mark ``damaged_rpms``.
    """
    if "tmp_path" not in request.fixturenames or request.node.get_closest_marker("damaged_rpms"):
        yield
        return
    tmp = request.getfixturevalue("tmp_path")  # here, so that it is torn down after this check
    yield
    from rpm_oracle import assert_rpmfile_agrees

    for path in sorted(tmp.rglob("*.rpm")):
        if path.is_file() and not path.is_symlink() and not path.name.endswith(".src.rpm"):
            assert_rpmfile_agrees(path)


@pytest.fixture(scope="session")
def _state_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pkgtool-state")


@pytest.fixture(autouse=True)
def _private_state(monkeypatch, _state_dir):
    # install's journal witnesses go to a directory of the test run, not the caller's home.
    monkeypatch.setenv("PKGTOOL_STATE_DIR", str(_state_dir))
