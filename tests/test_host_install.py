"""host/install.py: install, status and uninstall, into a temporary home.

Linux is exercised for real (files, permissions, the launcher actually starting the host);
the macOS and Windows layouts are checked as data, with a fake registry for Windows, the one
thing that cannot exist here.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from host import browsers, ids, install
from host.browsers import BROWSERS, Target
from host.install import InstallError
from tests.fake_hkcu import FakeHkcuKeys
from tests.fuzz.hostpipe import REPO, frame, host_env, split_frames

OUR_ORIGIN = f"chrome-extension://{ids.CHROMIUM_EXTENSION_ID}/"
NAME = f"{ids.HOST_NAME}.json"
# The real / could hold a Snap or Flatpak browser: Linux targets read a root that is empty.
NO_ROOT = Path("/nonexistent-decaptcha-test-root")


def tree(root: Path) -> dict[str, str]:
    """Every path under root with its type and permission bits, to compare before and after."""
    return {
        str(p.relative_to(root)): f"{'d' if p.is_dir() else 'f'}{oct(p.stat().st_mode & 0o777)}"
        for p in sorted(root.rglob("*"))
    }


def host_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = host_env(home, DECAPTCHA_MODELS=str(home / "no-models"))
    return subprocess.run(
        [sys.executable, "-m", "host", *args, "--root", str(NO_ROOT)],
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
    launcher = install.app_dir(Target("linux", linux_home, root=NO_ROOT)) / "decaptcha-host.sh"
    launcher.unlink()
    status = host_cli(linux_home, "--status")
    assert status.returncode != 0
    assert "BROKEN" in status.stdout and "does not exist" in status.stdout


def test_install_with_no_browser_writes_nothing(tmp_path: Path) -> None:
    out = host_cli(tmp_path, "--install")
    assert out.returncode == 1 and "no supported browser" in out.stderr.lower()
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
    target = Target("linux", tmp_path, root=NO_ROOT)
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
            install.install(target, ["chromium"], executable=bad)
    assert not (tmp_path / ".config/chromium").exists()


def test_install_tightens_an_existing_manifest(linux_home: Path) -> None:
    path = linux_home / ".config/chromium/NativeMessagingHosts" / NAME
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o666)
    install.install(Target("linux", linux_home, root=NO_ROOT), ["chromium"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["name"] == ids.HOST_NAME


def test_uninstall_without_a_record_removes_only_our_manifests(linux_home: Path) -> None:
    target = Target("linux", linux_home, root=NO_ROOT)
    install.install(target, ["chrome"])
    install.record_path(target).unlink()
    other = linux_home / ".config/google-chrome/NativeMessagingHosts/other_host.json"
    other.write_text('{"name": "other_host"}')
    lines = install.uninstall(target)
    assert any(NAME in line for line in lines)
    assert not (other.parent / NAME).exists() and other.is_file()


def test_xdg_config_home_is_respected(tmp_path: Path) -> None:
    config = tmp_path / "xdg"
    (config / "chromium").mkdir(parents=True)
    target = Target("linux", tmp_path / "home", {"XDG_CONFIG_HOME": str(config)}, root=NO_ROOT)
    install.install(target, [])
    assert (config / "chromium/NativeMessagingHosts" / NAME).is_file()
    # The record lives in the data home (XDG_DATA_HOME), beside the installed copies.
    assert (tmp_path / "home/.local/share/nthu-ais-decaptcha/install.json").is_file()
    assert not (config / "nthu-ais-decaptcha").exists()


# -- macOS and Windows layouts ----------------------------------------------------------------


def test_macos_layout(tmp_path: Path) -> None:
    support = tmp_path / "Library/Application Support"
    for folder in ("Google/Chrome", "Microsoft Edge", "BraveSoftware/Brave-Browser", "Firefox"):
        (support / folder).mkdir(parents=True)
    target = Target("darwin", tmp_path)
    assert [b.name for b in browsers.detect(target)] == ["chrome", "edge", "brave", "firefox"]
    before = tree(tmp_path)
    install.install(target)
    expected = {
        "chrome": support / "Google/Chrome/NativeMessagingHosts" / NAME,
        "edge": support / "Microsoft Edge/NativeMessagingHosts" / NAME,
        "brave": support / "BraveSoftware/Brave-Browser/NativeMessagingHosts" / NAME,
        "firefox": support / "Mozilla/NativeMessagingHosts" / NAME,
    }
    for name, path in expected.items():
        assert install.manifest_path(target, BROWSERS[name]) == path
        assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert install.manifest_path(target, BROWSERS["chromium"]) == (
        support / "Chromium/NativeMessagingHosts" / NAME
    )
    assert install.manifest_path(target, BROWSERS["vivaldi"]) == (
        support / "Vivaldi/NativeMessagingHosts" / NAME
    )
    launcher = support / "nthu-ais-decaptcha/decaptcha-host.sh"
    assert json.loads(expected["chrome"].read_text())["path"] == str(launcher)
    states = {e.browser.name: e.ok for e in install.status(target)}
    assert states == {
        "chrome": True, "chromium": False, "edge": True, "brave": True, "vivaldi": False,
        "firefox": True,
    }  # fmt: skip
    install.uninstall(target)
    assert tree(tmp_path) == before


def windows_target(tmp_path: Path) -> Target:
    env = {"APPDATA": str(tmp_path / "Roaming"), "LOCALAPPDATA": str(tmp_path / "Local")}
    return Target("win32", tmp_path, env, FakeHkcuKeys())


def test_windows_layout_with_a_fake_registry(tmp_path: Path) -> None:
    target = windows_target(tmp_path)
    for folder in ("Local/Google/Chrome/User Data", "Local/Microsoft/Edge/User Data",
                   "Local/Vivaldi/User Data", "Roaming/Mozilla/Firefox"):  # fmt: skip
        (tmp_path / folder).mkdir(parents=True)
    before = tree(tmp_path)
    lines = install.install(target)
    ours = tmp_path / "Local/Programs/nthu-ais-decaptcha"
    chromium_manifest, firefox_manifest = ours / "chromium" / NAME, ours / "firefox" / NAME
    key = "NativeMessagingHosts\\" + ids.HOST_NAME
    assert target.keys.defaults == {  # Vivaldi reads Chrome's key
        f"Software\\Google\\Chrome\\{key}": str(chromium_manifest),
        f"Software\\Microsoft\\Edge\\{key}": str(chromium_manifest),
        f"Software\\Mozilla\\{key}": str(firefox_manifest),
    }
    for k in target.keys.defaults:
        assert any(f"HKEY_CURRENT_USER\\{k} = " in line for line in lines)
    chromium_body = json.loads(chromium_manifest.read_text())
    assert chromium_body["allowed_origins"] == [OUR_ORIGIN]  # one manifest lists every id
    launcher = Path(chromium_body["path"])
    assert launcher == ours / "decaptcha-host.bat"
    text = launcher.read_bytes().decode()
    assert text.startswith("@echo off\r\n") and "-m host %*" in text
    assert json.loads(firefox_manifest.read_text())["allowed_extensions"] == [ids.FIREFOX_ADDON_ID]

    states = {e.browser.name: (e.ok, e.key) for e in install.status(target)}
    assert states["edge"] == (True, f"Software\\Microsoft\\Edge\\{key}")
    assert states["chromium"][0] is False  # no key for Chromium
    assert states["brave"][0] is True  # Brave reads Chrome's key, which now exists

    install.uninstall(target)
    assert target.keys.defaults == {}
    assert tree(tmp_path) == before


def test_windows_refuses_a_host_that_is_not_an_exe_or_bat(tmp_path: Path) -> None:
    target = windows_target(tmp_path)
    script = tmp_path / "host.py"
    script.write_text("")
    with pytest.raises(InstallError, match=r"not an \.exe or \.bat"):
        install.install(target, ["chrome"], executable=script)
    assert target.keys.defaults == {}


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
        family = install.CHROMIUM if listed == "allowed_origins" else install.FIREFOX
        body = json.loads(path.read_text())
        assert body == install.manifest(family, Path(exe), install.family_ids(())[family])
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


# -- hardening (issue 15) ---------------------------------------------------------------------


def test_a_planted_tmp_symlink_is_not_followed(linux_home: Path) -> None:
    target = Target("linux", linux_home, root=NO_ROOT)
    folder = linux_home / ".config/chromium/NativeMessagingHosts"
    folder.mkdir()
    victim = linux_home / "victim.txt"
    victim.write_text("precious")
    (folder / f"{NAME}.tmp").symlink_to(victim)
    install.install(target, ["chromium"])
    assert victim.read_text() == "precious"
    assert json.loads((folder / NAME).read_text())["name"] == ids.HOST_NAME
    assert not (folder / NAME).is_symlink()


def test_a_symlink_in_place_of_the_manifest_is_replaced_not_followed(linux_home: Path) -> None:
    folder = linux_home / ".config/chromium/NativeMessagingHosts"
    folder.mkdir()
    victim = linux_home / "victim.json"
    victim.write_text("{}")
    (folder / NAME).symlink_to(victim)
    install.install(Target("linux", linux_home, root=NO_ROOT), ["chromium"])
    assert victim.read_text() == "{}" and not (folder / NAME).is_symlink()


def test_the_windows_launcher_escapes_percent(tmp_path: Path) -> None:
    target = windows_target(tmp_path)
    path, text = install.launcher(
        target, Path(r"C:\Users\100%USERNAME%\py\python.exe"), Path(r"C:\src\50% off")
    )
    assert path.name == "decaptcha-host.bat"
    assert r'"C:\Users\100%%USERNAME%%\py\python.exe" -m host %*' in text
    assert r'cd /d "C:\src\50%% off"' in text


# -- the installed copy (what a frozen --install does) ---------------------------------------


def fake_bundle(folder: Path, version: str) -> Path:
    """A one-folder bundle: an executable that says its version, and a data file."""
    (folder / "_internal/models").mkdir(parents=True)
    (folder / "_internal/models/models.json").write_text(json.dumps({"version": version}))
    exe = folder / "decaptcha-host"
    exe.write_text(f"#!/bin/sh\necho {version}\n")
    exe.chmod(0o755)
    return exe


def registered_paths(home: Path) -> set[str]:
    return {
        json.loads(p.read_text())["path"]
        for p in (
            home / ".config/google-chrome/NativeMessagingHosts" / NAME,
            home / ".mozilla/native-messaging-hosts" / NAME,
        )
        if p.exists()
    }


def test_install_copies_the_bundle_and_registers_the_copy(linux_home: Path) -> None:
    target = Target("linux", linux_home, root=NO_ROOT)
    before = tree(linux_home)
    source = fake_bundle(linux_home / "Downloads/decaptcha-host", "0.1.0")
    before_downloads = tree(linux_home)
    lines = install.install(target, copy=True, executable=source, version="0.1.0")
    copy = linux_home / ".local/share/nthu-ais-decaptcha/versions/0.1.0"
    assert f"copied {source.parent} to {copy}" in lines
    assert registered_paths(linux_home) == {str(copy / "decaptcha-host")}
    assert (copy / "_internal/models/models.json").is_file()
    shutil.rmtree(linux_home / "Downloads")  # the archive it came from can go
    assert all(e.ok for e in install.status(target) if e.manifest is not None)
    out = subprocess.run([str(copy / "decaptcha-host")], capture_output=True, text=True)
    assert out.stdout.strip() == "0.1.0"
    install.uninstall(target)
    assert tree(linux_home) == before and before != before_downloads


def test_a_newer_version_replaces_the_old_copy_and_keeps_ids_and_browsers(
    linux_home: Path,
) -> None:
    target = Target("linux", linux_home, root=NO_ROOT)
    extra = "d" * 32
    old = fake_bundle(linux_home / "old", "0.1.0")
    install.install(target, ["brave"], [extra], executable=old, copy=True, version="0.1.0")
    install.install(target, executable=old, copy=True, version="0.1.0")  # plus the detected
    new = fake_bundle(linux_home / "new", "0.2.0")
    lines = install.install(target, executable=new, copy=True, version="0.2.0")
    copies = linux_home / ".local/share/nthu-ais-decaptcha/versions"
    assert sorted(p.name for p in copies.iterdir()) == ["0.2.0"]
    assert any(line.startswith(f"removed the old copy {copies / '0.1.0'}") for line in lines)
    assert registered_paths(linux_home) == {str(copies / "0.2.0/decaptcha-host")}
    brave = linux_home / ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts" / NAME
    body = json.loads(brave.read_text())  # Brave (named once, not detected) is still there
    assert body["path"] == str(copies / "0.2.0/decaptcha-host")
    assert f"chrome-extension://{extra}/" in body["allowed_origins"]
    assert install.read_record(target)["host_version"] == "0.2.0"


def test_an_interrupted_copy_leaves_the_old_install_working(
    linux_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = Target("linux", linux_home, root=NO_ROOT)
    old = fake_bundle(linux_home / "old", "0.1.0")
    install.install(target, executable=old, copy=True, version="0.1.0")
    manifests_before = registered_paths(linux_home)
    new = fake_bundle(linux_home / "new", "0.2.0")

    def copy_half(src: Path, dst: Path, **kwargs: object) -> None:
        (Path(dst) / "_internal").mkdir(parents=True)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copytree", copy_half)
    with pytest.raises(OSError, match="No space"):
        install.install(target, executable=new, copy=True, version="0.2.0")
    copies = linux_home / ".local/share/nthu-ais-decaptcha/versions"
    assert sorted(p.name for p in copies.iterdir()) == ["0.1.0"]  # no half copy left
    assert registered_paths(linux_home) == manifests_before
    assert install.read_record(target)["host_version"] == "0.1.0"
    assert subprocess.run(list(manifests_before), capture_output=True).returncode == 0


def test_installing_from_the_installed_copy_keeps_it(linux_home: Path) -> None:
    target = Target("linux", linux_home, root=NO_ROOT)
    install.install(target, executable=fake_bundle(linux_home / "b", "0.1.0"), copy=True,
                    version="0.1.0")  # fmt: skip
    (installed,) = registered_paths(linux_home)
    lines = install.install(target, executable=Path(installed), copy=True, version="0.1.0")
    assert not any(line.startswith(("copied", "removed")) for line in lines)
    assert registered_paths(linux_home) == {installed} and Path(installed).is_file()


def test_in_place_after_a_copy_registers_in_place_and_drops_the_copy(linux_home: Path) -> None:
    target = Target("linux", linux_home, root=NO_ROOT)
    install.install(target, executable=fake_bundle(linux_home / "b", "0.1.0"), copy=True,
                    version="0.1.0")  # fmt: skip
    dev = fake_bundle(linux_home / "dist", "0.2.0")
    install.install(target, executable=dev)
    assert registered_paths(linux_home) == {str(dev)}
    assert not (linux_home / ".local/share/nthu-ais-decaptcha/versions/0.1.0").exists()


def test_a_source_checkout_installs_in_place_and_says_so(linux_home: Path) -> None:
    out = host_cli(linux_home, "--install", "--browser", "chromium")
    assert out.returncode == 0, out.stderr
    assert "source checkout" in out.stdout and "--in-place" in out.stdout
    quiet = host_cli(linux_home, "--install", "--in-place", "--browser", "chromium")
    assert quiet.returncode == 0 and "source checkout" not in quiet.stdout


def other_programs_manifest(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"name": ids.HOST_NAME, "path": "/opt/other/host", "type": "stdio",
                       "allowed_origins": ["chrome-extension://" + "e" * 32 + "/"]})  # fmt: skip
    path.write_text(text)
    return text


def test_install_refuses_another_programs_manifest_and_uninstall_keeps_it(
    linux_home: Path,
) -> None:
    chrome = linux_home / ".config/google-chrome/NativeMessagingHosts" / NAME
    text = other_programs_manifest(chrome)
    out = host_cli(linux_home, "--install", "--in-place")
    assert out.returncode == 1
    assert "another program" in out.stderr and str(chrome) in out.stderr
    assert chrome.read_text() == text  # not overwritten
    assert (linux_home / ".config/chromium/NativeMessagingHosts" / NAME).is_file()  # the rest are
    gone = host_cli(linux_home, "--uninstall")
    assert chrome.read_text() == text and f"kept {chrome}" in gone.stdout
    only = host_cli(linux_home, "--install", "--in-place", "--browser", "chrome")
    assert only.returncode == 1 and "another program" in only.stderr
    assert not (linux_home / ".local/share/nthu-ais-decaptcha").exists()  # nothing written


def test_windows_install_refuses_a_key_naming_another_programs_manifest(tmp_path: Path) -> None:
    target = windows_target(tmp_path)
    theirs = tmp_path / "Other/host.json"
    other_programs_manifest(theirs)
    key = browsers.registry_key(BROWSERS["edge"])
    target.keys.defaults[key] = str(theirs)
    (tmp_path / "Local/Microsoft/Edge/User Data").mkdir(parents=True)
    (tmp_path / "Local/Google/Chrome/User Data").mkdir(parents=True)
    lines = install.install(target)
    assert target.keys.defaults[key] == str(theirs)
    assert any(line.startswith(install.REFUSED + "Microsoft Edge") for line in lines)
    install.uninstall(target)
    assert target.keys.defaults == {key: str(theirs)} and theirs.is_file()


def test_uninstall_ignores_what_a_tampered_record_lists(linux_home: Path) -> None:
    target = Target("linux", linux_home, root=NO_ROOT)
    install.install(target, ["chromium"])
    victim = linux_home / "Documents/thesis.txt"
    victim.parent.mkdir()
    victim.write_text("years of work")
    record = install.read_record(target)
    record["files"].append(str(victim))
    record["keys"].append("Software\\Victim")
    install.record_path(target).write_text(json.dumps(record))
    install.uninstall(target)
    assert victim.read_text() == "years of work"
    assert not (linux_home / ".config/chromium/NativeMessagingHosts" / NAME).exists()


def test_windows_uninstall_deletes_only_keys_pointing_at_our_manifests(tmp_path: Path) -> None:
    target = windows_target(tmp_path)
    (tmp_path / "Local/Google/Chrome/User Data").mkdir(parents=True)
    install.install(target)
    record = install.read_record(target)
    mine = browsers.registry_key(BROWSERS["chrome"])
    other_key = "Software\\Vendor\\NativeMessagingHosts\\x"
    target.keys.defaults[other_key] = "C:\\x.json"
    record["keys"].append(other_key)
    install.record_path(target).write_text(json.dumps(record))
    install.uninstall(target)
    assert mine not in target.keys.defaults and target.keys.defaults == {other_key: "C:\\x.json"}


def test_status_reports_system_wide_registrations_read_only(tmp_path: Path) -> None:
    home, root = tmp_path / "home", tmp_path / "root"
    home.mkdir()
    exe = fake_bundle(tmp_path / "usr-lib", "0.1.0")
    written = install.write_system_manifests(root, exe)
    broken = browsers.system_manifest_path(root, BROWSERS["vivaldi"])
    broken.write_text(broken.read_text().replace(str(exe), "/nowhere/decaptcha-host"))
    (root / "snap/bin").mkdir(parents=True)
    (root / "snap/bin/chromium").write_text("")
    before = tree(root)
    out = subprocess.run(
        [sys.executable, "-m", "host", "--status", "--root", str(root)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env=host_env(home, DECAPTCHA_MODELS=str(home / "no-models")),
    )  # fmt: skip
    system_lines = [line for line in out.stdout.splitlines() if "system-wide:" in line]
    assert len(system_lines) == len(written) == len(BROWSERS)
    assert {line.split()[0] for line in system_lines} == {"ok", "BROKEN"}
    assert any(line.split()[0] == "BROKEN" and str(broken) in line for line in system_lines)
    assert "/nowhere/decaptcha-host does not exist" in out.stdout
    assert "the host is not registered" not in out.stdout  # system-wide counts
    assert "note: Chromium (Snap" in out.stdout and "deb/rpm" in out.stdout
    assert f"log: {home / '.cache/nthu-ais-decaptcha/host.log'}" in out.stdout
    assert tree(root) == before  # read-only


def test_an_update_keeps_the_ids_of_a_record_in_the_old_place(linux_home: Path) -> None:
    legacy = linux_home / ".config/nthu-ais-decaptcha/install.json"
    legacy.parent.mkdir()
    legacy.write_text(json.dumps({"version": 1, "extension_ids": ["f" * 32]}))
    target = Target("linux", linux_home, root=NO_ROOT)
    install.install(target, ["chromium"])
    body = json.loads((linux_home / ".config/chromium/NativeMessagingHosts" / NAME).read_text())
    assert f"chrome-extension://{'f' * 32}/" in body["allowed_origins"]
    install.uninstall(target)
    assert not legacy.exists() and not legacy.parent.exists()


def test_windows_copy_install_as_data(tmp_path: Path) -> None:
    target = windows_target(tmp_path)
    (tmp_path / "Local/Google/Chrome/User Data").mkdir(parents=True)
    (tmp_path / "Roaming/Mozilla/Firefox").mkdir(parents=True)
    download = tmp_path / "Downloads/nthu-ais-decaptcha-host"
    (download / "_internal").mkdir(parents=True)
    (download / "decaptcha-host.exe").write_bytes(b"MZ")
    before = tree(tmp_path)
    install.install(target, copy=True, executable=download / "decaptcha-host.exe", version="1.0")
    ours = tmp_path / "Local/Programs/nthu-ais-decaptcha"
    exe = ours / "versions/1.0/decaptcha-host.exe"
    key = f"NativeMessagingHosts\\{ids.HOST_NAME}"
    assert target.keys.defaults == {  # what `reg query HKCU\...` shows
        f"Software\\Google\\Chrome\\{key}": str(ours / "chromium" / NAME),
        f"Software\\Mozilla\\{key}": str(ours / "firefox" / NAME),
    }
    assert json.loads((ours / "chromium" / NAME).read_text())["path"] == str(exe)
    assert exe.read_bytes() == b"MZ"
    install.uninstall(target)
    assert target.keys.defaults == {} and tree(tmp_path) == before


def test_macos_copy_install_as_data(tmp_path: Path) -> None:
    support = tmp_path / "Library/Application Support"
    (support / "Google/Chrome").mkdir(parents=True)
    target = Target("darwin", tmp_path)
    before = tree(tmp_path)
    install.install(target, copy=True, executable=fake_bundle(tmp_path / "dl", "1.0"),
                    version="1.0")  # fmt: skip
    exe = support / "nthu-ais-decaptcha/versions/1.0/decaptcha-host"
    body = json.loads((support / "Google/Chrome/NativeMessagingHosts" / NAME).read_text())
    assert body["path"] == str(exe) and exe.is_file()
    shutil.rmtree(tmp_path / "dl")
    install.uninstall(target)
    assert tree(tmp_path) == before
