"""The solver, created once when first needed; a failure to create it is remembered.

Loading takes a while (numpy, the runtime, an interpreter per model), so the server starts
it early (`preload`) and the first request waits only for what it needs. How much is loaded
before the first answer is the load policy (`$DECAPTCHA_LOAD`, see `LOAD_POLICIES`):

- `background` (the default): the imports, the catalogue and the first kind's models
  (`FIRST_KINDS`: the login page's, where a cold host is met most) at start; a request for
  another kind loads that kind first; once the first answer is written, the remaining models
  load on a background thread, so the next page's captcha finds them ready.
- `on-use`: as `background`, but the remaining models load only when a request needs them.
- `eager`: every model before the first answer (the host before issue 13).

A `status` request loads every model not tried yet first, so its reply is never provisional.
When the solver cannot be created, the host keeps serving: `status` reports why and `get`
answers MODEL_ERROR.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from host import log
from host.errors import Code, HostError

LOAD_POLICIES = ("background", "on-use", "eager")
FIRST_KINDS = ("ais6",)


def load_policy() -> str:
    """`$DECAPTCHA_LOAD` when it names a policy, else `background`."""
    value = os.environ.get("DECAPTCHA_LOAD", "")
    return value if value in LOAD_POLICIES else LOAD_POLICIES[0]


class LazySolver:
    def __init__(self, load: Callable[[], Any], policy: str | None = None) -> None:
        """`load` returns an object with the Solver contract of docs/ARCHITECTURE.md, without
        loading its models yet when it has `load(kinds)` (else it is taken as fully loaded)."""
        self._load = load
        self.policy = policy if policy in LOAD_POLICIES else load_policy()
        self._solver: Any = None
        self._error: str | None = None
        self._loaded = False
        self._lock = threading.Lock()
        self._rest_started = False

    def preload(self) -> None:
        """Start loading now, while the browser prepares its first request."""
        first = None if self.policy == "eager" else FIRST_KINDS
        threading.Thread(
            target=self.prepare, args=(first,), name="load-models", daemon=True
        ).start()

    def ensure(self) -> None:
        """Create the solver once; a caller arriving during a preload waits for it."""
        with self._lock:
            if not self._loaded:
                self._create()
                self._loaded = True

    def prepare(self, kinds: Iterable[str] | None = None) -> None:
        """Create the solver and load the models of `kinds` (None: every kind)."""
        self.ensure()
        load = getattr(self._solver, "load", None)
        if load is None:
            return
        started = time.perf_counter()
        try:
            done = load(kinds)
        except BaseException as exc:  # the Solver keeps per-model errors; this is a bug
            log.get().error("loading models failed: %s: %s", type(exc).__name__, exc)
            return
        if done:
            ms = (time.perf_counter() - started) * 1000
            log.get().info("models of %s loaded in %.0f ms", ", ".join(done), ms)

    def answered(self) -> None:
        """A solve reply has been written: under `background`, load the rest now (once)."""
        if self.policy != "background" or self._rest_started:
            return
        self._rest_started = True
        threading.Thread(target=self.prepare, name="load-rest", daemon=True).start()

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
            log.get().info("solver ready in %.0f ms", (time.perf_counter() - started) * 1000)

    def get(self) -> Any:
        """The solver, or HostError MODEL_ERROR with the remembered reason."""
        self.ensure()
        if self._solver is None:
            raise HostError(Code.MODEL_ERROR, f"models not loaded: {self._error}")
        return self._solver

    def status(self) -> dict[str, Any]:
        """The status result's `runtime`, `models` and `ready` (PROTOCOL.md), from the solver's,
        once every model has been tried."""
        self.prepare(None)
        if self._solver is None:
            return {"runtime": None, "models": {"error": self._error}, "ready": False}
        details = self._solver.status()
        return {
            "runtime": details["runtime"],
            "models": details["models"],
            "ready": details["ready"] is True,
        }
