// The login page's network and form parts: extra renderings, and log in after filling.
import assert from "node:assert/strict";
import { test } from "node:test";

import { LOGIN_URL, PWDSTR, dom, loginHtml, ns } from "./helpers.js";

const { fetchRenderings, canSubmit, submitLogin } = ns.login;
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

function page(html = loginHtml()) {
  const { window } = dom(html, LOGIN_URL);
  return {
    window,
    doc: window.document,
    img: window.document.querySelector("img[src^=auth_img]"),
    field: window.document.querySelector("input[name=passwd2]"),
  };
}

function fakeFetch(bodies) {
  const calls = [];
  let i = 0;
  const fetchFn = async (url, init) => {
    calls.push({ url, init });
    const body = bodies[i++ % bodies.length];
    if (body === "fail") throw new TypeError("network error");
    return { ok: body !== 404, arrayBuffer: async () => (body === 404 ? new ArrayBuffer(0) : body.buffer) };
  };
  return { fetchFn, calls };
}

test("more renderings: the same pwdstr URL, no cookies, no cache, PNGs as data URLs", async () => {
  const { img } = page();
  const { fetchFn, calls } = fakeFetch([PNG]);
  const out = await fetchRenderings(img, 3, fetchFn);
  assert.equal(out.length, 3);
  assert.equal(out[0], `data:image/png;base64,${Buffer.from(PNG).toString("base64")}`);
  for (const c of calls) {
    assert.equal(c.url, `${LOGIN_URL}auth_img.php?pwdstr=${PWDSTR}`);
    assert.deepEqual(c.init, { cache: "no-store", credentials: "omit" });
  }
});

test("more renderings: failures, errors and non-PNG bodies are left out", async () => {
  const { img } = page();
  const html = new TextEncoder().encode("<html>session expired</html>");
  const { fetchFn } = fakeFetch([PNG, "fail", 404, html]);
  const out = await fetchRenderings(img, 4, fetchFn);
  assert.equal(out.length, 1);
});

test("more renderings: nothing is fetched for an image without a valid pwdstr", async () => {
  const { img } = page(loginHtml({ pwdstr: "nope" }));
  const { fetchFn, calls } = fakeFetch([PNG]);
  assert.deepEqual(await fetchRenderings(img, 4, fetchFn), []);
  assert.equal(calls.length, 0);
});

test("more renderings are fetched only from the page's own origin", async () => {
  const html = loginHtml().replace(`src=auth_img.php?pwdstr=${PWDSTR}`, `src=https://ccxp.nthu.edu.tw/ccxp/INQUIRE/auth_img.php?pwdstr=${PWDSTR}`);
  const { img } = page(html);
  const { fetchFn, calls } = fakeFetch([PNG]);
  assert.deepEqual(await fetchRenderings(img, 2, fetchFn), []);
  assert.equal(calls.length, 0);
});

test("canSubmit needs both ID and password filled, and looks only at the password's length", () => {
  const { doc, field } = page();
  const account = doc.querySelector("input[name=account]");
  const password = doc.querySelector("input[name=passwd]");
  assert.equal(canSubmit(doc, field), false);
  account.value = "110012345";
  assert.equal(canSubmit(doc, field), false);
  password.value = "x";
  assert.equal(canSubmit(doc, field), true);
  account.value = "";
  assert.equal(canSubmit(doc, field), false);
});

test("submitLogin clicks the form's own submit button (so the page's checks run)", () => {
  const { doc, field, window } = page();
  const submitted = [];
  doc.forms[0].addEventListener("submit", (e) => {
    submitted.push(e.submitter?.name);
    e.preventDefault(); // jsdom cannot navigate
  });
  submitLogin(field);
  assert.deepEqual(submitted, ["Submit"]);
  assert.ok(window);
});
