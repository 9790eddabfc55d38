"""One home per package format (rpm/, deb/), the seam they implement (base.PackageFormat), and what they share.

Importing this package registers every format; each registers itself in its own ``__init__``.
"""

from .base import BuildOptions, PackageFormat, all_formats, backends, format_for

# isort: off
# Import order is listing order (help texts, errors): rpm, then deb.
from . import rpm, deb  # noqa: F401
# isort: on

__all__ = ["BuildOptions", "PackageFormat", "all_formats", "backends", "format_for"]
