"""Train, calibrate, export and validate the seg models (segmentation + per-digit CNN).

Read top to bottom: cut real training-split captchas and synthetic captchas into digit
crops with the host's own preprocessing (host/seg.py, host/segment.py), train one small
CNN on the crops of both kinds (a digit looks the same in both), fit a softmax temperature
on crops it never saw, export one fixed-batch .tflite per kind (batch = the kind's digit
count, so a captcha is one invoke), then read the real validation split with the exported
files through the host's reader, so the figures are the shipped models'.

The validation split (host/scoring.py) is never trained on, nor used to pick settings.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from host.catalogue import Entry, entry_name, write_catalogue
from host.imageio import decode_png
from host.kinds import KINDS, Kind
from host.seg import SegReader, preprocess, softmax
from host.segment import CROP, PLANES
from training import data as dataset
from training import merge, synth
from training.merge import Folders
from training.validate import validate_built


def log(message: str) -> None:
    print(f"[seg {time.strftime('%H:%M:%S')}] {message}", flush=True)


# What one full run uses. Smoke runs shrink everything.
SYNTHETIC = {"ais6": 6000, "ais3": 4000}  # captchas per kind
REAL_REPEAT = 4  # the real training crops are few and precious: show them this often per epoch
EPOCHS = 16
SMOKE_SYNTHETIC = 40
SMOKE_EPOCHS = 1
CALIBRATION_SYNTHETIC = 1000  # fresh captchas per kind for the temperature
BATCH = 128


def load_real(folders: Folders, kind: Kind) -> tuple[list[dataset.Sample], list[dataset.Sample]]:
    """(train, validation) of one kind over the real folders (training/merge.py); known label
    errors are not trained on."""
    train, val, _ = merge.real_split(folders, kind)
    return train, val


def crops_of(images: list[np.ndarray], texts: list[str], kind: Kind) -> tuple[np.ndarray, ...]:
    """Digit crops (N, CROP, CROP, PLANES) and labels (N,) of the captchas that segment.

    Returns (crops, labels, failed): `failed` counts captchas segmentation gave up on.
    """
    xs, ys, failed = [], [], 0
    for rgb, text in zip(images, texts, strict=True):
        crops = preprocess(rgb, kind)
        if crops is None:
            failed += 1
            continue
        xs.append(crops)
        ys.extend(int(c) for c in text)
    x = np.concatenate(xs) if xs else np.zeros((0, CROP, CROP, PLANES), np.float32)
    return x, np.array(ys, dtype=np.int32), np.array(failed)


def build_model(batch_size: int | None = None):  # -> keras.Model
    """The per-digit CNN: three conv blocks and a small dense head; logits out.

    About 2 M multiply-adds per digit, so a 6-digit captcha reads in about a millisecond.
    """
    import keras
    from keras import layers

    inputs = keras.Input((CROP, CROP, PLANES), batch_size=batch_size)
    x = inputs
    for filters in (16, 32, 64):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs, name="seg_digit")


def make_dataset(x: np.ndarray, y: np.ndarray, seed: int):  # -> tf.data.Dataset
    """Shuffled batches with +-2 px shifts: the crops' centring is only as good as the cut."""
    import tensorflow as tf

    def shift(img: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        img = tf.pad(img, [[2, 2], [2, 2], [0, 0]])
        return tf.image.random_crop(img, [CROP, CROP, PLANES], seed=seed), label

    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed)
    return ds.map(shift, num_parallel_calls=2).batch(BATCH).prefetch(2)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The softmax temperature minimising the per-digit log loss on held-out crops."""
    best_t, best_loss = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.25), np.log(8.0), 81)):
        p = softmax(logits, float(t))[np.arange(len(labels)), labels]
        loss = -np.log(np.maximum(p, 1e-12)).sum()
        if loss < best_loss:
            best_t, best_loss = float(t), loss
    return best_t


def whole_accuracy(model: Any, x: np.ndarray, texts: list[str], kind: Kind) -> float:
    """Share of captchas read exactly, from their crops (a failed segmentation is wrong)."""
    right = 0
    for crops, text in zip(x, texts, strict=True):
        if crops is None:
            continue
        got = model.predict_on_batch(crops).argmax(axis=1)
        right += "".join(str(int(d)) for d in got) == text
    return right / max(len(texts), 1)


def train(
    data: Folders, out: Path, seed: int, smoke: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train the shared CNN and export one file per kind; returns (models.json entries, report)."""
    import keras

    from training import export

    keras.utils.set_random_seed(seed)
    x_parts, y_parts, cal_x, cal_y = [], [], [], []
    watch: dict[str, tuple[list, list[str]]] = {}
    counts: dict[str, Any] = {}
    for i, kind in enumerate(KINDS.values()):
        n_syn = SMOKE_SYNTHETIC if smoke else SYNTHETIC[kind.name]
        images, texts = synth.batch(kind.name, n_syn, seed=seed * 1000 + 10 + i)
        x, y, failed = crops_of(images, texts, kind)
        x_parts.append(x)
        y_parts.append(y)
        counts[kind.name] = {"synthetic": n_syn, "synthetic_failed": int(failed)}
        log(f"{kind.name}: {n_syn} synthetic captchas -> {len(x)} crops ({failed} not segmented)")

        train_s, val_s = load_real(data, kind) if data is not None and not smoke else ([], [])
        if train_s:
            real = [decode_png(s.path.read_bytes()) for s in train_s]
            x, y, failed = crops_of(real, [s.answer for s in train_s], kind)
            x_parts += [x] * REAL_REPEAT
            y_parts += [y] * REAL_REPEAT
            counts[kind.name].update(real_train=len(train_s), real_train_failed=int(failed))
            log(f"{kind.name}: {len(train_s)} real training captchas -> {len(x)} crops")
        if val_s:  # watched while training, never used to choose anything
            val = [decode_png(s.path.read_bytes()) for s in val_s]
            watch[kind.name] = ([preprocess(rgb, kind) for rgb in val], [s.answer for s in val_s])

        n_cal = 50 if smoke else CALIBRATION_SYNTHETIC
        images, texts = synth.batch(kind.name, n_cal, seed=seed * 1000 + 20 + i)
        x, y, _ = crops_of(images, texts, kind)
        cal_x.append(x)
        cal_y.append(y)

    x, y = np.concatenate(x_parts), np.concatenate(y_parts)
    log(f"training on {len(x)} crops")
    model = build_model()
    epochs = SMOKE_EPOCHS if smoke else EPOCHS
    steps = epochs * int(np.ceil(len(x) / BATCH))
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    train_ds = make_dataset(x, y, seed)
    curves: dict[str, list[float]] = {"loss": [], "accuracy": []}  # + val_<kind>
    for epoch in range(epochs):
        started = time.time()
        hist = model.fit(train_ds, epochs=1, verbose=0)
        curves["loss"].append(float(hist.history["loss"][-1]))
        curves["accuracy"].append(float(hist.history["accuracy"][-1]))
        line = f"epoch {epoch + 1}/{epochs} loss {curves['loss'][-1]:.4f}"
        for name, (vx, vt) in watch.items():
            acc = whole_accuracy(model, vx, vt, KINDS[name])
            curves.setdefault(f"val_{name}", []).append(acc)
            line += f" real-val {name} {acc:.4f}"
        log(f"{line} ({time.time() - started:.0f}s)")

    cal_x_all, cal_y_all = np.concatenate(cal_x), np.concatenate(cal_y)
    temperature = fit_temperature(model.predict(cal_x_all, verbose=0), cal_y_all)
    log(f"calibration temperature {temperature:.3f} on {len(cal_y_all)} fresh synthetic crops")

    entries: dict[str, Any] = {}
    report: dict[str, Any] = {}
    sample = cal_x_all[np.random.default_rng(seed).permutation(len(cal_x_all))[:600]]
    for kind in KINDS.values():
        fixed = build_model(batch_size=kind.digits)
        fixed.set_weights(model.get_weights())
        file = f"seg_{kind.name}.tflite"
        export.to_tflite(fixed, out / file, float16=True)
        # What quantization costs: the same weights as float32 and as full int8 (not shipped).
        variants = {"float16": out / file}
        if not smoke:
            variants["float32"] = export.to_tflite(fixed, out / "variants" / f"f32_{file}", False)
            try:
                variants["int8"] = export.to_tflite(
                    fixed, out / "variants" / f"int8_{file}", int8_samples=sample
                )
            except Exception as exc:  # report, go on: the shipped file does not depend on it
                log(f"{kind.name}: int8 conversion failed: {type(exc).__name__}: {exc}"[:300])
        entries[entry_name("seg", kind.name)] = Entry(
            "seg",
            kind.name,
            file,
            (kind.digits, CROP, CROP, PLANES),
            (kind.digits, 10),
            temperature=round(temperature, 4),
            weights="float16",
        ).to_json()
        report[entry_name("seg", kind.name)] = {
            # one CNN serves both kinds: the loss is shared, the watched accuracy is per kind
            "curves": {"loss": curves["loss"], "val_accuracy": curves.get(f"val_{kind.name}", [])},
            "data": counts[kind.name],
            "temperature": round(temperature, 4),
            "ops": sorted(export.op_names(out / file)),
            "bytes": (out / file).stat().st_size,
            "variants": {name: str(path) for name, path in variants.items()},
        }
    return entries, report


def validation_line(kind: Kind, result: dict[str, Any], section: dict[str, Any]) -> str:
    """What the log says of one kind's figures on the real validation split."""
    return (
        f"{kind.name}: real validation {result['correct']}/{result['images']},"
        f" {result['unread']} not segmented,"
        f" misread {[m['file'] for m in result['misread']]};"
        f" quantization {section['quantization']}"
    )


def run(models_out: Path, data: Folders, seed: int = 0, smoke: bool = False) -> dict:
    """Build both seg models into `models_out`; returns {"models": entries, "report": ...}."""
    models_out.mkdir(parents=True, exist_ok=True)
    entries, report = train(data, models_out, seed, smoke)
    # The reader needs a models.json beside the files: write ours (the caller merges).
    write_catalogue(models_out, [Entry.from_json(name, e) for name, e in entries.items()])
    if data is not None and not smoke:
        validate_built(
            SegReader,
            models_out,
            data,
            entries,
            report,
            validation_line,
            log,
            unread_as="segmentation_failed",
        )
    return {"models": entries, "report": report}
