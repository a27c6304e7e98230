// The autofill controller on jsdom pages, with the host faked request by request.
import assert from "node:assert/strict";
import { test } from "node:test";

import { COURSE_URL, LOGIN_URL, SETTINGS, controllerFor, courseHtml, dom, err, fakeEnv, loadNewImage, loginHtml, ns, ok, result, settle } from "./helpers.js";

const { PHASE } = ns.captcha;
const loginSpec = ns.login.spec;

/** The login spec, with the network parts replaced by recorders. */
function loginSpecWith({ renderings = ["data:image/png;base64,R1", "data:image/png;base64,R2"], fresh = "data:image/png;base64,FRESH" } = {}) {
  const calls = { more: 0, fresh: 0, submits: 0 };
  const spec = {
    ...loginSpec,
    moreImages: async () => {
      calls.more += 1;
      return renderings;
    },
    freshImage: async () => {
      calls.fresh += 1;
      return fresh;
    },
    submit: () => {
      calls.submits += 1;
    },
  };
  return { spec, calls };
}

function courseSpecWith() {
  const calls = { reloads: 0 };
  const spec = {
    ...ns.course.spec,
    reloadImage: (img) => {
      calls.reloads += 1;
      img.setAttribute("src", `${img.getAttribute("src")}&decaptcha=${calls.reloads}`);
    },
  };
  return { spec, calls };
}

function recordEvents(field) {
  const events = [];
  for (const type of ["input", "change"]) field.addEventListener(type, () => events.push(`${type}:${field.value}`));
  return events;
}

test("a loaded login captcha is solved and filled, with input and change fired", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const events = recordEvents(field);
  const { spec } = loginSpecWith();
  const { env, started } = controllerFor(window, spec);
  assert.equal(started, true);
  assert.equal(env.requests.length, 1);
  const { request } = env.requests[0];
  assert.equal(request.kind, "ais6");
  assert.equal(request.method, "auto");
  assert.match(request.image, /^data:image\/png;base64,/);
  env.requests[0].answer(ok(result("012345")));
  await settle();
  assert.equal(field.value, "012345"); // leading zero kept: answers are strings
  assert.deepEqual(events, ["input:012345", "change:012345"]);
  assert.equal(field.dataset.decaptcha, PHASE.FILLED);
  assert.equal(field.dataset.decaptchaConfidence, "0.9950");
  assert.equal(field.getAttribute("autocomplete"), "off");
  assert.equal(field.getAttribute("inputmode"), "numeric");
});

test("the image is solved only once it has loaded", async () => {
  const { window } = dom(loginHtml());
  const env = fakeEnv({ loaded: false });
  controllerFor(window, loginSpecWith().spec, { env });
  assert.equal(env.requests.length, 0);
  env.loaded = true;
  window.document.querySelector("img[src^=auth_img]").dispatchEvent(new window.Event("load"));
  assert.equal(env.requests.length, 1);
});

test("a page without a captcha is left exactly as it was, and the host is not asked", async () => {
  const html = "<html><body><form><input name=account><input type=password name=passwd></form></body></html>";
  const { window } = dom(html);
  const before = window.document.documentElement.outerHTML;
  const { env, started } = controllerFor(window, loginSpecWith().spec);
  assert.equal(started, false);
  await settle();
  assert.equal(env.requests.length, 0);
  assert.equal(window.document.documentElement.outerHTML, before);
});

test("text the user typed before the answer came is never overwritten", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  field.value = "98"; // typed before the image even loaded
  const { env } = controllerFor(window, loginSpecWith().spec);
  env.requests[0].answer(ok(result("123456")));
  await settle();
  assert.equal(field.value, "98");
  assert.equal(field.dataset.decaptcha, PHASE.KEPT);
});

test("typing while a request is in flight stops the fill", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const { env, c } = controllerFor(window, loginSpecWith().spec);
  field.value = "";
  field.dispatchEvent(new window.Event("input", { bubbles: true })); // the user typed and deleted
  env.requests[0].answer(ok(result("123456")));
  await settle();
  assert.equal(field.value, "");
  assert.equal(c.snapshot().phase, PHASE.KEPT);
});

