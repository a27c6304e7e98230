"""host/registry.py: install, status and uninstall, into a temporary home.

Linux is exercised for real (files, permissions, the launcher actually starting the host);
the macOS and Windows layouts are checked as data, with a fake registry for Windows, the one
thing that cannot exist here.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from host import ids, registry
from host.registry import BROWSERS, InstallError, Target
from tests.fuzz.hostpipe import REPO, frame, host_env, split_frames

OUR_ORIGIN = f"chrome-extension://{ids.CHROMIUM_EXTENSION_ID}/"
NAME = f"{ids.HOST_NAME}.json"


def tree(root: Path) -> dict[str, str]:
    """Every path under root with its type and permission bits, to compare before and after."""
    return {
        str(p.relative_to(root)): f"{'d' if p.is_dir() else 'f'}{oct(p.stat().st_mode & 0o777)}"
        for p in sorted(root.rglob("*"))
    }


def host_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = host_env(home, DECAPTCHA_MODELS=str(home / "no-models"))
    return subprocess.run(
        [sys.executable, "-m", "host", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def linux_home(tmp_path: Path) -> Path:
    """A home where Chrome, Chromium and Firefox have been used; Edge, Brave, Vivaldi not.

    ~/.cache exists, as in any used home: the host's log folder goes inside it."""
    for folder in (".cache", ".config/google-chrome", ".config/chromium", ".mozilla/firefox"):
        (tmp_path / folder).mkdir(parents=True)
    return tmp_path


# -- Linux, for real, through the command line ------------------------------------------------


def test_install_status_uninstall_on_linux(linux_home: Path) -> None:
    before = tree(linux_home)
    out = host_cli(linux_home, "--install")
    assert out.returncode == 0, out.stderr
    chrome = linux_home / ".config/google-chrome/NativeMessagingHosts" / NAME
    chromium = linux_home / ".config/chromium/NativeMessagingHosts" / NAME
    firefox = linux_home / ".mozilla/native-messaging-hosts" / NAME
    for path in (chrome, chromium, firefox):
        assert f"wrote {path}" in out.stdout  # every file written is printed
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not (linux_home / ".config/microsoft-edge").exists()  # not present: not registered

    body = json.loads(chrome.read_text())
    assert body["name"] == ids.HOST_NAME and body["type"] == "stdio"
    assert body["allowed_origins"] == [OUR_ORIGIN]
    assert "allowed_extensions" not in body
    exe = Path(body["path"])
    assert exe.is_absolute() and exe.is_file() and os.access(exe, os.X_OK)
    assert json.loads(chromium.read_text()) == body
    fx = json.loads(firefox.read_text())
    assert fx["allowed_extensions"] == [ids.FIREFOX_ADDON_ID] and fx["path"] == body["path"]

    # The launcher the manifests point at really starts the host and answers a request.
    proc = subprocess.run(
        [str(exe), OUR_ORIGIN],
        input=frame({"id": 1, "action": "status"}),
        capture_output=True,
        env=host_env(linux_home),
        timeout=60,
    )
    (reply,), rest = split_frames(proc.stdout)
    assert proc.returncode == 0 and rest == b"" and reply["ok"]

    again = host_cli(linux_home, "--install")  # idempotent
    assert again.returncode == 0 and again.stdout == out.stdout
    assert json.loads(chrome.read_text()) == body

    status = host_cli(linux_home, "--status")
    lines = {b.name: next(x for x in status.stdout.splitlines() if x.startswith(b.title))
             for b in BROWSERS.values()}  # fmt: skip
    for name in ("chrome", "chromium", "firefox"):
        assert lines[name].split()[-2] == "ok", status.stdout
    assert "not registered" in lines["edge"]

    gone = host_cli(linux_home, "--uninstall")
    assert gone.returncode == 0
    for path in (chrome, chromium, firefox, exe):
        assert f"removed {path}" in gone.stdout
    assert tree(linux_home) == before  # no trace: files, folders, log and record all gone


