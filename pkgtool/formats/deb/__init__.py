"""Everything Debian: the debian/ tree renderer, maintainer scripts, the native writer, dpkg-buildpackage, the reader."""
