"""RPM output without the distro tools: spec rendering, escaping, dispatch, reader safety, native builds."""

from __future__ import annotations

import dataclasses
import io
import shlex
import struct
import tarfile
from pathlib import Path

import pytest
from conftest import EXAMPLE_NAMES, EXAMPLES
from golden import assert_golden
from hypothesis import given
from hypothesis import strategies as st

from pkgtool.errors import ArtifactError, ResolveError
from pkgtool.formats.rpm.native import build_rpm, rpm_file_name
from pkgtool.formats.rpm.reader import read_header, read_rpm
from pkgtool.formats.rpm.rpmlint import lint_filters, render_rpmlintrc
from pkgtool.formats.rpm.scriptlets import heredoc_marker, interpreter, rpm_scriptlets
from pkgtool.formats.rpm.spec import description_lines, generate_rpm, render_spec
from pkgtool.formats.rpm.spec_paths import files_path, install_lines, install_word, split_macro
from pkgtool.model import ConfigKind, Entry, EntryKind
from pkgtool.project import resolve_dir
from pkgtool.templating import make_escape, make_shell_quote, rpm_escape, rpm_shell_quote

EPOCH = 1736121600


def resolved_example(name: str, distro: str = "fedora"):
    return resolve_dir(EXAMPLES / name, distro, source_date_epoch=EPOCH)


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_spec_golden(example):
    assert_golden(f"rpm/{example}.spec", render_spec(resolved_example(example)))


def test_spec_uses_macros_attrs_and_dirs():
    spec = render_spec(resolved_example("convirt"))
    assert "%config(noreplace) %attr(0644,root,root) %{_sysconfdir}/convirt.conf" in spec
    assert "%attr(0744,root,root) %{_localstatedir}/cache/convirt/image_store/fedora_vm/provision.sh" in spec
    assert "%dir %attr(0755,root,root) %{_datadir}/convirt\n" in spec
    assert "%doc %attr(0644,root,root) %{_datadir}/convirt/doc/README" in spec
    # system directories are never owned, links are made relative in %install
    assert "%dir %attr(0755,root,root) %{_bindir}\n" not in spec
    assert "ln -s ../share/convirt/install/client/ConVirt %{buildroot}%{_bindir}/convirt" in spec
    assert "Requires:       python3-paramiko >= 1.6.4" in spec
    assert "Patch0:         0001-paramiko-channel-timeout.patch" in spec and "%autosetup -p1" in spec
    assert "* Mon Jan 06 2025 Jane Packager <jane@example.org> - 0.9.0-1" in spec


def _resolved_with(entries, **pkg):
    base = resolved_example("vdsm-hook-acme")
    layout = dataclasses.replace(base.layout, package=dataclasses.replace(base.package, **pkg))
    return dataclasses.replace(base, layout=layout, entries=tuple(sorted(entries, key=lambda e: e.path)))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("plain-name_1.2.py", "%{_datadir}/x/plain-name_1.2.py"),
        ("a b.txt", '"%{_datadir}/x/a b.txt"'),
        ("50%{name} [x].sh", "%{_datadir}/x/50[%]?name}?[[]x[]].sh"),
        ("it's.sh", "%{_datadir}/x/it?s.sh"),
        ('q"uote', "%{_datadir}/x/q?uote"),
        ("d$x`b`", "%{_datadir}/x/d$x`b`"),
        ("star*?", "%{_datadir}/x/star[*][?]"),
    ],
)
def test_files_path_escaping(name, expected):
    path = f"/usr/share/x/{name}"
    r = _resolved_with([Entry(path, EntryKind.FILE, 0o644, source="f")])
    assert files_path(path, r, [path]) == expected


def test_files_path_refuses_ambiguous_glob():
    a, b = "/usr/share/x/it's", "/usr/share/x/it_s"
    r = _resolved_with([Entry(a, EntryKind.FILE, 0o644, source="f"), Entry(b, EntryKind.FILE, 0o644, source="g")])
    with pytest.raises(ResolveError, match="cannot be told apart"):
        files_path(a, r, [a, b])


