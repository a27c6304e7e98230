"""training/__main__.py: the one merge of both trainers' models.json entries."""

from __future__ import annotations

import json
from pathlib import Path

from training.__main__ import merge_catalogue

RESULTS = {
    "ctc": {"models": {"ctc_ais6": {"file": "ctc_ais6.tflite", "new": True}}},
    "seg": {"models": {"seg_ais6": {"file": "seg_ais6.tflite", "new": True}}},
}


def test_merge_over_the_installed_catalogue_keeps_what_was_not_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    old = {"version": 1, "models": {"ctc_ais6": {"old": True}, "ctc_ais3": {"old": True}}}
    path.write_text(json.dumps(old))
    merge_catalogue(path, RESULTS, keep_others=True)
    meta = json.loads(path.read_text())
    assert meta["version"] == 1
    assert meta["models"] == {
        "ctc_ais6": {"file": "ctc_ais6.tflite", "new": True},
        "ctc_ais3": {"old": True},
        "seg_ais6": {"file": "seg_ais6.tflite", "new": True},
    }


def test_a_fresh_catalogue_holds_only_this_run(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"version": 1, "models": {"ctc_ais3": {"old": True}}}))
    merge_catalogue(path, RESULTS, keep_others=False)
    assert list(json.loads(path.read_text())) == ["version", "models"]
    assert set(json.loads(path.read_text())["models"]) == {"ctc_ais6", "seg_ais6"}
    merge_catalogue(tmp_path / "new.json", RESULTS, keep_others=True)  # nothing to keep
    assert set(json.loads((tmp_path / "new.json").read_text())["models"]) == {
        "ctc_ais6",
        "seg_ais6",
    }
