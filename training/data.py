"""Where training finds the real labeled captchas.

Labeled folders (file stem = answer, `_NN` = a repeated rendering), the `Sample` type, the
fixed validation split and the known label errors live in host/scoring.py, so the host's
`--bench --split val` and every figure here use the same definition; they are imported
here for training's modules.
"""

from __future__ import annotations

import os
from pathlib import Path

from host.scoring import (
    KNOWN_LABEL_ERRORS,
    Sample,
    answer_of,
    is_validation,
    load_folder,
    split,
    without_label_errors,
)

__all__ = [
    "KNOWN_LABEL_ERRORS",
    "REPO",
    "Sample",
    "answer_of",
    "is_validation",
    "load_folder",
    "shared_data_dir",
    "split",
    "without_label_errors",
]

REPO = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path | None:
    """The real labeled captchas: $DECAPTCHA_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("DECAPTCHA_DATA")
    folder = Path(env) if env else REPO.parent / "shared" / "data"
    return folder if folder.is_dir() else None
