import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tests.shared import SHARED, files, need  # noqa: E402

GOLD = SHARED / "eval" / "gold"


@pytest.fixture(scope="session")
def scorer():
    """The project's own scores (``kehoach.eval``); ``tests/test_eval.py`` holds them to the yardstick."""
    import kehoach.eval
    return kehoach.eval


@pytest.fixture(scope="session")
def seeds():
    return files("seeds", "*.txt")


@pytest.fixture(scope="session")
def gold():
    return {p.stem: json.loads(p.read_text("utf-8")) for p in files("eval/gold", "*.json")}


__all__ = ["GOLD", "SHARED", "need"]