test("a new image is solved again and replaces our own earlier answer", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const img = window.document.querySelector("img[src^=auth_img]");
  const { env } = controllerFor(window, loginSpecWith().spec);
  env.requests[0].answer(ok(result("111111")));
  await settle();
  assert.equal(field.value, "111111");
  const seq = Number(field.dataset.decaptchaSeq);
  loadNewImage(window, img, "auth_img.php?pwdstr=20261124-9999");
  await settle();
  assert.equal(field.value, "", "the old answer is wrong for the new image");
  assert.equal(env.requests.length, 2);
  assert.notEqual(env.requests[1].request.image, env.requests[0].request.image);
  env.requests[1].answer(ok(result("222222")));
  await settle();
  assert.equal(field.value, "222222");
  assert.equal(Number(field.dataset.decaptchaSeq), seq + 1);
});

test("an answer for an image replaced while in flight is dropped", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const img = window.document.querySelector("img[src^=auth_img]");
  const { env } = controllerFor(window, loginSpecWith().spec);
  img.setAttribute("src", "auth_img.php?pwdstr=20261124-2"); // new src, not loaded yet
  await settle();
  env.requests[0].answer(ok(result("111111"))); // the old image's answer arrives late
  await settle();
  assert.equal(field.value, "");
  assert.equal(field.dataset.decaptcha, undefined);
  img.dispatchEvent(new window.Event("load"));
  env.requests[1].answer(ok(result("222222")));
  await settle();
  assert.equal(field.value, "222222");
});

test("a late answer for the previous image does not overwrite the current one", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const img = window.document.querySelector("img[src^=auth_img]");
  const { env } = controllerFor(window, loginSpecWith().spec);
  loadNewImage(window, img, "auth_img.php?pwdstr=20261124-3");
  await settle();
  // One request in flight per page: the new image waits for the old one's (late) answer.
  assert.equal(env.requests.length, 1);
  env.requests[0].answer(ok(result("111111")));
  await settle();
  assert.equal(field.value, "", "the late answer is for the previous image");
  env.requests[1].answer(ok(result("333333")));
  await settle();
  assert.equal(field.value, "333333");
});

test("an image element replaced by the page is found and solved", async () => {
  const { window } = dom(loginHtml());
  const doc = window.document;
  const field = doc.querySelector("input[name=passwd2]");
  const { env } = controllerFor(window, loginSpecWith().spec);
  const fresh = doc.createElement("img");
  fresh.setAttribute("src", "auth_img.php?pwdstr=20261124-5");
  doc.querySelector("img[src^=auth_img]").replaceWith(fresh);
  await settle();
  env.requests[0].answer(ok(result("111111"))); // for the removed image: stale
  await settle();
  assert.equal(env.requests.length, 2);
  env.requests[1].answer(ok(result("555555")));
  await settle();
  assert.equal(field.value, "555555");
});

test("login, low confidence: more renderings are voted on, and a confident vote fills", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const { spec, calls } = loginSpecWith();
  const { env } = controllerFor(window, spec);
  env.requests[0].answer(ok(result("123456", 0.6)));
  await settle();
  assert.equal(calls.more, 1);
  assert.equal(env.requests.length, 2);
  const vote = env.requests[1].request;
  assert.equal(vote.image, undefined);
  assert.deepEqual(vote.images.slice(1), ["data:image/png;base64,R1", "data:image/png;base64,R2"]);
  assert.equal(vote.images[0], env.requests[0].request.image, "the displayed image is in the vote");
  env.requests[1].answer(ok(result("123456", 0.97, { renderings: 3 })));
  await settle();
  assert.equal(field.value, "123456");
});

test("login, still unsure after the vote: the field is left empty, outlined and explained", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  field.title = "page title";
  const { env, c } = controllerFor(window, loginSpecWith().spec);
  env.requests[0].answer(ok(result("123456", 0.5)));
  await settle();
  env.requests[1].answer(ok(result("123456", 0.8)));
  await settle();
  assert.equal(field.value, "");
  assert.equal(field.dataset.decaptcha, PHASE.LOW);
  assert.notEqual(field.style.outline, "");
  assert.equal(field.title, "msg:fieldLowConfidence");
  const state = c.snapshot();
  assert.equal(state.phase, PHASE.LOW);
  assert.equal(state.answer, "123456");
  assert.equal(state.confidence, 0.8);
  // A confident answer for the next image clears the mark and gives the title back.
  loadNewImage(window, window.document.querySelector("img[src^=auth_img]"), "auth_img.php?pwdstr=20261124-6");
  env.requests[2].answer(ok(result("654321")));
  await settle();
  assert.equal(field.value, "654321");
  assert.equal(field.style.outline, "");
  assert.equal(field.title, "page title");
});

