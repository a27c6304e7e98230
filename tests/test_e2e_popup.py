"""The popup in every state, measured in real headless Chromium and Firefox, in English and
Traditional Chinese (tests/e2e/popup.py drives it; the native host is tests/e2e/fake_host.py, so
each state is exact). For each state: it fits the 600 px popup limit, nothing overflows
sideways or is cut, the body font is the same size in both browsers; an unsure answer is never
in the answer element; no Re-solve without a helper; the toolbar badge says "!" with no helper
and "?" for an unsure captcha; an incompatible helper gets no solve and the page is untouched.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import need
from tests.e2e import popup
from tests.e2e.fixtures import homes, need_browser, server, state  # noqa: F401  (fixtures)
from tests.e2e.popup import POPUP_MAX_HEIGHT, POPUP_WIDTH

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RUNS = [(b, lang) for b in popup.BROWSERS for lang in popup.LANGS]
EXPECTED_LANG = {"en": "en", "zh_TW": "zh-TW"}
FONT_SIZES: dict[str, dict[str, float]] = {}  # lang -> browser -> body font size


class Walk:
    def __init__(self, session: popup.Session) -> None:
        self.session = session
        self.measured: dict[str, dict] = {}
        self.badges: dict[str, str] = {}
        self.gate: dict[str, object] = {}


def wait_badge(session: popup.Session, want: str) -> str:
    try:
        WebDriverWait(session.driver, popup.TIMEOUT, 0.2).until(lambda _: session.badge() == want)
    except Exception:
        pass  # the assertion below says what it was
    return session.badge()


@pytest.fixture(scope="module", params=RUNS, ids=[f"{b}-{lang}" for b, lang in RUNS])
def walk(request, homes, server) -> Iterator[Walk]:  # noqa: F811
    name, lang = request.param
    need_browser(name)
    need((popup.DIST / name / "manifest.json").is_file(), "no dist/: run `python build.py`")
    home = homes / f"popup-{name}-{lang}"
    home.mkdir()
    session = popup.start(name, lang, home, server)
    w = Walk(session)
    try:
        for which, measured in popup.run_states(session):
            w.measured[which] = measured
            if which in ("filled", "unsure"):
                w.badges[which] = wait_badge(session, "?" if which == "unsure" else "")
                if which == "unsure":  # the student types the captcha left to them: "?" goes
                    session.close_popup()
                    session.driver.find_element(By.NAME, "passwd2").send_keys("1")
                    session.popup("unsure")
                    w.badges["unsure, then typed"] = wait_badge(session, "")
            elif which == "helper-incompatible":
                # The gate: the page reloads, no solve reaches the helper, the page is untouched.
                before = len(session.requests())
                session.open_login()
                session.popup("incompatible")
                WebDriverWait(session.driver, popup.TIMEOUT, 0.2).until(
                    lambda _: (
                        "page HOST_OUTDATED"
                        in session.js(
                            "return document.getElementById('diagnostics-text').textContent"
                        )
                    )
                )
                session.close_popup()
                w.gate = {
                    "asked": session.requests()[before:],
                    "value": session.js("return document.querySelector('[name=passwd2]').value"),
                    "marked": session.field_phase(),
                }
            elif which == "helper-missing":
                session.open_login()  # the page warms the (absent) helper: the badge says so
                session.popup("missing")
                w.badges[which] = wait_badge(session, "!")
        yield w
    finally:
        session.quit()


def test_ui_language_is_the_one_asked_for(walk: Walk) -> None:
    for which, m in walk.measured.items():
        assert m["lang"].startswith(EXPECTED_LANG[walk.session.lang]), (which, m["lang"])


@pytest.mark.parametrize("which", [s for s, *_ in popup.STATES])
def test_every_which_fits_the_popup(walk: Walk, which: str) -> None:
    m = walk.measured[which]
    assert m["height"] <= POPUP_MAX_HEIGHT, f"{which}: {m['height']} px high"
    assert m["width"] == POPUP_WIDTH, m["width"]
    assert m["overflowX"] <= 0, f"{which}: {m['overflowX']} px of horizontal scroll"
    assert m["cut"] == [], f"{which}: cut off: {m['cut']}"
    assert m["buttonFontSize"] == m["fontSize"] == m["selectFontSize"], m


def test_body_font_size_is_the_same_in_both_browsers(walk: Walk) -> None:
    size = walk.measured["filled"]["fontSize"]
    assert size == 14, f"body font {size} px (Chromium's extension pages set 75%)"
    assert "Noto Sans" in walk.measured["filled"]["fontFamily"]
    mine = FONT_SIZES.setdefault(walk.session.lang, {})
    mine[walk.session.name] = size
    if len(mine) == 2:
        assert abs(mine["chromium"] - mine["firefox"]) <= 1, mine


def test_unsure_is_never_in_the_answer_element(walk: Walk) -> None:
    assert walk.measured["filled"]["answerText"] == "482913"
    assert walk.measured["filled-learning-open"]["answerText"] == "482913"
    assert walk.measured["unsure"]["answerText"] == ""


def test_no_resolve_without_a_working_helper(walk: Walk) -> None:
    assert walk.measured["filled"]["resolveShown"]
    for which in ("helper-missing", "helper-failing", "helper-incompatible"):
        assert not walk.measured[which]["resolveShown"], which
    assert walk.measured["helper-missing"]["title"] != walk.measured["helper-failing"]["title"]


def test_badge_for_missing_helper_and_unsure_captcha(walk: Walk) -> None:
    assert walk.badges == {
        "filled": "",
        "unsure": "?",
        "unsure, then typed": "",
        "helper-missing": "!",
    }


def test_incompatible_helper_gets_no_solve_and_page_is_untouched(walk: Walk) -> None:
    assert "solve" not in walk.gate["asked"], walk.gate
    assert "status" in walk.gate["asked"], walk.gate
    assert walk.gate["value"] == "" and walk.gate["marked"] is None, walk.gate


def test_paused_warning_first_and_no_resolve(walk: Walk) -> None:
    m = walk.measured["paused"]
    assert m["phase"] == "paused", m
    assert m["pausedShown"] and m["pausedAboveStatus"], "the pause warning is not near the top"
    assert not m["resolveShown"], "Re-solve offered while paused"
    assert m["answerText"] == ""


def test_held_offers_resolve_and_fills_nothing(walk: Walk) -> None:
    m = walk.measured["held"]
    assert m["phase"] == "held", m
    assert m["resolveShown"] and not m["pausedShown"]
    assert m["answerText"] == ""


def test_outcome_counters_are_one_short_line(walk: Walk) -> None:
    for which in ("filled", "filled-learning-open", "paused"):
        # 12 px text at line-height 1.45: one line is ~17 px; two lines at most (narrow zh).
        assert walk.measured[which]["outcomes"] <= 36, (which, walk.measured[which]["outcomes"])
