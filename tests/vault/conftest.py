"""Shared fixtures for the reading tests."""

from __future__ import annotations

from pathlib import Path

import pytest

READING = Path(__file__).resolve().parent.parent / "vaults" / "reading"


@pytest.fixture
def reading() -> Path:
    """The folder holding one small vault per reading behaviour."""
    return READING
