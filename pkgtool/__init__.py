"""pkgtool: one layout map (pkgtool.toml) -> RPM spec, debian/ tree, .rpm, .deb, installed root, verification."""

__version__ = "0.1.0"
