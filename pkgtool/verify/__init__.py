"""Holding an installed root or a built package against the resolved map, like ``rpm -V``.

report (Mismatch, VerifyReport) <- compare (the entry comparison) <- root (verify_root) and
artifact (verify_artifact: entries, relations, metadata).
"""
