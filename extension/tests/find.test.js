// Finding the captcha image and its answer field, and doing nothing where there is none.
import assert from "node:assert/strict";
import { test } from "node:test";

import { COURSE_URL, LOGIN_URL, PWDSTR, big5Dom, courseHtml, dom, loginHtml, ns } from "./helpers.js";

const { findLoginCaptcha, pwdstrOf } = ns.login;
const { findCourseCaptcha } = ns.course;

test("the Big5 login page decodes and its captcha is found next to passwd2", () => {
  const { window } = big5Dom(loginHtml(), LOGIN_URL);
  const doc = window.document;
  assert.equal(doc.title, "國立清華大學 -- 校務資訊系統"); // the bytes really were Big5
  const found = findLoginCaptcha(doc);
  assert.ok(found);
  assert.equal(found.field.name, "passwd2");
  assert.equal(found.img.getAttribute("src"), `auth_img.php?pwdstr=${PWDSTR}`); // unquoted in the source
  assert.equal(pwdstrOf(found.img), PWDSTR);
  assert.equal(doc.querySelector("input[name=fnstr]").value, PWDSTR);
});

test("the English login page (audio link first) is found too", () => {
  const { window } = big5Dom(loginHtml({ english: true }), `${LOGIN_URL}index.php?lang=english`);
  const found = findLoginCaptcha(window.document);
  assert.ok(found);
  assert.match(found.img.src, /auth_img\.php\?pwdstr=/);
  assert.equal(found.img.src, `${LOGIN_URL}auth_img.php?pwdstr=${PWDSTR}`);
});

test("the pre-2023 markup (class input_box) is found: we do not rely on classes", () => {
  const { window } = dom(loginHtml({ inputClass: "input_box" }));
  assert.ok(findLoginCaptcha(window.document));
});

test("of several auth_img images, the one nearest the field is chosen", () => {
  const html = loginHtml().replace(
    "<img src=images/logo.gif width=300>",
    "<div><p><img src=/other/auth_img.php?pwdstr=19990101-1></p></div>",
  );
  const found = findLoginCaptcha(dom(html).window.document);
  assert.equal(pwdstrOf(found.img), PWDSTR);
});

test("the course page's 3-digit captcha is found next to auth_num", () => {
  const { window } = big5Dom(courseHtml("s3ss10n"), COURSE_URL);
  const found = findCourseCaptcha(window.document);
  assert.ok(found);
  assert.equal(found.field.name, "auth_num");
  assert.equal(found.img.src, "https://www.ccxp.nthu.edu.tw/ccxp/INQUIRE/JH/mod/auth_img/auth_img.php?ACIXSTORE=s3ss10n");
  assert.equal(findLoginCaptcha(window.document), null, "no login captcha on a course page");
});

test("pages without a captcha yield nothing", () => {
  const pages = {
    "after login (frameset)":
      "<html><frameset rows=50,*><frame src=top.php><frame name=main src=IN_INQ_STU.php></frameset></html>",
    "a JH page without captcha": "<html><body><form><input name=cou_code><img src=/ccxp/INQUIRE/JH/images/x.gif></form></body></html>",
    "field but no captcha image": loginHtml().replace(/<img src=auth_img[^>]*>/, ""),
    "image but no field": loginHtml().replace(/<input type=text name=passwd2[^>]*>/, ""),
    "hidden passwd2": loginHtml().replace("type=text name=passwd2", "type=hidden name=passwd2"),
  };
  for (const [name, html] of Object.entries(pages)) {
    const doc = dom(html).window.document;
    assert.equal(findLoginCaptcha(doc), null, name);
    assert.equal(findCourseCaptcha(doc), null, name);
  }
});

test("pwdstr must look like YYYYMMDD-N", () => {
  const doc = dom("<img id=a src=auth_img.php?pwdstr=20260101-77><img id=b src=auth_img.php?pwdstr=../x><img id=c src=auth_img.php>").window.document;
  assert.equal(pwdstrOf(doc.getElementById("a")), "20260101-77");
  assert.equal(pwdstrOf(doc.getElementById("b")), null);
  assert.equal(pwdstrOf(doc.getElementById("c")), null);
});