def test_files_path_refuses_control_characters():
    path = "/usr/share/x/a\tb"
    r = _resolved_with([Entry(path, EntryKind.FILE, 0o644, source="f")])
    with pytest.raises(ResolveError, match="control character"):
        files_path(path, r, [path])


def test_install_word_quotes_then_escapes_percent():
    r = resolved_example("vdsm-hook-acme")
    assert install_word("/usr/share/x/50%{name} [x].sh", r) == "%{buildroot}%{_datadir}'/x/50%%{name} [x].sh'"
    assert install_word("/opt/app", r) == "%{buildroot}/opt/app"


def test_description_escapes_percent_and_section_names():
    lines = description_lines("100% sure\n%files\n%{lua: x}\n")
    assert lines == ["100%% sure", " %%files", " %%{lua: x}"]


def test_hostile_metadata_is_escaped_in_spec():
    r = _resolved_with(
        list(resolved_example("vdsm-hook-acme").entries),
        summary="Hostile %(touch /tmp/pwned)",
        description="%define x y\nbody %{lua: os.execute('x')}\n",
    )
    spec = render_spec(r)
    assert "Summary:        Hostile %%(touch /tmp/pwned)\n" in spec
    assert "\n %%define x y\nbody %%{lua: os.execute('x')}\n" in spec
    assert "%(touch" not in spec.replace("%%(touch", "")


def test_scriptlet_dispatch_table():
    base = resolved_example("libvirt-hook-acme")
    scripts = {
        "pre-install": "echo pi\n",
        "pre-upgrade": "echo pu\n",
        "post-install": "echo Pi\n",
        "post-upgrade": "echo Pu\n",
        "pre-remove": "echo pr\n",
        "post-remove": "echo Pr\n",
        "purge": "echo purge\n",
    }
    r = dataclasses.replace(base, scripts=scripts)
    out = rpm_scriptlets(r)
    assert set(out) == {"pre", "post", "preun", "postun"}
    assert out["pre"].index('[ "$1" -eq 1 ]') < out["pre"].index("echo pi") < out["pre"].index('[ "$1" -ge 2 ]')
    assert out["pre"].index('[ "$1" -ge 2 ]') < out["pre"].index("echo pu")
    assert "echo pr" in out["preun"] and '[ "$1" -eq 0 ]' in out["preun"]
    # purge runs on erase, after post-remove
    assert out["postun"].index("echo Pr") < out["postun"].index("echo purge")


def test_scriptlet_heredoc_and_interpreter():
    assert heredoc_marker("a\nPKGTOOL_PURGE\n", "purge") == "PKGTOOL_PURGE_1"
    assert interpreter("#!/usr/bin/python3\nprint(1)\n") == "/usr/bin/python3 -"
    assert interpreter("#!/bin/bash -e\n") == "/bin/bash -e -s"
    assert interpreter("echo\n") == "/bin/sh -s"


def test_accounts_created_in_pre_with_requires():
    base = resolved_example("vdsm-hook-acme")
    d = Entry("/var/lib/acme", EntryKind.DIR, 0o750, owner="acme", group="kvm")
    r = dataclasses.replace(base, entries=tuple(sorted((*base.entries, d), key=lambda e: e.path)))
    pre = rpm_scriptlets(r)["pre"]
    assert "getent group kvm >/dev/null || groupadd -r kvm" in pre
    assert "useradd -r -g kvm -d / -s /sbin/nologin acme" in pre
    spec = render_spec(r)
    assert "Requires(pre):  /usr/sbin/useradd" in spec
    assert "%dir %attr(0750,acme,kvm) %{_localstatedir}/lib/acme" in spec


def test_rpmlint_filters_exactly_the_odd_modes():
    r = resolved_example("convirt")
    filters = lint_filters(r)
    assert sorted((f.check, f.path) for f in filters) == [
        ("non-standard-executable-perm", "/var/cache/convirt/image_store/fedora_vm/provision.sh"),
        ("non-standard-executable-perm", "/var/cache/convirt/image_store/linux_cd/provision.sh"),
    ]
    rc = render_rpmlintrc(r)
    assert rc.count("addFilter(") == 2
    # an executable hook marked %config, a 0440 sudoers drop-in: asked for on purpose, one filter each
    assert [(f.check, f.path) for f in lint_filters(resolved_example("libvirt-hook-acme"))] == [
        ("executable-marked-as-config-file", "/etc/libvirt/hooks/qemu.d/50-acme")
    ]
    assert [(f.check, f.path) for f in lint_filters(resolved_example("vdsm-hook-acme"))] == [
        ("non-readable", "/etc/sudoers.d/50_vdsm_hook_acme")
    ]


