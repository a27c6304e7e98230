"""Registering the host with browsers: where each looks for manifests; install, uninstall, status.

One manifest per browser family (Chromium's lists `allowed_origins`, Firefox's
`allowed_extensions`), written into every per-user folder the browsers read (Linux, macOS) or,
on Windows, into our own folder with an HKCU key per browser pointing at it. Everything install
writes is listed in an install record, so `uninstall` removes exactly that. Everything takes a
`Target` (OS, home, environment, registry), so tests run against a temporary home and a fake
Windows registry."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from host import ids

APP_FOLDER = "nthu-ais-decaptcha"
RECORD_NAME = "install.json"
DESCRIPTION = "NTHU AIS Decaptcha: reads the AIS captcha locally"
CHROMIUM, FIREFOX = "chromium", "firefox"

# Chromium ids are 32 letters a-p; Firefox ids are an email-like name or a {GUID}.
_CHROMIUM_ID = re.compile(r"^[a-p]{32}$")
_FIREFOX_ID = re.compile(
    r"^(?:[A-Za-z0-9._+-]{1,80}@[A-Za-z0-9.-]{1,80}|\{[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\})$"
)


class InstallError(Exception):
    """Install cannot proceed (bad id, unverifiable executable, unknown browser)."""


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


class Registry(Protocol):
    """The bit of the Windows registry we use: default values of keys under HKEY_CURRENT_USER."""

    def get_default(self, key: str) -> str | None: ...
    def set_default(self, key: str, value: str) -> None: ...
    def delete_key(self, key: str) -> None: ...


class WindowsRegistry:
    """HKCU through winreg (Windows only)."""

    def __init__(self) -> None:
        import winreg

        self._w = winreg

    def get_default(self, key: str) -> str | None:
        try:
            with self._w.OpenKey(self._w.HKEY_CURRENT_USER, key) as handle:
                value, _ = self._w.QueryValueEx(handle, "")
        except OSError:
            return None
        return str(value)

    def set_default(self, key: str, value: str) -> None:
        with self._w.CreateKeyEx(self._w.HKEY_CURRENT_USER, key, 0, self._w.KEY_WRITE) as handle:
            self._w.SetValueEx(handle, "", 0, self._w.REG_SZ, value)

    def delete_key(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._w.DeleteKey(self._w.HKEY_CURRENT_USER, key)


def this_os() -> str:
    """ "linux", "darwin" or "win32": the layouts we know (other Unixes use Linux's)."""
    return sys.platform if sys.platform in ("darwin", "win32") else "linux"


@dataclass
class Target:
    """Whose browsers to register with: an OS layout, a home folder, an environment, a registry."""

    os: str  # "linux", "darwin" or "win32"
    home: Path
    env: Mapping[str, str] = field(default_factory=dict)
    registry: Registry | None = None

    @classmethod
    def current(cls, home: Path | None = None) -> Target:
        """This machine and user; `home` (--home) replaces the home and ignores XDG/APPDATA."""
        os_name = this_os()
        env = dict(os.environ) if home is None else {}
        registry = WindowsRegistry() if os_name == "win32" else None
        return cls(os_name, Path(home) if home else Path.home(), env, registry)

    def _env_dir(self, name: str, default: Path) -> Path:
        value = self.env.get(name)
        return Path(value) if value and Path(value).is_absolute() else default

    def config_home(self) -> Path:
        return self._env_dir("XDG_CONFIG_HOME", self.home / ".config")

    def app_support(self) -> Path:
        return self.home / "Library" / "Application Support"

    def appdata(self) -> Path:
        return self._env_dir("APPDATA", self.home / "AppData" / "Roaming")

    def local_appdata(self) -> Path:
        return self._env_dir("LOCALAPPDATA", self.home / "AppData" / "Local")


# -- where things go ------------------------------------------------------------------------


def app_dir(target: Target) -> Path:
    """Our own per-user folder: the install record, the launcher, and Windows' manifests."""
    if target.os == "win32":
        return target.appdata() / APP_FOLDER
    if target.os == "darwin":
        return target.app_support() / APP_FOLDER
    return target.config_home() / APP_FOLDER


def log_dir(target: Target) -> Path:
    """The log folder (as host.paths.cache_dir, but for `target`, so tests stay inside it)."""
    if target.os == "win32":
        return target.local_appdata() / APP_FOLDER
    if target.os == "darwin":
        return target.home / "Library" / "Caches" / APP_FOLDER
    return target._env_dir("XDG_CACHE_HOME", target.home / ".cache") / APP_FOLDER


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


def manifest_path(target: Target, browser: Browser) -> Path:
    """Where the manifest for `browser` is written."""
    name = f"{ids.HOST_NAME}.json"
    if target.os == "win32":
        return app_dir(target) / browser.family / name  # one per family; keys point here
    if target.os == "darwin":
        if browser.family == FIREFOX:
            return target.app_support() / "Mozilla" / "NativeMessagingHosts" / name
        return profile_root(target, browser) / "NativeMessagingHosts" / name
    if browser.family == FIREFOX:
        return target.home / ".mozilla" / "native-messaging-hosts" / name
    return profile_root(target, browser) / "NativeMessagingHosts" / name


def registry_key(browser: Browser) -> str:
    return f"{browser.windows_key}\\NativeMessagingHosts\\{ids.HOST_NAME}"


def detect(target: Target) -> list[Browser]:
    """The supported browsers this user has a profile folder for."""
    return [b for b in BROWSERS.values() if profile_root(target, b).is_dir()]


# -- manifests ------------------------------------------------------------------------------


def family_ids(extension_ids: Iterable[str]) -> dict[str, list[str]]:
    """Our ids plus the extra ones, split by family; InstallError for an id of neither form."""
    result = {CHROMIUM: [ids.CHROMIUM_EXTENSION_ID], FIREFOX: [ids.FIREFOX_ADDON_ID]}
    for extension_id in extension_ids:
        if _CHROMIUM_ID.match(extension_id):
            family = CHROMIUM
        elif _FIREFOX_ID.match(extension_id):
            family = FIREFOX
        else:
            raise InstallError(
                f"{extension_id!r} is neither a Chromium extension id (32 letters a-p) "
                "nor a Firefox add-on id (name@domain or {GUID})"
            )
        if extension_id not in result[family]:
            result[family].append(extension_id)
    return result


def manifest(family: str, executable: Path, extension_ids: list[str]) -> dict:
    body = {
        "name": ids.HOST_NAME,
        "description": DESCRIPTION,
        "path": str(executable),
        "type": "stdio",
    }
    if family == CHROMIUM:
        body["allowed_origins"] = [f"chrome-extension://{i}/" for i in extension_ids]
    else:
        body["allowed_extensions"] = list(extension_ids)
    return body


def verify_executable(target: Target, path: Path) -> None:
    """InstallError unless `path` is absolute, an existing file, and executable."""
    if not path.is_absolute():
        raise InstallError(f"host path {path} is not absolute")
    if not path.is_file():
        raise InstallError(f"host path {path} does not exist or is not a file")
    if target.os == "win32":
        if path.suffix.lower() not in (".exe", ".bat", ".cmd"):
            raise InstallError(f"host path {path} is not an .exe or .bat")
    elif not os.access(path, os.X_OK):
        raise InstallError(f"host path {path} is not executable")


def launcher(target: Target, python: Path, source_root: Path) -> tuple[Path, str]:
    """A script that runs `python -m host` from the source checkout: (path, text)."""
    folder = app_dir(target)
    if target.os == "win32":
        text = f'@echo off\r\ncd /d "{source_root}"\r\n"{python}" -m host %*\r\n'
        return folder / "decaptcha-host.bat", text
    text = (
        "#!/bin/sh\n# Written by `python -m host --install`; starts the host from source.\n"
        f'cd {shlex.quote(str(source_root))} && exec {shlex.quote(str(python))} -m host "$@"\n'
    )
    return folder / "decaptcha-host.sh", text


# -- system-wide (Linux packages) ----------------------------------------------------------


def system_manifest_path(root: Path, browser: Browser) -> Path:
    """Where a package puts `browser`'s system-wide manifest, under `root` (/ when installed)."""
    return root / browser.linux_system.lstrip("/") / f"{ids.HOST_NAME}.json"


def write_system_manifests(root: Path, executable: Path) -> list[Path]:
    """Every browser's system-wide manifest under `root`, pointing at `executable` (the path
    once installed, so it need not exist yet): the .deb's payload. World-readable, as every
    user's browser must read them. Returns the files written."""
    if not executable.is_absolute():
        raise InstallError(f"host path {executable} is not absolute")
    by_family = family_ids(())
    written = []
    for browser in BROWSERS.values():
        path = system_manifest_path(root, browser)
        if path in written:  # two browsers sharing a folder
            continue
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        body = manifest(browser.family, executable, by_family[browser.family])
        _write_private(path, json.dumps(body, indent=2) + "\n", mode=0o644)
        written.append(path)
    return written


# -- the install record ---------------------------------------------------------------------


def record_path(target: Target) -> Path:
    return app_dir(target) / RECORD_NAME


def read_record(target: Target) -> dict:
    """The install record, or an empty one (missing or unreadable)."""
    try:
        data = json.loads(record_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def installed_extension_ids(target: Target | None = None) -> list[str]:
    """The extra ids registered with --extension-id (read by the host's caller check)."""
    record = read_record(target or Target.current())
    extra = record.get("extension_ids", [])
    return [i for i in extra if isinstance(i, str)] if isinstance(extra, list) else []


# -- files ----------------------------------------------------------------------------------


def _make_dirs(folder: Path, created: list[str]) -> None:
    """mkdir -p with 0700 for the folders we create, remembering them for uninstall."""
    missing = []
    for parent in [folder, *folder.parents]:
        if parent.exists():
            break
        missing.append(parent)
    for path in reversed(missing):
        path.mkdir(mode=0o700)
        created.append(str(path))


def _write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Write atomically with user-only permissions (also tightening an existing file's)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    tmp.chmod(mode)
    tmp.replace(path)


# -- install / uninstall / status -----------------------------------------------------------


def host_executable(target: Target, created_dirs: list[str], written: list[str]) -> Path:
    """The path manifests point at: the frozen bundle itself, or a launcher for the source tree."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable)
    python = Path(sys.executable)
    verify_executable(Target(this_os(), target.home), python)  # this machine's python
    source_root = Path(__file__).resolve().parent.parent
    path, text = launcher(target, python, source_root)
    _make_dirs(path.parent, created_dirs)
    _write_private(path, text, mode=0o700)
    written.append(str(path))
    return path


def install(
    target: Target,
    browsers: Iterable[str] = (),
    extension_ids: Iterable[str] = (),
    executable: Path | None = None,
) -> list[str]:
    """Register the host; returns a line for every file and key written. Idempotent.

    `browsers` empty means every supported browser this user has; `executable` None means
    this program (the frozen bundle, or a launcher script for the source checkout).
    """
    names = list(dict.fromkeys(browsers))
    unknown = [n for n in names if n not in BROWSERS]
    if unknown:
        raise InstallError(f"unknown browser {unknown[0]!r}; known: {', '.join(BROWSERS)}")
    chosen = [BROWSERS[n] for n in names] if names else detect(target)
    if not chosen:
        raise InstallError("no supported browser found for this user; name one with --browser")
    if target.os == "win32" and target.registry is None:
        raise InstallError("no registry to write to")
    record = read_record(target)
    extra = list(dict.fromkeys([*installed_extension_ids(target), *extension_ids]))
    by_family = family_ids(extra)

    created_dirs: list[str] = list(record.get("dirs", []))
    written: list[str] = []
    _make_dirs(app_dir(target), created_dirs)
    if executable is None:
        executable = host_executable(target, created_dirs, written)
    verify_executable(target, executable)

    keys: list[str] = list(record.get("keys", []))
    files: list[str] = list(record.get("files", []))
    lines = [f"wrote {w}" for w in written]
    for browser in chosen:
        path = manifest_path(target, browser)
        body = manifest(browser.family, executable, by_family[browser.family])
        _make_dirs(path.parent, created_dirs)
        _write_private(path, json.dumps(body, indent=2) + "\n")
        line = f"wrote {path}  ({browser.title})"
        if line not in lines:
            lines.append(line)
        written.append(str(path))
        if target.os == "win32":
            key = registry_key(browser)
            target.registry.set_default(key, str(path))  # type: ignore[union-attr]
            lines.append(f"set HKEY_CURRENT_USER\\{key} = {path}  ({browser.title})")
            if key not in keys:
                keys.append(key)
    files = list(dict.fromkeys([*files, *written]))
    new_record = {
        "version": 1,
        "executable": str(executable),
        "files": files,
        "dirs": list(dict.fromkeys(created_dirs)),
        "keys": keys,
        "extension_ids": extra,
    }
    _write_private(record_path(target), json.dumps(new_record, indent=2) + "\n")
    lines.append(f"wrote {record_path(target)}  (install record)")
    return lines


def uninstall(target: Target) -> list[str]:
    """Remove what install wrote (per the record; else our manifests in the known places),
    and the host's log folder. Returns a line per thing removed."""
    record = read_record(target)
    lines = []
    keys = record.get("keys", [])
    files = record.get("files", [])
    if not record:  # no record: find our manifests where install would have put them
        files = [str(manifest_path(target, b)) for b in BROWSERS.values()]
        files = [f for f in files if _is_our_manifest(Path(f))]
        if target.os == "win32" and target.registry is not None:
            keys = [registry_key(b) for b in BROWSERS.values()]
    for key in dict.fromkeys(keys):
        if target.registry is not None and target.registry.get_default(key) is not None:
            target.registry.delete_key(key)
            lines.append(f"removed HKEY_CURRENT_USER\\{key}")
    for name in [*files, str(record_path(target))]:
        path = Path(name)
        if path.is_file():
            path.unlink()
            lines.append(f"removed {path}")
    logs = log_dir(target)
    for path in sorted(logs.glob("host.log*")) if logs.is_dir() else []:
        path.unlink()
        lines.append(f"removed {path}")
    dirs = [*record.get("dirs", []), str(app_dir(target)), str(logs)]
    for name in sorted(dict.fromkeys(dirs), key=len, reverse=True):  # deepest first
        path = Path(name)
        with contextlib.suppress(OSError):  # not empty: something else lives there
            if path.is_dir():
                path.rmdir()
                lines.append(f"removed {path}/")
    return lines


def _is_our_manifest(path: Path) -> bool:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("name") == ids.HOST_NAME
    except (OSError, ValueError, AttributeError):
        return False


@dataclass
class Registration:
    browser: Browser
    manifest: Path | None  # None: not registered
    key: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.problems


def status(target: Target) -> list[Registration]:
    """For every supported browser: where the host is registered and what is wrong with it."""
    result = []
    for browser in BROWSERS.values():
        key = None
        if target.os == "win32":
            key = registry_key(browser)
            value = target.registry.get_default(key) if target.registry else None
            path = Path(value) if value else None
        else:
            path = manifest_path(target, browser)
            path = path if path.exists() else None
        entry = Registration(browser, path, key)
        if path is not None:
            entry.problems = check_manifest(target, path, browser.family)
        result.append(entry)
    return result


def check_manifest(target: Target, path: Path, family: str) -> list[str]:
    """What is wrong with a manifest file (empty when nothing is)."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"manifest {path} unreadable: {exc}"]
    if not isinstance(body, dict):
        return [f"manifest {path} is not a JSON object"]
    problems = []
    if body.get("name") != ids.HOST_NAME:
        problems.append(f"manifest name is {body.get('name')!r}, not {ids.HOST_NAME!r}")
    try:
        verify_executable(target, Path(str(body.get("path", ""))))
    except InstallError as exc:
        problems.append(str(exc))
    if family == CHROMIUM:
        wanted, listed = f"chrome-extension://{ids.CHROMIUM_EXTENSION_ID}/", "allowed_origins"
    else:
        wanted, listed = ids.FIREFOX_ADDON_ID, "allowed_extensions"
    if wanted not in (body.get(listed) or []):
        problems.append(f"{listed} does not list {wanted}")
    if target.os != "win32" and path.stat().st_mode & 0o077:
        problems.append(f"manifest {path} is readable or writable by others")
    return problems