test("login, unsure: the user typing it is reported once, and a new image starts untyped", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const reports = [];
  const env = { ...fakeEnv(), report: (event) => reports.push(event) };
  env.solve = (request) => new Promise((resolve) => env.requests.push({ request, answer: resolve }));
  const { c } = controllerFor(window, loginSpecWith().spec, { env });
  env.requests[0].answer(ok(result("123456", 0.5)));
  await settle();
  env.requests[1].answer(ok(result("123456", 0.8)));
  await settle();
  assert.equal(c.snapshot().phase, PHASE.LOW);
  assert.equal(c.snapshot().typed, false);
  for (const value of ["1", "12"]) {
    field.value = value;
    field.dispatchEvent(new window.Event("input", { bubbles: true }));
  }
  assert.equal(c.snapshot().typed, true);
  assert.deepEqual(reports.filter((r) => r.event === "typed"), [{ event: "typed", kind: "ais6" }]);
  loadNewImage(window, window.document.querySelector("img[src^=auth_img]"), "auth_img.php?pwdstr=20261124-6");
  await settle();
  assert.equal(c.snapshot().typed, false);
});

test("NO_ANSWER from the host is treated as unsure, not as a broken host", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const { env, c } = controllerFor(window, loginSpecWith().spec);
  env.requests[0].answer(err("NO_ANSWER"));
  await settle();
  env.requests[1].answer(err("NO_ANSWER"));
  await settle();
  assert.equal(field.value, "");
  assert.equal(c.snapshot().reason, "no-answer");
  assert.equal(field.dataset.decaptcha, PHASE.LOW);
});

test("course, low confidence: the page's own image is reloaded (at most twice), then marked", async () => {
  const { window } = dom(courseHtml(), COURSE_URL);
  const field = window.document.querySelector("input[name=auth_num]");
  const img = window.document.querySelector("img[src*=auth_img]");
  const { spec, calls } = courseSpecWith();
  const { env } = controllerFor(window, spec);
  assert.equal(env.requests[0].request.kind, "ais3");
  for (let i = 0; i < 3; i++) {
    env.requests[i].answer(ok(result("123", 0.4)));
    await settle();
    if (i < 2) {
      assert.equal(calls.reloads, i + 1);
      img.dispatchEvent(new window.Event("load")); // the reloaded image arrives
    }
  }
  assert.equal(calls.reloads, 2);
  assert.equal(env.requests.length, 3);
  assert.equal(field.value, "");
  assert.equal(field.dataset.decaptcha, PHASE.LOW);
});

test("course, a reload that reads confidently fills the field", async () => {
  const { window } = dom(courseHtml(), COURSE_URL);
  const field = window.document.querySelector("input[name=auth_num]");
  const img = window.document.querySelector("img[src*=auth_img]");
  const { spec } = courseSpecWith();
  const { env } = controllerFor(window, spec);
  env.requests[0].answer(ok(result("123", 0.4)));
  await settle();
  img.dispatchEvent(new window.Event("load"));
  env.requests[1].answer(ok(result("077")));
  await settle();
  assert.equal(field.value, "077");
});

test("host missing or broken: the page is left untouched and the state says why", async () => {
  for (const code of ["HOST_UNAVAILABLE", "MODEL_ERROR", "BAD_IMAGE"]) {
    const { window } = dom(loginHtml());
    const before = window.document.documentElement.outerHTML;
    const { env, c } = controllerFor(window, loginSpecWith().spec);
    env.requests[0].answer(err(code, "Specified native messaging host not found."));
    await settle();
    assert.equal(window.document.documentElement.outerHTML, before, code);
    assert.equal(c.snapshot().phase, PHASE.ERROR);
    assert.equal(c.snapshot().error.code, code);
    assert.equal(env.requests.length, 1, "no vote on a broken host");
  }
});

