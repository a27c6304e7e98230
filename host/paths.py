"""Where the host finds its models and writes its log, from source or from the bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def bundle_root() -> Path:
    """The folder holding `models/`: the PyInstaller bundle's, or the source checkout."""
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) if frozen else Path(__file__).resolve().parent.parent


def models_dir() -> Path:
    """$DECAPTCHA_MODELS if set (tests point it at a broken folder), else the shipped models."""
    env = os.environ.get("DECAPTCHA_MODELS")
    return Path(env) if env else bundle_root() / "models"


def cache_dir() -> Path:
    """The per-user cache folder for the log: XDG / Library/Caches / LOCALAPPDATA."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "nthu-ais-decaptcha"


CAPTCHAS_FOLDER = "nthu-ais-decaptcha-captchas"


def captchas_dir() -> Path:
    """$DECAPTCHA_CAPTCHAS if set (tests), else the per-user folder of kept captchas.

    Beside the application folder, never inside it: uninstalling (or installing a newer
    version over) the app folder must not delete the user's labeled captchas. XDG data
    home / Library/Application Support / LOCALAPPDATA.
    """
    env = os.environ.get("DECAPTCHA_CAPTCHAS")
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / CAPTCHAS_FOLDER
