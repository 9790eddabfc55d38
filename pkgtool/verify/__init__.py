"""Holding a root or an artifact against the resolved map (compare)."""
