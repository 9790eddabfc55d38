"""[[user]] and [[group]]: accounts made on install with fixed ids, the same in both formats, in the root only.

examples/vdsm-hook-checkips declares a system user checkips (uid 361, group checkips, supplementary
group kvm) owning its state directory.  Installed with the real rpm --root / dpkg --root and the real
groupadd/useradd inside the root, native and system builds must leave the same lines in ROOT/etc/passwd
and ROOT/etc/group, the same owner on the state directory, and the user behind after removal.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hostroot import make_root, run, seed_dpkg
from test_systemd_units import EXAMPLE, _map, builds  # noqa: F401 (builds: the shared module fixture)
from tooling import require_root, require_tools

from pkgtool.errors import LayoutError
from pkgtool.formats.accounts import account_commands
from pkgtool.layout.load import load_layout

PASSWD = "checkips:x:361:361:VDSM checkips daemon:/var/lib/vdsm-hook-checkips:/sbin/nologin"
GROUPS = ["kvm:x:36:checkips", "checkips:x:361:"]
STATE = "var/lib/vdsm-hook-checkips"


def test_user_and_group_keys():
    layout = load_layout(EXAMPLE)
    (user,) = layout.users
    assert (user.name, user.uid, user.primary, user.groups, user.home, user.shell, user.system) == (
        "checkips", 361, "checkips", ("kvm",), "/var/lib/vdsm-hook-checkips", "/sbin/nologin", True,
    )  # fmt: skip
    assert [(g.name, g.gid, g.system) for g in layout.groups] == [("kvm", 36, True), ("checkips", 361, True)]


def test_implied_primary_group_takes_the_uid(tmp_path):
    project = _map(tmp_path, 'src = "systemd/vdsm-checkips.service"')
    text = (project / "pkgtool.toml").read_text().replace('group = "checkips"\ngroups', "groups")
    text = text.replace('[[group]]\nname = "checkips"\ngid = 361\n', "")
    (project / "pkgtool.toml").write_text(text)
    lines = account_commands(load_layout(project))
    assert 'groupadd -r -g 361 ${DPKG_ROOT:+--prefix "$DPKG_ROOT"} checkips' in lines[1]
    assert " -g checkips " in lines[2] and lines[2].startswith("pkgtool_has passwd checkips || useradd -r -u 361")


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ('[[user]]\nname = "a"\nuid = 0', "user[0].uid", "1..65533"),
        ('[[user]]\nname = "a"\nuid = "361"', "user[0].uid", "an integer"),
        ('[[user]]\nname = "a b"', "user[0].name", "user or group name"),
        ('[[user]]\nname = "a"\nhome = "var/lib/a"', "user[0].home", "absolute"),
        ('[[user]]\nname = "a"\ncomment = "a:b"', "user[0].comment", "':'"),
        ('[[user]]\nname = "a"\ngroups = "kvm"', "user[0].groups", "array"),
        ('[[group]]\nname = "g"\ngid = 70000', "group[0].gid", "1..65533"),
        ('[[group]]\nname = "g"\nmembers = ["a"]', "group[0].members", "[[group]] takes"),
    ],
)
def test_bad_account_is_a_located_error(tmp_path, table, key, words):
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    text = (project / "pkgtool.toml").read_text()
    text = text.split("# checkipsd runs as its own")[0] + table + "\n"
    (project / "pkgtool.toml").write_text(text)
    with pytest.raises(LayoutError) as err:
        load_layout(project)
    found = "\n".join(f"{d.location}: {d.message} {d.hint}" for d in err.value.diagnostics)
    assert key in found and words in found and "pkgtool.toml:" in found, found


def _accounts(root: Path) -> tuple[str, list[str], tuple[int, int]]:
    passwd = [x for x in (root / "etc/passwd").read_text().splitlines() if x.startswith("checkips:")]
    group = [x for x in (root / "etc/group").read_text().splitlines() if x.startswith(("kvm:", "checkips:"))]
    st = (root / STATE).stat()
    return passwd[0], group, (st.st_uid, st.st_gid)


@pytest.mark.parametrize("backend", ["native", "system"])
def test_rpm_root_makes_the_accounts(builds, tmp_path, backend):  # noqa: F811
    require_root()
    require_tools("rpm", "dash", "ldd", "groupadd", "useradd")
    r, native, system = builds["rpm"]
    root = tmp_path / "root"
    make_root(root, ["usr/bin/systemctl"])
    db = ["rpm", "--root", str(root), "--dbpath", "/var/lib/rpm"]
    run(*db, "--initdb")
    run(*db, "-i", "--nodeps", str(native if backend == "native" else system))
    assert _accounts(root) == (PASSWD, GROUPS, (361, 361))
    run(*db, "-e", "--nodeps", r.package.name)
    assert PASSWD in (root / "etc/passwd").read_text()  # removal leaves the user


@pytest.mark.parametrize("backend", ["native", "system"])
def test_dpkg_root_makes_the_same_accounts(builds, tmp_path, backend):  # noqa: F811
    require_root()
    require_tools("dpkg", "dash", "ldd", "groupadd", "useradd")
    r, native, system = builds["deb"]
    root = tmp_path / "root"
    make_root(root, ["usr/bin/systemctl"])
    seed_dpkg(root)
    dpkg = ["dpkg", f"--root={root}", "--force-depends"]
    run(*dpkg, "-i", str(native if backend == "native" else system))
    assert _accounts(root) == (PASSWD, GROUPS, (361, 361))
    run(*dpkg, "-P", r.package.name)
    assert PASSWD in (root / "etc/passwd").read_text()  # purge leaves the user too
