"""Train, export and check the gate models: is this image an upright AIS captcha of its kind?

Read top to bottom. One small binary CNN per kind looks at the whole image (the host's own
preprocessing, host/gate.py). Positives: the real training-split captchas of the kind and
the project's synthetic captchas (training/synth.py, whose default font is the replica of
the AIS look: the e2e tests and a clone without ../shared use them, so the gate must pass
them). Negatives, all made here from training-split real images, synthetic captchas and
seeds the benchmark does not use: the captchas turned, mirrored, cut into shuffled strips
and cropped (training/transforms.py, the same transforms bench/garbage.py measures),
synthetic captchas drawn in other fonts found on this machine, and noise, blanks and
gradients. The two fonts the benchmark tests (Pillow's built-in Aileron and DejaVu Serif)
are held out, so its "font-*" figures are about fonts the gate never saw.

Then each model is exported as a float16 .tflite (builtin ops, batch 1) and read through the
host's GateReader: on the real validation split (never trained on, every image must pass)
and on negatives made from the validation images, which the report records.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ImageFont

from host.catalogue import GATE, Entry, entry_name, write_catalogue
from host.gate import GateReader, preprocess
from host.imageio import decode_png
from host.kinds import KINDS, Kind
from training import binary, merge, synth
from training.merge import Folders
from training.transforms import FROM_CAPTCHA, MADE, transform


def log(message: str) -> None:
    print(f"[gate {time.strftime('%H:%M:%S')}] {message}", flush=True)


# What one full run uses per kind. Smoke runs shrink everything.
SYNTHETIC = 3000  # synthetic positives
REAL_REPEAT = {"ais6": 3, "ais3": 8}  # the real training captchas are few: shown this often
SYNTHETIC_TRANSFORMED = 150  # synthetic captchas per FROM_CAPTCHA transform (plus the real ones)
OTHER_FONTS = 3000  # synthetic negatives in other fonts, spread over the fonts found
MADE_EACH = 150  # noise, blank, gradient
EPOCHS = {"ais6": 14, "ais3": 20}  # ais3's images are a third the size: cheaper epochs
SMOKE = {"synthetic": 40, "transformed": 10, "fonts": 30, "made": 10, "epochs": 1}
BATCH = 64
MAX_THRESHOLD = 0.5  # the threshold is never above an even chance...
PASS_SYNTHETIC = 0.995  # ...and low enough to pass this share of fresh synthetic captchas
THRESHOLD_SYNTHETIC = 1000  # how many fresh synthetic captchas set it
SEED_BASE = 7100  # far from bench/garbage.py's seeds (15, 16, ...) and the other trainers'

# Fonts never trained on: the benchmark's "font-aileron" (Pillow's built-in font, not a
# file; a Helvetica twin, so no Helvetica clone either: Nimbus Sans, FreeSans, TeX Gyre
# Heros) and "font-serif" (DejaVu Serif); and the replica's own family (DejaVu Sans in every
# width and weight, Mono too), which would contradict the positives. Liberation Sans, the
# replica's font until synth VERSION 3, ships in training/fonts, so every machine trains on
# it as another font (an Arial twin).
HELD_OUT = ("dejavuserif", "aileron", "nimbussans", "freesans", "texgyreheros")
LOOK_ALIKES = ("dejavusans",)
# Not text fonts: symbols, math extensions, fallback glyph boxes.
NOT_TEXT = (
    "stixsiz",
    "stixnonuni",
    "cmex",
    "cmsy",
    "lastresort",
    "math",
    "d050000l",
    "standardsymbols",
)
FONT_DIRS = (
    synth.FONTS,
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".fonts",
    Path("/Library/Fonts"),
    Path("/System/Library/Fonts"),
    Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts",
)


# ---- the other fonts ---------------------------------------------------------------------------


def other_fonts() -> list[Path]:
    """Font files on this machine (and matplotlib's) that draw ten distinct digits, minus
    the held-out, look-alike and non-text ones; sorted, so a seed means the same fonts."""
    dirs = list(FONT_DIRS)
    try:
        import matplotlib

        dirs.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except ImportError:
        pass
    found: dict[str, Path] = {}
    for folder in dirs:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                name = path.name.lower()
                if path.suffix.lower() not in (".ttf", ".otf", ".ttc"):
                    continue
                if any(word in name for word in HELD_OUT + LOOK_ALIKES + NOT_TEXT):
                    continue
                if name not in found and _draws_digits(path):
                    found[name] = path  # one copy of each file name (matplotlib repeats DejaVu)
    return sorted(found.values(), key=lambda p: p.name)


def _draws_digits(path: Path) -> bool:
    try:
        font = ImageFont.truetype(str(path), 40)
        masks = {bytes(font.getmask(d)) for d in "0123456789"}
    except OSError:
        return False
    return len(masks) == 10


@cache
def _font_file(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def font_source(path: Path) -> synth.FontSource:
    """A synth.FontSource drawing every digit (regular or bold alike) in `path`."""
    return lambda index, size: _font_file(path, size)


# ---- the images ------------------------------------------------------------------------------


def load_real(data: Folders, kind: Kind) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(train, validation) real images of the kind, over the real folders (training/merge.py)."""
    if data is None:
        return [], []
    train, val, _ = merge.real_split(data, kind)
    return (
        [decode_png(s.path.read_bytes()) for s in train],
        [decode_png(s.path.read_bytes()) for s in val],
    )


def negatives(
    kind: Kind, captchas: list[np.ndarray], sizes: dict[str, int], fonts: list[Path], seed: int
) -> Iterator[tuple[str, np.ndarray]]:
    """(what, rgb) images that are not upright captchas of `kind`, seeded."""
    rng = np.random.default_rng([SEED_BASE, seed, 1])
    made = synth.batch(kind.name, sizes["transformed"], seed=SEED_BASE + seed * 10 + 2)[0]
    for how in FROM_CAPTCHA:
        for rgb in [*captchas, *made]:
            yield how, transform(rgb, how, rng)
    per_font = max(1, sizes["fonts"] // max(len(fonts), 1))
    for path in fonts:
        source = font_source(path)
        for _ in range(per_font):
            yield f"font {path.stem}", synth.generate(kind.name, rng, fonts=source)[0]
    for how, make in MADE.items():
        for _ in range(sizes["made"]):
            yield how, make(kind.width, kind.height, rng)


def shifted(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`rgb` moved by up to 2 px sideways and 1 px up or down, white paper filling in."""
    dx, dy = int(rng.integers(-2, 3)), int(rng.integers(-1, 2))
    h, w = rgb.shape[:2]
    out = np.full_like(rgb, 255)
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = rgb[
        max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


def build_model(kind: Kind, batch_size: int | None = None):  # -> keras.Model
    """Four 3x3 conv blocks (12, 24, 32, 32 filters; each halves the image), then a small
    dense head on the flattened map: where things are matters (a crop leaves white on the
    right, a flip puts the asterisks' shading and digit tilt the wrong way); one logit out."""
    import keras
    from keras import layers

    inputs = keras.Input((kind.height, kind.width, 3), batch_size=batch_size)
    x = inputs
    for filters in (12, 24, 32, 32):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(32, activation="relu")(x)
    outputs = layers.Dense(1)(x)
    return keras.Model(inputs, outputs, name=f"gate_{kind.name}")


def scores(reader: GateReader, images: list[np.ndarray]) -> np.ndarray:
    """Each image's score by a check (the gate, or the glyph check: a GateReader too); NaN
    where there is none (the glyph check found no digits), which passes no threshold."""
    found = [reader.score(rgb) for rgb in images]
    return np.array([np.nan if s is None else s for s in found], dtype=np.float64)


def fit_threshold(reader: GateReader, kind: Kind, seed: int, count: int) -> float:
    """The score at or above which the host passes an image: MAX_THRESHOLD, or lower if that
    would refuse more than 1 - PASS_SYNTHETIC of `count` fresh synthetic captchas (the e2e
    tests and a clone without ../shared are served those). Chosen without the real
    validation split, which only checks it."""
    fresh = synth.batch(kind.name, count, seed=SEED_BASE + seed * 10 + 4)[0]
    low = float(np.quantile(scores(reader, fresh), 1 - PASS_SYNTHETIC))
    return round(min(MAX_THRESHOLD, max(low, 0.01)), 4)


# ---- one kind --------------------------------------------------------------------------------


def train_kind(
    kind: Kind, data: Folders, out: Path, seed: int, smoke: bool, fonts: list[Path]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train, export and check one kind's gate; returns (its models.json entry, its report)."""
    import keras

    from training import export

    started = time.time()
    sizes = (
        SMOKE
        if smoke
        else {
            "synthetic": SYNTHETIC,
            "transformed": SYNTHETIC_TRANSFORMED,
            "fonts": OTHER_FONTS,
            "made": MADE_EACH,
            "epochs": EPOCHS[kind.name],
        }
    )
    keras.utils.set_random_seed(seed)
    real_train, real_val = load_real(None if smoke else data, kind)
    synthetic = synth.batch(kind.name, sizes["synthetic"], seed=SEED_BASE + seed * 10)[0]
    repeat = REAL_REPEAT[kind.name]
    # Each repeat of a real captcha moved a little, its colour channels permuted: the AIS
    # places and colours its digits at random too, so the gate should learn the look, not
    # the few hundred training images (without this it refused ~10% of the real validation
    # split while passing every training image).
    aug = np.random.default_rng([SEED_BASE, seed, 3])
    repeated = [shifted(rgb[..., aug.permutation(3)], aug) for rgb in real_train * repeat]
    positives = [*synthetic, *repeated]
    negative_kinds: dict[str, int] = {}
    negative_images = []
    for what, rgb in negatives(kind, real_train, sizes, fonts, seed):
        negative_images.append(rgb)
        key = "font" if what.startswith("font") else what
        negative_kinds[key] = negative_kinds.get(key, 0) + 1
    log(
        f"{kind.name}: {len(synthetic)} synthetic + {len(real_train)} real x {repeat}"
        f" positives, {len(negative_images)} negatives {negative_kinds}"
    )

    model = build_model(kind)
    history = binary.fit(
        model,
        np.stack([preprocess(rgb) for rgb in positives]),
        np.stack([preprocess(rgb) for rgb in negative_images]),
        sizes["epochs"],
        BATCH,
        lambda line: log(f"{kind.name} {line}"),
    )
    train_seconds = time.time() - started

    fixed = build_model(kind, batch_size=1)
    fixed.set_weights(model.get_weights())
    file = f"gate_{kind.name}.tflite"
    export.to_tflite(fixed, out / file, float16=True)
    threshold = fit_threshold(
        GateReader(out / file, kind), kind, seed, 100 if smoke else THRESHOLD_SYNTHETIC
    )
    reader = GateReader(out / file, kind, threshold)

    # The checks on images never trained on: the real validation split must all pass;
    # negatives made from the validation images (and fresh seeds) must fail.
    checks: dict[str, Any] = {}
    if real_val:
        val_scores = scores(reader, real_val)
        checks["real_val_passed"] = f"{int((val_scores >= threshold).sum())}/{len(real_val)}"
        checks["real_val_min_score"] = round(float(val_scores.min()), 4)
        val_sizes = {**sizes, "transformed": 0, "fonts": len(fonts) * 20, "made": 50}
        failed: dict[str, list[int]] = {}
        for what, rgb in negatives(kind, real_val, val_sizes, fonts, seed + 1):
            key = what
            cell = failed.setdefault(key, [0, 0])
            cell[0] += reader.score(rgb) < threshold
            cell[1] += 1
        checks["held_out_negatives_refused"] = {k: f"{a}/{n}" for k, (a, n) in failed.items()}
    entry = Entry(
        GATE,
        kind.name,
        file,
        (1, kind.height, kind.width, 3),
        (1, 1),
        weights="float16",
        threshold=threshold,
        validation=(
            {"images": len(real_val), "passed": int((val_scores >= threshold).sum())}
            if real_val
            else None
        ),
    )
    fresh = synth.batch(kind.name, 50 if smoke else 500, seed=SEED_BASE + seed * 10 + 5)[0]
    fresh_scores = scores(reader, fresh)
    checks["fresh_synthetic_passed"] = f"{int((fresh_scores >= threshold).sum())}/{len(fresh)}"
    checks["threshold"] = threshold
    log(f"{kind.name}: trained in {train_seconds:.0f}s; {checks}")
    report = {
        "curves": {
            "loss": [float(v) for v in history.history["loss"]],
            "accuracy": [float(v) for v in history.history["binary_accuracy"]],
        },
        "data": {
            "synthetic": len(synthetic),
            "real_train": len(real_train),
            "negatives": negative_kinds,
            "fonts": [p.name for p in fonts],
        },
        "train_seconds": round(train_seconds, 1),
        "checks": checks,
        "ops": sorted(export.op_names(out / file)),
        "bytes": (out / file).stat().st_size,
        "params": int(model.count_params()),
    }
    return entry.to_json(), report


def run(models_out: Path, data: Folders, seed: int = 0, smoke: bool = False) -> dict:
    """Build both gate models into `models_out`; returns {"models": entries, "report": ...}."""
    models_out.mkdir(parents=True, exist_ok=True)
    fonts = other_fonts()
    log(f"{len(fonts)} other fonts: {', '.join(p.name for p in fonts)}")
    if not fonts:
        print("no other font found: the gate learns no font negatives", file=sys.stderr)
    entries: dict[str, Any] = {}
    report: dict[str, Any] = {}
    for kind in KINDS.values():
        name = entry_name(GATE, kind.name)
        entries[name], report[name] = train_kind(kind, data, models_out, seed, smoke, fonts)
    write_catalogue(models_out, [Entry.from_json(name, e) for name, e in entries.items()])
    return {"models": entries, "report": report}
