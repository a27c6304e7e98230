"""The end-to-end harness itself: the AIS replica loads over HTTPS in both headless browsers,
with www.ccxp.nthu.edu.tw mapped to loopback, and records what is posted to it.

No extension here: this proves the page, the certificate, the name mapping and the browser
launch, so a failure in test_e2e_extension.py is about the extension or the host.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e import replica
from tests.e2e.fixtures import homes, launch, remove_home, server, state  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BASE = "https://www.ccxp.nthu.edu.tw"


@pytest.fixture(params=["chromium", "firefox"])
def plain_browser(request, homes, server):  # noqa: F811
    home = homes / f"plain-{request.param}"
    home.mkdir()
    browser = launch(request.param, home, server, extension=None)
    yield browser
    browser.quit()
    remove_home(home)


def image_size(driver, selector: str) -> tuple[int, int]:
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script(f"return document.querySelector('{selector}').complete")
    )
    script = (
        f"const i = document.querySelector('{selector}'); return [i.naturalWidth, i.naturalHeight]"
    )
    return tuple(driver.execute_script(script))


def test_login_page_over_https(plain_browser, state: replica.State) -> None:  # noqa: F811
    driver = plain_browser.driver
    driver.get(BASE + "/ccxp/INQUIRE/")
    assert driver.title == replica.TITLE  # decoded from Big5
    assert driver.execute_script("return document.characterSet").lower() == "big5"
    assert driver.execute_script("return location.protocol") == "https:"
    fnstr = driver.find_element(By.NAME, "fnstr").get_attribute("value")
    img = driver.find_element(By.CSS_SELECTOR, "input.inputtext[name=passwd2] ~ img")
    assert img.get_attribute("src").endswith(f"auth_img.php?pwdstr={fnstr}")
    assert image_size(driver, "input[name=passwd2] ~ img") == (104, 32)
    assert driver.find_element(By.NAME, "Submit").get_attribute("value") == "登入"
    assert fnstr in state.login


def test_english_page_audio_link_first(plain_browser) -> None:
    driver = plain_browser.driver
    driver.get(BASE + "/ccxp/INQUIRE/index.php?lang=english")
    first_link = driver.find_elements(By.TAG_NAME, "a")[0]
    assert "audio" in first_link.text.lower()
    assert image_size(driver, "input[name=passwd2] ~ img") == (104, 32)


def test_course_page_and_post_recorded(plain_browser, state: replica.State) -> None:  # noqa: F811
    driver = plain_browser.driver
    driver.get(BASE + replica.COURSE_PAGE + "?ACIXSTORE=harness" + plain_browser.name)
    assert image_size(driver, "img") == (42, 30)
    session = "harness" + plain_browser.name
    answer = state.course[session]
    driver.find_element(By.NAME, "auth_num").send_keys(answer)
    before = len(state.posts)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: len(state.posts) > before)
    post = state.posts[-1]
    assert post.path == replica.COURSE_POST
    assert post.fields["auth_num"] == answer and post.fields["ACIXSTORE"] == session
    WebDriverWait(driver, 10).until(lambda d: "OK" in d.page_source)


@pytest.mark.parametrize(
    ("captcha", "password", "want"),
    [
        ("right", "not-a-real-password", "frameset"),
        ("wrong", "not-a-real-password", replica.WRONG_CAPTCHA_TEXT),
        ("right", replica.WRONG_PASSWORD, replica.WRONG_PASSWORD_TEXT),
    ],
)
def test_login_answers_like_the_ais(
    plain_browser,
    state: replica.State,  # noqa: F811
    captcha: str,
    password: str,
    want: str,
) -> None:
    driver = plain_browser.driver
    driver.get(BASE + "/ccxp/INQUIRE/")
    fnstr = driver.find_element(By.NAME, "fnstr").get_attribute("value")
    answer = state.login[fnstr]
    typed = answer if captcha == "right" else answer[:-1] + str((int(answer[-1]) + 1) % 10)
    driver.find_element(By.NAME, "account").send_keys("109000000")
    driver.find_element(By.NAME, "passwd").send_keys(password)
    driver.find_element(By.NAME, "passwd2").send_keys(typed)
    driver.find_element(By.NAME, "Submit").click()
    WebDriverWait(driver, 10).until(
        lambda d: (
            d.execute_script("return location.pathname") == replica.LOGIN_POST
            and d.execute_script("return document.readyState") == "complete"
        )
    )
    assert driver.execute_script("return document.characterSet").lower() == "big5"
    if want == "frameset":
        assert driver.execute_script("return document.querySelectorAll('frame').length") == 3
    else:
        assert want in driver.execute_script("return document.body.textContent")


@pytest.mark.parametrize("kind", ["ais6", "ais3"])
def test_synthetic_captchas_have_whole_digits_as_the_real_ones(kind: str) -> None:
    # Every real captcha's ink comes apart into its digits; a synthetic one an asterisk cut
    # is drawn again (about a third were, so the e2e tests without ../shared hung on luck).
    from host.imageio import decode_png
    from host.kinds import KINDS
    from host.plausibility import looks_like_captcha

    captchas = replica.Captchas(None, seed=3)
    drawn = [decode_png(captchas.draw(kind, captchas.new_answer(kind))) for _ in range(40)]
    assert all(looks_like_captcha(rgb, KINDS[kind]) for rgb in drawn)