test("autofill off: nothing is sent or changed; Re-solve still works", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const before = window.document.documentElement.outerHTML;
  const { spec, calls } = loginSpecWith();
  const { env, c } = controllerFor(window, spec, { settings: { ...SETTINGS, autofill: false } });
  await settle();
  assert.equal(env.requests.length, 0);
  assert.equal(c.snapshot().phase, PHASE.OFF);
  assert.equal(window.document.documentElement.outerHTML, before);
  const done = c.resolveNow();
  await settle();
  assert.equal(calls.fresh, 1);
  assert.equal(env.requests[0].request.image, "data:image/png;base64,FRESH");
  env.requests[0].answer(ok(result("246810")));
  await done;
  assert.equal(field.value, "246810");
});

test("Re-solve uses a fresh rendering and replaces whatever is in the field", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const { env, c } = controllerFor(window, loginSpecWith().spec);
  env.requests[0].answer(ok(result("111111")));
  await settle();
  field.value = "11111x";
  field.dispatchEvent(new window.Event("input"));
  const before = c.snapshot().done;
  const done = c.resolveNow();
  await settle();
  env.requests[1].answer(ok(result("111111", 0.999)));
  await done;
  assert.equal(field.value, "111111");
  assert.ok(c.snapshot().done > before);
});

test("the method setting is sent with each request", async () => {
  const { window } = dom(loginHtml());
  const { env, c } = controllerFor(window, loginSpecWith().spec, { settings: { ...SETTINGS, method: "seg" } });
  assert.equal(env.requests[0].request.method, "seg");
  c.setSettings({ ...SETTINGS, method: "ctc" });
  env.requests[0].answer(ok(result("123456")));
  await settle();
  loadNewImage(window, window.document.querySelector("img[src^=auth_img]"), "auth_img.php?pwdstr=20261124-8");
  assert.equal(env.requests[1].request.method, "ctc");
});

// ---------------------------------------------------------------- log in after filling

async function submitCase({ settings = { ...SETTINGS, submitAfterFill: true }, account = "110012345", password = "secret", confidence = 0.99, may = true } = {}) {
  const { window } = dom(loginHtml(), LOGIN_URL);
  const doc = window.document;
  doc.querySelector("input[name=account]").value = account;
  doc.querySelector("input[name=passwd]").value = password;
  const { spec, calls } = loginSpecWith();
  const env = fakeEnv();
  env.mayAnswer = may;
  controllerFor(window, spec, { env, settings });
  env.requests[0].answer(ok(result("123456", confidence)));
  await settle();
  if (env.requests[1]) {
    env.requests[1].answer(ok(result("123456", confidence)));
    await settle();
  }
  return calls.submits;
}

test("log in after filling: submits once when on, sure, and ID and password are filled", async () => {
  assert.equal(await submitCase(), 1);
});

test("log in after filling: the guard's answer is on the field (data-decaptcha-submit)", async () => {
  for (const may of [true, false]) {
    const { window } = dom(loginHtml(), LOGIN_URL);
    const doc = window.document;
    doc.querySelector("input[name=account]").value = "110012345";
    doc.querySelector("input[name=passwd]").value = "secret";
    const env = fakeEnv();
    env.mayAnswer = may;
    controllerFor(window, loginSpecWith().spec, { env, settings: { ...SETTINGS, submitAfterFill: true } });
    env.requests[0].answer(ok(result("123456")));
    await settle();
    assert.equal(doc.querySelector("input[name=passwd2]").dataset.decaptchaSubmit, may ? "sent" : "refused");
  }
});

test("log in after filling: never when off, unsure, fields empty or already tried", async () => {
  assert.equal(await submitCase({ settings: SETTINGS }), 0, "option off (the default)");
  assert.equal(await submitCase({ confidence: 0.7 }), 0, "not confident");
  assert.equal(await submitCase({ password: "" }), 0, "password empty");
  assert.equal(await submitCase({ account: "" }), 0, "account empty");
  assert.equal(await submitCase({ may: false }), 0, "already submitted in this tab recently");
});

