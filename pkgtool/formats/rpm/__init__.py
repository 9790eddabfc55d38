"""Everything RPM: names, the spec renderer, scriptlets, the native writer (header, payload), rpmbuild, the reader."""
