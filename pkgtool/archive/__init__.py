"""Archive writers the formats share: tar (tar), source tarballs (source_tarball), the unpacked copy (tree_copies)."""
