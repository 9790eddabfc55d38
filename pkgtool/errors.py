"""One error root for the library.  The CLI maps these to exit codes; nothing here exits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # an annotation only: importing errors must not load diagnostics and the model (start-up)
    from .diagnostics import Diagnostic


class PkgtoolError(Exception):
    """Any error caused by the user's input or environment (never a bug)."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = (), hint: str = ""):
        super().__init__(message)
        self.message = message
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class LayoutError(PkgtoolError):
    """pkgtool.toml is malformed or invalid; ``diagnostics`` holds every problem found."""


class ProfileError(PkgtoolError):
    """A distro profile is unknown or malformed."""


class ResolveError(PkgtoolError):
    """The map cannot be resolved against a profile (missing source, conflict, ...)."""


class ArtifactError(PkgtoolError):
    """A .rpm/.deb/bundle cannot be read safely (wrong magic, truncated, hostile members)."""


class InstallError(PkgtoolError):
    """Applying entries to a root failed; the root was left as it was."""


class ToolError(PkgtoolError):
    """An external tool (rpmbuild, dpkg-buildpackage, ...) is missing, failed or timed out."""

    def __init__(self, message: str, command: Sequence[str] = (), output: str = "", returncode: int | None = None):
        super().__init__(message)
        self.command = tuple(command)
        self.output = output
        self.returncode = returncode


class UsageError(PkgtoolError):
    """Options that do not fit together, or an unknown distro / rule id on the command line."""


class SigningError(PkgtoolError):
    """A signing key is missing, ambiguous or unusable in the GnuPG keyring, or gpg / rpmsign refused it."""
