"""The CRNN that reads a whole captcha: a small conv stack, a bidirectional LSTM, CTC frames.

Input (H, W, 3) from host.ctc.preprocess; output (frames, 11) logits (digits 0-9, blank 10).
Width is pooled less than height so there are enough frames for repeated digits
("000000" needs at least 11 frames).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from host.ctc import BLANK, CLASSES
from host.kinds import Kind

# Per kind: horizontal pool factor of each of the three conv blocks.
WIDTH_POOLS = {"ais6": (2, 2, 1), "ais3": (2, 1, 1)}
FILTERS = (16, 32, 64)
RNN_UNITS = 64


def frames(kind: Kind) -> int:
    """How many CTC frames the model emits for this kind."""
    width = kind.width
    for p in WIDTH_POOLS[kind.name]:
        width //= p
    return width


def build(kind: Kind, batch_size: int | None = None, unroll: bool = False) -> keras.Model:
    """The CRNN for `kind`; export builds it with batch_size=1, unroll=True (builtin ops only)."""
    inp = keras.Input((kind.height, kind.width, 3), batch_size=batch_size, name="image")
    x = inp
    for filters, wpool in zip(FILTERS, WIDTH_POOLS[kind.name], strict=True):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D((2, wpool))(x)
    # (h', w', c) -> w' frames of h'*c features
    h, w, c = x.shape[1], x.shape[2], x.shape[3]
    x = layers.Permute((2, 1, 3))(x)
    x = layers.Reshape((w, h * c))(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Bidirectional(layers.LSTM(RNN_UNITS, return_sequences=True, unroll=unroll))(x)
    out = layers.Dense(CLASSES, name="logits")(x)
    return keras.Model(inp, out, name=f"ctc_{kind.name}")


def ctc_loss(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Mean CTC loss of dense (batch, digits) int labels against (batch, frames, 11) logits."""
    labels = tf.cast(labels, tf.int32)
    batch = tf.shape(labels)[0]
    label_length = tf.fill([batch], tf.shape(labels)[1])
    logit_length = tf.fill([batch], tf.shape(logits)[1])
    loss = tf.nn.ctc_loss(
        labels,
        logits,
        label_length,
        logit_length,
        logits_time_major=False,
        blank_index=BLANK,
    )
    return tf.reduce_mean(loss)
