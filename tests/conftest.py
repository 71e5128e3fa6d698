"""Shared fixtures: repo paths, the ../shared reference data (skip cleanly when absent)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PGX = [sys.executable, "-m", "pgx"]


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared reference data is absent")
    return SHARED


@pytest.fixture(scope="session")
def pharmcat_definitions(shared) -> Path:
    path = shared / "oracle" / "pharmcat" / "definitions"
    if not path.is_dir():
        pytest.skip("PharmCAT definitions absent from ../shared")
    return path


@pytest.fixture
def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    return e
