"""Train, calibrate, export and validate the ctc model of each kind.

Read top to bottom: load the real images (training split only for fitting), add
synthetic captchas, train the CRNN with CTC loss, fit a softmax temperature, export a
fixed-batch unrolled copy to .tflite, then read the real validation split with the
exported file through the host's own reader (host/ctc.py), so the figures are the
shipped model's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from host.catalogue import Entry, entry_name, write_catalogue
from host.confidence import reading_of
from host.ctc import CtcReader, greedy_decode, preprocess, softmax
from host.imageio import decode_png
from host.kinds import KINDS, Kind
from training import data as dataset
from training import merge, synth
from training.merge import Folders
from training.validate import validate_built


def log(message: str) -> None:
    print(f"[ctc {time.strftime('%H:%M:%S')}] {message}", flush=True)


# What one full run uses, per kind. Smoke runs shrink everything.
SETTINGS = {
    "ais6": {"synthetic": 8000, "real_repeat": 8, "epochs": 15},
    "ais3": {"synthetic": 8000, "real_repeat": 10, "epochs": 15},
}
SMOKE = {"synthetic": 256, "real_repeat": 0, "epochs": 2}
BATCH = 64
CALIBRATION_SYNTHETIC = 2000


CACHE = dataset.REPO / "training" / "out" / "cache"


def synthetic(
    kind: Kind, count: int, seed: int, cache: bool = True
) -> tuple[np.ndarray, list[str]]:
    """`count` synthetic captchas, cached in training/out/cache (generation takes minutes)."""
    if not cache:
        images, texts = synth.batch(kind.name, count, seed)
        return np.stack(images), texts
    path = CACHE / f"{kind.name}-v{synth.VERSION}-{count}-{seed}.npz"
    if path.exists():
        saved = np.load(path)
        return saved["x"], [str(t) for t in saved["t"]]
    images, texts = synth.batch(kind.name, count, seed)
    x = np.stack(images)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=x, t=np.array(texts))
    return x, texts


def load_real(folders: Folders, kind: Kind) -> tuple[list[dataset.Sample], list[dataset.Sample]]:
    """(train, validation) samples of one kind over the real folders (training/merge.py)."""
    train, val, _ = merge.real_split(folders, kind)
    return train, val


def images_of(samples: list[dataset.Sample]) -> np.ndarray:
    """Decode like the host does (host.imageio), so palette PNGs become the same RGB."""
    return np.stack([decode_png(s.path.read_bytes()) for s in samples])


def encode(texts: list[str]) -> np.ndarray:
    return np.array([[int(c) for c in t] for t in texts], dtype=np.int32)


def make_dataset(x: np.ndarray, y: np.ndarray, seed: int, augment: bool):  # -> tf.data.Dataset
    """Batches of preprocessed images; augmentation: channel shuffle and +-2 px shifts."""
    import tensorflow as tf

    def aug(img: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        # A digit's colour carries no meaning, and real digits sit a few pixels either way.
        img = tf.gather(img, tf.random.shuffle(tf.range(3)), axis=2)
        h, w = x.shape[1], x.shape[2]
        img = tf.pad(img, [[2, 2], [2, 2], [0, 0]])  # 0 is white after preprocess
        img = tf.image.random_crop(img, [h, w, 3])
        return img, label

    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed)
    if augment:
        ds = ds.map(aug, num_parallel_calls=2)
    return ds.batch(BATCH).prefetch(2)


def whole_accuracy(model: Any, x: np.ndarray, texts: list[str]) -> float:
    """Share of images whose greedy decoding is exactly the answer (Keras model)."""
    logits = model.predict(x, batch_size=256, verbose=0)
    right = sum(greedy_decode(softmax(lg))[0] == t for lg, t in zip(logits, texts, strict=True))
    return right / max(len(texts), 1)


def fit_temperature(logits: np.ndarray, texts: list[str], kind: Kind) -> float:
    """The softmax temperature that minimises the log loss of "is the answer right?".

    Confidence of an answer = product of its per-position probabilities, as the solver
    computes it; fitted on data the model did not train on (fresh synthetic captchas) plus
    the real training split.
    """
    best_t, best_loss = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.5), np.log(8.0), 61)):
        loss = 0.0
        for lg, text in zip(logits, texts, strict=True):
            got, rows = greedy_decode(softmax(lg, t))
            ok = got == text
            conf = reading_of(rows).confidence if len(got) == kind.digits else 0.0
            conf = min(max(conf, 1e-6), 1 - 1e-6)
            loss -= np.log(conf if ok else 1 - conf)
        if loss < best_loss:
            best_t, best_loss = float(t), loss
    return best_t


def train_kind(
    kind: Kind, real: Folders, out: Path, seed: int, smoke: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train one kind's model; returns (models.json entry, report section)."""
    import keras

    from training import ctc_model, export

    settings = SMOKE if smoke else SETTINGS[kind.name]
    keras.utils.set_random_seed(seed)

    train_s, val_s, counts = merge.real_split(real if not smoke else None, kind)
    log(
        f"{kind.name}: real train {len(train_s)} ({counts['label_errors']} known label errors"
        f" and {counts['duplicates']} duplicates left out), real validation {len(val_s)}"
    )
    syn_x, syn_t = synthetic(kind, settings["synthetic"], seed * 1000 + 1, cache=not smoke)
    log(f"{kind.name}: {len(syn_x)} synthetic captchas ready")

    x_parts = [syn_x]
    t_all = list(syn_t)
    if train_s:
        real_x = images_of(train_s)
        x_parts += [real_x] * settings["real_repeat"]
        t_all += [s.answer for s in train_s] * settings["real_repeat"]
    x = preprocess(np.concatenate(x_parts))
    y = encode(t_all)
    train_ds = make_dataset(x, y, seed, augment=True)

    val_x = preprocess(images_of(val_s)) if val_s else None
    val_t = [s.answer for s in val_s]

    model = ctc_model.build(kind)
    steps = settings["epochs"] * int(np.ceil(len(x) / BATCH))
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, steps, warmup_target=None)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=ctc_model.ctc_loss)

    curves: dict[str, list[float]] = {"loss": [], "val_accuracy": []}
    for epoch in range(settings["epochs"]):
        started = time.time()
        hist = model.fit(train_ds, epochs=1, verbose=0)
        curves["loss"].append(float(hist.history["loss"][-1]))
        # Validation accuracy is watched, never used to pick epochs or settings.
        acc = whole_accuracy(model, val_x, val_t) if val_s else float("nan")
        curves["val_accuracy"].append(acc)
        log(
            f"{kind.name}: epoch {epoch + 1}/{settings['epochs']} loss {curves['loss'][-1]:.4f}"
            f" real-val {acc:.4f} ({time.time() - started:.0f}s)"
        )

    # Calibration on data the model did not see: fresh synthetic captchas (+ real train).
    cal_count = 200 if smoke else CALIBRATION_SYNTHETIC
    cal_x, cal_t = synthetic(kind, cal_count, seed * 1000 + 2, cache=not smoke)
    cal_in = preprocess(cal_x)
    if train_s:
        cal_in = np.concatenate([cal_in, preprocess(images_of(train_s))])
        cal_t = cal_t + [s.answer for s in train_s]
    temperature = fit_temperature(model.predict(cal_in, batch_size=256, verbose=0), cal_t, kind)
    log(f"{kind.name}: calibration temperature {temperature:.3f}")

    # The trained weights, for later studies (not shipped; the .tflite is what ships).
    (out / "keras").mkdir(parents=True, exist_ok=True)
    model.save_weights(out / "keras" / f"ctc_{kind.name}.weights.h5")

    # Export a batch-1 unrolled copy: builtin ops only (see training/export.py).
    frozen = ctc_model.build(kind, batch_size=1, unroll=True)
    frozen.set_weights(model.get_weights())
    file = f"ctc_{kind.name}.tflite"
    export.to_tflite(frozen, out / file, float16=True)
    ops = sorted(export.op_names(out / file))
    # What quantization costs: the same weights as float32 and as full int8 (not shipped).
    variants = {"float16": out / file}
    variants["float32"] = export.to_tflite(frozen, out / "variants" / f"f32_{file}", False)
    try:
        sample = cal_in[np.random.default_rng(seed).permutation(len(cal_in))[:300]]
        variants["int8"] = export.to_tflite(
            frozen, out / "variants" / f"int8_{file}", int8_samples=sample
        )
    except Exception as exc:  # the converter has crashed on some RNNs: report, go on
        log(f"{kind.name}: int8 conversion failed: {type(exc).__name__}: {exc}"[:300])
    entry = Entry(
        "ctc",
        kind.name,
        file,
        (1, kind.height, kind.width, 3),
        (1, ctc_model.frames(kind), 11),
        temperature=round(temperature, 4),
        weights="float16",
    ).to_json()
    report = {
        "curves": curves,
        "ops": ops,
        "bytes": (out / file).stat().st_size,
        "variants": {name: str(path) for name, path in variants.items()},
    }
    return entry, report


def validation_line(kind: Kind, result: dict[str, Any], section: dict[str, Any]) -> str:
    """What the log says of one kind's figures on the real validation split."""
    return (
        f"{kind.name}: real validation {result['correct']}/{result['images']}"
        f" misread {[m['file'] for m in result['misread']]}"
    )


def run(models_out: Path, data: Folders, seed: int = 0, smoke: bool = False) -> dict:
    """Build both ctc models into `models_out`; returns {"models": entries, "report": ...}."""
    models_out.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Any] = {}
    report: dict[str, Any] = {}
    for kind in KINDS.values():
        entry, section = train_kind(kind, data, models_out, seed, smoke)
        entries[entry_name("ctc", kind.name)] = entry
        report[entry_name("ctc", kind.name)] = section
    # The reader needs a models.json beside the files: write ours (the caller merges).
    write_catalogue(models_out, [Entry.from_json(name, e) for name, e in entries.items()])
    if data is not None and not smoke:
        validate_built(CtcReader, models_out, data, entries, report, validation_line, log)
    return {"models": entries, "report": report}