test("switching autofill on reads the captcha already shown", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const { env, c } = controllerFor(window, loginSpecWith().spec, { settings: { ...SETTINGS, autofill: false } });
  assert.equal(env.requests.length, 0);
  c.setSettings({ ...SETTINGS, autofill: true });
  assert.equal(env.requests.length, 1);
  env.requests[0].answer(ok(result("135790")));
  await settle();
  assert.equal(field.value, "135790");
});

test("an answer of the wrong shape is never filled", async () => {
  for (const text of ["12345", "1234567", "12a456", ""]) {
    const { window } = dom(loginHtml());
    const field = window.document.querySelector("input[name=passwd2]");
    const { env } = controllerFor(window, loginSpecWith().spec);
    env.requests[0].answer(ok(result(text, 0.999)));
    await settle();
    env.requests[1]?.answer(ok(result(text, 0.999)));
    await settle();
    assert.equal(field.value, "", JSON.stringify(text));
  }
});

test("course: the image is not swapped while the user is typing", async () => {
  const { window } = dom(courseHtml(), COURSE_URL);
  const field = window.document.querySelector("input[name=auth_num]");
  const { spec, calls } = courseSpecWith();
  const { env } = controllerFor(window, spec);
  field.value = "1";
  field.dispatchEvent(new window.Event("input"));
  env.requests[0].answer(ok(result("123", 0.4)));
  await settle();
  assert.equal(calls.reloads, 0);
  assert.equal(field.value, "1");
});

test("an image flipping many times: one request in flight, only the newest image is sent next", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const img = window.document.querySelector("img[src^=auth_img]");
  const { env } = controllerFor(window, loginSpecWith().spec);
  const answerOf = (request) => String(Buffer.from(request.image.split(",")[1], "base64")).slice(-6).padStart(6, "0");
  let last = "";
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 40; i++) {
      last = `auth_img.php?pwdstr=20261124-${100000 + round * 1000 + i}`;
      loadNewImage(window, img, last);
      await settle();
    }
    assert.equal(env.requests.length, round + 1, "one request in flight at a time");
    const pending = env.requests[round];
    pending.answer(ok(result(answerOf(pending.request)))); // stale unless it is the newest
    await settle();
  }
  // The request now in flight is for the image shown last; its answer is filled.
  const current = env.requests.at(-1);
  assert.equal(env.requests.length, 6);
  assert.equal(current.request.image, env.capture({ src: img.src }));
  assert.ok(img.src.endsWith(last));
  current.answer(ok(result(answerOf(current.request))));
  await settle();
  assert.equal(field.value, last.slice(-6));
  assert.equal(env.requests.length, 6);
});

test("one request per image: a loaded image and then its own load event are solved once", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const img = window.document.querySelector("img[src^=auth_img]");
  const { env } = controllerFor(window, loginSpecWith().spec); // found loaded at start
  img.dispatchEvent(new window.Event("load")); // Chromium then fires its load event
  await settle();
  env.requests[0].answer(ok(result("123456")));
  await settle();
  img.setAttribute("src", img.getAttribute("src")); // a page re-setting the same src
  img.dispatchEvent(new window.Event("load"));
  await settle();
  assert.equal(env.requests.length, 1);
  assert.equal(field.value, "123456");
  assert.equal(field.dataset.decaptcha, PHASE.FILLED);
});

test("course: a reloaded image is solved even when it looks the same", async () => {
  const { window } = dom(courseHtml(), COURSE_URL);
  const img = window.document.querySelector("img[src*=auth_img]");
  const spec = { ...ns.course.spec, reloadImage: () => {} }; // the server sends the same picture
  const { env } = controllerFor(window, spec);
  env.requests[0].answer(ok(result("123", 0.4)));
  await settle();
  img.dispatchEvent(new window.Event("load"));
  await settle();
  assert.equal(env.requests.length, 2);
});

test("a failed capture (tainted canvas) clears our answer and every mark that claims it", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const img = window.document.querySelector("img[src^=auth_img]");
  const { env, c } = controllerFor(window, loginSpecWith().spec);
  env.requests[0].answer(ok(result("123456")));
  await settle();
  assert.equal(field.dataset.decaptcha, PHASE.FILLED);
  env.capture = () => {
    throw new window.DOMException("The canvas has been tainted by cross-origin data.", "SecurityError");
  };
  loadNewImage(window, img, "https://elsewhere.example/auth_img.php?pwdstr=20261124-77");
  await settle();
  assert.equal(field.value, "");
  assert.equal(field.dataset.decaptcha, undefined, "no 'filled' on an empty field");
  assert.equal(field.dataset.decaptchaConfidence, undefined);
  assert.equal(c.snapshot().phase, PHASE.ERROR);
  assert.equal(c.snapshot().error.code, ns.config.ERRORS.CAPTURE);
  assert.equal(env.requests.length, 1);
});

