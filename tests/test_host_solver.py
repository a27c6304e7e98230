"""The Solver: kinds and sizes, voting, auto's rule, model errors, the result's shape."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from host.confidence import Reading
from host.errors import HostError
from host.kinds import KINDS
from host.solver import FAMILIES, Solver, combine
from tests.conftest import REPO, need
from training import synth

MODELS = REPO / "models"
RESULT_FIELDS = {
    "text",
    "confidence",
    "digits",
    "method",
    "used",
    "agree",
    "kind",
    "renderings",
    "ms",
    "plausible",
    "reason",
}


@pytest.fixture(scope="module")
def solver() -> Solver:
    need((MODELS / "models.json").exists(), "models/ is not built yet")
    return Solver(MODELS)


def reading(text: str, conf: float) -> Reading:
    per = conf ** (1 / len(text))
    return Reading(text, np.full(len(text), per), conf)


# ---- auto's rule ------------------------------------------------------------------------


def test_agreement_keeps_the_higher_confidence() -> None:
    text, digits, conf, used, agree = combine(
        reading("123", 0.9), reading("123", 0.99), KINDS["ais3"]
    )
    assert (text, used, agree) == ("123", "seg", True)
    assert conf == pytest.approx(0.99)
    assert len(digits) == 3


def test_disagreement_answers_the_more_confident_discounted() -> None:
    text, _, conf, used, agree = combine(reading("123", 0.99), reading("128", 0.6), KINDS["ais3"])
    assert (text, used, agree) == ("123", "ctc", False)
    assert conf == pytest.approx(0.99 * 0.4 / (1 - 0.99 * 0.6))
    assert conf < 0.99
    # Two confident readers that disagree: little confidence left for either.
    _, _, conf, _, _ = combine(reading("123", 0.99), reading("128", 0.98), KINDS["ais3"])
    assert conf < 0.7


def test_one_reader_without_answer() -> None:
    text, _, conf, used, agree = combine(None, reading("123456", 0.8), KINDS["ais6"])
    assert (text, used, agree, conf) == ("123456", "seg", False, 0.8)
    with pytest.raises(HostError) as err:
        combine(None, None, KINDS["ais6"])
    assert err.value.code == "NO_ANSWER"


# ---- requests the solver refuses ---------------------------------------------------------


def image(kind: str, seed: int = 0, text: str | None = None) -> tuple[np.ndarray, str]:
    return synth.generate(kind, np.random.default_rng(seed), text)


@pytest.mark.parametrize(
    ("images", "kind", "method", "code"),
    [
        ([], None, "auto", "BAD_REQUEST"),
        ([np.zeros((32, 104), np.uint8)], None, "auto", "BAD_REQUEST"),
        ([np.zeros((32, 104, 3), np.float32)], None, "auto", "BAD_REQUEST"),
        ([np.zeros((32, 104, 3), np.uint8)], "ais9", "auto", "BAD_REQUEST"),
        ([np.zeros((32, 104, 3), np.uint8)], None, "magic", "BAD_REQUEST"),
        ([np.zeros((50, 50, 3), np.uint8)], None, "auto", "BAD_SIZE"),
        (
            [np.zeros((32, 104, 3), np.uint8), np.zeros((30, 42, 3), np.uint8)],
            None,
            "ctc",
            "BAD_SIZE",
        ),
    ],
)
def test_bad_requests(
    tmp_path: Path, images: list, kind: str | None, method: str, code: str
) -> None:
    with pytest.raises(HostError) as err:
        Solver(tmp_path).solve(images, kind, method)
    assert err.value.code == code


# ---- missing and broken models -------------------------------------------------------------


def test_no_models_is_a_model_error_kept_for_status(tmp_path: Path) -> None:
    broken = Solver(tmp_path)
    status = broken.status()
    assert status["runtime"].split()[0] in {"ai-edge-litert", "tflite-runtime"}
    assert set(status["models"]) == {f"{family}_{kind}" for family in FAMILIES for kind in KINDS}
    assert not any(m["loaded"] for m in status["models"].values())
    assert all("models.json" in m["error"] for m in status["models"].values())
    for method in ("ctc", "seg", "auto"):
        with pytest.raises(HostError) as err:
            broken.solve([image("ais6")[0]], None, method)
        assert err.value.code == "MODEL_ERROR"


def test_a_corrupt_model_only_disables_itself(tmp_path: Path) -> None:
    need((MODELS / "models.json").exists(), "models/ is not built yet")
    meta = json.loads((MODELS / "models.json").read_text())
    for entry in meta["models"].values():
        if (MODELS / entry["file"]).exists():
            shutil.copy(MODELS / entry["file"], tmp_path / entry["file"])
    (tmp_path / "models.json").write_text(json.dumps(meta))
    (tmp_path / meta["models"]["ctc_ais6"]["file"]).write_bytes(b"TFL3 but not really" * 10)
    solver = Solver(tmp_path)
    status = solver.status()["models"]
    assert status["ctc_ais6"]["loaded"] is False and status["ctc_ais6"]["error"]
    assert status["ctc_ais3"]["loaded"] is True
    with pytest.raises(HostError) as err:
        solver.solve([image("ais6")[0]], None, "ctc")
    assert err.value.code == "MODEL_ERROR"
    rgb, text = image("ais3", 4)
    assert solver.solve([rgb], None, "ctc").text == text


# ---- loading per kind ----------------------------------------------------------------------


def states(solver: Solver) -> dict[str, str]:
    return {name: m["state"] for name, m in solver.status()["models"].items()}


def test_a_kind_loads_on_its_first_solve_and_status_says_what_is_not_loaded_yet() -> None:
    need((MODELS / "models.json").exists(), "models/ is not built yet")
    solver = Solver(MODELS, kinds=())
    assert set(states(solver).values()) == {"not loaded yet"}
    assert solver.status()["ready"] is False
    assert not any("error" in m for m in solver.status()["models"].values())
    rgb, text = image("ais6", 3)
    assert solver.solve([rgb], None, "auto").text == text
    assert states(solver) == {
        "ctc_ais6": "loaded",
        "seg_ais6": "loaded",
        "gate_ais6": "loaded",
        "glyph_ais6": "loaded",
        "ctc_ais3": "not loaded yet",
        "seg_ais3": "not loaded yet",
        "gate_ais3": "not loaded yet",
        "glyph_ais3": "not loaded yet",
    }
    assert solver.load() == ["ais3"] and solver.load() == []
    assert set(states(solver).values()) == {"loaded"} and solver.status()["ready"] is True


def test_a_model_that_fails_to_load_per_kind_is_failed_not_pending(tmp_path: Path) -> None:
    need((MODELS / "models.json").exists(), "models/ is not built yet")
    meta = json.loads((MODELS / "models.json").read_text())
    for entry in meta["models"].values():
        shutil.copy(MODELS / entry["file"], tmp_path / entry["file"])
    (tmp_path / "models.json").write_text(json.dumps(meta))
    (tmp_path / meta["models"]["seg_ais3"]["file"]).write_bytes(b"not a model")
    solver = Solver(tmp_path, kinds=["ais3"])
    assert states(solver)["seg_ais3"] == "failed" and solver.status()["models"]["seg_ais3"]["error"]
    assert states(solver)["ctc_ais3"] == "loaded" and states(solver)["ctc_ais6"] == "not loaded yet"
    rgb, text = image("ais3", 4)
    answer = solver.solve([rgb], None, "auto")
    assert answer.used == "ctc" and answer.text == text


# ---- the shipped models --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ais6", "ais3"])
def test_ctc_reads_synthetic_captchas(solver: Solver, kind: str) -> None:
    right = 0
    for seed in range(20):
        rgb, text = image(kind, 1000 + seed)
        answer = solver.solve([rgb], None, "ctc")
        assert answer.kind == kind and answer.used == "ctc" and answer.agree is None
        assert len(answer.text) == KINDS[kind].digits
        right += answer.text == text
    assert right >= 18


def test_result_has_exactly_the_protocol_fields(solver: Solver) -> None:
    rgb, _ = image("ais6", 5)
    result = solver.solve([rgb], None, "auto").to_dict()
    assert set(result) == RESULT_FIELDS
    assert 0.0 <= result["confidence"] <= 1.0
    assert len(result["digits"]) == 6 and all(0.0 <= d <= 1.0 for d in result["digits"])
    assert result["method"] == "auto" and result["renderings"] == 1 and result["ms"] > 0
    json.dumps(result)  # plain JSON types only


def test_renderings_are_voted(solver: Solver) -> None:
    renders = [image("ais6", 200 + i, "000120")[0] for i in range(5)]
    answer = solver.solve(renders, None, "ctc")
    assert answer.text == "000120" and answer.renderings == 5


def test_other_sizes_are_resized_when_the_kind_is_given(solver: Solver) -> None:
    from PIL import Image

    rgb, text = image("ais3", 6)
    big = np.asarray(Image.fromarray(rgb).resize((84, 60), Image.BILINEAR))
    answer = solver.solve([big], "ais3", "ctc")
    assert answer.kind == "ais3" and answer.text == text


def test_blank_image_never_gives_a_wrongly_sized_answer(solver: Solver) -> None:
    white = np.full((32, 104, 3), 255, np.uint8)
    try:
        answer = solver.solve([white], None, "ctc")
    except HostError as err:
        assert err.code == "NO_ANSWER"
    else:
        assert len(answer.text) == 6


@pytest.mark.real_data
@pytest.mark.parametrize("kind", ["ais6", "ais3"])
def test_auto_on_the_real_validation_split(solver: Solver, kind: str, real_data: Path) -> None:
    """auto meets the ctc target (>= 99.9%), and confident answers (> 0.9) are right."""
    from host.imageio import decode_png
    from training import data

    _, val = data.split(data.load_folder(real_data / kind, KINDS[kind].digits))
    wrong, confident_wrong, disagree = [], 0, 0
    for s in val:
        answer = solver.solve([decode_png(s.path.read_bytes())], None, "auto")
        disagree += answer.agree is False
        if answer.text != s.answer:
            wrong.append((s.path.name, answer.text, answer.confidence))
            confident_wrong += answer.confidence > 0.9
    print(f"auto {kind}: {len(val) - len(wrong)}/{len(val)}, disagreements {disagree}, {wrong}")
    assert 1 - len(wrong) / len(val) >= 0.999, wrong
    assert confident_wrong == 0, wrong


@pytest.mark.real_data
def test_real_renderings_of_one_captcha_are_voted(solver: Solver, real_data: Path) -> None:
    """The 100 renderings of 180467, eight at a time as the extension sends them."""
    from host.imageio import decode_png

    renders = sorted((real_data / "ais6").glob("180467_*.png"))
    need(len(renders) >= 8, "no repeated renderings of 180467")
    images = [decode_png(p.read_bytes()) for p in renders]
    for start in range(0, len(images) - 7, 8):
        answer = solver.solve(images[start : start + 8], None, "auto")
        assert answer.text == "180467" and answer.renderings == 8
        assert answer.confidence > 0.9
