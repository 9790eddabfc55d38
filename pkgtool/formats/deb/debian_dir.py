"""The debian/ tree of a source package: control, rules, links, conffiles, maintainer scripts, patches; generate_deb.

The facts it renders (names, relations, link targets, changelog, copyright)
come from facts.py, which the native .deb writer reads too.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ...archive.source_tarball import source_members, write_members_tarball
from ...atomic import atomic_dir
from ...errors import PkgtoolError
from ...model import ConfigKind, Entry, EntryKind, Resolved, ResolvedRelation
from ...sources.staging import read_patch, template_fills
from ...templating import command_lines, environment, make_shell_quote, one_line
from ..install_steps import StepKind, chunks, install_steps
from .facts import (
    DEB_OPS,
    changelog_text,
    copyright_text,
    deb_arch,
    deployed_rel,
    description_field,
    doc_dir,
    license_texts,
    link_target,
    lintian_overrides,
    relation_fields,
    relation_text,
    section,
    simplify_relations,
)
from .maintainer_scripts import maintainer_scripts
from .units import dh_flags

# ---------------------------------------------------------------- names


def tree_name(resolved: Resolved) -> str:
    return f"{resolved.package.name}-{resolved.package.version}"


def orig_name(resolved: Resolved) -> str:
    return f"{resolved.package.name}_{resolved.package.version}.orig.tar.gz"


# ---------------------------------------------------------------- links


def absolute_target(entry: Entry) -> str:
    """The link's target as an absolute path (what debian/links wants, without its '/')."""
    assert entry.target is not None
    if entry.target.startswith("/"):
        return posixpath.normpath(entry.target)
    return posixpath.normpath(posixpath.join(posixpath.dirname(entry.path), entry.target))


def _debhelper_list_safe(path: str) -> bool:
    # debhelper splits its list files on whitespace and expands ${...}: such names go into rules instead.
    return not re.search(r"\s", path) and "${" not in path and not path.startswith("#")


# ---------------------------------------------------------------- the debian/ tree


@dataclass(frozen=True)
class DebianFile:
    rel: str  # path under debian/
    text: str
    mode: int = 0o644


def _install_commands(resolved: Resolved, tmp: str) -> list[str]:
    """override_dh_auto_install's commands, make-quoted: one `install` per run of directories
    of one mode (path order: parents first) and per (directory, mode) of files that keep
    their source's name, so a large tree does not cost one process per path."""
    commands = []
    dirs = [e for e in resolved.entries if e.kind is EntryKind.DIR and e.path != "/"]
    files = [e for e in resolved.entries if e.kind is EntryKind.FILE]
    for step in install_steps(dirs, files):
        mode = f"{step.mode:04o}"
        if step.kind is StepKind.DIRS:
            commands.append(
                command_lines(f"install -d -m {mode}", [make_shell_quote(tmp + d) for d in step.words], "\t\t")
            )
            continue
        sources = [make_shell_quote(w) for w in step.words]
        if step.kind is StepKind.INTO:
            commands.append(
                command_lines(f"install -D -m {mode} -t {make_shell_quote(tmp + step.dest)}", sources, "\t\t")
            )
        else:
            commands.append(f"install -D -m {mode} {sources[0]} {make_shell_quote(tmp + step.dest)}")
    # Templated files filled in place, with the expressions staging uses for native builds.
    for path, exprs in template_fills(resolved).items():
        if exprs:
            words = " ".join(f"-e {make_shell_quote(x)}" for x in exprs)
            commands.append(f"LC_ALL=C sed -i {words} {make_shell_quote(tmp + path)}")
    return commands


def _rules(resolved: Resolved) -> str:
    # Each binary package is laid out in its own debian/NAME, the directory dh_builddeb packs:
    # the map already says which package owns each path, so no debian/tmp + NAME.install split.
    install, links_in_rules, chmods, changelogs = [], [], [], []
    for package in resolved.packages:
        tmp = f"debian/{package.package.name}"
        for e in package.entries:
            if e.kind is EntryKind.SYMLINK and not (
                _debhelper_list_safe(e.path) and _debhelper_list_safe(absolute_target(e))
            ):
                links_in_rules.append({"dst": tmp + e.path, "target": link_target(e)})
        install += _install_commands(package, tmp)
        by_mode: dict[int, list[str]] = {}
        for e in package.entries:
            if e.kind is not EntryKind.SYMLINK and e.path != "/":
                by_mode.setdefault(e.mode, []).append(tmp + e.path)
        for mode in sorted(by_mode):
            for chunk in chunks(by_mode[mode]):
                chmods.append({"mode": mode, "paths": chunk})
        changelogs.append(f"{tmp}{doc_dir(package)}/changelog.Debian")
    return (
        environment()
        .get_template("deb/rules.j2")
        .render(
            tmps=[f"debian/{p.package.name}" for p in resolved.packages],
            install=install,
            links=links_in_rules,
            chmods=chmods,
            changelogs=changelogs,
            compression=resolved.profile.compression,
            compression_level=resolved.profile.compression_level,
            package=resolved.package.name,
            systemd_calls=dh_flags(resolved),
            tmpfiles=bool(resolved.layout.tmpfiles),
        )
    )


