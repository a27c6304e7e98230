"""The solver, created once when first needed; a failure to create it is remembered.

Loading the models takes a while (numpy, the runtime, four interpreters), so the server
starts it early (`preload`) and the first request waits for it. When it fails, the host keeps
serving: `status` reports why and `get` answers MODEL_ERROR.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from host import log
from host.errors import Code, HostError


class LazySolver:
    def __init__(self, load: Callable[[], Any]) -> None:
        """`load` returns an object with the Solver contract of docs/ARCHITECTURE.md."""
        self._load = load
        self._solver: Any = None
        self._error: str | None = None
        self._loaded = False
        self._lock = threading.Lock()

    def preload(self) -> None:
        """Start loading now, while the browser prepares its first request."""
        threading.Thread(target=self.ensure, name="load-models", daemon=True).start()

    def ensure(self) -> None:
        """Load once; a caller arriving during a preload waits for it."""
        with self._lock:
            if not self._loaded:
                self._create()
                self._loaded = True

    def _create(self) -> None:
        started = time.perf_counter()
        try:
            self._solver = self._load()
        # Missing runtime, missing or corrupt models folder; SystemExit too (a lazy import in
        # a broken bundle): the host must keep serving and say why.
        except BaseException as exc:
            self._error = f"{type(exc).__name__}: {exc}"[:500]
            log.get().error("models not loaded: %s", self._error)
        else:
            log.get().info("models loaded in %.0f ms", (time.perf_counter() - started) * 1000)

    def get(self) -> Any:
        """The solver, or HostError MODEL_ERROR with the remembered reason."""
        self.ensure()
        if self._solver is None:
            raise HostError(Code.MODEL_ERROR, f"models not loaded: {self._error}")
        return self._solver

    def status(self) -> dict[str, Any]:
        """The status result's `runtime`, `models` and `ready` (PROTOCOL.md), from the solver's."""
        self.ensure()
        if self._solver is None:
            return {"runtime": None, "models": {"error": self._error}, "ready": False}
        details = self._solver.status()
        return {
            "runtime": details["runtime"],
            "models": details["models"],
            "ready": details["ready"] is True,
        }
