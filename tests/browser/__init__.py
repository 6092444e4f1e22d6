"""Browser tests (a package, so their conftest and module names never shadow those in tests/)."""