def debian_files(resolved: Resolved, license_texts: Iterable[str] = ()) -> list[DebianFile]:
    """Every file of debian/, rendered; sorted by path."""
    env = environment()
    files = [
        DebianFile("control", _control(resolved)),
        DebianFile("rules", _rules(resolved), 0o755),
        DebianFile("changelog", changelog_text(resolved)),
        DebianFile("copyright", copyright_text(resolved, license_texts)),
        DebianFile("source/format", env.get_template("deb/source/format.j2").render()),
    ]
    for package in resolved.packages:
        files += _package_files(package)
    patch_names = _patch_names(resolved)
    if patch_names:
        files.append(
            DebianFile("patches/series", env.get_template("deb/patches/series.j2").render(patches=patch_names))
        )
    return sorted(files, key=lambda f: f.rel)


def _package_files(resolved: Resolved) -> list[DebianFile]:
    """debian/NAME.links, .conffiles, .lintian-overrides and maintainer scripts of one binary package."""
    env = environment()
    name = resolved.package.name
    files = []
    links = [
        (deployed_rel(absolute_target(e)), deployed_rel(e.path))
        for e in resolved.entries
        if e.kind is EntryKind.SYMLINK and _debhelper_list_safe(e.path) and _debhelper_list_safe(absolute_target(e))
    ]
    if links:
        files.append(DebianFile(f"{name}.links", env.get_template("deb/links.j2").render(links=links)))
    extra_conf = [
        e.path
        for e in resolved.files
        if e.config is not ConfigKind.NONE
        and not any(e.path.startswith(d.rstrip("/") + "/") for d in resolved.profile.auto_config_dirs)
    ]
    if extra_conf:
        files.append(DebianFile(f"{name}.conffiles", env.get_template("deb/conffiles.j2").render(paths=extra_conf)))
    overrides = lintian_overrides(resolved)
    if overrides:
        files.append(DebianFile(f"{name}.lintian-overrides", overrides))
    for script, text in maintainer_scripts(resolved).items():
        files.append(DebianFile(f"{name}.{script}", text, 0o755))
    return files


def _control(resolved: Resolved) -> str:
    pkg = resolved.package
    build_deps = ["debhelper-compat (= 13)"]
    build_deps += [relation_text(r) for r in simplify_relations(resolved.relations.get("build-requires", ()))]
    # Substvars only for this source's own packages: lintian's version-substvar-for-external-package.
    names = frozenset(p.package.name for p in resolved.packages)
    own = functools.partial(own_relation_text, names=names)
    relations = _with_misc_depends(relation_fields(resolved, own))
    return (
        environment()
        .get_template("deb/control.j2")
        .render(
            name=pkg.name,
            section=substvar_literal(section(resolved)),
            maintainer=substvar_literal(one_line(pkg.maintainer)),
            build_depends=", ".join(build_deps),
            standards_version=resolved.profile.standards_version or "4.6.2",
            homepage=substvar_literal(one_line(pkg.url)),
            arch=deb_arch(resolved),
            relations=relations,
            description=substvar_literal(description_field(pkg.summary, pkg.description)),
            binaries=[_binary_stanza(sub, own) for sub in resolved.subpackages],
        )
    )


def _with_misc_depends(fields: list[tuple[str, str]]) -> list[list[str]]:
    """The relation fields with ${misc:Depends} at the end of Depends (after a Pre-Depends, if any)."""
    relations = [list(f) for f in fields]
    for f in relations:
        if f[0] == "Depends":
            f[1] += ", ${misc:Depends}"
            return relations
    at = 1 if relations and relations[0][0] == "Pre-Depends" else 0
    relations.insert(at, ["Depends", "${misc:Depends}"])
    return relations


