"""Safe, lstat-based access to an installed root: the walk verify uses (walk), per-path reads (observe), accounts."""