test("auto: a confident answer the two models disagree on is unsure: voted on, never filled alone", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const { spec, calls } = loginSpecWith();
  const { env, c } = controllerFor(window, spec);
  env.requests[0].answer(ok(result("069000", 0.9999, { agree: false })));
  await settle();
  assert.equal(calls.more, 1, "a disagreement asks for more renderings");
  env.requests[1].answer(ok(result("069000", 0.9999, { agree: false, renderings: 3 })));
  await settle();
  assert.equal(field.value, "");
  assert.equal(field.dataset.decaptcha, PHASE.LOW);
  assert.equal(c.snapshot().agree, false);
  assert.equal(c.snapshot().reason, "disagree", "the popup can say why a 99.99% answer is unsure");
});

test("auto: a disagreement after the vote is unsure; an agreeing vote fills", async () => {
  const { window } = dom(loginHtml());
  const field = window.document.querySelector("input[name=passwd2]");
  const { env } = controllerFor(window, loginSpecWith().spec);
  env.requests[0].answer(ok(result("123456", 0.95, { agree: null })));
  await settle();
  env.requests[1].answer(ok(result("123456", 0.97, { agree: true, renderings: 3 })));
  await settle();
  assert.equal(field.value, "123456");
});

test("isConfident: >= the threshold, and for auto only when the models agree", () => {
  const { isConfident } = ns.captcha;
  const T = ns.config.CONFIDENCE_THRESHOLD;
  assert.equal(isConfident(result("123456", T)), true, "at the threshold is confident");
  assert.equal(isConfident(result("123456", T - 1e-9)), false);
  assert.equal(isConfident(result("123456", 0.99, { agree: false })), false);
  assert.equal(isConfident(result("123456", 0.99, { agree: null })), false, "auto with one model: not known to agree");
  assert.equal(isConfident(result("123456", 0.99, { agree: undefined })), false);
  assert.equal(isConfident(result("123456", 0.99, { method: "ctc", agree: null }), "ctc"), true, "ctc alone has nothing to agree with");
  assert.equal(isConfident(result("123456", 0.99, { method: "ctc", agree: null }), "auto"), false, "asked for auto, got one model");
  assert.equal(isConfident(result("123456", 0.99, { method: "seg", agree: null }), "seg"), true);
  assert.equal(isConfident(null), false);
  assert.equal(isConfident({ text: "123456", confidence: Number.NaN, method: "seg" }), false);
});

test("the submit follows the same rule: a disagreeing confident answer is never submitted", async () => {
  const { window } = dom(loginHtml(), LOGIN_URL);
  const doc = window.document;
  doc.querySelector("input[name=account]").value = "110012345";
  doc.querySelector("input[name=passwd]").value = "secret";
  const { spec, calls } = loginSpecWith();
  const { env } = controllerFor(window, spec, { settings: { ...SETTINGS, submitAfterFill: true } });
  env.requests[0].answer(ok(result("123456", 0.999, { agree: false })));
  await settle();
  env.requests[1].answer(ok(result("123456", 0.999, { agree: false })));
  await settle();
  assert.equal(calls.submits, 0);
  assert.equal(doc.querySelector("input[name=passwd2]").value, "");
});

// ---------------------------------------------------------------- what the page shows

const note = (doc) => doc.querySelector("[data-decaptcha-note]");
const check = (doc) => doc.querySelector("[data-decaptcha-check]");

