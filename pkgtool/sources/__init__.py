"""The map's inputs: the checked opener of source files (regular), patches (patching), the staged tree (staging)."""
