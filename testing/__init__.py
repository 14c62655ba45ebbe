"""Helpers shared by the tests (kept beside tests/, as pre-commit does)."""