test("unsure: a short visible note right after the field; typing clears the note and the outline", async () => {
  const { window } = dom(loginHtml());
  const doc = window.document;
  const field = doc.querySelector("input[name=passwd2]");
  field.title = "page title";
  const { env } = controllerFor(window, loginSpecWith().spec);
  env.requests[0].answer(ok(result("123456", 0.5)));
  await settle();
  env.requests[1].answer(ok(result("123456", 0.6)));
  await settle();
  const shown = note(doc);
  assert.ok(shown, "a note is shown");
  assert.equal(field.nextElementSibling, shown, "right after the field");
  assert.equal(shown.textContent, "msg:fieldUnsureNote");
  assert.equal(shown.tagName, "SPAN");
  assert.equal(shown.style.display, "inline");
  assert.notEqual(field.style.outline, "");
  assert.equal(check(doc), null, "no check on a field we did not fill");
  field.value = "1";
  field.dispatchEvent(new window.Event("input", { bubbles: true }));
  assert.equal(note(doc), null, "the note goes once the user types");
  assert.equal(field.style.outline, "");
  assert.equal(field.title, "page title");
  assert.equal(field.dataset.decaptcha, PHASE.LOW, "the marker still says what happened");
});

test("unsure, then a new image: the note goes while the new one is solved", async () => {
  const { window } = dom(courseHtml(), COURSE_URL);
  const doc = window.document;
  const img = doc.querySelector("img[src*=auth_img]");
  const { spec } = courseSpecWith();
  const { env } = controllerFor(window, spec);
  for (let i = 0; i < 3; i++) {
    env.requests[i].answer(ok(result("123", 0.4)));
    await settle();
    if (i < 2) img.dispatchEvent(new window.Event("load"));
  }
  assert.ok(note(doc));
  assert.equal(doc.querySelectorAll("[data-decaptcha-note]").length, 1);
  loadNewImage(window, img, "/ccxp/INQUIRE/JH/mod/auth_img/auth_img.php?ACIXSTORE=next");
  await settle();
  assert.equal(note(doc), null);
  env.requests[3].answer(ok(result("456")));
  await settle();
  assert.equal(note(doc), null);
  assert.ok(check(doc));
});

test("filled: a small check with a tooltip after the field, gone when the user edits", async () => {
  const { window } = dom(loginHtml());
  const doc = window.document;
  const field = doc.querySelector("input[name=passwd2]");
  const { env } = controllerFor(window, loginSpecWith().spec);
  env.requests[0].answer(ok(result("123456")));
  await settle();
  const mark = check(doc);
  assert.ok(mark, "our own input event does not remove it");
  assert.equal(field.nextElementSibling, mark);
  assert.equal(mark.title, "msg:fieldFilledMark");
  assert.equal(mark.textContent.length, 1, "discreet: one character");
  assert.equal(note(doc), null);
  field.value = "12345";
  field.dispatchEvent(new window.Event("input", { bubbles: true }));
  assert.equal(check(doc), null);
});

test("kept the user's text, host errors: no note and no check", async () => {
  const { window } = dom(loginHtml());
  const doc = window.document;
  doc.querySelector("input[name=passwd2]").value = "98";
  const { env } = controllerFor(window, loginSpecWith().spec);
  env.requests[0].answer(ok(result("123456")));
  await settle();
  assert.equal(note(doc), null);
  assert.equal(check(doc), null);
  // Unsure while the user's text is in the field: nothing asks them to type it.
  loadNewImage(window, doc.querySelector("img[src^=auth_img]"), "auth_img.php?pwdstr=20261124-31");
  env.requests[1].answer(ok(result("123456", 0.3)));
  await settle();
  env.requests[2].answer(ok(result("123456", 0.3)));
  await settle();
  assert.equal(doc.querySelector("input[name=passwd2]").dataset.decaptcha, PHASE.LOW);
  assert.equal(note(doc), null);
});

test("a field replaced by the page: our note leaves with the old one", async () => {
  const { window } = dom(loginHtml());
  const doc = window.document;
  const { env } = controllerFor(window, loginSpecWith().spec);
  env.requests[0].answer(ok(result("123456", 0.5)));
  await settle();
  env.requests[1].answer(ok(result("123456", 0.5)));
  await settle();
  const old = doc.querySelector("input[name=passwd2]");
  assert.ok(note(doc));
  const fresh = doc.createElement("input");
  fresh.name = "passwd2";
  old.replaceWith(fresh);
  await settle();
  assert.equal(doc.querySelectorAll("[data-decaptcha-note]").length, 0);
  assert.equal(old.style.outline, "", "the old field gets its own outline back");
});
