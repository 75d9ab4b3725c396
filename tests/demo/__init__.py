"""`make demo`: the collection end to end on the testbed (see tests/demo/README.md)."""
