"""Where benchmarks and scripts find the shared yardstick data (seeds, gold, real documents).

In order: the folder given (a ``--shared DIR`` flag), ``$KEHOACH_SHARED``, ``../shared`` beside
the project root when it exists, else the copy vendored in the checkout (``tests/data/shared``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENDORED = PROJECT_ROOT / "tests" / "data" / "shared"


def shared_dir(given: Optional[os.PathLike | str] = None) -> Path:
    if given:
        return Path(given)
    if os.environ.get("KEHOACH_SHARED"):
        return Path(os.environ["KEHOACH_SHARED"])
    beside = PROJECT_ROOT.parent / "shared"
    if (beside / "eval").is_dir():
        return beside
    return VENDORED


def add_shared_argument(parser) -> None:
    """``--shared DIR`` on an argparse parser, defaulting as ``shared_dir``."""
    parser.add_argument("--shared", type=shared_dir, default=shared_dir(),
                        help="shared data folder (default: $KEHOACH_SHARED, ../shared beside the project, "
                             "else tests/data/shared)")
