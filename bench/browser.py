"""In a real headless Chromium with the extension: captcha image `load` event -> field filled.

The end-to-end harness (tests/e2e and tests/test_e2e_extension.py, owned by the build
engineer) drives Chromium with the real extension, the real bundled host over native
messaging and a replica of the AIS pages, and records that interval with the page's clock:
once with a cold host (the first captcha after the browser starts) and then
DECAPTCHA_E2E_REPEATS times with the host running. We run that one test several times (each
run is a fresh browser, hence a fresh cold sample) and read what it recorded, rather than
keep a second browser harness.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEST = "tests/test_e2e_extension.py"
SELECT = "test_login_filled_cold_then_warm and {browser}"


def run_e2e(
    browser: str = "chromium", runs: int = 3, repeats: int = 10, timeout: float = 600
) -> dict:
    """`runs` fresh browsers, each: 1 cold + `repeats` warm samples. Lists of ms."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        TEST,
        "-k",
        SELECT.format(browser=browser),
    ]
    cold: list[float] = []
    warm: list[float] = []
    steps: dict[str, list[float]] = {}
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        for i in range(runs):
            path = Path(tmp) / f"timings-{i}.json"
            env = {
                **os.environ,
                "DECAPTCHA_E2E_TIMINGS": str(path),
                "DECAPTCHA_E2E_REPEATS": str(repeats),
            }
            proc = subprocess.run(
                cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
            )
            lines = proc.stdout.strip().splitlines()
            outcomes.append(lines[-1] if lines else f"exit {proc.returncode}")
            if proc.returncode != 0 or not path.exists():
                raise RuntimeError(
                    f"e2e run {i + 1} failed (exit {proc.returncode}): " + " | ".join(lines[-6:])
                )
            entry = json.loads(path.read_text())["browsers"][browser]
            cold += entry.get("cold_ms", [])
            warm += entry.get("warm_ms", [])
            for key, values in entry.items():  # the steps' breakdown (content/page.js marks)
                if key.startswith(("cold ", "warm ")) and key.endswith("_ms"):
                    steps.setdefault(key[: -len("_ms")], []).extend(values)
    return {
        "cold_ms": cold,
        "warm_ms": warm,
        "steps_ms": steps,
        "pytest": outcomes,
        "command": " ".join(["python", *cmd[1:]]) + f"  (x{runs}, DECAPTCHA_E2E_REPEATS={repeats})",
    }
