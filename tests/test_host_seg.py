"""The seg reader: preprocessing parity, training smoke run, the shipped models (ops, runtimes,
synthetic and real accuracy)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from host import seg, segment
from host.kinds import KINDS
from tests.conftest import REPO, need, tflite214_outputs
from training import synth

MODELS = REPO / "models"


def text_of(probs: np.ndarray | None) -> str | None:
    return None if probs is None else "".join(str(int(d)) for d in probs.argmax(axis=1))


def test_preprocess_is_the_segmenter_channels_last() -> None:
    rgb = synth.generate("ais6", np.random.default_rng(3))[0]
    x = seg.preprocess(rgb, KINDS["ais6"])
    crops = segment.segment(rgb, 6)
    assert x is not None and crops is not None
    assert x.shape == (6, segment.CROP, segment.CROP, segment.PLANES) and x.dtype == np.float32
    assert np.array_equal(x, crops.transpose(0, 2, 3, 1))
    assert seg.preprocess(np.full((32, 104, 3), 255, np.uint8), KINDS["ais6"]) is None


def test_training_crops_are_the_host_preprocessing() -> None:
    """Parity: train_seg cuts its crops with host.seg.preprocess itself, byte for byte."""
    from training import train_seg

    assert train_seg.preprocess is seg.preprocess
    kind = KINDS["ais3"]
    images, texts = synth.batch("ais3", 12, seed=5)
    x, y, failed = train_seg.crops_of(images, texts, kind)
    host = [seg.preprocess(rgb, kind) for rgb in images]
    assert int(failed) == sum(h is None for h in host)
    assert np.array_equal(x, np.concatenate([h for h in host if h is not None]))
    kept = [t for t, h in zip(texts, host, strict=True) if h is not None]
    assert y.tolist() == [int(c) for t in kept for c in t]


def test_softmax_temperature_softens() -> None:
    logits = np.array([[4.0, 1.0, 0.0, 0, 0, 0, 0, 0, 0, 0]])
    sharp, soft = seg.softmax(logits, 1.0), seg.softmax(logits, 3.0)
    assert np.allclose(sharp.sum(axis=1), 1) and np.allclose(soft.sum(axis=1), 1)
    assert soft.max() < sharp.max() and sharp.argmax() == soft.argmax() == 0


@pytest.mark.slow
def test_training_smoke_run(tmp_path: Path) -> None:
    """A tiny synthetic-only run trains, exports both files and the host reader loads them."""
    need(importlib.util.find_spec("tensorflow") is not None, "TensorFlow is not installed")
    from training import train_seg

    result = train_seg.run(tmp_path, None, seed=0, smoke=True)
    for kind in KINDS.values():
        entry = result["models"][f"seg_{kind.name}"]
        assert (tmp_path / entry["file"]).exists()
        assert entry["input"] == [kind.digits, segment.CROP, segment.CROP, segment.PLANES]
        assert entry["calibration"]["temperature"] > 0
        reader = seg.SegReader.from_folder(tmp_path, kind)
        probs = reader.read(synth.generate(kind.name, np.random.default_rng(1))[0])
        assert probs is not None and probs.shape == (kind.digits, 10)
        assert np.allclose(probs.sum(axis=1), 1)


# ---- the shipped models ---------------------------------------------------------------


def shipped() -> dict:
    meta = MODELS / "models.json"
    need(meta.exists(), "models/models.json is not built yet")
    models = json.loads(meta.read_text(encoding="utf-8"))["models"]
    need("seg_ais6" in models and "seg_ais3" in models, "no seg models in models.json yet")
    return models


def test_reader_refuses_a_model_of_the_wrong_batch(tmp_path: Path) -> None:
    meta = shipped()
    entry = dict(meta["seg_ais3"])
    (tmp_path / entry["file"]).write_bytes((MODELS / entry["file"]).read_bytes())
    # claim the 3-digit file reads 6-digit captchas
    models = {"seg_ais6": {**entry, "kind": "ais6"}}
    (tmp_path / "models.json").write_text(json.dumps({"version": 1, "models": models}))
    with pytest.raises(ValueError, match="do not read 6 digits"):
        seg.SegReader.from_folder(tmp_path, KINDS["ais6"])


@pytest.mark.parametrize("kind", ["ais6", "ais3"])
def test_shipped_model_uses_builtin_ops_only(kind: str) -> None:
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.interpreter import Interpreter

    entry = shipped()[f"seg_{kind}"]
    builtin = {n for n in vars(schema.BuiltinOperator) if n.isupper()} - {"CUSTOM", "DELEGATE"}
    interpreter = Interpreter(model_path=str(MODELS / entry["file"]))
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert ops, "no ops listed"
    assert ops <= builtin, f"not builtin: {sorted(ops - builtin)}"
    k = KINDS[kind]
    shape = [k.digits, segment.CROP, segment.CROP, segment.PLANES]
    assert list(interpreter.get_input_details()[0]["shape"]) == shape


@pytest.mark.parametrize("kind", ["ais6", "ais3"])
def test_shipped_model_reads_synthetic_captchas(kind: str) -> None:
    shipped()
    k = KINDS[kind]
    reader = seg.SegReader.from_folder(MODELS, k)
    images, texts = synth.batch(kind, 50, seed=12345)
    read = [text_of(reader.read(rgb)) for rgb in images]
    right = sum(r == t for r, t in zip(read, texts, strict=True))
    # Synthetic captchas overlap more than real ones in places; nearly all must read.
    assert right >= 47, [(r, t) for r, t in zip(read, texts, strict=True) if r != t]


def test_shipped_models_agree_with_tflite_runtime_214(tmp_path: Path) -> None:
    """Each seg model loads in tflite-runtime 2.14 and gives the same digits there."""
    meta = shipped()
    inputs, expected = {}, {}
    for kind in ("ais6", "ais3"):
        k = KINDS[kind]
        images, _ = synth.batch(kind, 20, seed=99)
        crops = [c for c in (seg.preprocess(rgb, k) for rgb in images) if c is not None]
        path = MODELS / meta[f"seg_{kind}"]["file"]
        inputs[path] = np.stack(crops)
        reader = seg.SegReader.from_folder(MODELS, k)
        expected[path] = [reader.logits(c) for c in crops]
    got = tflite214_outputs(tmp_path, inputs)
    for path, ours in expected.items():
        theirs = got[path]
        assert theirs.shape == np.array(ours).shape
        for a, b in zip(ours, theirs, strict=True):
            assert (a.argmax(axis=1) == b.argmax(axis=1)).all()
            assert np.abs(a - b).max() < 1e-3


@pytest.mark.real_data
@pytest.mark.parametrize("kind", ["ais6", "ais3"])
def test_shipped_model_meets_target_on_real_validation(kind: str, real_data: Path) -> None:
    """Target: >= 99.5% whole-captcha on the real validation split."""
    from host.imageio import decode_png
    from training import data

    shipped()
    k = KINDS[kind]
    _, val = data.split(data.load_folder(real_data / kind, k.digits))
    reader = seg.SegReader.from_folder(MODELS, k)
    wrong = []
    for s in val:
        text = text_of(reader.read(decode_png(s.path.read_bytes())))
        if text != s.answer:
            wrong.append((s.path.name, text))
    accuracy = 1 - len(wrong) / len(val)
    unsegmented = sum(text is None for _, text in wrong)
    print(
        f"seg {kind}: {len(val) - len(wrong)}/{len(val)} = {accuracy:.4%};"
        f" not segmented {unsegmented}; misread {wrong}"
    )
    assert accuracy >= 0.995, wrong
