"""Registering the host with browsers: what install writes and removes, and status.

One manifest per browser family (Chromium's lists `allowed_origins`, Firefox's
`allowed_extensions`), written into every per-user folder the browsers read (Linux, macOS) or,
on Windows, into our own folder with an HKCU key per browser pointing at it (host/browsers.py
says where). Everything install writes is listed in an install record, so `uninstall` removes
exactly that."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from host import __version__, ids, paths
from host.browsers import (
    BROWSERS,
    CHROMIUM,
    FIREFOX,
    Browser,
    Target,
    detect,
    registry_key,
    system_manifest_path,
    user_manifest_dir,
)

RECORD_NAME = "install.json"
COPIES = "versions"
# The names our programs have: the bundle, and the launchers written for a source checkout.
OUR_PROGRAMS = ("decaptcha-host", "decaptcha-host.exe", "decaptcha-host.sh", "decaptcha-host.bat")
REFUSED = "refused: "  # the start of a line for a browser install left alone
DESCRIPTION = "NTHU AIS Decaptcha: reads the AIS captcha locally"

# Chromium ids are 32 letters a-p; Firefox ids are an email-like name or a {GUID}.
_CHROMIUM_ID = re.compile(r"^[a-p]{32}$")
_FIREFOX_ID = re.compile(
    r"^(?:[A-Za-z0-9._+-]{1,80}@[A-Za-z0-9.-]{1,80}|\{[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\})$"
)


class InstallError(Exception):
    """Install cannot proceed (bad id, unverifiable executable, unknown browser)."""


# -- where things go ------------------------------------------------------------------------


def app_dir(target: Target) -> Path:
    """Our per-user application folder: the installed copies, the install record, the source
    launcher and Windows' manifests (host.paths.data_dir)."""
    return target.data_dir()


def legacy_app_dir(target: Target) -> Path:
    """Where versions before 0.2 kept the record and launcher (cleaned by --uninstall)."""
    if target.os == "win32":
        return target.appdata() / paths.APP_FOLDER
    if target.os == "darwin":
        return target.app_support() / paths.APP_FOLDER
    return target.config_home() / paths.APP_FOLDER


def copies_dir(target: Target) -> Path:
    """The installed bundle copies, one folder per version; only install writes here."""
    return app_dir(target) / COPIES


def manifest_path(target: Target, browser: Browser) -> Path:
    """Where the manifest for `browser` is written."""
    folder = user_manifest_dir(target, browser)
    if folder is None:  # Windows: one per family in our folder; HKCU keys point here
        folder = app_dir(target) / browser.family
    return folder / f"{ids.HOST_NAME}.json"


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
        # cmd expands %NAME% even inside quotes: a literal % in a path is written %%.
        root, exe = (str(p).replace("%", "%%") for p in (source_root, python))
        text = f'@echo off\r\ncd /d "{root}"\r\n"{exe}" -m host %*\r\n'
        return folder / "decaptcha-host.bat", text
    text = (
        "#!/bin/sh\n# Written by `python -m host --install`; starts the host from source.\n"
        f'cd {shlex.quote(str(source_root))} && exec {shlex.quote(str(python))} -m host "$@"\n'
    )
    return folder / "decaptcha-host.sh", text


# -- system-wide (Linux packages) ----------------------------------------------------------


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
    """The install record, or an empty one (missing or unreadable). Before 0.2 it lived in
    legacy_app_dir: read there too, so an update keeps the ids added with --extension-id."""
    for path in (record_path(target), legacy_app_dir(target) / RECORD_NAME):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        return data if isinstance(data, dict) else {}
    return {}


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


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # not on Windows, where O_EXCL alone refuses links


