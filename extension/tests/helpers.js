// Test helpers: AIS-like pages in jsdom, the extension's namespace, fakes for the browser side.
import iconv from "iconv-lite";
import { JSDOM } from "jsdom";

// The classic scripts put everything on globalThis.AISDecaptcha (see src/shared/config.js).
import "../src/shared/config.js";
import "../src/shared/settings.js";
import "../src/shared/outcomes.js";
import "../src/content/field-marks.js";
import "../src/content/captcha.js";
import "../src/content/page.js";
import "../src/content/login.js";
import "../src/content/course.js";

export const ns = globalThis.AISDecaptcha;

export const LOGIN_URL = "https://www.ccxp.nthu.edu.tw/ccxp/INQUIRE/";
export const COURSE_URL = "https://www.ccxp.nthu.edu.tw/ccxp/INQUIRE/JH/6/6.2/6.2.9/JH629001.php";
export const PWDSTR = "20261124-4821";

/**
 * The login page as ../shared/notes/ais-pages.md describes it: Big5, not a frameset,
 * unquoted attributes, account/passwd/passwd2, the image next to passwd2, hidden fnstr,
 * an audio control in the captcha row, a 登入 submit button.
 */
export function loginHtml({ english = false, inputClass = "inputtext", pwdstr = PWDSTR } = {}) {
  const [account, password, code, audio, submit] = english
    ? ["Account", "Password", "Verification code", "Play audio", "Login"]
    : ["帳號", "密碼", "驗證碼", "語音播放", "登入"];
  const audioLink = `<a href="javascript:void(0)">${audio}</a>`;
  return `<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=big5">
<title>國立清華大學 -- 校務資訊系統</title>
</head>
<body bgcolor=#ffffff>
<center>
${english ? audioLink : ""}
<img src=images/logo.gif width=300>
<form name=login method=post action=pre_select_entry.php>
<table border=0>
<tr><td>${account}</td><td><input type=text name=account class=${inputClass} size=15></td></tr>
<tr><td>${password}</td><td><input type=password name=passwd class=${inputClass} size=15></td></tr>
<tr><td>${code}</td><td><input type=text name=passwd2 class=${inputClass} size=6 maxlength=6>
<img src=auth_img.php?pwdstr=${pwdstr} align=absmiddle> ${english ? "" : audioLink}
</td></tr>
<tr><td colspan=2 align=center>
<input type=hidden name=fnstr value=${pwdstr}>
<input type=submit name=Submit value=${submit}>
</td></tr>
</table>
</form>
</center>
</body>
</html>`;
}

export function courseHtml(session = "abc123") {
  return `<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5"><title>課程查詢</title></head>
<body>
<img src=/ccxp/INQUIRE/JH/images/title.gif>
<form name=form1 method=post action=JH629002.php>
<input type=hidden name=ACIXSTORE value=${session}>
學年度 <select name=YS><option value="114|20">114 下學期</option></select>
科目代號 <input type=text name=cou_code size=10>
驗證碼 <input type=text name=auth_num size=3 maxlength=3>
<img src=/ccxp/INQUIRE/JH/mod/auth_img/auth_img.php?ACIXSTORE=${session}>
<input type=submit value=確定>
</form>
</body></html>`;
}

/** A page served as Big5 bytes, decoded by jsdom from its <meta charset> as a browser would. */
export function big5Dom(html, url) {
  return new JSDOM(iconv.encode(html, "big5"), { url });
}

export function dom(html, url = LOGIN_URL) {
  return new JSDOM(html, { url });
}

/** Let pending promise callbacks and MutationObserver records run. */
export function settle() {
  return new Promise((resolve) => setImmediate(resolve));
}

export function result(text, confidence = 0.995, extra = {}) {
  return { text, confidence, digits: [...text].map(() => confidence), method: "auto", used: "ctc", agree: true, kind: text.length === 6 ? "ais6" : "ais3", renderings: 1, ms: 2.5, ...extra };
}

export function ok(res) {
  return { v: 1, id: 1, ok: true, result: res };
}

export function err(code, message = code) {
  return { v: 1, id: 1, ok: false, error: { code, message } };
}

/**
 * The browser side of a content script, faked: every solve request waits until the test
 * answers it (`env.requests[i].answer(reply)`), so tests control ordering exactly.
 */
export function fakeEnv({ loaded = true } = {}) {
  const env = {
    requests: [],
    loaded,
    submits: 0,
    mayAnswer: true,
    solve(request) {
      return new Promise((resolve) => env.requests.push({ request, answer: resolve }));
    },
    capture: (img) => `data:image/png;base64,${Buffer.from(img.src).toString("base64")}`,
    isLoaded: () => env.loaded,
    maySubmit: async () => env.mayAnswer,
    t: (key) => `msg:${key}`,
    now: () => 0,
  };
  return env;
}

export const SETTINGS = Object.freeze({ autofill: true, submitAfterFill: false, method: "auto" });

/** A controller on a jsdom page, started. */
export function controllerFor(window, spec, { env = fakeEnv(), settings = SETTINGS } = {}) {
  const c = new ns.captcha.CaptchaController({ doc: window.document, spec, env, settings });
  const started = c.start();
  return { c, env, started };
}

/** Change an image's src and fire its load, as a browser does when the new image arrives. */
export function loadNewImage(window, img, src) {
  img.setAttribute("src", src);
  img.dispatchEvent(new window.Event("load"));
}
