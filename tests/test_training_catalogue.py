"""training/__main__.py: the one merge of both trainers' models.json entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import training.__main__ as training_main
from host.catalogue import CatalogueError, Entry
from training.__main__ import merge_catalogue


def entry(method: str, kind: str, temperature: float) -> dict:
    """A trainer's entry for `method` and `kind`; the temperature tells new from old."""
    return Entry(method, kind, f"{method}_{kind}.tflite", (1, 2), (1, 3), temperature).to_json()


NEW, OLD = 2.0, 1.5
RESULTS = {
    "ctc": {"models": {"ctc_ais6": entry("ctc", "ais6", NEW)}},
    "seg": {"models": {"seg_ais6": entry("seg", "ais6", NEW)}},
}


def write_installed(folder: Path, models: dict[str, object]) -> Path:
    path = folder / "models.json"
    path.write_text(json.dumps({"version": 1, "models": models}))
    return path


def test_merge_over_the_installed_catalogue_keeps_what_was_not_rebuilt(tmp_path: Path) -> None:
    old = {"ctc_ais6": entry("ctc", "ais6", OLD), "ctc_ais3": entry("ctc", "ais3", OLD)}
    path = write_installed(tmp_path, old)
    merge_catalogue(tmp_path, RESULTS, keep_others=True)
    meta = json.loads(path.read_text())
    assert meta["version"] == 1
    assert meta["models"] == {
        "ctc_ais6": entry("ctc", "ais6", NEW),
        "ctc_ais3": entry("ctc", "ais3", OLD),
        "seg_ais6": entry("seg", "ais6", NEW),
    }


def test_a_fresh_catalogue_holds_only_this_run(tmp_path: Path) -> None:
    path = write_installed(tmp_path, {"ctc_ais3": entry("ctc", "ais3", OLD)})
    merge_catalogue(tmp_path, RESULTS, keep_others=False)
    assert list(json.loads(path.read_text())) == ["version", "models"]
    assert set(json.loads(path.read_text())["models"]) == {"ctc_ais6", "seg_ais6"}
    (tmp_path / "new").mkdir()
    merge_catalogue(tmp_path / "new", RESULTS, keep_others=True)  # nothing to keep
    assert set(json.loads((tmp_path / "new" / "models.json").read_text())["models"]) == {
        "ctc_ais6",
        "seg_ais6",
    }


def test_an_unreadable_entry_not_rebuilt_is_refused_not_dropped(tmp_path: Path) -> None:
    old = {"ctc_ais3": {"old": True}, "ctc_ais6": entry("ctc", "ais6", OLD)}
    path = write_installed(tmp_path, old)
    before = path.read_text()
    with pytest.raises(CatalogueError, match=r"mend or remove.*ctc_ais3"):
        merge_catalogue(tmp_path, RESULTS, keep_others=True)
    assert path.read_text() == before  # nothing written


def test_an_unreadable_entry_this_run_rebuilds_is_replaced(tmp_path: Path) -> None:
    path = write_installed(tmp_path, {"ctc_ais6": {"old": True}})
    merge_catalogue(tmp_path, RESULTS, keep_others=True)
    assert json.loads(path.read_text())["models"]["ctc_ais6"] == entry("ctc", "ais6", NEW)


def test_install_refuses_before_copying_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models, built = tmp_path / "models", tmp_path / "built"
    models.mkdir()
    for method in RESULTS:
        (built / method).mkdir(parents=True)
        (built / method / f"{method}_ais6.tflite").write_bytes(b"new")
    write_installed(models, {"seg_ais3": {"file": 3}})
    monkeypatch.setattr(training_main, "MODELS", models)
    with pytest.raises(CatalogueError, match="seg_ais3"):
        training_main.install(built, RESULTS)
    assert sorted(p.name for p in models.iterdir()) == ["models.json"]
    write_installed(models, {"seg_ais3": entry("seg", "ais3", OLD)})
    training_main.install(built, RESULTS)
    assert (models / "ctc_ais6.tflite").read_bytes() == b"new"
    assert set(json.loads((models / "models.json").read_text())["models"]) == {
        "ctc_ais6",
        "seg_ais6",
        "seg_ais3",
    }
