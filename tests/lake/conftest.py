"""The lake tests use the shared `lake` fixture (tests/conftest.py)."""