def _tar_names(path: Path) -> list[str]:
    import zstandard

    with open(path, "rb") as raw:
        data = raw.read()
    if path.suffix == ".zst":
        data = zstandard.ZstdDecompressor().stream_reader(data).read()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getnames()


@pytest.mark.parametrize(
    ("distro", "tarball"), [("fedora", "convirt-0.9.0.tar.zst"), ("opensuse-leap", "convirt-0.9.0.tar.gz")]
)
def test_generate_writes_spec_tarball_patch_and_lint_config(tmp_path, distro, tarball):
    # The profile's source_compression names Source0 and compresses it: fedora zstd, leap gzip.
    r = resolved_example("convirt", distro)
    paths = generate_rpm(r, tmp_path)
    names = sorted(p.name for p in paths)
    assert names == [
        "0001-paramiko-channel-timeout.patch",
        tarball,
        "convirt-rpmlint.toml",
        "convirt.rpmlintrc",
        "convirt.spec",
    ]
    assert (
        f"Source0:        %{{name}}-%{{version}}{tarball[len('convirt-0.9.0') :]}\n"
        in (tmp_path / "convirt.spec").read_text()
    )
    members = _tar_names(tmp_path / tarball)
    assert "convirt-0.9.0/patches/0001-paramiko-channel-timeout.patch" in members
    assert "convirt-0.9.0/src/convirt/core/remote.py" in members
    assert 'ValidLicenses = ["GPL-2.0-or-later"]' in (tmp_path / "convirt-rpmlint.toml").read_text()
    first = (tmp_path / tarball).read_bytes()
    generate_rpm(r, tmp_path)
    assert (tmp_path / tarball).read_bytes() == first


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError])
def test_generate_stopped_half_way_keeps_the_previous_set(tmp_path, monkeypatch, stop):
    # A second generate stopped after its spec was written (Ctrl-C, a full disk) must leave the
    # first run's complete set: the old spec was once replaced, then removed, and lost.
    import pkgtool.formats.rpm.spec as spec_module

    r = resolved_example("convirt")
    generate_rpm(r, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def fail(*args, **kwargs):
        raise stop("stopped after the spec")

    monkeypatch.setattr(spec_module, "write_source_tarball", fail)
    new_package = dataclasses.replace(r.layout.package, summary="A new summary")
    changed = dataclasses.replace(r, layout=dataclasses.replace(r.layout, package=new_package))
    with pytest.raises(stop):
        generate_rpm(changed, tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# ---------------------------------------------------------------- native builder + reader


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_native_rpm_matches_entries(example, tmp_path):
    r = resolved_example(example)
    path = build_rpm(r, tmp_path)
    assert path.name == rpm_file_name(r)
    info = read_rpm(path)
    assert (info.name, info.version, info.release, info.arch) == (
        r.package.name,
        r.package.version,
        r.package.release + ".fc40",
        "noarch",
    )
    seen = {o.path: o for o in info.entries}
    assert set(seen) == {e.path for e in r.owned}
    for e in r.owned:
        o = seen[e.path]
        assert o.kind is e.kind, e.path
        if e.kind is not EntryKind.SYMLINK:
            assert (o.mode, o.owner, o.group, o.config) == (e.mode, e.owner, e.group, e.config), e.path
    want = {
        k: tuple((x.name, x.op, x.version) for x in v) for k, v in r.relations.items() if v and k != "build-requires"
    }
    got = {k: tuple((x.name, x.op, x.version) for x in v) for k, v in info.relations.items()}
    assert got == want


def test_native_rpm_is_reproducible(tmp_path):
    r = resolved_example("convirt")
    a = build_rpm(r, tmp_path / "a").read_bytes()
    b = build_rpm(r, tmp_path / "b").read_bytes()
    assert a == b


def test_native_rpm_applies_patches_and_relative_links(tmp_path):
    r = resolved_example("convirt")
    info = read_rpm(build_rpm(r, tmp_path))
    link = next(o for o in info.entries if o.path == "/usr/bin/convirt")
    assert link.target == "../share/convirt/install/client/ConVirt"
    conf = next(o for o in info.entries if o.path == "/etc/convirt.conf")
    assert conf.config is ConfigKind.NOREPLACE
    import hashlib

    patched = next(o for o in info.entries if o.path.endswith("core/remote.py"))
    original = (EXAMPLES / "convirt/src/convirt/core/remote.py").read_bytes()
    assert patched.digest != hashlib.sha256(original).hexdigest()
    assert patched.digest == hashlib.sha256(original.replace(b"settimeout(None)", b"settimeout(30)")).hexdigest()


# ---------------------------------------------------------------- reader safety


def _lead() -> bytes:
    return b"\xed\xab\xee\xdb" + b"\0" * 92


def _header(nindex: int, hsize: int, body: bytes = b"") -> bytes:
    return b"\x8e\xad\xe8\x01\0\0\0\0" + struct.pack(">II", nindex, hsize) + body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04" + b"\0" * 200, "wrong magic"),
        (b"", "truncated"),
        (_lead()[:50], "truncated"),
        (_lead() + b"\x8e\xad", "truncated"),
        (_lead() + b"garbage!" + b"\0" * 8, "no signature header magic"),
        (_lead() + _header(0xFFFFFFF0, 16), "claims"),
        (_lead() + _header(10, 0x0FFFFFFF), "past the end"),
        (_lead() + _header(0, 0) + _header(1, 4, struct.pack(">iiii", 1000, 6, 0, 1) + b"abcd"), "not terminated"),
        (_lead() + _header(0, 0) + _header(1, 4, struct.pack(">iiii", 1000, 4, 0, 1000) + b"abcd"), "points outside"),
        (_lead() + _header(0, 0) + _header(1, 4, struct.pack(">iiii", 1000, 4, 2, 1) + b"abcd"), "runs past"),
    ],
)
@pytest.mark.damaged_rpms
def test_reader_refuses_hostile_files(tmp_path, data, message):
    path = tmp_path / "bad.rpm"
    path.write_bytes(data)
    with pytest.raises(ArtifactError, match=message):
        read_rpm(path)


