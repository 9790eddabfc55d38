"""The RPM source package: NAME.spec, NAME-VERSION.tar.zst (or .tar.gz), patches, and an rpmlint configuration.

Everything here reads a Resolved and nothing else.  Text from the map goes
through one of three escapes, each matching where it lands:

- spec text (tags, %description, %changelog, scriptlets, %install lines):
  every `%` doubled (`rpm_escape`), so rpm expands no macro from user data;
  a %description line starting with `%` also gets a leading space, because
  rpm checks each expanded line for a section name (`%files`, `%install`);
- %install shell words: shell-quoted first, then `%` doubled;
- %files paths: see ``files_path``: rpm 4.18 expands a %files line three
  times and globs it, so a name with `%`, brackets, braces, quotes or
  backslashes is written as a glob that matches exactly that one name.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Sequence
from pathlib import Path

from ...archive.source_tarball import tarball_name, write_source_tarball
from ...atomic import atomic_file_set, write_bytes_atomic
from ...errors import ResolveError
from ...model import Resolved, ResolvedRelation
from ...sources.regular import read_input
from ...sources.staging import staged_sources, template_fills
from ...templating import environment, one_line, rpm_escape, rpm_shell_quote
from .bytecode import byte_compile_lines, spec_fallbacks, with_bytecode
from .facts import changelog_items, implied_provides, relation_text, spec_evr, wrapped_description
from .rpmlint import render_rpmlint_toml, render_rpmlintrc
from .scriptlets import SCRIPTLETS, pre_requires, scriptlet_parts
from .shebangs import SED, mangles, to_mangle
from .spec_paths import CORE_MACROS, files_lines, install_lines, install_word
from .units import MACROS_PACKAGE, macro_uses

# Map relation kind -> spec tag.  'replaces' is Obsoletes in RPM (plus implied_provides).
RELATION_TAGS: dict[str, str] = {
    "build-requires": "BuildRequires",
    "requires": "Requires",
    "requires-pre": "Requires(pre)",
    "requires-post": "Requires(post)",
    "requires-preun": "Requires(preun)",
    "requires-postun": "Requires(postun)",
    "recommends": "Recommends",
    "suggests": "Suggests",
    "conflicts": "Conflicts",
    "provides": "Provides",
    "replaces": "Obsoletes",
}


def relation_lines(resolved: Resolved) -> list[tuple[str, str]]:
    """(tag, value) pairs for the preamble, in RELATION_TAGS order, each escaped; implied Provides after the map's."""
    out = []
    for kind, tag in RELATION_TAGS.items():
        for rel in resolved.relations.get(kind, ()):
            out.append((tag, own_relation(rel, resolved) if rel.own else rpm_escape(one_line(relation_text(rel)))))
        if kind == "provides":
            # The version is spec_evr's macros: not escaped, rpm must expand them.
            implied = implied_provides(resolved, spec_evr(resolved))
            out += [(tag, f"{rpm_escape(one_line(r.name))} = {r.version}") for r in implied]
    return out


def own_relation(rel: ResolvedRelation, resolved: Resolved) -> str:
    """A relation on the package's own version, in the spec's macros (`= %{version}-%{release}`)."""
    # Placeholders pass rpm_escape untouched (it doubles '%' only); the macros go in after it.
    version = rpm_escape(one_line(rel.own))
    for key, macro in (("version", "%{version}"), ("release", "%{release}"), ("evr", spec_evr(resolved))):
        version = version.replace("{" + key + "}", macro)
    return f"{rpm_escape(one_line(rel.name))} {rel.op} {version}"


def description_lines(text: str) -> list[str]:
    lines = [rpm_escape(line) for line in wrapped_description(text).splitlines()]
    # rpm looks for a section name in each expanded line: "%files" in prose would open one.
    return [(" " + line) if line.startswith("%") else line for line in lines]


def changelog_entries(resolved: Resolved) -> list[dict[str, object]]:
    """%changelog entries for the template, escaped: header line and change lines."""
    return [
        {
            "header": rpm_escape(one_line(f"* {date.strftime('%a %b %d %Y')} {author} - {version}")),
            "changes": [rpm_escape(one_line(x)) for x in changes],
        }
        for date, author, version, changes in changelog_items(resolved)
    ]


def patch_names(resolved: Resolved) -> list[tuple[str, int, str]]:
    """(file name in SOURCES, strip, relative source) per [[patch]]; names must be distinct."""
    seen: dict[str, str] = {}
    reserved = {script_file_name(resolved, s) for s in SCRIPTLETS}
    out = []
    for p in resolved.layout.patches:
        name = posixpath.basename(p.file)
        if name in reserved:
            raise ResolveError(f"patch {p.file}: its file name is one pkgtool writes beside the spec; rename it")
        if name in seen:
            raise ResolveError(f"patches {seen[name]} and {p.file} have the same file name; rename one")
        seen[name] = p.file
        out.append((name, p.strip, p.file))
    return out


# rpm reads a scriptlet read from a -f file with fgets(BUFSIZ) and expands each chunk on
# its own: a chunk boundary between the two '%' of a '%%' would let the rest expand.
_SCRIPT_FILE_LINE_MAX = 8190


