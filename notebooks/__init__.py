"""Makes notebooks/conftest.py the module notebooks.conftest, so that it
and tests/conftest.py (imported by the tests as conftest) do not clash."""