@pytest.mark.damaged_rpms
def test_reader_never_reads_the_payload(tmp_path):
    r = resolved_example("convirt")
    good = build_rpm(r, tmp_path).read_bytes()
    header = read_header(tmp_path / rpm_file_name(r))
    # cut the payload off: the header (and so every entry) is still readable
    cut = tmp_path / "cut.rpm"
    cut.write_bytes(good[: header.payload_offset])
    assert [o.path for o in read_rpm(cut).entries] == [o.path for o in read_rpm(tmp_path / rpm_file_name(r)).entries]


def test_reader_error_on_missing_file(tmp_path):
    with pytest.raises(ArtifactError, match="cannot read"):
        read_rpm(Path(tmp_path / "nope.rpm"))


def _tree_project(tmp_path: Path, files: int) -> Path:
    (tmp_path / "data" / "d").mkdir(parents=True)
    for i in range(files):
        (tmp_path / "data" / "d" / f"f{i:03d}.txt").write_text(f"{i}\n")
    (tmp_path / "tool.in").write_text("#!/bin/sh\n")
    (tmp_path / "pkgtool.toml").write_text(
        'schema = 1\n[package]\nname = "many"\nversion = "1.0"\nsummary = "Many files"\n'
        'description = "Many files."\nlicense = "MIT"\nmaintainer = "A <a@example.org>"\n'
        '[[tree]]\nsrc = "data/"\ndst = "/usr/share/many/"\n'
        '[[file]]\nsrc = "tool.in"\ndst = "/usr/bin/many"\nmode = "0755"\n'
    )
    return tmp_path


