"""Ids reported by the loader and by resolve, registered here so `explain` and `allow` know them.

Lint does not run these; it passes on what load and resolve report.  They
cannot be waived: a map that does not load or resolve cannot be built.
"""

from __future__ import annotations

from ..diagnostics import Severity
from .rule import Rule

_E = Severity.ERROR

LOADER_RULES: tuple[Rule, ...] = (
    Rule(
        "toml-syntax",
        _E,
        "loader",
        "pkgtool.toml is not valid TOML.",
        "The file could not be parsed at all, so nothing else in it was checked. The message gives "
        "the parser's reason and the line and column.\n\n"
        "Fix: correct the syntax at that place: unbalanced quotes or brackets, a key written twice, "
        "a table header repeated (use `[[file]]` for a list of tables), a bare word where a string "
        "is needed.",
    ),
    Rule(
        "unknown-key",
        _E,
        "loader",
        "A key or table that the layout map does not define.",
        "Every key of pkgtool.toml is part of a fixed contract, so a misspelt key (`dest` for "
        "`dst`, `requries`) would otherwise be ignored silently and the package would be built "
        "without it. The message suggests the nearest valid key.\n\n"
        "Fix: use the suggested spelling, or remove the key. See docs/layout-map.md for every key.",
    ),
    Rule(
        "missing-key",
        _E,
        "loader",
        "A required key is missing.",
        "`schema`, and `name`, `version`, `summary`, `description`, `license` and `maintainer` in "
        "[package], are required; so are `src` and `dst` of [[tree]] and [[file]], `path` of "
        "[[dir]] and [[attr]], `path` and `target` of [[symlink]], and `file` of [[patch]].\n\n"
        "Fix: add the key named in the message.",
    ),
    Rule(
        "bad-type",
        _E,
        "loader",
        "A key has a value of the wrong TOML type.",
        'For instance a string where a list is expected (`exclude = "*.pyc"` instead of '
        '`["*.pyc"]`), or a table where a string is expected.\n\n'
        "Fix: write the value with the type the message names.",
    ),
    Rule(
        "bad-value",
        _E,
        "loader",
        "A key has a value that is not allowed.",
        "The value has the right type but is not one of the accepted values: an unknown `kind` or "
        "`arch`, a relation constraint without a known operator, a mode that is not octal, a "
        '`config` other than true, false or "noreplace", a relative deployed path, a summary of '
        "80 characters or more, and so on. The message names what is accepted.\n\n"
        "Fix: use one of the accepted values.",
    ),
    Rule(
        "integer-mode",
        _E,
        "loader",
        "A mode is written as a TOML integer instead of an octal string.",
        "`mode = 644` is the decimal number 644 (octal 1204) and `mode = 0o644` is a different "
        "number again; which one was meant cannot be known, and packaging tools have shipped "
        "wrong permissions for exactly this reason.\n\n"
        'Fix: write modes as strings of octal digits: `mode = "0644"`, `mode = "4755"`.',
    ),
    Rule(
        "schema-too-new",
        _E,
        "loader",
        "The map declares a schema version newer than this pkgtool knows.",
        "`schema` says which version of the layout-map format the file uses. A newer number means "
        "the file may use keys and meanings this pkgtool would get wrong, so it refuses to read "
        "it rather than guess.\n\n"
        "Fix: upgrade pkgtool, or write the map for the schema this version supports (`schema = 1`).",
    ),
    Rule(
        "bad-name",
        _E,
        "loader",
        "The package name is not valid in both RPM and Debian.",
        "A package name must match `[a-z0-9][a-z0-9+.-]*`: lowercase letters, digits and `+ . -`, "
        "starting with a letter or digit. That is the intersection of what RPM and dpkg accept, "
        "so one map builds under the same name in both formats.\n\n"
        "Fix: rename the package (for example `My_Tool` becomes `my-tool`).",
    ),
    Rule(
        "bad-version",
        _E,
        "loader",
        "The version or release is not valid in both RPM and Debian.",
        "The upstream version must start with a digit and may hold letters, digits and `. + ~`; it "
        "may not hold `-`, which separates the version from the release in both formats, nor `_` "
        "or `:`. The release (packaging revision) follows the same rules.\n\n"
        "Fix: write the version as upstream numbers it, replacing `-` with `.` or `~` (a `~` sorts "
        "before the release it precedes: `1.0~rc1`).",
    ),
    Rule(
        "limit-exceeded",
        _E,
        "loader",
        "The map is larger or deeper than pkgtool reads.",
        "A map may be at most 4 MiB, nest keys at most 16 deep (array indexes included), hold at "
        "most 10,000 elements in one array (or tables in one [[array]]) and 200,000 keys in all. "
        "Far above what a package needs, these limits keep a hostile map from tying up a CI runner: "
        "they are checked before the TOML parser runs.\n\n"
        "Fix: deploy many files with [[tree]] and globs rather than one [[file]] each.",
    ),
    Rule(
        "unsafe-name",
        _E,
        "loader",
        "A file name that reaches a spec or a Debian source package holds characters they would read.",
        "A patch's file name is written into `PatchN:`, which rpm expands again in `%autosetup` "
        "(so `%(...)` or `%{lua:...}` in a name would run at build time), and into "
        "debian/patches/series, which quilt splits at spaces. Such names are refused, not escaped.\n\n"
        "Fix: rename the file with letters, digits and `. _ + ~ -` only.",
    ),
    Rule(
        "unknown-rule",
        _E,
        "loader",
        "An `allow` list names a rule id that does not exist.",
        "`[lint] allow` and the `allow` of [[file]], [[tree]], [[dir]], [[symlink]] and [[attr]] "
        "items waive findings by rule id. A misspelt id would waive nothing while looking as if it "
        "did, so it is refused. The message suggests the nearest known id.\n\n"
        "Fix: use an id that `pkgtool explain` knows (see docs/lint-rules.md).",
    ),
)

