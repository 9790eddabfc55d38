"""Safe, lstat-based access to an installed root: per-path helpers (paths), the walk verify uses (walk), accounts."""
