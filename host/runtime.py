"""The TFLite interpreter: ai-edge-litert if installed, else tflite-runtime; one thread.

One thread because a captcha is tiny (a few ms) and the user's machine is busy with a
browser: more threads cost more in wake-ups than they save.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

try:  # the maintained package (LiteRT)
    import ai_edge_litert as _module
    from ai_edge_litert.interpreter import Interpreter as _Interpreter

    _PACKAGE = "ai-edge-litert"
except ImportError:  # older systems: tflite-runtime, e.g. 2.14 on Python <= 3.11
    import tflite_runtime as _module
    from tflite_runtime.interpreter import Interpreter as _Interpreter

    _PACKAGE = "tflite-runtime"


def make_interpreter(path: Path | str) -> Any:
    """A ready interpreter (tensors allocated) for the .tflite file at `path`."""
    started = time.perf_counter()
    interpreter = _Interpreter(model_path=str(path), num_threads=1)
    opened = time.perf_counter()
    interpreter.allocate_tensors()  # XNNPACK (the default delegate) packs the weights here
    logging.getLogger("host").debug(
        "%s: open %.1f ms, allocate tensors (XNNPACK) %.1f ms",
        Path(path).name,
        (opened - started) * 1000,
        (time.perf_counter() - opened) * 1000,
    )
    return interpreter


def runtime_name() -> str:
    """The runtime in use and its version, e.g. 'ai-edge-litert 2.3.0'.

    importlib.metadata is imported here, not at the top: it pulls in email, zipfile and
    tempfile, about a quarter of the host's own import time, and only `status` needs it.
    """
    import importlib.metadata

    try:
        version = importlib.metadata.version(_PACKAGE)
    except importlib.metadata.PackageNotFoundError:  # a PyInstaller bundle may lack metadata
        version = getattr(_module, "__version__", "unknown")
    return f"{_PACKAGE} {version}"