def _binary_stanza(sub: Resolved, own: Callable[[ResolvedRelation, Resolved], str]) -> dict[str, object]:
    """A further Package: stanza of debian/control, for one [[subpackage]]."""
    pkg = sub.package
    relations = _with_misc_depends(relation_fields(sub, own))
    return {
        "name": pkg.name,
        "arch": deb_arch(sub),
        "relations": relations,
        "description": substvar_literal(description_field(pkg.summary, pkg.description)),
    }


def substvar_literal(text: str) -> str:
    """Map text for debian/control that dpkg-gencontrol and dpkg-source hand back unchanged.

    Both expand ``${name}`` in every field (an unknown name becomes empty); ``${}`` is their
    escape for a literal ``$`` (deb-substvars(5)), so each ``${`` is written ``${}{``.
    """
    return text.replace("${", "${}{")


def _patch_names(resolved: Resolved) -> list[str]:
    names: list[str] = []
    for i, p in enumerate(resolved.layout.patches):
        base = posixpath.basename(p.file)
        names.append(base if base not in names else f"{i:04d}-{base}")
    return names


def patch_as_p1(text: str, strip: int) -> str:
    """dpkg-source applies every patch with -p1: rewrite the file names of a -pN patch to a/ b/ form."""
    if strip == 1:
        return text

    def fix(prefix: str, name: str, side: str) -> str:
        if name == "/dev/null":
            return prefix + name
        parts = name.split("/")
        if len(parts) <= strip:
            raise PkgtoolError(f"patch file name {name!r} has fewer than {strip} components to strip")
        return f"{prefix}{side}/{'/'.join(parts[strip:])}"

    out = []
    for line in text.splitlines(keepends=True):
        m = re.match(r"^(--- |\+\+\+ )([^\t\n]+)(.*)$", line, re.S)
        if m:
            side = "a" if m.group(1) == "--- " else "b"
            line = fix(m.group(1), m.group(2), side) + m.group(3)
        out.append(line)
    return "".join(out)


def generate_deb(resolved: Resolved, out_dir: Path) -> list[Path]:
    """Write NAME-VERSION/ (sources + debian/) and NAME_VERSION.orig.tar.gz into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    top = tree_name(resolved)
    epoch = resolved.source_date_epoch
    members = source_members(resolved)
    tree = out_dir / top
    with atomic_dir(tree) as tmp:
        # The tree holds what the orig tarball holds, so dpkg-source sees no change outside
        # debian/: each source is copied into it from the read that archives it (not extracted
        # again; not hard-linked, dpkg-source patches the tree in place).
        orig = write_members_tarball(members, out_dir / orig_name(resolved), top, epoch, tree=tmp)
        debian = tmp / "debian"
        texts = license_texts(resolved, resolved.root)
        for f in debian_files(resolved, texts):
            dest = debian / f.rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(f.text, encoding="utf-8")
            dest.chmod(f.mode)
        for name, p in zip(_patch_names(resolved), resolved.layout.patches, strict=True):
            text = read_patch(resolved, p).decode("utf-8", "surrogateescape")
            (debian / "patches" / name).write_text(
                patch_as_p1(text, p.strip), encoding="utf-8", errors="surrogateescape"
            )
        # The copied sources already have their modes and mtime; only debian/ is new.
        _normalise_tree(debian, epoch)
        os.chmod(tmp, 0o755)
    return [tree, orig]


def _normalise_tree(top: Path, epoch: int) -> None:
    """Modes and mtimes independent of the umask and the clock: dirs 0755, files 0755 or 0644."""
    for dirpath, dirnames, filenames in os.walk(top):
        for name in filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode):
                os.chmod(path, 0o755 if st.st_mode & 0o100 else 0o644)
                os.utime(path, (epoch, epoch))
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755)
    os.chmod(top, 0o755)


def own_relation_text(rel: ResolvedRelation, resolved: Resolved, names: frozenset[str] = frozenset()) -> str:
    """A relation on the own version with the substvar dpkg-gencontrol expands to the value the native writer has.

    ``name (= ${binary:Version})`` for the full own version, ``${source:Upstream-Version}`` for {version}."""
    whole = ("{evr}",) if resolved.package.epoch is not None else ("{evr}", "{version}-{release}")
    if rel.name not in names:
        version = rel.version  # another source's package: its value (a substvar would be this source's)
    elif rel.own in whole:
        version = "${binary:Version}"
    elif rel.own == "{version}":
        version = "${source:Upstream-Version}"
    else:
        version = rel.version  # a mix with other text: the value, as the native writer has it
    return f"{one_line(rel.name)} ({DEB_OPS[rel.op]} {version})"