def script_file_name(resolved: Resolved, scriptlet: str) -> str:
    """The SOURCES file that carries a scriptlet body rpm must not parse as spec text."""
    return f"{resolved.package.name}-{scriptlet}.scriptlet"


def spec_scripts(resolved: Resolved) -> list[tuple[str, str, str]]:
    """(scriptlet, escaped inline body, file name or '') in spec order.

    rpm looks for a section name (`%check`, `%files`, ...) at the start of every
    expanded line of a scriptlet, so a body line starting with `%` would open a
    section, whatever escape it gets.  Such a body goes into its own file, read
    with `%post -f FILE`: rpm expands that file's text (every `%` doubled) but
    never parses it for sections, so it reaches the package byte for byte.
    """
    out = []
    bodies = scriptlet_parts(resolved)
    for name in SCRIPTLETS:
        parts = bodies.get(name)
        if parts is None:
            continue
        escaped = "\n".join(p.spec for p in parts) + "\n"  # systemd-rpm-macros named: rpm expands them
        if not any(line.startswith("%") for p in parts for line in p.text.split("\n")):
            out.append((name, escaped, ""))
            continue
        for n, line in enumerate(escaped.split("\n"), 1):
            if len(line.encode("utf-8", "surrogateescape")) > _SCRIPT_FILE_LINE_MAX:
                raise ResolveError(
                    f"[scripts]: line {n} of the %{name} scriptlet is longer than {_SCRIPT_FILE_LINE_MAX} bytes",
                    hint="rpm reads a scriptlet that starts a line with '%' in chunks of that size; split the line",
                )
        out.append((name, "", script_file_name(resolved, name)))
    return out


def script_files(resolved: Resolved) -> dict[str, str]:
    """File name -> escaped body, for the scriptlets ``spec_scripts`` sends through -f (every package's)."""
    out = {}
    for p in resolved.packages:
        bodies = scriptlet_parts(p)
        # rpm keeps a file's last newline but drops an inline body's: the two must store the same text.
        out.update({f: "\n".join(part.spec for part in bodies[name]) for name, _, f in spec_scripts(p) if f})
    return out


def macro_fallbacks(resolved: Resolved, used: Sequence[str]) -> list[str]:
    """%global lines for non-core macros the spec uses, so rpmbuilds without them still work."""
    out = []
    for key, macro in sorted(resolved.profile.rpm_macros.items()):
        if macro in CORE_MACROS or not any(macro in line for line in used):
            continue
        m = re.fullmatch(r"%\{([A-Za-z0-9_]+)\}", macro)
        directory = resolved.profile.dirs.get(key)
        if m and directory:
            out.append(f"%{{!?{m.group(1)}:%global {m.group(1)} {rpm_escape(directory)}}}")
    return out


def shebang_lines(resolved: Resolved) -> list[str]:
    """%install: brp-mangle-shebangs' rewrite of #!/usr/bin/env NAME, done here so any rpmbuild gives it."""
    if not mangles(resolved):
        return []
    with staged_sources(resolved) as tree:
        paths = to_mangle(resolved, Path(tree))
    return [f"sed -i {rpm_shell_quote(SED)} {install_word(path, resolved)}" for path in paths]


def systemd_fallbacks(resolved: Resolved) -> list[str]:
    """systemd-rpm-macros' macros the scriptlets name, each defined as recorded where rpmbuild lacks it."""
    uses = {u.key: u for p in resolved.packages for u in macro_uses(p)}
    return [uses[k].fallback() for k in sorted(uses)]


def bytecode_fallbacks(resolved: Resolved) -> list[str]:
    """The byte-compile macros' fallbacks, when some package of the spec has byte-code."""
    return list(spec_fallbacks(resolved)) if any(byte_compile_lines(p) for p in resolved.packages) else []


def template_lines(resolved: Resolved) -> list[str]:
    """%install: each templated file filled in place by sed, as staging fills it for native builds."""
    out = []
    for path, exprs in template_fills(resolved).items():
        if exprs:
            words = " ".join(f"-e {rpm_shell_quote(x)}" for x in exprs)
            out.append(f"LC_ALL=C sed -i {words} {install_word(path, resolved)}")
    return out


def build_arch(resolved: Resolved) -> tuple[str, str]:
    """('BuildArch', 'noarch') | ('ExclusiveArch', arch) | ('', '') for the build host's arch."""
    arch = resolved.package.arch
    if arch == "noarch":
        return ("BuildArch", "noarch")
    if arch == "native":
        return ("", "")
    return ("ExclusiveArch", rpm_escape(one_line(arch)))


def sub_context(sub: Resolved, all_paths: Sequence[str]) -> dict[str, object]:
    """A %package section, its %description, scriptlets and %files, for one [[subpackage]]."""
    pkg = sub.package
    arch = build_arch(sub)
    return {
        "name": rpm_escape(pkg.name),
        "summary": rpm_escape(one_line(pkg.summary)),
        # A sub-package may only narrow to noarch; other arch tags are the whole spec's.
        "arch": arch if arch[0] == "BuildArch" else ("", ""),
        "relations": relation_lines(sub),
        "pre_requires": list(pre_requires(sub)),
        "description": description_lines(pkg.description),
        "scripts": spec_scripts(sub),
        "files": files_lines(sub, all_paths),
    }