RESOLVE_RULES: tuple[Rule, ...] = (
    Rule(
        "missing-source",
        _E,
        "resolve",
        "A `src`, script or patch named in the map does not exist in the tree.",
        "Source paths are relative to the directory of pkgtool.toml. A `{distro}` placeholder is "
        "looked up for the profile and then for each profile it inherits from, so the message "
        "lists every path that was tried.\n\n"
        "Fix: correct the path, or add the file (for `{distro}` paths, for the profile itself or "
        "one it inherits from).",
    ),
    Rule(
        "glob-no-match",
        _E,
        "resolve",
        "A glob in `src` matches no file.",
        "A [[file]] whose `src` is a glob must match at least one file, otherwise a renamed or "
        "removed source would silently drop files from the package.\n\n"
        "Fix: correct the pattern, or remove the item if the files are gone on purpose.",
    ),
    Rule(
        "glob-needs-dir",
        _E,
        "resolve",
        "A glob that matches several files has a `dst` that is not a directory.",
        "Several files cannot all be deployed to one path. A `dst` ending in `/` is a directory "
        "into which each matched file keeps its name.\n\n"
        'Fix: end `dst` with `/` (`dst = "{datadir}/foo/"`), or make the glob match one file.',
    ),
    Rule(
        "attr-no-match",
        _E,
        "resolve",
        "An [[attr]] rule matches no deployed path.",
        "[[attr]] rules set critical permissions by deployed path; a rule that matches nothing "
        "usually means the path or the placeholder is wrong, and the permission it was meant to "
        "set is silently not applied.\n\n"
        "Fix: correct the path or glob (`*` stays inside one path segment, `**` crosses them), "
        "or remove the rule.",
    ),
    Rule(
        "unsafe-path",
        _E,
        "resolve",
        "A source path leaves the layout root, or a deployed path is not absolute and normal.",
        "`src` must stay inside the directory of pkgtool.toml (no `..` out of it, no absolute "
        "path, no symlink out of it), so that a layout cannot package files of the machine that "
        "builds it. Deployed paths must be absolute, without `..` segments.\n\n"
        "Fix: copy the file into the tree, or correct the path.",
    ),
    Rule(
        "conflict",
        _E,
        "resolve",
        "Two items of the map deploy the same path.",
        "Each deployed path is made by exactly one item (a file from two trees, a [[file]] over a "
        "[[symlink]], a file where a directory is needed). The message names both items.\n\n"
        "Fix: exclude the path from one of them (`exclude` of [[tree]]), or change one `dst`. To "
        "change only a mode or owner, use [[attr]], which may match any deployed path.",
    ),
    Rule(
        "unknown-placeholder",
        _E,
        "resolve",
        "A path uses a `{placeholder}` that does not exist.",
        "Deployed paths may use `{name}`, `{version}` and the profile's directories (`{prefix}`, "
        "`{bindir}`, `{sbindir}`, `{libexecdir}`, `{datadir}`, `{sysconfdir}`, `{localstatedir}`, "
        "`{docdir}`, `{mandir}`, `{unitdir}`, `{python3_sitelib}`); source paths may use "
        "`{distro}` and `{family}`.\n\n"
        "Fix: use one of those placeholders, or write the directory out.",
    ),
)

RULES: tuple[Rule, ...] = LOADER_RULES + RESOLVE_RULES
