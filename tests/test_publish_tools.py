"""publish with the real tools: createrepo_c, gpg, rpmsign, rpm -K, dpkg-scanpackages, apt-get and dnf.

The examples (convirt, vdsm-hook-acme) and a package without dependencies are built natively for fedora
and debian, published signed with a throwaway key, and the repositories are then used the way a machine
would use them: apt-get update in a throwaway root must not warn about the signature, and apt-get and
dnf (gpgcheck=1, repo_gpgcheck=1) install the package without dependencies into throwaway roots.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from publish_fixtures import (
    EPOCH,
    build_set,
    control,
    example_projects,
    hello_project,
    make_deb,
    make_key,
    run_pkgtool,
    stop_agent,
)
from tooling import require_root, require_tools, snapshot

pytestmark = pytest.mark.tools

KEY_UID = "Repo Signing <repo@example.org>"


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """dist/ of the built packages, the key's GNUPGHOME and fingerprint, and two signed publish runs."""
    require_tools("createrepo_c", "gpg", "gpg-agent", "rpmsign", "rpm")
    top = tmp_path_factory.mktemp("pub")
    dist = top / "dist"
    build_set(dist, [*example_projects(), hello_project(top / "hello")])
    home = top / "gnupg"
    fpr = make_key(home, KEY_UID)
    env = {"GNUPGHOME": str(home), "SOURCE_DATE_EPOCH": str(EPOCH), "PKGTOOL_GPG_KEY": "repo@example.org"}
    runs = []
    for name in ("repo", "again"):
        proc = run_pkgtool("publish", str(dist), "--out", str(top / name), "--sign", env=env)
        assert proc.returncode == 0, proc.stderr
        runs.append(top / name)
    yield {"dist": dist, "home": home, "fpr": fpr, "env": env, "repo": runs[0], "again": runs[1], "top": top}
    stop_agent(home)


def _sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def test_layout_of_a_signed_repository(signed):
    repo, long_id = signed["repo"], signed["fpr"][-16:]
    fedora = repo / "rpm" / "fedora"
    assert sorted(p.name for p in (fedora / "Packages").iterdir()) == [
        "convirt-0.9.0-1.fc40.noarch.rpm",
        "pkgtool-hello-1.0-1.fc40.noarch.rpm",
        "vdsm-hook-acme-1.2.0-1.fc40.noarch.rpm",
    ]
    assert (fedora / "repodata" / "repomd.xml.asc").read_text().startswith("-----BEGIN PGP SIGNATURE-----")
    assert (fedora / f"RPM-GPG-KEY-{long_id}").read_text().startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    dist = repo / "apt" / "dists" / "stable"
    assert (dist / "InRelease").read_text().startswith("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n")
    assert (dist / "Release.gpg").read_text().startswith("-----BEGIN PGP SIGNATURE-----")
    assert (repo / "apt" / f"KEY-{long_id}.asc").is_file()
    assert sorted(os.listdir(repo)) == ["apt", "rpm"]


def test_the_repository_is_byte_identical_twice(signed):
    first, second = snapshot(signed["repo"]), snapshot(signed["again"])
    assert first == second
    assert len([k for k in first if k.endswith((".asc", ".gpg", "InRelease", ".rpm"))]) == 7


def test_every_rpm_signature_carries_the_frozen_time(signed):
    """rpmsign's gpg runs with a frozen clock; a signature that escaped it would be made again (signing.py)."""
    from pkgtool.publish.signing import _signed_at

    times = {_signed_at(p) for run in ("repo", "again") for p in (signed[run] / "rpm/fedora/Packages").glob("*.rpm")}
    assert len(times) == 1 and None not in times, times
    assert _signed_at(next((signed["dist"] / "fedora").glob("*.rpm"))) is None  # the unsigned input


def test_inputs_stay_unsigned(signed):
    for rpm in sorted((signed["dist"] / "fedora").glob("*.rpm")):
        query = ["rpm", "-qp", "--qf", "%{RSAHEADER:pgpsig}"]
        assert _sh([*query, str(rpm)]).stdout == "(none)"
        published = signed["repo"] / "rpm/fedora/Packages" / rpm.name
        assert _sh([*query, str(published)]).stdout.startswith("RSA/SHA512, ")
        assert hashlib.sha256(published.read_bytes()).digest() != hashlib.sha256(rpm.read_bytes()).digest()


