"""Where the host finds its models, and the per-user folders it uses, from source or bundle.

The per-user folders take an OS name, a home and an environment (default: this machine's) so
the installer can compute them for a temporary home in tests; they exist once, here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

APP_FOLDER = "nthu-ais-decaptcha"


def bundle_root() -> Path:
    """The folder holding `models/`: the PyInstaller bundle's, or the source checkout."""
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) if frozen else Path(__file__).resolve().parent.parent


def models_dir() -> Path:
    """$DECAPTCHA_MODELS if set (tests point it at a broken folder), else the shipped models."""
    env = os.environ.get("DECAPTCHA_MODELS")
    return Path(env) if env else bundle_root() / "models"


def this_os() -> str:
    """ "linux", "darwin" or "win32": the layouts we know (other Unixes use Linux's)."""
    return sys.platform if sys.platform in ("darwin", "win32") else "linux"


def env_dir(env: Mapping[str, str], name: str, default: Path) -> Path:
    """$name if it is an absolute path, else `default`: an empty or relative XDG_* / APPDATA
    would otherwise land in whatever folder the browser started us in."""
    value = env.get(name)
    return Path(value) if value and Path(value).is_absolute() else default


def _who(
    os_name: str | None, home: Path | None, env: Mapping[str, str] | None
) -> tuple[str, Path, Mapping[str, str]]:
    return (
        os_name or this_os(),
        home if home is not None else Path.home(),
        env if env is not None else os.environ,
    )


def cache_dir(
    os_name: str | None = None, home: Path | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """The per-user cache folder for the log: XDG / Library/Caches / LOCALAPPDATA."""
    os_name, home, env = _who(os_name, home, env)
    if os_name == "win32":
        return env_dir(env, "LOCALAPPDATA", home / "AppData" / "Local") / APP_FOLDER
    if os_name == "darwin":
        return home / "Library" / "Caches" / APP_FOLDER
    return env_dir(env, "XDG_CACHE_HOME", home / ".cache") / APP_FOLDER


def data_dir(
    os_name: str | None = None, home: Path | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """The per-user application folder the installer copies the bundle into."""
    os_name, home, env = _who(os_name, home, env)
    if os_name == "win32":
        local = env_dir(env, "LOCALAPPDATA", home / "AppData" / "Local")
        return local / "Programs" / APP_FOLDER
    if os_name == "darwin":
        return home / "Library" / "Application Support" / APP_FOLDER
    return env_dir(env, "XDG_DATA_HOME", home / ".local" / "share") / APP_FOLDER


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
