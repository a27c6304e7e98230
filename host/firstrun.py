"""What a person sees: the interactive first run (double-click, `Install.command`, a terminal
with no arguments), `--install`'s report, and the notes `--status` prints.

Every sentence shown to a user lives here, in English with a Traditional Chinese line beside
it (the students' language; short, so both fit one window).
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from typing import TextIO

import host
from host import browsers, install, log
from host.browsers import FLATPAK, Sandboxed, Target

NAME = ("NTHU AIS Decaptcha helper", "清大校務系統驗證碼小幫手")
WHAT = (
    "It lets the browser extension read the AIS captcha on this computer; it sends nothing.",
    "讓瀏覽器擴充功能在這台電腦上讀取校務系統驗證碼，不會傳送任何資料。",
)
# Placeholders until the extension is published; the release page has the zip and xpi.
STORES = "the Chrome Web Store or Edge Add-ons (not published yet)"
RELEASE_PAGE = "the project's GitHub Releases page"

# Chinese lines are broken by hand ("\n"): a wrapper counting characters would split the
# ASCII names inside them (and the bundle leaves out unicodedata's width table).
NEXT_STEP = [
    ("Next step: add the browser extension.", "下一步：安裝瀏覽器擴充功能。"),
    (
        f"- Chrome, Edge, Brave, Vivaldi: from {STORES}; until then unzip "
        f"nthu-ais-decaptcha-chromium-<version>.zip from {RELEASE_PAGE}, open chrome://extensions "
        "(edge://extensions), turn on Developer mode, click Load unpacked, pick the folder.",
        "- Chrome、Edge、Brave、Vivaldi：解壓縮發布頁的\n"
        "nthu-ais-decaptcha-chromium-<版本>.zip，開啟 chrome://extensions\n"
        "（edge://extensions），打開「開發人員模式」，按「載入未封裝項目」，\n"
        "選擇該資料夾。",
    ),
    (
        f"- Firefox: open nthu-ais-decaptcha-firefox-<version>.xpi from {RELEASE_PAGE} "
        "(File > Open File) and allow the add-on.",
        "- Firefox：以「檔案 > 開啟檔案」開啟發布頁的\n"
        "nthu-ais-decaptcha-firefox-<版本>.xpi，並允許安裝。",
    ),
    (
        "Then open the AIS login page: the captcha field fills itself.",
        "然後開啟校務系統登入頁，驗證碼欄位會自動填入。",
    ),
]
ANTIVIRUS = [
    (
        "Windows: if your antivirus says it quarantined or blocked decaptcha-host.exe, or the "
        "helper is suddenly missing, restore it from the quarantine and allow the folder "
        r"%LOCALAPPDATA%\Programs\nthu-ais-decaptcha, then run this installer again.",
        "Windows：若防毒軟體隔離或封鎖 decaptcha-host.exe（或小幫手突然不見），\n"
        "請從隔離區還原，並允許資料夾\n"
        r"%LOCALAPPDATA%\Programs\nthu-ais-decaptcha，再執行一次本安裝程式。",
    )
]
NO_BROWSER = (
    "No supported browser found for this user (Chrome, Chromium, Edge, Brave, Vivaldi, "
    "Firefox). Start your browser once, then run this again.",
    "找不到支援的瀏覽器（Chrome、Chromium、Edge、Brave、Vivaldi、Firefox）。\n"
    "請先開啟瀏覽器一次，再執行本程式。",
)
PRESS_TO_INSTALL = ("Press Enter to install (Ctrl+C to cancel).", "按 Enter 安裝（Ctrl+C 取消）。")
PRESS_TO_CLOSE = ("Press Enter to close this window.", "按 Enter 關閉視窗。")
INSTALLED = ("Installed for: {browsers}.", "已安裝給：{browsers}。")
INSTALLED_IN = ("The helper is in {folder}", "小幫手位於 {folder}")
FAILED = ("install failed:", "安裝失敗：")


def sandbox_note(entry: Sandboxed) -> tuple[str, str]:
    """Why a Snap or Flatpak browser can (not) use the helper, and what to do."""
    title = entry.browser.title
    if entry.served:  # Firefox's snap: the portal reads ~/.mozilla/native-messaging-hosts
        return (
            f"{title} (Snap): registered in ~/.mozilla/native-messaging-hosts as usual; the snap "
            "reaches the helper through the desktop portal (allow it if asked).",
            f"{title}（Snap）：照常註冊，Snap 版透過桌面入口（portal）\n使用小幫手，若詢問請允許。",
        )
    if entry.kind == FLATPAK:
        extra = (
            " Firefox 157+ can use it through xdg-native-messaging-proxy if your system has it."
            if entry.browser.family == browsers.FIREFOX
            else ""
        )
        return (
            f"{title} (Flatpak): cannot use the helper: a Flatpak browser only "
            f"starts programs inside its own sandbox.{extra} Use the browser from your "
            "distribution's packages (deb/rpm) or the vendor's download instead.",
            f"{title}（Flatpak）：無法使用小幫手（Flatpak 瀏覽器只能啟動沙箱內的程式）。\n"
            "請改用發行版套件（deb/rpm）或官方下載的瀏覽器。",
        )
    return (
        f"{title} (Snap): cannot use the helper: the Chromium snap does not "
        "start native helpers. Use your distribution's deb/rpm Chromium or Google Chrome.",
        f"{title}（Snap）：無法使用小幫手（Snap 版 Chromium 不能啟動本機程式）。\n"
        "請改用 deb/rpm 版 Chromium 或 Google Chrome。",
    )


WIDTH = 78  # columns; a Chinese character takes two


def _wrap(text: str, columns: int, indent: str) -> str:
    follow = indent + ("  " if text.startswith("- ") else "")  # under a list item's text
    lines = textwrap.wrap(
        text,
        columns,
        initial_indent=indent,
        subsequent_indent=follow,
        break_on_hyphens=False,  # file names stay whole
    )
    return "\n".join(lines or [""])


def _say(out: TextIO, pair: tuple[str, str], indent: str = "") -> None:
    """A sentence in English (wrapped), then in Chinese (broken by hand)."""
    print(_wrap(pair[0], WIDTH, indent), file=out)
    follow = indent + ("  " if pair[1].startswith("- ") else "")
    print("\n".join(follow[: len(indent)] + line if n == 0 else follow + line
                    for n, line in enumerate(pair[1].split("\n"))), file=out)  # fmt: skip


def report_browsers(target: Target, out: TextIO) -> list[browsers.Browser]:
    """List the browsers found and the sandboxed ones; returns those install will register."""
    found = browsers.detect(target)
    print("Browsers found / 找到的瀏覽器:", file=out)
    for browser in found:
        print(f"  - {browser.title}", file=out)
    if not found:
        print("  (none / 無)", file=out)
    notes = browsers.sandboxed(target)
    if notes:
        print("Snap / Flatpak:", file=out)
        for entry in notes:
            en, zh = sandbox_note(entry)
            _say(out, (f"- {en}", f"- {zh}"), indent="  ")
    return found


def run(
    target: Target,
    interactive: bool,
    do_install: Callable[[], list[str]],
    named: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
    read: Callable[[], str] = input,
) -> int:
    """The installer: what it is, the browsers, install (on Enter when interactive), the
    result and the next step; waits for Enter before an interactive window closes.
    `named`: browsers were named with --browser, so finding none is no reason to stop.
    Failures go to `err` (stderr) unless interactive, where the window is all there is."""
    out = out or sys.stdout
    err = out if interactive else (err or sys.stderr)

    def wait(prompt: tuple[str, str]) -> bool:
        if not interactive:
            return True
        _say(out, prompt)
        out.flush()
        try:
            read()
        except (EOFError, KeyboardInterrupt):
            return False
        return True

    print(f"{NAME[0]} {host.__version__} / {NAME[1]}", file=out)
    _say(out, WHAT)
    print(file=out)
    found = report_browsers(target, out)
    print(file=out)
    if not found and not named:
        _say(err, NO_BROWSER)
        print(file=out)
        wait(PRESS_TO_CLOSE)
        return 1
    if not wait(PRESS_TO_INSTALL):
        return 1
    try:
        lines = do_install()
    except (install.InstallError, OSError) as exc:
        print(f"{FAILED[0]} {exc}\n{FAILED[1]} {exc}", file=err)
        wait(PRESS_TO_CLOSE)
        return 1
    refused = [line for line in lines if line.startswith(install.REFUSED)]
    for line in lines if not interactive else refused:  # a window shows the summary only
        print(f"  {line}", file=err if line in refused else out)
    registered = [e.browser.title for e in install.status(target) if e.ok]
    copy = install.read_record(target).get("copy")
    print(file=out)
    names = ", ".join(registered) or "-"
    _say(out, (INSTALLED[0].format(browsers=names), INSTALLED[1].format(browsers=names)))
    if isinstance(copy, str):
        print(INSTALLED_IN[0].format(folder=copy), file=out)
        print(INSTALLED_IN[1].format(folder=copy), file=out)
    print(file=out)
    for pair in NEXT_STEP:
        _say(out, pair)
    if target.os == "win32":
        print(file=out)
        for pair in ANTIVIRUS:
            _say(out, pair)
    print(file=out)
    wait(PRESS_TO_CLOSE)
    return 1 if refused else 0


def status_report(target: Target, out: TextIO) -> tuple[int, int]:
    """--status's registration part: per browser, per user and system-wide; the installed
    copy, extra ids, the log file, and the Snap/Flatpak notes. Returns (registered, broken)."""
    registered = broken = 0
    for entry in install.status(target):
        where = entry.manifest or "not registered"
        if entry.key and entry.manifest:
            where = f"HKEY_CURRENT_USER\\{entry.key} -> {entry.manifest}"
        mark = "ok" if entry.ok else ("-" if entry.manifest is None else "BROKEN")
        print(f"{entry.browser.title:15} {mark:6} {where}", file=out)
        for problem in entry.problems:
            print(f"{'':22}{problem}", file=out)
        if entry.system is not None:
            mark = "ok" if entry.system_ok else "BROKEN"
            print(f"{'':15} {mark:6} system-wide: {entry.system}", file=out)
            for problem in entry.system_problems:
                print(f"{'':22}{problem}", file=out)
        registered += entry.manifest is not None or entry.system is not None
        broken += bool(entry.problems) + bool(entry.system_problems)
    record = install.read_record(target)
    if isinstance(record.get("copy"), str):
        print(f"installed copy: {record['copy']} (version {record.get('host_version')})", file=out)
    if record.get("extension_ids"):
        print(f"extra extension ids: {', '.join(record['extension_ids'])}", file=out)
    print(f"log: {target.cache_dir() / log.LOG_NAME}", file=out)
    for entry in browsers.sandboxed(target):
        print(f"note: {sandbox_note(entry)[0]}", file=out)
    return registered, broken
