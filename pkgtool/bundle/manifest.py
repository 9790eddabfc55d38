"""The bundle's `manifest` member: a line-based, versioned text format (docs/bundle.md).

    pkgtool-node-bundle 1
    name ovirt-node-plugin-acme
    version 2.0.1
    node-version 3.6.*
    file <sha256> <size> <member path>

One ``node-version`` line per compatible Node version glob, one ``file`` line per other member
(the manifest does not list itself), sorted by path.  Paths carry no spaces or newlines (refused).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from ..errors import ArtifactError

FORMAT = "pkgtool-node-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest"
_PATH = re.compile(r"[A-Za-z0-9._+~@-][A-Za-z0-9._+~@/-]*")
_SHA = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ManifestFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    node_versions: tuple[str, ...]
    files: tuple[ManifestFile, ...]

    def fits(self, node_version: str) -> bool:
        return any(fnmatch.fnmatchcase(node_version, g) for g in self.node_versions)

    def render(self) -> bytes:
        lines = [f"{FORMAT} {FORMAT_VERSION}", f"name {self.name}", f"version {self.version}"]
        lines += [f"node-version {v}" for v in self.node_versions]
        for f in sorted(self.files, key=lambda f: f.path):
            if not _PATH.fullmatch(f.path):
                raise ArtifactError(f"{f.path!r}: a bundle member name must be a plain relative path")
            lines.append(f"file {f.sha256} {f.size} {f.path}")
        return ("\n".join(lines) + "\n").encode()

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "node_versions": list(self.node_versions),
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }


def parse(data: bytes, where: str) -> Manifest:
    """Read a manifest; any line out of the format is an error naming its line number."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ArtifactError(f"{where}: manifest is not UTF-8") from None
    lines = text.splitlines()
    if not lines or lines[0] != f"{FORMAT} {FORMAT_VERSION}":
        head = lines[0][:60] if lines else ""
        raise ArtifactError(f"{where}: manifest line 1: expected '{FORMAT} {FORMAT_VERSION}', found {head!r}")
    fields: dict[str, str] = {}
    versions: list[str] = []
    files: dict[str, ManifestFile] = {}
    for no, line in enumerate(lines[1:], start=2):
        key, _, rest = line.partition(" ")
        if key in ("name", "version") and rest and key not in fields:
            fields[key] = rest
        elif key == "node-version" and rest:
            versions.append(rest)
        elif key == "file":
            parts = rest.split(" ")
            ok = len(parts) == 3 and _SHA.fullmatch(parts[0]) and parts[1].isdigit() and _PATH.fullmatch(parts[2])
            if not ok or parts[2] in files or parts[2] == MANIFEST:
                raise ArtifactError(f"{where}: manifest line {no}: not a 'file SHA256 SIZE PATH' line: {line[:80]!r}")
            files[parts[2]] = ManifestFile(parts[2], int(parts[1]), parts[0])
        else:
            raise ArtifactError(f"{where}: manifest line {no}: unexpected {line[:80]!r}")
    missing = [k for k in ("name", "version") if k not in fields] + ([] if versions else ["node-version"])
    if missing:
        raise ArtifactError(f"{where}: manifest has no {', '.join(missing)} line")
    return Manifest(fields["name"], fields["version"], tuple(versions), tuple(files.values()))
