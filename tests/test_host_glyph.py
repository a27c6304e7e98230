"""host/glyph.py: the per-kind "is each digit in the AIS font" check, and how the Solver uses
it: run on the seg reader's own crops, refusing other fonts (tests/test_host_gate.py has
what both checks share: without one nothing is fillable, every real captcha passes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import garbage
from host import seg
from host.catalogue import GATE, GLYPH, read_catalogue
from host.confidence import is_confident
from host.glyph import GlyphReader
from host.kinds import KINDS
from host.seg import preprocess
from host.solver import Solver
from tests.conftest import REPO, need, tflite214_outputs
from training import synth

MODELS = REPO / "models"


@pytest.fixture(scope="module")
def glyphs() -> dict[str, GlyphReader]:
    need((MODELS / "models.json").exists(), "models/ is not built yet")
    catalogue = read_catalogue(MODELS)
    return {k: GlyphReader.for_entry(MODELS, catalogue.entry(GLYPH, k)) for k in KINDS}


@pytest.fixture(scope="module")
def solver() -> Solver:
    need((MODELS / "models.json").exists(), "models/ is not built yet")
    return Solver(MODELS)


@pytest.mark.parametrize("kind", ["ais6", "ais3"])
def test_the_glyphs_pass_synthetic_captchas_and_need_digits(
    glyphs: dict[str, GlyphReader], kind: str
) -> None:
    images, _ = synth.batch(kind, 200, seed=31)
    passed = [glyphs[kind].passes(rgb) for rgb in images]
    # the threshold passes 98% of 1,000 fresh synthetic captchas (train_glyph.py)
    assert passed.count(False) <= 10, passed.count(False)
    k = KINDS[kind]
    blank = np.full((k.height, k.width, 3), 255, np.uint8)
    assert glyphs[kind].score(blank) is None and not glyphs[kind].passes(blank)
    score = glyphs[kind].score(images[0])
    assert score is not None and 0.0 <= score <= 1.0


def test_a_glyph_model_of_another_shape_is_refused() -> None:
    need((MODELS / "models.json").exists(), "models/ is not built yet")
    with pytest.raises(ValueError, match="digits"):
        GlyphReader(MODELS / "seg_ais6.tflite", KINDS["ais6"])
    with pytest.raises(ValueError):
        GlyphReader(MODELS / "glyph_ais6.tflite", KINDS["ais3"])


@pytest.mark.parametrize("kind", ["ais6", "ais3"])
def test_other_font_captchas_the_gate_lets_through_are_refused(solver: Solver, kind: str) -> None:
    """Synthetic captchas in the benchmark's held-out fonts (Aileron, DejaVu Serif): the
    Solver is confident of none; some of them the gate, the pieces check and both readers
    alone would have let through, and the glyph check is what refuses them."""
    items = garbage.garbage_set(kind, 150, seed=23, transforms=list(garbage.FONTS))
    readers = {m: solver._readers[(m, kind)] for m in ("ctc", "seg")}
    gate, glyph = solver._readers[(GATE, kind)], solver._readers[(GLYPH, kind)]
    confident, caught = [], 0
    for g in items:
        if is_confident(solver.solve([g.rgb], kind, "auto").confidence):
            confident.append(g.name)
        r = garbage.readings(g.rgb, kind, readers, gate, glyph)
        caught += r["both"] and r["gate"] and r["pieces_ok"] and not r["glyph"]
    assert not confident, confident
    assert caught >= 1


def test_a_solve_cuts_the_image_once(solver: Solver, monkeypatch: pytest.MonkeyPatch) -> None:
    """The seg read and the glyph check of a fillable answer share the segmenter's crops
    (host/seg.py `preprocess`)."""
    calls = []
    real_segment = seg.segment
    monkeypatch.setattr(seg, "_recent", [])
    monkeypatch.setattr(seg, "segment", lambda rgb, n: calls.append(n) or real_segment(rgb, n))
    rgb, text = synth.generate("ais6", np.random.default_rng(41))
    answer = solver.solve([rgb], "ais6", "auto")
    assert answer.text == text and is_confident(answer.confidence)  # so the glyphs were checked
    assert calls == [6]
    crops = preprocess(rgb, KINDS["ais6"])
    assert crops is not None and not crops.flags.writeable  # shared: nobody may change it
    other, _ = synth.generate("ais6", np.random.default_rng(42))
    assert preprocess(other, KINDS["ais6"]) is not crops and calls == [6, 6]


def test_the_glyph_models_agree_with_tflite_runtime_214(tmp_path: Path) -> None:
    """Each glyph model loads in tflite-runtime 2.14 and gives the same logits there."""
    need((MODELS / "models.json").exists(), "models/ is not built yet")
    inputs, expected = {}, {}
    for kind, k in KINDS.items():
        images, _ = synth.batch(kind, 10, seed=98)
        crops = [c for c in (preprocess(rgb, k) for rgb in images) if c is not None]
        path = MODELS / f"glyph_{kind}.tflite"
        inputs[path] = np.stack(crops)
        glyph = GlyphReader(path, k)
        expected[path] = [glyph.invoke(c) for c in crops]
    got = tflite214_outputs(tmp_path, inputs)
    for path, ours in expected.items():
        assert np.abs(np.array(ours) - got[path]).max() < 1e-3
