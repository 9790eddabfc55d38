"""Exports: resolved maps written in the layout another tool reads (ovirt-host-deploy's plugin group)."""