def test_status_finds_a_manifest_whose_host_is_gone(linux_home: Path) -> None:
    assert host_cli(linux_home, "--install", "--browser", "chromium").returncode == 0
    launcher = registry.app_dir(Target("linux", linux_home)) / "decaptcha-host.sh"
    launcher.unlink()
    status = host_cli(linux_home, "--status")
    assert status.returncode != 0
    assert "BROKEN" in status.stdout and "does not exist" in status.stdout


def test_install_with_no_browser_writes_nothing(tmp_path: Path) -> None:
    out = host_cli(tmp_path, "--install")
    assert out.returncode == 1 and "no supported browser" in out.stderr
    assert tree(tmp_path) == {}


def test_a_named_browser_is_registered_even_if_absent_and_removed_without_trace(
    tmp_path: Path,
) -> None:
    out = host_cli(tmp_path, "--install", "--browser", "brave", "--browser", "vivaldi")
    assert out.returncode == 0, out.stderr
    brave = tmp_path / ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts" / NAME
    assert brave.is_file() and (tmp_path / ".config/vivaldi/NativeMessagingHosts" / NAME).is_file()
    for folder in (brave.parent, brave.parent.parent, brave.parent.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # created by us: user-only
    assert host_cli(tmp_path, "--uninstall").returncode == 0
    assert tree(tmp_path) == {}


def test_extra_extension_ids_join_our_own(linux_home: Path) -> None:
    chromium_id, firefox_id = "c" * 32, "{12345678-1234-1234-1234-123456789abc}"
    out = host_cli(
        linux_home, "--install", "--extension-id", chromium_id, "--extension-id", firefox_id
    )
    assert out.returncode == 0, out.stderr
    chrome = json.loads(
        (linux_home / ".config/google-chrome/NativeMessagingHosts" / NAME).read_text()
    )
    assert chrome["allowed_origins"] == [OUR_ORIGIN, f"chrome-extension://{chromium_id}/"]
    fx = json.loads((linux_home / ".mozilla/native-messaging-hosts" / NAME).read_text())
    assert fx["allowed_extensions"] == [ids.FIREFOX_ADDON_ID, firefox_id]
    # A later install without --extension-id keeps them (they are in the install record).
    assert host_cli(linux_home, "--install").returncode == 0
    chrome = json.loads(
        (linux_home / ".config/google-chrome/NativeMessagingHosts" / NAME).read_text()
    )
    assert f"chrome-extension://{chromium_id}/" in chrome["allowed_origins"]


@pytest.mark.parametrize("bad", ["*", "chrome-extension://x/", "abc", "A" * 32, "a@b@c", ""])
def test_a_malformed_extension_id_is_refused_and_nothing_written(
    linux_home: Path, bad: str
) -> None:
    before = tree(linux_home)
    out = host_cli(linux_home, "--install", "--extension-id", bad)
    assert out.returncode == 1 and "install failed" in out.stderr
    assert tree(linux_home) == before


def test_install_refuses_a_path_it_cannot_verify(tmp_path: Path) -> None:
    target = Target("linux", tmp_path)
    plain = tmp_path / "host.sh"
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o600)
    for bad, reason in [
        (Path("relative/host"), "not absolute"),
        (tmp_path / "missing", "does not exist"),
        (plain, "not executable"),
        (tmp_path, "does not exist or is not a file"),
    ]:
        with pytest.raises(InstallError, match=reason):
            registry.install(target, ["chromium"], executable=bad)
    assert not (tmp_path / ".config/chromium").exists()


