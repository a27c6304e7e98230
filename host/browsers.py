"""Where each supported browser looks for native-messaging host manifests, per OS.

Data plus a `Target` (OS, home, environment, HKCU keys), so tests compute every layout for a
temporary home and a fake Windows registry. What the installer writes there is host/install.py.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from host import ids, paths
from host.winreg_keys import HkcuKeys, WinregHkcuKeys

CHROMIUM, FIREFOX = "chromium", "firefox"


@dataclass(frozen=True)
class Browser:
    name: str
    title: str
    family: str
    linux: str  # profile root under the config home (~/.config), or under home for Firefox
    mac: str  # under ~/Library/Application Support
    windows_data: str  # profile root under %LOCALAPPDATA% (Firefox: %APPDATA%), to detect it
    windows_key: str  # HKCU key whose NativeMessagingHosts\<name> default value is the manifest
    linux_system: str  # the system-wide manifest folder on Linux (what a package installs)


BROWSERS: dict[str, Browser] = {
    b.name: b
    for b in (
        Browser(
            "chrome", "Google Chrome", CHROMIUM, "google-chrome", "Google/Chrome",
            "Google/Chrome/User Data", r"Software\Google\Chrome",
            "/etc/opt/chrome/native-messaging-hosts",
        ),
        Browser(
            "chromium", "Chromium", CHROMIUM, "chromium", "Chromium",
            "Chromium/User Data", r"Software\Chromium",
            "/etc/chromium/native-messaging-hosts",
        ),
        Browser(
            "edge", "Microsoft Edge", CHROMIUM, "microsoft-edge", "Microsoft Edge",
            "Microsoft/Edge/User Data", r"Software\Microsoft\Edge",
            "/etc/opt/edge/native-messaging-hosts",
        ),
        # Brave and Vivaldi read Chrome's key on Windows (they have none of their own).
        Browser(
            "brave", "Brave", CHROMIUM, "BraveSoftware/Brave-Browser",
            "BraveSoftware/Brave-Browser", "BraveSoftware/Brave-Browser/User Data",
            r"Software\Google\Chrome", "/etc/opt/brave.com/brave/native-messaging-hosts",
        ),
        Browser(
            "vivaldi", "Vivaldi", CHROMIUM, "vivaldi", "Vivaldi",
            "Vivaldi/User Data", r"Software\Google\Chrome",
            "/etc/opt/vivaldi/native-messaging-hosts",
        ),
        Browser(
            "firefox", "Firefox", FIREFOX, ".mozilla", "Firefox",
            "Mozilla/Firefox", r"Software\Mozilla",
            "/usr/lib/mozilla/native-messaging-hosts",
        ),
    )
}  # fmt: skip


@dataclass
class Target:
    """Whose browsers: an OS layout, a home folder, an environment, the HKCU keys (Windows),
    and the file-system root the system-wide folders are read from (/ but in tests)."""

    os: str  # "linux", "darwin" or "win32"
    home: Path
    env: Mapping[str, str] = field(default_factory=dict)
    keys: HkcuKeys | None = None
    root: Path = Path("/")

    @classmethod
    def current(cls, home: Path | None = None) -> Target:
        """This machine and user; `home` (--home) replaces the home and ignores XDG/APPDATA."""
        os_name = paths.this_os()
        env = dict(os.environ) if home is None else {}
        keys = WinregHkcuKeys() if os_name == "win32" else None
        return cls(os_name, Path(home) if home else Path.home(), env, keys)

    def _env_dir(self, name: str, default: Path) -> Path:
        return paths.env_dir(self.env, name, default)

    def config_home(self) -> Path:
        return self._env_dir("XDG_CONFIG_HOME", self.home / ".config")

    def app_support(self) -> Path:
        return self.home / "Library" / "Application Support"

    def appdata(self) -> Path:
        return self._env_dir("APPDATA", self.home / "AppData" / "Roaming")

    def local_appdata(self) -> Path:
        return self._env_dir("LOCALAPPDATA", self.home / "AppData" / "Local")

    def cache_dir(self) -> Path:
        """The host's log folder for this target (host.paths decides where)."""
        return paths.cache_dir(self.os, self.home, self.env)

    def data_dir(self) -> Path:
        """Our per-user application folder for this target (host.paths decides where)."""
        return paths.data_dir(self.os, self.home, self.env)


