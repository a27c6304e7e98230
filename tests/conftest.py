"""Shared fixtures. Per-area fixtures live beside their tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from training.data import shared_data_dir  # noqa: E402

# In CI every tool the suite needs is installed, so a missing one is a failure, not a skip.
STRICT = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(condition: bool, reason: str) -> None:
    """Skip the test when `condition` is false, or fail it in CI, where nothing may be missing."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"CI must have this: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def real_data() -> Path:
    """../shared/data, or skip: the suite must pass on a fresh clone without it."""
    folder = shared_data_dir()
    need(folder is not None, "no ../shared/data (real captchas) beside the repo")
    return folder
