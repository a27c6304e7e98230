"""Fit a one-logit "is it one of ours" classifier: the gate and the glyph check (both checks).

Both trainers (training/train_gate.py, training/train_glyph.py) fit the same way: binary cross
entropy on the logit, the two classes weighted to count equally in the loss, Adam with a
cosine-decayed learning rate from 2e-3, a progress line per epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def fit(
    model: Any,
    positives: np.ndarray,
    negatives: np.ndarray,
    epochs: int,
    batch: int,
    progress: Callable[[str], None],
) -> Any:
    """Train `model` (a keras.Model with one logit out) on the preprocessed `positives`
    (label 1) and `negatives` (label 0); returns its keras History."""
    import keras

    x = np.concatenate([positives, negatives])
    y = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))]).astype("f4")
    weight = np.where(y == 1, len(y) / (2 * len(positives)), len(y) / (2 * len(negatives)))
    steps = epochs * int(np.ceil(len(x) / batch))
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)],
    )
    return model.fit(
        x,
        y,
        sample_weight=weight.astype("f4"),
        batch_size=batch,
        epochs=epochs,
        shuffle=True,
        verbose=0,
        callbacks=[
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: progress(
                    f"epoch {epoch + 1}/{epochs}"
                    f" loss {logs['loss']:.4f} accuracy {logs['binary_accuracy']:.4f}"
                )
            )
        ],
    )
