"""The local Hub fixtures live in tests/conftest.py (the UI tests use them too)."""

from tests.support.fake_hub import TEST_REPO as REPO  # noqa: F401
