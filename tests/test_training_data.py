"""training/data.py: where the real captchas are, and what training leaves out of them.

Labeled folders and the fixed split are host/scoring.py's (tests/test_host_scoring.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_host_scoring import write_folder
from training import data


def test_known_label_errors_are_left_out_of_training(tmp_path: Path) -> None:
    folder = tmp_path / "ais6"
    write_folder(folder, ["488210", "123456", "893983"])
    kept = data.without_label_errors(data.load_folder(folder))
    assert [s.answer for s in kept] == ["123456"]
    assert all(len(v) == 6 and v.isdigit() for v in data.KNOWN_LABEL_ERRORS.values())


def test_shared_data_dir_is_the_environment_folder_when_it_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DECAPTCHA_DATA", str(tmp_path))
    assert data.shared_data_dir() == tmp_path
    monkeypatch.setenv("DECAPTCHA_DATA", str(tmp_path / "missing"))
    assert data.shared_data_dir() is None
