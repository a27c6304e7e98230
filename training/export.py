"""Keras -> .tflite with builtin ops only, and the checks every shipped file must pass.

Facts verified here (TF 2.21, ai-edge-litert 2.3, tflite-runtime 2.14):
- an LSTM converts to builtin ops only when the batch size is fixed (we use 1) or it is
  unrolled; we do both, so no WHILE loop and no Select TF ops;
- dynamic-range quantized files from TF 2.21 do not load in tflite-runtime 2.14, so we
  ship float16 weights (or float32): see models/README.md for what each costs.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf


def to_tflite(
    model: keras.Model,
    path: Path,
    float16: bool = True,
    int8_samples: np.ndarray | None = None,
) -> Path:
    """Convert a fixed-batch Keras model to `path`, builtin ops only.

    float16=True stores float16 weights (half the size; computed in float32).
    `int8_samples` (preprocessed inputs) instead asks for full-integer int8 weights and
    activations, calibrated on those samples, with float input and output.
    """
    # from_keras_model freezes the weights into constants (batch norm folds into the
    # convolutions); a concrete function would keep them as VAR_HANDLE resource variables.
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if int8_samples is not None:
        batch = int(model.inputs[0].shape[0] or 1)

        def representative():  # calibration batches of the model's fixed batch size
            for start in range(0, len(int8_samples) - batch + 1, batch):
                yield [int8_samples[start : start + batch].astype(np.float32)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    elif float16:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(converter.convert())
    return path


def op_names(path: Path) -> set[str]:
    """The op names a .tflite file uses, as the LiteRT interpreter lists them."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    return {op["op_name"] for op in interpreter._get_ops_details()}
