"""What machine and software a result was measured on, and what else was running."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

PACKAGES = [
    "numpy",
    "pillow",
    "ai-edge-litert",
    "tflite-runtime",
    "pyinstaller",
    "ddddocr",
    "onnxruntime",
    "selenium",
]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release()["PRETTY_NAME"]
    except (OSError, AttributeError, KeyError):
        return platform.platform()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _chromium_version() -> str | None:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20)
        return out.stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def busy_processes(limit: int = 8) -> list[str]:
    """The processes using the most CPU right now (other work skews timings; we report it)."""
    try:
        out = subprocess.run(
            ["ps", "-eo", "pcpu,nice,etime,args", "--sort=-pcpu"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return []
    rows = [line.strip()[:140] for line in out[1:]]
    return [r for r in rows if not r.startswith("0.0")][:limit]


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_info() -> dict:
    return {
        "when_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": _os_name(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "nice": os.nice(0),
        "packages": {p: v for p in PACKAGES if (v := _version(p))},
        "chromium": _chromium_version(),
        "load_average": load_average(),
        "busy_processes": busy_processes(),
    }
