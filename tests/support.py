"""Helpers for the tests: the recorded live-API samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent / "samples"


def load_sample(name: str) -> Any:
    """Read one recorded live-API response body from tests/samples."""
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))