def _write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Write atomically with user-only permissions (also tightening an existing file's).

    The temporary file gets a fresh random name and is created with O_EXCL|O_NOFOLLOW, so a
    file or symlink planted beside the target is never followed or truncated; the rename then
    replaces `path` itself (a symlink there is replaced, not followed)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, flags, mode)
        except FileExistsError:
            continue
        break
    else:
        raise InstallError(f"cannot create a temporary file beside {path}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        tmp.chmod(mode)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


# -- install / uninstall / status -----------------------------------------------------------


def host_executable(target: Target, created_dirs: list[str], written: list[str]) -> Path:
    """The program as it runs: the frozen bundle itself, or a launcher for the source tree."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable)
    python = Path(sys.executable)
    verify_executable(Target(paths.this_os(), target.home), python)  # this machine's python
    source_root = Path(__file__).resolve().parent.parent
    path, text = launcher(target, python, source_root)
    _make_dirs(path.parent, created_dirs)
    _write_private(path, text, mode=0o700)
    written.append(str(path))
    return path


def _same(a: Path, b: Path) -> bool:
    return os.path.normcase(str(a.resolve())) == os.path.normcase(str(b.resolve()))


def _copy_bundle(target: Target, bundle: Path, version: str, created_dirs: list[str]) -> Path:
    """Copy the bundle folder into a new version folder of ours; returns that folder.

    Copied under a temporary name, then renamed: a folder with a version name is always
    complete, and nothing points at it until install switches the manifests and the record."""
    folder = copies_dir(target)
    _make_dirs(folder, created_dirs)
    staging = folder / f".staging-{secrets.token_hex(4)}"
    try:
        shutil.copytree(bundle, staging, symlinks=True)
        name, n = version, 1
        while (folder / name).exists():  # the same version again: a sibling, switched to
            n += 1
            name = f"{version}.{n}"
        staging.rename(folder / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder / name


def _remove_old_copies(target: Target, keep: Path | None) -> list[str]:
    """Remove every copy but `keep` (after the switch: nothing points at them any more)."""
    folder = copies_dir(target)
    if not folder.is_dir() or folder.is_symlink():
        return []
    lines = []
    for old in sorted(folder.iterdir()):
        if keep is not None and old.name == keep.name:
            continue
        try:
            shutil.rmtree(old) if old.is_dir() and not old.is_symlink() else old.unlink()
        except OSError as exc:  # Windows: a browser is still running that copy
            lines.append(f"could not remove the old copy {old} ({exc}); the next install will")
        else:
            lines.append(f"removed the old copy {old}")
    return lines


def install(
    target: Target,
    browsers: Iterable[str] = (),
    extension_ids: Iterable[str] = (),
    executable: Path | None = None,
    copy: bool = False,
    version: str = __version__,
) -> list[str]:
    """Register the host; returns a line for every file and key written. Idempotent.

    `browsers` empty means every supported browser this user has plus those registered
    before; `executable` None means this program (the frozen bundle, or a launcher script for
    the source checkout). With `copy` the executable's folder (a one-folder bundle) is copied
    into our application folder first, and that copy is registered.
    """
    names = list(dict.fromkeys(browsers))
    unknown = [n for n in names if n not in BROWSERS]
    if unknown:
        raise InstallError(f"unknown browser {unknown[0]!r}; known: {', '.join(BROWSERS)}")
    record = read_record(target)
    if names:
        chosen = [BROWSERS[n] for n in names]
    else:  # what is here now, and what was registered before (an update keeps those)
        before = [n for n in record.get("browsers", []) if n in BROWSERS]
        chosen = [b for b in BROWSERS.values() if b in detect(target) or b.name in before]
    if not chosen:
        raise InstallError("no supported browser found for this user; name one with --browser")
    if target.os == "win32" and target.keys is None:
        raise InstallError("no registry to write to")
    refusals = [line for b in chosen if (line := _conflict(target, b))]
    chosen = [b for b in chosen if not _conflict(target, b)]
    if not chosen:
        raise InstallError("; ".join(r.removeprefix(REFUSED) for r in refusals))
    extra = list(dict.fromkeys([*installed_extension_ids(target), *extension_ids]))
    by_family = family_ids(extra)

    created_dirs: list[str] = list(record.get("dirs", []))
    written: list[str] = []
    lines: list[str] = []
    _make_dirs(app_dir(target), created_dirs)
    if executable is None:
        executable = host_executable(target, created_dirs, written)
    verify_executable(target, executable)
    lines += [f"wrote {w}" for w in written]
    current = Path(record["copy"]) if isinstance(record.get("copy"), str) else None
    if copy and current is not None and _same(executable.parent, current):
        copy = False  # run from the installed copy itself: re-register it as it is
    if copy:
        folder = _copy_bundle(target, executable.parent, version, created_dirs)
        lines.append(f"copied {executable.parent} to {folder}")
        executable = folder / executable.name
        verify_executable(target, executable)
        current = folder
    elif current is not None and not _same(executable.parent, current):
        current = None  # registered in place: an older copy is no longer used

    keys: list[str] = list(record.get("keys", []))
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
            target.keys.set_default(key, str(path))  # type: ignore[union-attr]
            lines.append(f"set HKEY_CURRENT_USER\\{key} = {path}  ({browser.title})")
            if key not in keys:
                keys.append(key)
    registered = list(dict.fromkeys([*record.get("browsers", []), *(b.name for b in chosen)]))
    new_record = {
        "version": 2,
        "host_version": version,
        "executable": str(executable),
        "copy": str(current) if current is not None else None,
        "browsers": [n for n in registered if n in BROWSERS],
        "files": list(dict.fromkeys([*record.get("files", []), *written])),
        "dirs": list(dict.fromkeys(created_dirs)),
        "keys": keys,
        "extension_ids": extra,
    }
    # The record says which copy is current: written last, after every manifest.
    _write_private(record_path(target), json.dumps(new_record, indent=2) + "\n")
    lines.append(f"wrote {record_path(target)}  (install record)")
    lines += _remove_old_copies(target, current)
    return lines + refusals


def _conflict(target: Target, browser: Browser) -> str | None:
    """Why install must leave `browser` alone (another program's manifest), or None."""
    paths_used = [manifest_path(target, browser)]
    if target.os == "win32" and target.keys is not None:
        value = target.keys.get_default(registry_key(browser))
        if value:
            paths_used.append(Path(value))
    for path in paths_used:
        if owner(path) == "other":
            return (
                f"{REFUSED}{browser.title}: {path} belongs to another program with the same "
                "host name; not overwritten (remove it yourself if it is stale)"
            )
    return None


def _our_places(target: Target) -> list[Path]:
    """Every manifest file install writes (or wrote, before 0.2), whatever the record says."""
    places = [manifest_path(target, b) for b in BROWSERS.values()]
    if target.os == "win32":
        places += [
            legacy_app_dir(target) / f / f"{ids.HOST_NAME}.json" for f in (CHROMIUM, FIREFOX)
        ]
    return list(dict.fromkeys(places))


def uninstall(target: Target) -> list[str]:
    """Remove our manifests, keys, launcher, installed copies, record and log folder, from the
    places install writes (never what the record merely lists). A line per thing removed."""
    record = read_record(target)
    lines = []
    places = _our_places(target)
    if target.keys is not None:
        wanted = {os.path.normcase(str(p)) for p in places}
        for key in dict.fromkeys(registry_key(b) for b in BROWSERS.values()):
            value = target.keys.get_default(key)
            if (
                value is not None
                and os.path.normcase(value) in wanted
                and owner(Path(value))
                in (
                    "ours",
                    "absent",
                )
            ):
                target.keys.delete_key(key)
                lines.append(f"removed HKEY_CURRENT_USER\\{key}")
    for path in places:
        whose = owner(path)
        if whose == "ours":
            path.unlink()
            lines.append(f"removed {path}")
        elif whose == "other":
            lines.append(f"kept {path}: another program's manifest, not ours")
    for folder in dict.fromkeys([app_dir(target), legacy_app_dir(target)]):
        for name in ("decaptcha-host.sh", "decaptcha-host.bat", RECORD_NAME):
            path = folder / name
            if path.is_file() and not path.is_symlink():
                path.unlink()
                lines.append(f"removed {path}")
    copies = copies_dir(target)
    if copies.is_dir() and not copies.is_symlink():
        try:
            shutil.rmtree(copies)
        except OSError as exc:  # Windows: a browser is still running the host
            lines.append(f"could not remove {copies} ({exc}): close the browsers, run again")
        else:
            lines.append(f"removed {copies}/ (the installed copy)")
    logs = target.cache_dir()
    for path in sorted(logs.glob("host.log*")) if logs.is_dir() else []:
        path.unlink()
        lines.append(f"removed {path}")
    dirs = [*record.get("dirs", []), str(app_dir(target)), str(legacy_app_dir(target)), str(logs)]
    for name in sorted(dict.fromkeys(dirs), key=len, reverse=True):  # deepest first
        path = Path(name)
        with contextlib.suppress(OSError):  # not empty: something else lives there
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
                lines.append(f"removed {path}/")
    return lines


def owner(path: Path) -> str:
    """Whose manifest `path` is: "absent"; "ours" (names our host, starts a decaptcha-host
    program and lists our extension); "broken" (not a manifest at all: ours to replace);
    "other" (another program's, with the same host name: never overwritten or deleted)."""
    if not path.is_file():
        return "absent"
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "broken"
    if not isinstance(body, dict) or not isinstance(body.get("path"), str):
        return "broken"
    ours = {f"chrome-extension://{ids.CHROMIUM_EXTENSION_ID}/", ids.FIREFOX_ADDON_ID}
    listed = [*(body.get("allowed_origins") or []), *(body.get("allowed_extensions") or [])]
    program = PureWindowsPath(body["path"]).name  # also splits on "/"
    if body.get("name") == ids.HOST_NAME and program in OUR_PROGRAMS and ours & set(listed):
        return "ours"
    return "other"


@dataclass
class Registration:
    browser: Browser
    manifest: Path | None  # None: not registered for this user
    key: str | None = None
    problems: list[str] = field(default_factory=list)
    system: Path | None = None  # the system-wide manifest (Linux packages), if any
    system_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.problems

    @property
    def system_ok(self) -> bool:
        return self.system is not None and not self.system_problems


def status(target: Target) -> list[Registration]:
    """For every supported browser: where the host is registered (per user and, on Linux,
    system-wide, read-only) and what is wrong with each."""
    result = []
    for browser in BROWSERS.values():
        key = None
        if target.os == "win32":
            key = registry_key(browser)
            value = target.keys.get_default(key) if target.keys else None
            path = Path(value) if value else None
        else:
            path = manifest_path(target, browser)
            path = path if path.exists() else None
        entry = Registration(browser, path, key)
        if path is not None:
            entry.problems = check_manifest(target, path, browser.family)
        if target.os == "linux":
            system = system_manifest_path(target.root, browser)
            if system.exists():
                entry.system = system
                entry.system_problems = check_manifest(target, system, browser.family, shared=True)
        result.append(entry)
    return result


def check_manifest(target: Target, path: Path, family: str, shared: bool = False) -> list[str]:
    """What is wrong with a manifest file (empty when nothing is). `shared`: a system-wide
    one, which every user must be able to read (and only root to write)."""
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
    mode = path.stat().st_mode
    if shared:
        if mode & 0o022:
            problems.append(f"manifest {path} is writable by others")
    elif target.os != "win32" and mode & 0o077:
        problems.append(f"manifest {path} is readable or writable by others")
    return problems