def test_install_tightens_an_existing_manifest(linux_home: Path) -> None:
    path = linux_home / ".config/chromium/NativeMessagingHosts" / NAME
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o666)
    registry.install(Target("linux", linux_home), ["chromium"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["name"] == ids.HOST_NAME


def test_uninstall_without_a_record_removes_only_our_manifests(linux_home: Path) -> None:
    target = Target("linux", linux_home)
    registry.install(target, ["chrome"])
    registry.record_path(target).unlink()
    other = linux_home / ".config/google-chrome/NativeMessagingHosts/other_host.json"
    other.write_text('{"name": "other_host"}')
    lines = registry.uninstall(target)
    assert any(NAME in line for line in lines)
    assert not (other.parent / NAME).exists() and other.is_file()


def test_xdg_config_home_is_respected(tmp_path: Path) -> None:
    config = tmp_path / "xdg"
    (config / "chromium").mkdir(parents=True)
    target = Target("linux", tmp_path / "home", {"XDG_CONFIG_HOME": str(config)})
    registry.install(target, [])
    assert (config / "chromium/NativeMessagingHosts" / NAME).is_file()
    assert (config / "nthu-ais-decaptcha/install.json").is_file()


# -- macOS and Windows layouts ----------------------------------------------------------------


def test_macos_layout(tmp_path: Path) -> None:
    support = tmp_path / "Library/Application Support"
    for folder in ("Google/Chrome", "Microsoft Edge", "BraveSoftware/Brave-Browser", "Firefox"):
        (support / folder).mkdir(parents=True)
    target = Target("darwin", tmp_path)
    assert [b.name for b in registry.detect(target)] == ["chrome", "edge", "brave", "firefox"]
    before = tree(tmp_path)
    registry.install(target)
    expected = {
        "chrome": support / "Google/Chrome/NativeMessagingHosts" / NAME,
        "edge": support / "Microsoft Edge/NativeMessagingHosts" / NAME,
        "brave": support / "BraveSoftware/Brave-Browser/NativeMessagingHosts" / NAME,
        "firefox": support / "Mozilla/NativeMessagingHosts" / NAME,
    }
    for name, path in expected.items():
        assert registry.manifest_path(target, BROWSERS[name]) == path
        assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert registry.manifest_path(target, BROWSERS["chromium"]) == (
        support / "Chromium/NativeMessagingHosts" / NAME
    )
    assert registry.manifest_path(target, BROWSERS["vivaldi"]) == (
        support / "Vivaldi/NativeMessagingHosts" / NAME
    )
    launcher = support / "nthu-ais-decaptcha/decaptcha-host.sh"
    assert json.loads(expected["chrome"].read_text())["path"] == str(launcher)
    states = {e.browser.name: e.ok for e in registry.status(target)}
    assert states == {
        "chrome": True, "chromium": False, "edge": True, "brave": True, "vivaldi": False,
        "firefox": True,
    }  # fmt: skip
    registry.uninstall(target)
    assert tree(tmp_path) == before


class FakeRegistry:
    """HKEY_CURRENT_USER as a dict of key -> default value."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}

    def get_default(self, key: str) -> str | None:
        return self.keys.get(key)

    def set_default(self, key: str, value: str) -> None:
        self.keys[key] = value

    def delete_key(self, key: str) -> None:
        self.keys.pop(key, None)


def windows_target(tmp_path: Path) -> Target:
    env = {"APPDATA": str(tmp_path / "Roaming"), "LOCALAPPDATA": str(tmp_path / "Local")}
    return Target("win32", tmp_path, env, FakeRegistry())


def test_windows_layout_with_a_fake_registry(tmp_path: Path) -> None:
    target = windows_target(tmp_path)
    for folder in ("Local/Google/Chrome/User Data", "Local/Microsoft/Edge/User Data",
                   "Local/Vivaldi/User Data", "Roaming/Mozilla/Firefox"):  # fmt: skip
        (tmp_path / folder).mkdir(parents=True)
    before = tree(tmp_path)
    lines = registry.install(target)
    ours = tmp_path / "Roaming/nthu-ais-decaptcha"
    chromium_manifest, firefox_manifest = ours / "chromium" / NAME, ours / "firefox" / NAME
    key = "NativeMessagingHosts\\" + ids.HOST_NAME
    assert target.registry.keys == {  # Vivaldi reads Chrome's key
        f"Software\\Google\\Chrome\\{key}": str(chromium_manifest),
        f"Software\\Microsoft\\Edge\\{key}": str(chromium_manifest),
        f"Software\\Mozilla\\{key}": str(firefox_manifest),
    }
    for k in target.registry.keys:
        assert any(f"HKEY_CURRENT_USER\\{k} = " in line for line in lines)
    chromium_body = json.loads(chromium_manifest.read_text())
    assert chromium_body["allowed_origins"] == [OUR_ORIGIN]  # one manifest lists every id
    launcher = Path(chromium_body["path"])
    assert launcher == ours / "decaptcha-host.bat"
    text = launcher.read_bytes().decode()
    assert text.startswith("@echo off\r\n") and "-m host %*" in text
    assert json.loads(firefox_manifest.read_text())["allowed_extensions"] == [ids.FIREFOX_ADDON_ID]

    states = {e.browser.name: (e.ok, e.key) for e in registry.status(target)}
    assert states["edge"] == (True, f"Software\\Microsoft\\Edge\\{key}")
    assert states["chromium"][0] is False  # no key for Chromium
    assert states["brave"][0] is True  # Brave reads Chrome's key, which now exists

    registry.uninstall(target)
    assert target.registry.keys == {}
    assert tree(tmp_path) == before


def test_windows_refuses_a_host_that_is_not_an_exe_or_bat(tmp_path: Path) -> None:
    target = windows_target(tmp_path)
    script = tmp_path / "host.py"
    script.write_text("")
    with pytest.raises(InstallError, match=r"not an \.exe or \.bat"):
        registry.install(target, ["chrome"], executable=script)
    assert target.registry.keys == {}


def test_every_browser_has_a_layout_on_every_os(tmp_path: Path) -> None:
    for os_name in ("linux", "darwin", "win32"):
        target = Target(os_name, tmp_path, {}, FakeRegistry())
        paths = {registry.manifest_path(target, b) for b in BROWSERS.values()}
        if os_name == "win32":
            assert len(paths) == 2  # one manifest per family
        else:
            assert len(paths) == len(BROWSERS)
        assert all(p.name == NAME and p.is_absolute() for p in paths)


# -- system-wide manifests (the .deb) ---------------------------------------------------------


def test_write_system_manifests_for_the_package(tmp_path: Path) -> None:
    exe = "/usr/lib/nthu-ais-decaptcha/decaptcha-host"
    out = host_cli(tmp_path / "home", "--write-system-manifests", str(tmp_path / "root"),
                   "--exe", exe)  # fmt: skip
    assert out.returncode == 0, out.stderr
    root = tmp_path / "root"
    expected = {
        root / "etc/opt/chrome/native-messaging-hosts" / NAME: "allowed_origins",
        root / "etc/chromium/native-messaging-hosts" / NAME: "allowed_origins",
        root / "etc/opt/edge/native-messaging-hosts" / NAME: "allowed_origins",
        root / "etc/opt/brave.com/brave/native-messaging-hosts" / NAME: "allowed_origins",
        root / "etc/opt/vivaldi/native-messaging-hosts" / NAME: "allowed_origins",
        root / "usr/lib/mozilla/native-messaging-hosts" / NAME: "allowed_extensions",
    }
    assert sorted(out.stdout.split()) == sorted(str(p) for p in expected)
    for path, listed in expected.items():
        family = registry.CHROMIUM if listed == "allowed_origins" else registry.FIREFOX
        body = json.loads(path.read_text())
        assert body == registry.manifest(family, Path(exe), registry.family_ids(())[family])
        assert body["path"] == exe and body[listed]
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # every user's browser reads it
    assert not (tmp_path / "home").exists()  # nothing per-user


def test_write_system_manifests_needs_an_absolute_exe(tmp_path: Path) -> None:
    no_exe = host_cli(tmp_path, "--write-system-manifests", str(tmp_path / "root"))
    relative = host_cli(tmp_path, "--write-system-manifests", str(tmp_path / "root"),
                        "--exe", "decaptcha-host")  # fmt: skip
    assert no_exe.returncode == 2 and "--exe" in no_exe.stderr
    assert relative.returncode == 1 and "not absolute" in relative.stderr
    assert not (tmp_path / "root").exists()
