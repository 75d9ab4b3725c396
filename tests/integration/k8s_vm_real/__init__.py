"""The real-cluster tests: a package, so that conftest.py's package-scoped cluster is torn down (its VMs stopped)
as soon as the last of them has run, not at the end of the whole session."""
