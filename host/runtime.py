"""The TFLite interpreter: ai-edge-litert if installed, else tflite-runtime; one thread.

One thread because a captcha is tiny (a few ms) and the user's machine is busy with a
browser: more threads cost more in wake-ups than they save. XNNPACK (the default delegate)
can be turned off per model: it packs the weights when the tensors are allocated, which
costs the ctc models more at a cold start than it saves them per read (host/ctc.py).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

try:  # the maintained package (LiteRT)
    import ai_edge_litert as _module
    from ai_edge_litert.interpreter import Interpreter as _Interpreter
    from ai_edge_litert.interpreter import OpResolverType as _OpResolverType

    _PACKAGE = "ai-edge-litert"
except ImportError:  # older systems: tflite-runtime, e.g. 2.14 on Python <= 3.11
    import tflite_runtime as _module
    from tflite_runtime.interpreter import Interpreter as _Interpreter
    from tflite_runtime.interpreter import OpResolverType as _OpResolverType

    _PACKAGE = "tflite-runtime"

_NO_DELEGATES = _OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES


def open_interpreter(path: Path | str, xnnpack: bool = True) -> Any:
    """An interpreter for the .tflite file at `path`, tensors not allocated yet; with the
    XNNPACK delegate, or (`xnnpack` False) the builtin kernels only."""
    options = {} if xnnpack else {"experimental_op_resolver_type": _NO_DELEGATES}
    return _Interpreter(model_path=str(path), num_threads=1, **options)


def make_interpreter(path: Path | str, xnnpack: bool = True) -> Any:
    """A ready interpreter (tensors allocated) for the .tflite file at `path`."""
    started = time.perf_counter()
    interpreter = open_interpreter(path, xnnpack)
    opened = time.perf_counter()
    interpreter.allocate_tensors()  # XNNPACK, if on, packs the weights here
    logging.getLogger("host").debug(
        "%s: open %.1f ms, allocate tensors (%s) %.1f ms",
        Path(path).name,
        (opened - started) * 1000,
        "XNNPACK" if xnnpack else "builtin kernels",
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
