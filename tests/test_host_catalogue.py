"""host/catalogue.py: models.json read once into typed entries, written in the same format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from host.catalogue import (
    GATE,
    CatalogueError,
    Entry,
    entry_name,
    read_catalogue,
    write_catalogue,
)
from host.kinds import KINDS
from host.solver import FAMILIES, Solver
from tests.conftest import REPO, need

MODELS = REPO / "models"


def entry(**changes: object) -> dict:
    data = {
        "method": "ctc",
        "kind": "ais3",
        "file": "ctc_ais3.tflite",
        "input": [1, 30, 42, 3],
        "output": [1, 21, 11],
        "weights": "float16",
        "calibration": {"temperature": 0.8},
    }
    return {**data, **changes}


def write(folder: Path, models: dict) -> None:
    (folder / "models.json").write_text(json.dumps({"version": 1, "models": models}))


def test_the_shipped_catalogue_round_trips_exactly(tmp_path: Path) -> None:
    need((MODELS / "models.json").exists(), "models/ is not built yet")
    catalogue = read_catalogue(MODELS)
    assert not catalogue.problems
    assert set(catalogue.entries) == {f"{family}_{kind}" for family in FAMILIES for kind in KINDS}
    written = write_catalogue(tmp_path, catalogue.entries.values())
    assert json.loads(written.read_text()) == json.loads((MODELS / "models.json").read_text())


def test_an_entry_is_typed() -> None:
    got = Entry.from_json("ctc_ais3", entry())
    assert got.name == entry_name("ctc", "ais3") == "ctc_ais3"
    assert got.input == (1, 30, 42, 3) and got.output == (1, 21, 11)
    assert got.temperature == 0.8 and got.weights == "float16" and got.validation is None
    assert Entry.from_json("ctc_ais3", got.to_json()) == got


def test_a_gate_entry_carries_its_threshold() -> None:
    data = entry(method="gate", file="gate_ais3.tflite", output=[1, 1])
    data["calibration"] = {"temperature": 1.0, "threshold": 0.5}
    got = Entry.from_json("gate_ais3", data)
    assert got.threshold == 0.5 and got.name == entry_name(GATE, "ais3")
    assert Entry.from_json("gate_ais3", got.to_json()) == got
    assert Entry.from_json("ctc_ais3", entry()).threshold is None
    for threshold in (None, 0.0, 1.5):
        data["calibration"] = {"threshold": threshold}
        with pytest.raises(CatalogueError, match="threshold"):
            Entry.from_json("gate_ais3", data)


@pytest.mark.parametrize(
    "bad",
    [
        entry(kind="ais6"),  # stored under another name than its method and kind say
        entry(file=None),
        {k: v for k, v in entry().items() if k != "input"},
        entry(output=[1, "21", 11]),
        entry(calibration={"temperature": "hot"}),
        [],
    ],
)
def test_a_broken_entry_is_a_problem_of_its_own(tmp_path: Path, bad: object) -> None:
    write(tmp_path, {"ctc_ais3": bad, "seg_ais3": entry(method="seg", file="s.tflite")})
    catalogue = read_catalogue(tmp_path)
    assert set(catalogue.entries) == {"seg_ais3"} and set(catalogue.problems) == {"ctc_ais3"}
    with pytest.raises(CatalogueError, match="ctc_ais3"):
        catalogue.entry("ctc", "ais3")
    with pytest.raises(CatalogueError, match="not listed"):
        catalogue.entry("ctc", "ais6")


@pytest.mark.parametrize("text", ["{", "[]", '{"version": 1}', '{"models": []}'])
def test_an_unreadable_catalogue_is_an_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "models.json").write_text(text)
    with pytest.raises(CatalogueError):
        read_catalogue(tmp_path)


def test_the_solver_reports_a_broken_entry_for_that_model_only(tmp_path: Path) -> None:
    write(tmp_path, {"ctc_ais3": entry(input="wide")})
    models = Solver(tmp_path).status()["models"]
    assert "ctc_ais3" in models["ctc_ais3"]["error"]
    assert "not listed" in models["seg_ais6"]["error"]