def profile_root(target: Target, browser: Browser) -> Path:
    """The folder whose existence says the browser has been used by this user."""
    if target.os == "win32":
        base = target.appdata() if browser.family == FIREFOX else target.local_appdata()
        return base / browser.windows_data
    if target.os == "darwin":
        return target.app_support() / browser.mac
    if browser.family == FIREFOX:
        return target.home / browser.linux
    return target.config_home() / browser.linux


def user_manifest_dir(target: Target, browser: Browser) -> Path | None:
    """The per-user folder `browser` reads manifests from; None on Windows (a registry key
    names the manifest instead, wherever it is)."""
    if target.os == "win32":
        return None
    if target.os == "darwin":
        if browser.family == FIREFOX:
            return target.app_support() / "Mozilla" / "NativeMessagingHosts"
        return profile_root(target, browser) / "NativeMessagingHosts"
    if browser.family == FIREFOX:
        return target.home / ".mozilla" / "native-messaging-hosts"
    return profile_root(target, browser) / "NativeMessagingHosts"


def registry_key(browser: Browser) -> str:
    """The HKCU key whose default value is the path of `browser`'s manifest (Windows)."""
    return f"{browser.windows_key}\\NativeMessagingHosts\\{ids.HOST_NAME}"


def system_manifest_path(root: Path, browser: Browser) -> Path:
    """Where a package puts `browser`'s system-wide manifest, under `root` (/ when installed)."""
    return root / browser.linux_system.lstrip("/") / f"{ids.HOST_NAME}.json"


def detect(target: Target) -> list[Browser]:
    """The supported browsers this user has a profile folder for, and the sandboxed ones a
    normal registration reaches (Firefox's snap keeps its profile inside ~/snap)."""
    served = {s.browser.name for s in sandboxed(target) if s.served}
    return [b for b in BROWSERS.values() if profile_root(target, b).is_dir() or b.name in served]


# -- sandboxed browsers (Linux Snap and Flatpak) ----------------------------------------------

SNAP, FLATPAK = "snap", "flatpak"
# Snap name -> our browser, and whether a host registered as usual reaches it: Firefox's snap
# reads ~/.mozilla/native-messaging-hosts through the WebExtensions portal and starts the host
# outside its sandbox; Chromium's snap has no such portal.
SNAPS = {"firefox": ("firefox", True), "chromium": ("chromium", False)}
# Flatpak app id -> our browser. A Flatpak browser reads hosts only from inside its sandbox
# (and would run them there), so none is served by a per-user registration.
FLATPAKS = {
    "org.mozilla.firefox": "firefox",
    "org.chromium.Chromium": "chromium",
    "com.google.Chrome": "chrome",
    "com.brave.Browser": "brave",
    "com.microsoft.Edge": "edge",
    "com.vivaldi.Vivaldi": "vivaldi",
}


@dataclass(frozen=True)
class Sandboxed:
    """A Snap or Flatpak browser found on this machine."""

    browser: Browser
    kind: str  # SNAP or FLATPAK
    found: Path  # what says it is installed
    served: bool  # a normal registration reaches it


def sandboxed(target: Target) -> list[Sandboxed]:
    """The Snap and Flatpak browsers installed for this user or system-wide (Linux only)."""
    if target.os != "linux":
        return []
    found = []
    for snap, (name, served) in SNAPS.items():
        for path in (target.root / "snap/bin" / snap, target.home / "snap" / snap):
            if path.exists():
                found.append(Sandboxed(BROWSERS[name], SNAP, path, served))
                break
    data_home = target._env_dir("XDG_DATA_HOME", target.home / ".local" / "share")
    for app_id, name in FLATPAKS.items():
        for path in (
            target.root / "var/lib/flatpak/app" / app_id,
            data_home / "flatpak/app" / app_id,
        ):
            if path.is_dir():
                found.append(Sandboxed(BROWSERS[name], FLATPAK, path, False))
                break
    return found