def spec_context(resolved: Resolved) -> dict[str, object]:
    pkg = resolved.package
    # The spec lists the .pyc files rpmbuild makes (%files must own them); %install compiles with the sources.
    listed = dataclasses.replace(
        with_bytecode(resolved), subpackages=tuple(with_bytecode(s) for s in resolved.subpackages)
    )
    all_paths = sorted({e.path for p in listed.packages for e in p.entries})
    files = files_lines(listed, all_paths if listed.subpackages else None)
    # Each package's %install lines: directories two packages own are made twice, which install -d allows.
    install = [line for p in resolved.packages for line in install_lines(p)]
    install += [line for p in resolved.packages for line in template_lines(p)]
    install += [line for p in resolved.packages for line in shebang_lines(p)]
    install += [line for p in resolved.packages for line in byte_compile_lines(p)]
    patches = patch_names(resolved)
    strips = {s for _, s, _ in patches}
    scripts = spec_scripts(resolved)
    subs = [sub_context(sub, all_paths) for sub in listed.subpackages]
    script_names = [f for _, _, f in scripts if f] + [f for sub in subs for _, _, f in sub["scripts"] if f]
    used = files + install + [line for sub in subs for line in sub["files"]]
    return {
        "pkg": pkg,
        "name": rpm_escape(pkg.name),
        "source0": tarball_name("%{name}-%{version}", resolved.profile.source_compression),
        "version": rpm_escape(pkg.version),
        "release": rpm_escape(pkg.release),
        "epoch": pkg.epoch,
        "summary": rpm_escape(one_line(pkg.summary)),
        "license": rpm_escape(one_line(pkg.license)),
        "url": rpm_escape(one_line(pkg.url)),
        "vendor": rpm_escape(one_line(pkg.vendor)),
        "arch": build_arch(resolved),
        "relations": relation_lines(resolved),
        "pre_requires": list(pre_requires(resolved)),
        "patches": [(rpm_escape(n), s) for n, s, _ in patches],
        "autosetup_strip": next(iter(strips)) if len(strips) == 1 else None,
        "description": description_lines(pkg.description),
        "install": install,
        "scripts": scripts,
        # Sources after Source0; each copied next to the build directory in %prep for -f.
        "script_sources": [(i, f) for i, f in enumerate(script_names, start=1)],
        "files": files,
        "subpackages": subs,
        "changelog": changelog_entries(resolved),
        "fallbacks": macro_fallbacks(resolved, used) + bytecode_fallbacks(resolved) + systemd_fallbacks(resolved),
        "systemd_macros": MACROS_PACKAGE if systemd_fallbacks(resolved) else "",
        "profile": resolved.profile.id,
    }


def render_spec(resolved: Resolved) -> str:
    return environment().get_template("rpm/spec.j2").render(**spec_context(resolved))


# ---------------------------------------------------------------- output


def generate_rpm(resolved: Resolved, out_dir: Path) -> list[Path]:
    """Write NAME.spec, NAME-VERSION.tar.{gz,zst}, each patch, NAME.rpmlintrc and NAME-rpmlint.toml into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # The set is written whole or not at all: a spec without its tarball (a full disk, Ctrl-C)
    # would build something else, and an interrupted run must leave the previous set intact.
    with atomic_file_set(out_dir, f"{resolved.package.name}.spec") as tmp:
        written = _write_rpm_sources(resolved, tmp)
    return [out_dir / p.name for p in written]


def _write_rpm_sources(resolved: Resolved, out_dir: Path) -> list[Path]:
    written: list[Path] = []
    pkg = resolved.package
    spec = render_spec(resolved)
    spec_path = out_dir / f"{pkg.name}.spec"
    write_bytes_atomic(spec_path, spec.encode("utf-8"))
    written.append(spec_path)
    top = f"{pkg.name}-{pkg.version}"
    compression = resolved.profile.source_compression
    tarball = out_dir / tarball_name(top, compression)
    written.append(write_source_tarball(resolved, tarball, top, compression=compression))
    for name, _, rel in patch_names(resolved):
        dest = out_dir / name
        write_bytes_atomic(dest, read_input(resolved.root, rel, "patch"))
        written.append(dest)
    for name, body in script_files(resolved).items():
        dest = out_dir / name
        write_bytes_atomic(dest, body.encode("utf-8", "surrogateescape"))
        written.append(dest)
    rc = out_dir / f"{pkg.name}.rpmlintrc"
    write_bytes_atomic(rc, render_rpmlintrc(resolved).encode("utf-8"))
    written.append(rc)
    toml = out_dir / f"{pkg.name}-rpmlint.toml"
    write_bytes_atomic(toml, render_rpmlint_toml(resolved).encode("utf-8"))
    written.append(toml)
    return list(written)