def test_install_runs_one_command_per_directory_and_mode_not_per_file(tmp_path):
    """250 files of one directory: three `install -t` commands of at most 100 files, not 250 processes."""
    from pkgtool.formats.deb.debian_dir import debian_files

    resolved = resolve_dir(_tree_project(tmp_path, 250), "fedora", source_date_epoch=EPOCH)
    commands = [line for line in install_lines(resolved) if line.startswith("install -p -D")]
    batched = [c for c in commands if " -t " in c.split("\n")[0]]
    assert [c.count("\n") for c in batched] == [100, 100, 50]
    assert all(c.split("\n")[0] == "install -p -D -m 0644 -t %{buildroot}%{_datadir}/many/d \\" for c in batched)
    assert "    data/d/f249.txt" in batched[-1].splitlines()
    # A file whose installed name differs from its source's keeps its own command.
    assert "install -p -D -m 0755 tool.in %{buildroot}%{_bindir}/many" in commands
    assert len(commands) == 4

    rules = next(
        f.text for f in debian_files(resolve_dir(tmp_path, "debian", source_date_epoch=EPOCH)) if f.rel == "rules"
    )
    install = rules.split("override_dh_auto_install:", 1)[1].split("\n\n", 1)[0]
    assert install.count("\tinstall -D -m 0644 -t debian/many/usr/share/many/d \\\n") == 3
    assert "\tinstall -D -m 0755 tool.in debian/many/usr/bin/many\n" in install + "\n"


# ---------------------------------------------------------------- per-path helpers and their fast paths


def _split_by_walk(path: str, table: dict[str, str]) -> tuple[str, str]:
    """split_macro's answer as first written: try the path, then each parent, longest first."""
    d = path
    while d:
        if d in table:
            return table[d], path[len(d) :]
        d = d.rpartition("/")[0]
    return table.get("", ""), path


def test_split_macro_memo_gives_the_walks_answer():
    # The memo by parent directory must not change any answer: the profile directories
    # themselves, files right in them, deep below them, outside them, and siblings of each.
    r = resolved_example("vdsm-hook-acme")
    table = {d.rstrip("/"): r.profile.rpm_macros[k] for k, d in r.profile.dirs.items() if k in r.profile.rpm_macros}
    paths = []
    for d in sorted(table):
        paths += [d, f"{d}/a", f"{d}/a/b", f"{d}/a/b/c", f"{d}x/a", f"{d}/a/b/d"]
    paths += ["/", "/a", "/opt/app/x", "/opt/app/y", "/srv"]
    for path in paths * 2:  # the second round reads the memo
        assert split_macro(path, r) == _split_by_walk(path, table), path


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12))
def test_quote_fast_paths_equal_the_full_quoting(word):
    assert rpm_shell_quote(word) == rpm_escape(shlex.quote(word))
    assert make_shell_quote(word) == make_escape(shlex.quote(word))


@pytest.mark.parametrize("word", ["", "plain/path-1.2_x", "50%x", "$HOME", "a b", "caf\u00e9", "-x", "a=b:c,d@e+f"])
def test_quote_fast_paths_on_chosen_words(word):
    assert rpm_shell_quote(word) == rpm_escape(shlex.quote(word))
    assert make_shell_quote(word) == make_escape(shlex.quote(word))


def test_install_steps_never_hand_install_a_source_that_reads_as_an_option():
    from pkgtool.formats.install_steps import StepKind, install_steps

    files = [
        Entry("/etc/x/-opt.conf", EntryKind.FILE, 0o644, source="-opt.conf"),  # keeps its name: batched
        Entry("/etc/x/renamed.conf", EntryKind.FILE, 0o600, source="-other.conf"),  # renamed: a step of its own
        Entry("/usr/bin/tool", EntryKind.FILE, 0o755, source="bin/tool"),
    ]
    steps = list(install_steps([], files))
    into = {(s.dest, s.mode): s.words for s in steps if s.kind is StepKind.INTO}
    single = [s for s in steps if s.kind is StepKind.FILE]
    assert into == {("/etc/x", 0o644): ("./-opt.conf",), ("/usr/bin", 0o755): ("bin/tool",)}
    assert [(s.dest, s.words) for s in single] == [("/etc/x/renamed.conf", ("./-other.conf",))]
