"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REFERENCE_DATA = Path(__file__).resolve().parents[2] / "shared" / "reference-data"


@pytest.fixture(scope="session")
def reference_data() -> Path:
    """The third-party reference files beside the repo (``../shared/reference-data``)."""
    if not REFERENCE_DATA.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE_DATA} (the repo's sibling shared/)")
    return REFERENCE_DATA
