import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEEDS = sorted((SHARED / "seeds").glob("*.txt"))
GOLD = SHARED / "eval" / "gold"
sys.path.insert(0, str(Path(__file__).parent))


def load_scorer():
    sys.path.insert(0, str(SHARED / "eval"))
    import score  # noqa: E402
    return score


@pytest.fixture(scope="session")
def scorer():
    if not (SHARED / "eval" / "score.py").exists():
        pytest.skip("../shared/eval/score.py not present")
    return load_scorer()


@pytest.fixture(scope="session")
def seeds():
    if not SEEDS:
        pytest.skip("../shared/seeds not present")
    return SEEDS


@pytest.fixture(scope="session")
def gold():
    return {p.stem: json.loads(p.read_text("utf-8")) for p in sorted(GOLD.glob("*.json"))}
