"""host/gate.py: the per-kind "is this an upright captcha of the kind" model, and how the
Solver uses it: loaded with the kind, reported by status, and without it nothing is fillable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from host import plausibility
from host.catalogue import CHECKS, GATE, read_catalogue
from host.confidence import is_confident
from host.gate import GateReader
from host.kinds import KINDS
from host.solver import Solver
from tests.conftest import REPO, copy_models, need, tflite214_outputs
from training import synth

MODELS = REPO / "models"


@pytest.fixture(scope="module")
def gates() -> dict[str, GateReader]:
    need((MODELS / "models.json").exists(), "models/ is not built yet")
    catalogue = read_catalogue(MODELS)
    return {k: GateReader.for_entry(MODELS, catalogue.entry(GATE, k)) for k in KINDS}


@pytest.mark.parametrize("kind", ["ais6", "ais3"])
def test_the_gate_passes_synthetic_captchas_and_refuses_blanks(
    gates: dict[str, GateReader], kind: str
) -> None:
    images, _ = synth.batch(kind, 40, seed=31)
    passed = [gates[kind].passes(rgb) for rgb in images]
    # the threshold passes 99.5% of fresh synthetic captchas when it can (train_gate.py)
    assert passed.count(False) <= 1, passed.count(False)
    k = KINDS[kind]
    assert not gates[kind].passes(np.full((k.height, k.width, 3), 255, np.uint8))
    assert 0.0 <= gates[kind].score(images[0]) <= 1.0


def test_a_gate_of_another_shape_is_refused(tmp_path: Path) -> None:
    need((MODELS / "models.json").exists(), "models/ is not built yet")
    with pytest.raises(ValueError, match="gate"):
        GateReader(MODELS / "ctc_ais3.tflite", KINDS["ais3"])
    with pytest.raises(ValueError):
        GateReader(MODELS / "gate_ais6.tflite", KINDS["ais3"])


@pytest.mark.parametrize("how", ["missing", "corrupt"])
@pytest.mark.parametrize("family", CHECKS)
def test_without_a_working_check_nothing_is_fillable(tmp_path: Path, family: str, how: str) -> None:
    """The gate and the glyph check (host/glyph.py) alike: without one, nothing of its kind
    is fillable; the readers still read, and the other kind still fills."""
    broken = f"{family}_ais3"
    if how == "missing":
        copy_models(tmp_path, drop=broken)
    else:
        copy_models(tmp_path, corrupt=broken)
    solver = Solver(tmp_path)
    status = solver.status()
    model = status["models"][broken]
    assert model["loaded"] is False and model["state"] == "failed" and model["error"]
    assert status["models"][f"{family}_ais6"]["loaded"] is True and status["ready"] is False
    images, texts = synth.batch("ais3", 5, seed=32)
    for method in ("auto", "ctc", "seg"):
        for rgb in images:
            answer = solver.solve([rgb], None, method)
            assert not is_confident(answer.confidence)
            assert answer.reason in (plausibility.NO_GATE, *plausibility.REASONS)
    # only the fill is withheld, with the checks' reason when nothing else objected
    answer = solver.solve([images[0]], None, "ctc")
    assert answer.text == texts[0] and answer.reason == plausibility.NO_GATE and answer.plausible
    rgb, text = synth.generate("ais6", np.random.default_rng(3))
    answer = solver.solve([rgb], None, "auto")
    assert answer.text == text and is_confident(answer.confidence)


def test_status_reports_the_gates(tmp_path: Path) -> None:
    copy_models(tmp_path)
    solver = Solver(tmp_path, kinds=())
    states = {name: m["state"] for name, m in solver.status()["models"].items()}
    assert states["gate_ais6"] == states["gate_ais3"] == "not loaded yet"
    solver.load(["ais6"])
    models = solver.status()["models"]
    assert models["gate_ais6"] == {"file": "gate_ais6.tflite", "loaded": True, "state": "loaded"}


@pytest.mark.real_data
@pytest.mark.parametrize("kind", ["ais6", "ais3"])
@pytest.mark.parametrize("family", CHECKS)
def test_every_real_captcha_passes_the_checks(family: str, kind: str, real_data: Path) -> None:
    """The gate and the glyph check pass every labelled real captcha, training and validation."""
    from host.imageio import decode_png
    from host.reader import reader_class
    from training import data

    need((MODELS / "models.json").exists(), "models/ is not built yet")
    check = reader_class(family).from_folder(MODELS, KINDS[kind])
    assert isinstance(check, GateReader)  # the glyph check is one too: passes(rgb)
    samples = data.load_folder(real_data / kind, KINDS[kind].digits)
    refused = [s.path.name for s in samples if not check.passes(decode_png(s.path.read_bytes()))]
    assert not refused, refused


def test_the_gates_agree_with_tflite_runtime_214(tmp_path: Path) -> None:
    """Each gate loads in tflite-runtime 2.14 and gives the same logits there."""
    from host.gate import preprocess

    need((MODELS / "models.json").exists(), "models/ is not built yet")
    inputs, expected = {}, {}
    for kind, k in KINDS.items():
        images, _ = synth.batch(kind, 10, seed=98)
        images.append(np.full((k.height, k.width, 3), 255, np.uint8))
        path = MODELS / f"gate_{kind}.tflite"
        inputs[path] = np.stack([preprocess(rgb)[None] for rgb in images])
        gate = GateReader(path, k)
        expected[path] = [gate.invoke(preprocess(rgb)[None])[0] for rgb in images]
    got = tflite214_outputs(tmp_path, inputs)
    for path, ours in expected.items():
        assert np.abs(np.array(ours) - got[path][:, 0]).max() < 1e-3