def test_rpm_K_passes_with_the_key_in_a_throwaway_rpmdb(signed, tmp_path):
    db = tmp_path / "rpmdb"
    db.mkdir()
    key = signed["repo"] / "rpm/fedora" / f"RPM-GPG-KEY-{signed['fpr'][-16:]}"
    packages = sorted((signed["repo"] / "rpm/fedora/Packages").glob("*.rpm"))
    before = _sh(["rpm", "--dbpath", str(db), "-Kv", *map(str, packages)])
    assert before.returncode != 0 and before.stdout.count("Signature, key ID ") == before.stdout.count("NOKEY") == 3
    imported = _sh(["rpm", "--dbpath", str(db), "--import", str(key)])
    assert imported.returncode == 0, imported.stderr
    proc = _sh(["rpm", "--dbpath", str(db), "-K", *map(str, packages)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("digests signatures OK") == len(packages) == 3


def test_detached_signatures_verify_with_gpgv(signed, tmp_path):
    keyring = tmp_path / "keyring.gpg"
    armored = signed["repo"] / "apt" / f"KEY-{signed['fpr'][-16:]}.asc"
    _sh(["gpg", "--batch", "--yes", "--dearmor", "--output", str(keyring), str(armored)], check=True)
    dist = signed["repo"] / "apt/dists/stable"
    repomd = signed["repo"] / "rpm/fedora/repodata/repomd.xml"
    for sig, data in ((dist / "Release.gpg", dist / "Release"), (repomd.with_name("repomd.xml.asc"), repomd)):
        proc = _sh(["gpgv", "--keyring", str(keyring), str(sig), str(data)])
        assert proc.returncode == 0 and "Good signature" in proc.stderr, proc.stderr
    proc = _sh(["gpgv", "--keyring", str(keyring), str(dist / "InRelease")])
    assert proc.returncode == 0 and "Good signature" in proc.stderr, proc.stderr


def test_createrepo_metadata_lists_every_package(signed, tmp_path):
    import gzip
    import re

    repodata = signed["repo"] / "rpm/fedora/repodata"
    repomd = (repodata / "repomd.xml").read_text()
    assert f"<revision>{EPOCH}</revision>" in repomd and "sqlite" not in repomd
    primary = next(repodata.glob("*-primary.xml.gz"))
    text = gzip.decompress(primary.read_bytes()).decode()
    hrefs = sorted(re.findall(r'<location href="([^"]+)"/>', text))
    assert hrefs == sorted(f"Packages/{p.name}" for p in (signed["repo"] / "rpm/fedora/Packages").iterdir())
    assert set(re.findall(r'<time file="(\d+)"', text)) == {str(EPOCH)}


def test_packages_index_equals_dpkg_scanpackages(signed, tmp_path):
    require_tools("dpkg-scanpackages")
    apt = signed["repo"] / "apt"
    ours = (apt / "dists/stable/main/binary-amd64/Packages").read_text()
    theirs = _sh(["dpkg-scanpackages", "-m", "pool"], cwd=apt).stdout
    assert sorted(ours.split("\n\n")) == sorted(theirs.split("\n\n"))
    # Odd but valid control text: dots, blank description lines, fields dpkg knows and some it does not.
    extra = (
        "Multi-Arch: foreign\nX-Zeta: z\nPre-Depends: dpkg (>= 1.17)\nX-Alpha: a\nSection: admin\n"
        "Description: tricky\n first  \n .\n ..\n   indented\n"
    )
    text = control("tricky", "1:2.0~b1-1", extra=extra).replace("Description: a test package\n More text.\n", "")
    deb = make_deb(tmp_path / "t.deb", text)
    proc = run_pkgtool("publish", str(deb), "--out", str(tmp_path / "r"))
    assert proc.returncode == 0, proc.stderr
    ours = (tmp_path / "r/apt/dists/stable/main/binary-amd64/Packages").read_text()
    theirs = _sh(["dpkg-scanpackages", "-m", "pool"], cwd=tmp_path / "r/apt").stdout
    assert ours == theirs


def _apt_root(root: Path, source_line: str) -> tuple[list[str], dict]:
    """A throwaway apt root: its own apt.conf (APT_CONFIG: none of the host's configuration is read)."""
    for d in ("etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d", "etc/apt/trusted.gpg.d"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for d in (
        "var/lib/apt/lists/partial",
        "var/cache/apt/archives/partial",
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "var/log/apt",
    ):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "var/lib/dpkg/status").touch()
    (root / "etc/apt/sources.list").write_text(source_line + "\n")
    conf = root / "etc/apt/apt.conf"
    conf.write_text(f'Dir "{root}/";\n')
    opts = [
        "-o", f"Dir={root}/",
        "-o", f"Dir::State={root}/var/lib/apt/",
        "-o", f"Dir::State::status={root}/var/lib/dpkg/status",
        "-o", f"Dir::Cache={root}/var/cache/apt/",
        "-o", f"Dir::Etc={root}/etc/apt/",
        "-o", f"Dir::Etc::SourceList={root}/etc/apt/sources.list",
        "-o", "Dir::Etc::SourceParts=sources.list.d",
        "-o", "Debug::NoLocking=1",
        "-o", "APT::Architecture=amd64",
        "-o", "APT::Sandbox::User=root",  # file: sources are read as root, not as _apt
    ]  # fmt: skip
    return opts, {**os.environ, "APT_CONFIG": str(conf)}


def test_apt_get_update_trusts_the_signature_and_installs(signed, tmp_path):
    require_tools("apt-get", "dpkg")
    key = signed["repo"] / "apt" / f"KEY-{signed['fpr'][-16:]}.asc"
    line = f"deb [signed-by={key}] file:{signed['repo'] / 'apt'} stable main"
    opts, env = _apt_root(tmp_path / "root", line)
    proc = _sh(["apt-get", *opts, "update"], env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "InRelease" in output
    for bad in ("W:", "E:", "NO_PUBKEY", "not signed", "insecure", "unauthenticated"):
        assert bad not in output, output
    policy = _sh(["apt-cache", *opts, "policy", "convirt"], env=env).stdout
    assert "Candidate: 0.9.0-1" in policy
    proc = _sh(["apt-get", *opts, "download", "convirt"], env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    downloaded = tmp_path / "convirt_0.9.0-1_all.deb"
    assert downloaded.read_bytes() == (signed["dist"] / "debian" / "convirt_0.9.0-1_all.deb").read_bytes()
    # A real install writes through dpkg into the throwaway root: dpkg --root needs root to set owners.
    require_root()
    root = tmp_path / "root"
    dpkg = ["-o", f"DPkg::Options::=--root={root}", "-o", "DPkg::Options::=--force-script-chrootless"]
    proc = _sh(["apt-get", *opts, *dpkg, "-y", "install", "pkgtool-hello"], env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stdout + proc.stderr
    assert (root / "usr/share/pkgtool-hello/hello.txt").read_text() == "hello\n"
    assert "Package: pkgtool-hello\nStatus: install ok installed" in (root / "var/lib/dpkg/status").read_text()


def test_apt_get_refuses_a_repository_signed_by_another_key(signed, tmp_path):
    require_tools("apt-get")
    other = tmp_path / "other"
    make_key(other, "Someone Else <else@example.org>")
    try:
        key = tmp_path / "else.asc"
        _sh(
            ["gpg", "--batch", "--armor", "--export", "--output", str(key)], env={**os.environ, "GNUPGHOME": str(other)}
        )
    finally:
        stop_agent(other)
    line = f"deb [signed-by={key}] file:{signed['repo'] / 'apt'} stable main"
    opts, env = _apt_root(tmp_path / "root", line)
    proc = _sh(["apt-get", *opts, "update"], env=env)
    assert "NO_PUBKEY" in proc.stdout + proc.stderr


def _dnf_root(root: Path, repo: Path, key: Path, repo_gpgcheck: bool = True) -> list[str]:
    (root / "etc/yum.repos.d").mkdir(parents=True)
    gpg = f"gpgcheck=1\nrepo_gpgcheck={int(repo_gpgcheck)}\ngpgkey=file://{key}\n"
    (root / "etc/yum.repos.d/published.repo").write_text(
        f"[published]\nname=published\nbaseurl=file://{repo}\nenabled=1\n{gpg}"
    )
    conf = root / "dnf.conf"
    conf.write_text(
        f"[main]\ngpgcheck=1\nreposdir={root}/etc/yum.repos.d\ncachedir={root}/var/cache/dnf\n"
        f"logdir={root}/var/log\npersistdir={root}/var/lib/dnf\ninstall_weak_deps=0\n"
    )
    return [
        "dnf",
        "-y",
        "-c",
        str(conf),
        "--installroot",
        str(root),
        "--releasever",
        "40",
        "--setopt=reposdir=" + str(root / "etc/yum.repos.d"),
    ]


def test_dnf_installs_with_gpgcheck(signed, tmp_path):
    require_tools("dnf")
    require_root()  # rpm writes the installroot's database and files with their owners
    repo = signed["repo"] / "rpm/fedora"
    key = repo / f"RPM-GPG-KEY-{signed['fpr'][-16:]}"
    root = tmp_path / "root"
    proc = _sh([*_dnf_root(root, repo, key), "install", "pkgtool-hello"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Key imported successfully" in proc.stdout + proc.stderr
    assert (root / "usr/share/pkgtool-hello/hello.txt").read_text() == "hello\n"
    assert "pkgtool-hello-1.0-1.fc40.noarch" in _sh(["rpm", "--root", str(root), "-qa"]).stdout


def test_dnf_refuses_unsigned_packages_under_gpgcheck(signed, tmp_path):
    require_tools("dnf")
    require_root()
    proc = run_pkgtool(
        "publish", str(signed["dist"]), "--out", str(tmp_path / "unsigned"), env={"SOURCE_DATE_EPOCH": str(EPOCH)}
    )
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "root"
    key = signed["repo"] / "rpm/fedora" / f"RPM-GPG-KEY-{signed['fpr'][-16:]}"
    proc = _sh([*_dnf_root(root, tmp_path / "unsigned/rpm/fedora", key, False), "install", "pkgtool-hello"])
    assert proc.returncode != 0
    assert "is not signed" in proc.stdout + proc.stderr
    assert not (root / "usr/share/pkgtool-hello").exists()


def test_missing_key_is_a_clear_error(signed, tmp_path):
    env = {**signed["env"], "PKGTOOL_GPG_KEY": ""}
    proc = run_pkgtool(
        "publish",
        str(signed["dist"]),
        "--out",
        str(tmp_path / "r"),
        "--sign",
        "--key-id",
        "nobody@example.org",
        env=env,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no secret key 'nobody@example.org' in the GnuPG keyring" in proc.stderr
    assert not (tmp_path / "r").exists()
    env = {**signed["env"], "GNUPGHOME": str(tmp_path / "empty")}
    (tmp_path / "empty").mkdir(mode=0o700)
    proc = run_pkgtool("publish", str(signed["dist"]), "--out", str(tmp_path / "r"), "--sign", env=env)
    assert proc.returncode == 2 and "no secret key 'repo@example.org'" in proc.stderr
    stop_agent(tmp_path / "empty")


def test_eddsa_signatures_are_reproducible_too(signed, tmp_path):
    home = tmp_path / "ed"
    make_key(home, "Ed Key <ed@example.org>", "ed25519")
    env = {"GNUPGHOME": str(home), "SOURCE_DATE_EPOCH": str(EPOCH)}
    try:
        outs = []
        for name in ("a", "b"):
            deb_dir = signed["dist"] / "debian"
            proc = run_pkgtool(
                "publish", str(deb_dir), "--out", str(tmp_path / name), "--sign", "--key-id", "ed@example.org", env=env
            )
            assert proc.returncode == 0, proc.stderr
            outs.append(snapshot(tmp_path / name))
        assert outs[0] == outs[1] and "apt/dists/stable/InRelease" in outs[0]
    finally:
        stop_agent(home)


@pytest.mark.damaged_rpms
def test_hostile_rpm_name_is_refused(signed, tmp_path):
    rpm = signed["dist"] / "fedora" / "convirt-0.9.0-1.fc40.noarch.rpm"
    data = rpm.read_bytes()
    evil = tmp_path / "evil.rpm"
    evil.write_bytes(data.replace(b"convirt\0", b"../../x\0", 1))
    from pkgtool.formats.read import read_artifact

    assert read_artifact(evil).name == "../../x"
    proc = run_pkgtool("publish", str(evil), "--out", str(tmp_path / "r"), env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{evil}: header name '../../x' cannot be part of a file name" in proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["evil.rpm"]


def test_rpm_without_a_known_dist_tag_is_refused(signed, tmp_path):
    from pkgtool.formats.rpm.native import build_rpm
    from pkgtool.project import resolve_dir

    hello = hello_project(tmp_path / "hello")
    (hello / "distros").mkdir()
    (hello / "distros" / "plain.toml").write_text('inherits = "fedora"\ndescription = "no dist tag"\ndist_tag = ""\n')
    rpm = build_rpm(resolve_dir(hello, "plain", EPOCH), tmp_path)
    proc = run_pkgtool("publish", str(rpm), "--out", str(tmp_path / "r"), env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{rpm}: release '1' ends with no known dist tag" in proc.stderr
    assert (
        "hint: build it with an rpm profile (dist tags: .el9 (el9), .fc40 (fedora), .lp156 (opensuse-leap))"
        in proc.stderr
    )


def _signature_time(sig: Path, home: Path) -> int:
    import re

    packets = _sh(["gpg", "--batch", "--list-packets", str(sig)], env={**os.environ, "GNUPGHOME": str(home)}).stdout
    return int(re.search(r"version 4, created (\d+)", packets)[1])


def test_signatures_carry_source_date_epoch_or_the_key_creation(signed, tmp_path):
    # The key of the module fixture was made now, after SOURCE_DATE_EPOCH: its signatures carry its creation.
    created = int(
        _sh(
            ["gpg", "--batch", "--with-colons", "--list-keys", signed["fpr"]],
            env={**os.environ, "GNUPGHOME": str(signed["home"])},
        )
        .stdout.split("pub:")[1]
        .split(":")[4]
    )
    assert _signature_time(signed["repo"] / "apt/dists/stable/Release.gpg", signed["home"]) == created > EPOCH
    # A key older than SOURCE_DATE_EPOCH signs at SOURCE_DATE_EPOCH.
    home = tmp_path / "old"
    make_key(home, "Old Key <old@example.org>", created=EPOCH - 86400)
    try:
        env = {"GNUPGHOME": str(home), "SOURCE_DATE_EPOCH": str(EPOCH)}
        proc = run_pkgtool(
            "publish",
            str(signed["dist"]),
            "--out",
            str(tmp_path / "r"),
            "--sign",
            "--key-id",
            "old@example.org",
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        for sig in ("apt/dists/stable/Release.gpg", "rpm/fedora/repodata/repomd.xml.asc"):
            assert _signature_time(tmp_path / "r" / sig, home) == EPOCH
        rpm = tmp_path / "r/rpm/fedora/Packages/pkgtool-hello-1.0-1.fc40.noarch.rpm"
        query = _sh(["rpm", "-qp", "--qf", "%{RSAHEADER:pgpsig}", str(rpm)], env={**os.environ, "TZ": "UTC"}).stdout
        assert query.startswith("RSA/SHA512, Mon Jan  6 00:00:00 2025, Key ID "), query
    finally:
        stop_agent(home)


def test_a_key_id_matching_two_keys_is_refused(signed, tmp_path):
    home = tmp_path / "two"
    make_key(home, "One <same@example.org>")
    make_key(home, "Two <same@example.org>")
    try:
        env = {"GNUPGHOME": str(home), "SOURCE_DATE_EPOCH": str(EPOCH)}
        proc = run_pkgtool(
            "publish",
            str(signed["dist"]),
            "--out",
            str(tmp_path / "r"),
            "--sign",
            "--key-id",
            "same@example.org",
            env=env,
        )
    finally:
        stop_agent(home)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "key id 'same@example.org' matches 2 secret keys" in proc.stderr
    assert "hint: name one key by its full fingerprint" in proc.stderr


def test_a_signature_off_the_frozen_clock_is_made_again_from_the_unsigned_bytes(signed, tmp_path, monkeypatch):
    import shutil

    from pkgtool.publish import signing

    monkeypatch.setenv("GNUPGHOME", str(signed["home"]))
    signer = signing.find_signer("repo@example.org", EPOCH)
    rpm = next((signed["dist"] / "fedora").glob("*.rpm"))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = shutil.copy(rpm, tmp_path / "a"), shutil.copy(rpm, tmp_path / "b")
    signer.sign_rpms([Path(a)])
    real, calls = signing._signed_at, []

    def first_one_off(path):  # the first check of b sees a stray time, as rpmsign sometimes leaves
        calls.append(path)
        return -1 if len(calls) == 1 else real(path)

    monkeypatch.setattr(signing, "_signed_at", first_one_off)
    signer.sign_rpms([Path(b)])
    assert len(calls) == 2
    assert Path(a).read_bytes() == Path(b).read_bytes()
    assert not [p for p in (tmp_path / "b").iterdir() if p.name != rpm.name]  # the unsigned copy is gone
