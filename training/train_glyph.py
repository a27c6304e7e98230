"""Train, export and check the glyph models: is each digit the segmenter cut an AIS digit?

Read top to bottom. The gate (training/train_gate.py) judges the whole image and still
passes a few captchas drawn in other fonts, which the readers are then sure of. This model
judges each digit crop, the seg reader's own (host/seg.py `preprocess`), so one digit in
another font is enough to refuse the image (host/glyph.py). Positives: the crops of the
real training-split captchas of both kinds (a digit looks the same in both, as for the seg
model) and of synthetic captchas in the replica's font (training/synth.py). Negatives:
the crops of synthetic captchas drawn in the other fonts the gate trains on
(train_gate.other_fonts: the benchmark's Aileron and DejaVu Serif are held out, so its
"font-*" figures are about fonts this model never saw). Turned and mirrored digits are
not negatives here: a turned 6 is an AIS 9, and the gate and the orientation re-reads
deal with turned captchas.

One CNN is trained on both kinds' crops, then exported as a float16 .tflite per kind with a
fixed batch of the kind's digits (one invoke checks a captcha). Each kind's threshold is
set to pass PASS_SYNTHETIC of fresh synthetic captchas (the e2e tests and a clone without
../shared are served those); the real validation split, never trained on, only checks it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from host.catalogue import GLYPH, Entry, entry_name, write_catalogue
from host.glyph import GlyphReader
from host.kinds import KINDS, Kind
from host.seg import preprocess
from host.segment import CROP, PLANES
from training import binary, synth
from training.merge import Folders
from training.train_gate import font_source, load_real, other_fonts, scores, shifted


def log(message: str) -> None:
    print(f"[glyph {time.strftime('%H:%M:%S')}] {message}", flush=True)


# What one full run uses per kind. Smoke runs shrink everything.
SYNTHETIC = 3000  # synthetic captchas in the replica's font (positives)
REAL_REPEAT = {"ais6": 3, "ais3": 6}  # each real training captcha, shifted, this often
OTHER_FONTS = 6000  # synthetic captchas in other fonts (negatives), spread over the fonts
EPOCHS = 8
SMOKE = {"synthetic": 30, "fonts": 30, "epochs": 1}
BATCH = 128
MAX_THRESHOLD = 0.5  # the threshold is never above an even chance...
# ...and low enough to pass this share of fresh synthetic captchas. Not the gate's 99.5%: the
# lowest-scoring synthetic digits are the replica's own artefacts (asterisks drawn across a
# digit's strokes, unlike the AIS's), the real ones score far higher (validation: lowest 0.37).
PASS_SYNTHETIC = 0.98
MIN_THRESHOLD = 0.001  # nor below this: a digit the model is that sure of is not an AIS one
THRESHOLD_SYNTHETIC = 1000  # how many fresh synthetic captchas set it
SEED_BASE = 7300  # far from bench/garbage.py's seeds (15, 16, ...) and the other trainers'
# The shipped glyph models learnt the fonts of these Debian packages (plus training/fonts and
# matplotlib's). With only a few fonts they pass far more of the held-out ones: a run that
# finds fewer than FEW_FONTS says how to install them.
FONT_PACKAGES = (
    "fonts-cantarell fonts-comic-neue fonts-croscore fonts-crosextra-caladea"
    " fonts-crosextra-carlito fonts-freefont-ttf fonts-hack fonts-inconsolata"
    " fonts-jetbrains-mono fonts-lato fonts-league-spartan fonts-liberation2"
    " fonts-linuxlibertine fonts-open-sans fonts-oxygen fonts-quicksand"
    " fonts-roboto-unhinted fonts-sil-gentium fonts-urw-base35"
)
FEW_FONTS = 100


# ---- the crops -------------------------------------------------------------------------------


def crops(images: list[np.ndarray], kind: Kind) -> np.ndarray:
    """The digit crops (N, CROP, CROP, PLANES) of the images the segmenter cuts into digits."""
    cut = [c for c in (preprocess(rgb, kind) for rgb in images) if c is not None]
    return np.concatenate(cut) if cut else np.zeros((0, CROP, CROP, PLANES), np.float32)


def positives(kind: Kind, real_train: list[np.ndarray], sizes: dict, seed: int) -> np.ndarray:
    """Crops of AIS-font digits: the real training captchas (each repeat moved a little, its
    colour channels permuted, as the AIS places and colours them at random) and synthetic ones."""
    rng = np.random.default_rng([SEED_BASE, seed, kind.digits, 1])
    repeated = [
        shifted(rgb[..., rng.permutation(3)], rng) for rgb in real_train * REAL_REPEAT[kind.name]
    ]
    made = synth.batch(kind.name, sizes["synthetic"], seed=SEED_BASE + seed * 10 + kind.digits)[0]
    return crops([*repeated, *made], kind)


def font_negatives(kind: Kind, fonts: list[Path], count: int, seed: int) -> np.ndarray:
    """Crops of synthetic captchas of `kind` drawn in `fonts`, `count` captchas in all; seeded."""
    rng = np.random.default_rng([SEED_BASE, seed, kind.digits, 2])
    per_font = max(1, count // max(len(fonts), 1))
    images = [
        synth.generate(kind.name, rng, fonts=font_source(path))[0]
        for path in fonts
        for _ in range(per_font)
    ]
    return crops(images, kind)


def build_model(batch_size: int | None = None):  # -> keras.Model
    """Three 3x3 conv blocks (16, 32, 48 filters; each halves the crop), a small dense head;
    one logit out: is this an AIS digit."""
    import keras
    from keras import layers

    inputs = keras.Input((CROP, CROP, PLANES), batch_size=batch_size)
    x = inputs
    for filters in (16, 32, 48):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(64, activation="relu")(x)
    return keras.Model(inputs, layers.Dense(1)(x), name="glyph")


def fit_threshold(reader: GlyphReader, kind: Kind, seed: int, count: int) -> float:
    """The score at or above which the host passes an image: MAX_THRESHOLD, or lower if that
    would refuse more than 1 - PASS_SYNTHETIC of `count` fresh synthetic captchas that the
    segmenter cuts; never below MIN_THRESHOLD. Chosen without the real validation split."""
    fresh = synth.batch(kind.name, count, seed=SEED_BASE + seed * 10 + 4 + kind.digits)[0]
    low = float(np.nanquantile(scores(reader, fresh), 1 - PASS_SYNTHETIC))
    return round(min(MAX_THRESHOLD, max(low, MIN_THRESHOLD)), 5)


def passed(scores: np.ndarray, threshold: float) -> str:
    return f"{int((scores >= threshold).sum())}/{len(scores)}"


# ---- the run ---------------------------------------------------------------------------------


def run(models_out: Path, data: Folders, seed: int = 0, smoke: bool = False) -> dict:
    """Build both glyph models into `models_out`; returns {"models": entries, "report": ...}."""
    import keras

    from training import export

    models_out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    sizes = SMOKE if smoke else {"synthetic": SYNTHETIC, "fonts": OTHER_FONTS, "epochs": EPOCHS}
    keras.utils.set_random_seed(seed)
    fonts = other_fonts()
    log(f"{len(fonts)} other fonts: {', '.join(p.name for p in fonts)}")
    if not fonts:
        raise RuntimeError("no other font found: the glyph model would learn no negatives")
    if len(fonts) < FEW_FONTS and not smoke:
        log(f"only {len(fonts)} other fonts: apt install {FONT_PACKAGES}")
    real = {kind.name: load_real(None if smoke else data, kind) for kind in KINDS.values()}
    pos = np.concatenate([positives(k, real[k.name][0], sizes, seed) for k in KINDS.values()])
    neg = np.concatenate([font_negatives(k, fonts, sizes["fonts"], seed) for k in KINDS.values()])
    log(f"{len(pos)} AIS-font digit crops, {len(neg)} other-font ones")

    model = build_model()
    history = binary.fit(model, pos, neg, sizes["epochs"], BATCH, log)
    train_seconds = time.time() - started

    entries: dict[str, Any] = {}
    report: dict[str, Any] = {}
    for kind in KINDS.values():
        fixed = build_model(batch_size=kind.digits)
        fixed.set_weights(model.get_weights())
        file = f"glyph_{kind.name}.tflite"
        export.to_tflite(fixed, models_out / file, float16=True)
        count = 100 if smoke else THRESHOLD_SYNTHETIC
        threshold = fit_threshold(GlyphReader(models_out / file, kind), kind, seed, count)
        reader = GlyphReader(models_out / file, kind, threshold)
        entries[entry_name(GLYPH, kind.name)], report[entry_name(GLYPH, kind.name)] = check(
            reader, kind, file, real[kind.name][1], fonts, seed, smoke
        )
        report[entry_name(GLYPH, kind.name)].update(
            curves={
                "loss": [float(v) for v in history.history["loss"]],
                "accuracy": [float(v) for v in history.history["binary_accuracy"]],
            },
            data={"positives": len(pos), "negatives": len(neg), "fonts": [p.name for p in fonts]},
            train_seconds=round(train_seconds, 1),
            ops=sorted(export.op_names(models_out / file)),
            bytes=(models_out / file).stat().st_size,
            params=int(model.count_params()),
        )
    write_catalogue(models_out, [Entry.from_json(name, e) for name, e in entries.items()])
    return {"models": entries, "report": report}


def check(
    reader: GlyphReader,
    kind: Kind,
    file: str,
    real_val: list[np.ndarray],
    fonts: list[Path],
    seed: int,
    smoke: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the kind's models.json entry, its report) from images never trained on: the real
    validation split must all pass; fresh captchas in the training fonts must fail."""
    threshold = reader.threshold
    checks: dict[str, Any] = {"threshold": threshold}
    validation = None
    if real_val:
        val_scores = scores(reader, real_val)
        checks["real_val_passed"] = passed(val_scores, threshold)
        checks["real_val_min_score"] = round(float(np.nanmin(val_scores)), 5)
        validation = {"images": len(real_val), "passed": int((val_scores >= threshold).sum())}
    fresh = synth.batch(kind.name, 50 if smoke else 500, seed=SEED_BASE + seed * 10 + 7)[0]
    checks["fresh_synthetic_passed"] = passed(scores(reader, fresh), threshold)
    rng = np.random.default_rng([SEED_BASE, seed, kind.digits, 9])
    fonted = [
        synth.generate(kind.name, rng, fonts=font_source(path))[0]
        for path in fonts
        for _ in range(2 if smoke else 20)
    ]
    checks["fresh_other_fonts_passed"] = passed(scores(reader, fonted), threshold)
    log(f"{kind.name}: {checks}")
    entry = Entry(
        GLYPH,
        kind.name,
        file,
        (kind.digits, CROP, CROP, PLANES),
        (kind.digits, 1),
        weights="float16",
        threshold=threshold,
        validation=validation,
    )
    return entry.to_json(), {"checks": checks}
