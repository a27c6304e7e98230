// Issue 14: the verdict of the page after a login submit, the counters, the pause rules, the
// hold after a rejected helper answer, and keeping captchas (background/outcomes.js); the
// controller's side of it (reports, the gate).
import assert from "node:assert/strict";
import { test } from "node:test";

import { Outcomes, normalizeCounts, pendingSubmit } from "../src/background/outcomes.js";
import { LOGIN_URL, SETTINGS, big5Dom, controllerFor, dom, fakeEnv, loginHtml, ns, ok, result, settle } from "./helpers.js";

const { MSG, PAUSE_REASONS, UNSURE_RUN_PAUSE, VERDICTS } = ns.config;
const { PHASE } = ns.captcha;
const RESULT_URL = "https://www.ccxp.nthu.edu.tw/ccxp/INQUIRE/pre_select_entry.php";
const IMAGE = "data:image/png;base64,iVBORw0KGgo=";
const MIN = 60 * 1000;

// ---------------------------------------------------------------- the result page

function resultPage(body) {
  return big5Dom(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5"><title>國立清華大學 -- 校務資訊系統</title></head><body>${body}</body></html>`, RESULT_URL).window.document;
}

test("the page after a login: each AIS answer has its verdict, read from Big5", () => {
  const { classifyResult } = ns.outcomes;
  assert.equal(classifyResult(resultPage("驗證碼輸入錯誤!")), VERDICTS.REJECTED);
  assert.equal(classifyResult(resultPage("<script>alert('驗證碼輸入錯誤!');</script>")), VERDICTS.REJECTED);
  assert.equal(classifyResult(resultPage("帳號或密碼錯誤")), VERDICTS.WRONG_PASSWORD);
  assert.equal(classifyResult(resultPage("15分鐘內登錄錯誤超過5次 驗證碼輸入錯誤!")), VERDICTS.LOCKED);
  assert.equal(classifyResult(resultPage("系統錯誤")), null, "an error that says nothing of the captcha");
  assert.equal(classifyResult(resultPage("本系統不接受空白密碼")), null);
  const frameset = big5Dom(
    `<html><head><title>國立清華大學 -- 校務資訊系統</title></head><frameset rows="60,*"><frame src="top.php"><frame name="main" src="IN_INQ_STU.php"></frameset></html>`,
    "https://www.ccxp.nthu.edu.tw/ccxp/INQUIRE/select_entry.php?ACIXSTORE=x",
  ).window.document;
  assert.equal(classifyResult(frameset), VERDICTS.ACCEPTED);
});

test("the gate from storage: only a pause with a reason pauses, only true holds", () => {
  const { normalizeGate } = ns.outcomes;
  assert.deepEqual(normalizeGate(undefined), { paused: null, hold: false });
  assert.deepEqual(normalizeGate({ pause: { reason: "unsure-run" }, hold: true }), { paused: "unsure-run", hold: true });
  assert.deepEqual(normalizeGate({ pause: "yes", hold: 1 }), { paused: null, hold: false });
});

// ---------------------------------------------------------------- background/outcomes.js

/** A storage area in memory: get(key | keys), set, remove. */
function area() {
  const data = new Map();
  return {
    data,
    async get(keys) {
      const list = keys === undefined ? [...data.keys()] : [keys].flat();
      return Object.fromEntries(list.filter((k) => data.has(k)).map((k) => [k, structuredClone(data.get(k))]));
    },
    async set(items) {
      for (const [k, v] of Object.entries(items)) data.set(k, structuredClone(v));
    },
    async remove(keys) {
      for (const k of [keys].flat()) data.delete(k);
    },
  };
}

function outcomesAt({ keep = false } = {}) {
  const clock = { now: 10_000_000 };
  const local = area();
  const session = area();
  const requests = [];
  const host = {
    async request(req) {
      requests.push(req);
      if (req.action === "status") return ok({ kept: { folder: "/tmp/kept", total: 2, user: { ais6: 2, ais3: 0 }, helper: { ais6: 0, ais3: 0 } } });
      return ok({ kept: true, file: `${req.kind}/${req.answer}.png` });
    },
  };
  if (keep) local.data.set("keepCaptchas", true);
  const outcomes = new Outcomes({ local, session, host, now: () => clock.now });
  return { outcomes, clock, local, session, requests };
}

async function login(outcomes, tabId, { source = "helper", verdict, answer, image } = {}) {
  await outcomes.report(tabId, { event: "submitted", kind: "ais6", source, answer, image });
  return outcomes.resultPage(tabId, verdict);
}

const keeps = (requests) => requests.filter((r) => r.action === "keep");

test("counters per kind and source: accepted, rejected, wrong password counts as accepted, locked apart", async () => {
  const { outcomes, local } = outcomesAt();
  await login(outcomes, 1, { source: "helper", verdict: VERDICTS.ACCEPTED });
  await login(outcomes, 1, { source: "helper", verdict: VERDICTS.WRONG_PASSWORD });
  await login(outcomes, 2, { source: "user", verdict: VERDICTS.REJECTED });
  await login(outcomes, 2, { source: "user", verdict: VERDICTS.ACCEPTED });
  await login(outcomes, 2, { source: "user", verdict: VERDICTS.LOCKED });
  const { counts } = await outcomes.summary();
  assert.deepEqual(counts.ais6, { helperAccepted: 2, helperRejected: 0, userAccepted: 1, userRejected: 1, locked: 1 });
  assert.deepEqual(counts.ais3, { helperAccepted: 0, helperRejected: 0, userAccepted: 0, userRejected: 0, locked: 0 });
  // Numbers only in storage.local's counters: no answer, image, id or URL.
  for (const c of Object.values(local.data.get("counts"))) assert.ok(Object.values(c).every((n) => typeof n === "number"));
});

test("a verdict is counted only for a submit in that tab, once, within the lock-out window", async () => {
  const { outcomes, clock } = outcomesAt();
  assert.equal(await outcomes.resultPage(1, VERDICTS.ACCEPTED), null, "no submit: nothing to count");
  await outcomes.report(1, { event: "submitted", kind: "ais6", source: "helper" });
  assert.equal(await outcomes.resultPage(2, VERDICTS.ACCEPTED), null, "another tab's page");
  assert.equal((await outcomes.resultPage(1, "maybe")), null, "not a verdict");
  assert.equal((await outcomes.resultPage(1, VERDICTS.ACCEPTED)).verdict, VERDICTS.ACCEPTED);
  assert.equal(await outcomes.resultPage(1, VERDICTS.ACCEPTED), null, "counted once (the frameset after pre_select_entry)");
  await outcomes.report(1, { event: "submitted", kind: "ais6", source: "helper" });
  clock.now += 15 * MIN;
  assert.equal(await outcomes.resultPage(1, VERDICTS.REJECTED), null, "too late to be this submit's page");
  assert.equal((await outcomes.summary()).counts.ais6.helperAccepted, 1);
});

test("submit reports are trimmed: unknown kinds and sources dropped, answer and image only well-formed", () => {
  assert.equal(pendingSubmit({ kind: "ais9", source: "user" }, 1), null);
  assert.equal(pendingSubmit({ kind: "ais6", source: "someone" }, 1), null);
  assert.deepEqual(pendingSubmit({ kind: "ais6", source: "user", answer: "12345", image: IMAGE, account: "x" }, 1), { kind: "ais6", source: "user", at: 1 });
  assert.deepEqual(pendingSubmit({ kind: "ais6", source: "user", answer: "012345", image: "http://x/y.png" }, 1), { kind: "ais6", source: "user", at: 1 });
  assert.deepEqual(pendingSubmit({ kind: "ais6", source: "user", answer: "012345", image: IMAGE }, 1), { kind: "ais6", source: "user", at: 1, answer: "012345", image: IMAGE });
  assert.deepEqual(normalizeCounts({ ais6: { helperAccepted: -1, userAccepted: "3", locked: 2 } }).ais6, { helperAccepted: 0, helperRejected: 0, userAccepted: 0, userRejected: 0, locked: 2 });
});

test("keep: with the switch on, an accepted login's captcha goes to the host, user's and helper's marked apart", async () => {
  const { outcomes, requests, session } = outcomesAt({ keep: true });
  const user = await login(outcomes, 1, { source: "user", verdict: VERDICTS.ACCEPTED, answer: "012345", image: IMAGE });
  assert.deepEqual(keeps(requests), [{ action: "keep", kind: "ais6", answer: "012345", image: IMAGE, source: "user" }]);
  assert.equal(user.kept.ok, true);
  await login(outcomes, 1, { source: "helper", verdict: VERDICTS.ACCEPTED, answer: "543210", image: IMAGE });
  assert.equal(keeps(requests)[1].source, "helper");
  assert.deepEqual((await session.get("pendingSubmits")).pendingSubmits, {}, "the image does not outlive its verdict");
});

test("keep: never when rejected, locked, a wrong password, without an answer, or with the switch off", async () => {
  const on = outcomesAt({ keep: true });
  for (const verdict of [VERDICTS.REJECTED, VERDICTS.LOCKED, VERDICTS.WRONG_PASSWORD]) {
    await on.outcomes.resume();
    await login(on.outcomes, 1, { source: "user", verdict, answer: "012345", image: IMAGE });
  }
  await login(on.outcomes, 1, { source: "user", verdict: VERDICTS.ACCEPTED }); // the content script sent none
  assert.deepEqual(keeps(on.requests), []);

  const off = outcomesAt({ keep: false });
  await off.outcomes.report(1, { event: "submitted", kind: "ais6", source: "user", answer: "012345", image: IMAGE });
  assert.deepEqual((await off.session.get("pendingSubmits")).pendingSubmits[1], { kind: "ais6", source: "user", at: 10_000_000 }, "switch off: no image is held");
  await off.local.set({ keepCaptchas: true }); // switched on after the submit: still not kept
  await off.outcomes.resultPage(1, VERDICTS.ACCEPTED);
  assert.deepEqual(keeps(off.requests), [], "switch off: never a file");
});

test("a rejected helper answer holds autofill until the user acts; holding blocks submitting", async () => {
  const { outcomes } = outcomesAt();
  await login(outcomes, 1, { source: "helper", verdict: VERDICTS.REJECTED });
  let s = await outcomes.summary();
  assert.equal(s.hold, true);
  assert.equal(s.pause, null, "one rejection does not pause");
  assert.equal(await outcomes.blocksSubmit(), true);
  // The user acts: Re-solve (user-acted) or a submit of their own.
  await outcomes.report(1, { event: "user-acted", kind: "ais6" });
  assert.equal((await outcomes.summary()).hold, false);
  assert.equal(await outcomes.blocksSubmit(), false);
  await login(outcomes, 1, { source: "helper", verdict: VERDICTS.ACCEPTED });
  await outcomes.resume();
  await login(outcomes, 1, { source: "helper", verdict: VERDICTS.REJECTED });
  await outcomes.report(1, { event: "submitted", kind: "ais6", source: "user" });
  s = await outcomes.summary();
  assert.equal(s.hold, false, "typing and submitting is acting");
});

test("a rejected helper answer, then another rejection within 15 minutes: paused; later: not", async () => {
  const late = outcomesAt();
  await login(late.outcomes, 1, { source: "helper", verdict: VERDICTS.REJECTED });
  late.clock.now += 15 * MIN;
  await login(late.outcomes, 1, { source: "user", verdict: VERDICTS.REJECTED });
  assert.equal((await late.outcomes.summary()).pause, null);

  const soon = outcomesAt();
  await login(soon.outcomes, 1, { source: "helper", verdict: VERDICTS.REJECTED });
  soon.clock.now += 14 * MIN;
  const second = await login(soon.outcomes, 1, { source: "user", verdict: VERDICTS.REJECTED });
  assert.equal(second.paused, PAUSE_REASONS.REJECTED_TWICE);
  assert.equal((await soon.outcomes.summary()).pause.reason, PAUSE_REASONS.REJECTED_TWICE);
  assert.equal(await soon.outcomes.blocksSubmit(), true);

  const users = outcomesAt();
  await login(users.outcomes, 1, { source: "user", verdict: VERDICTS.REJECTED });
  await login(users.outcomes, 1, { source: "user", verdict: VERDICTS.REJECTED });
  assert.equal((await users.outcomes.summary()).pause, null, "the user's own typos are not the helper's");
});

test(`${UNSURE_RUN_PAUSE} unsure captchas in a row pause autofill; a confident one breaks the run`, async () => {
  const { outcomes } = outcomesAt();
  const settled = (unsure) => outcomes.report(1, { event: "settled", kind: "ais6", unsure });
  for (let i = 0; i < UNSURE_RUN_PAUSE - 1; i++) await settled(true);
  await settled(false);
  for (let i = 0; i < UNSURE_RUN_PAUSE - 1; i++) await settled(true);
  assert.equal((await outcomes.summary()).pause, null);
  await settled(true);
  const s = await outcomes.summary();
  assert.equal(s.pause.reason, PAUSE_REASONS.UNSURE_RUN);
  assert.equal(s.pause.kind, "ais6");
  await outcomes.resume();
  const after = await outcomes.summary();
  assert.equal(after.pause, null);
  assert.equal(after.unsureRun, 0);
});

test("an image of an unknown size pauses at once; the first reason stays", async () => {
  const { outcomes } = outcomesAt();
  await outcomes.report(1, { event: "unknown-size", kind: "ais3", width: 120, height: 40 });
  for (let i = 0; i < UNSURE_RUN_PAUSE; i++) await outcomes.report(1, { event: "settled", kind: "ais6", unsure: true });
  assert.deepEqual((await outcomes.summary()).pause, { reason: PAUSE_REASONS.UNKNOWN_SIZE, kind: "ais3", at: 10_000_000 });
  await outcomes.report(1, { event: "unknown-size", kind: "nope" });
});

test("the popup's messages: learning summary with the host's kept captchas, resume, delete", async () => {
  const { outcomes, requests } = outcomesAt();
  assert.equal((await outcomes.handle({ type: MSG.LEARNING })).kept, null, "the host is asked only when wanted");
  assert.equal(requests.length, 0);
  const summary = await outcomes.handle({ type: MSG.LEARNING, withHost: true });
  assert.equal(summary.kept.folder, "/tmp/kept");
  assert.equal(summary.kept.total, 2);
  await outcomes.handle({ type: MSG.KEEP_DELETE });
  assert.deepEqual(requests.at(-1), { action: "keep", delete: true });
  assert.equal(await outcomes.handle({ type: "something-else" }), undefined);
});

// ---------------------------------------------------------------- the controller's side

function reportingEnv(size = { width: 104, height: 32 }) {
  const env = fakeEnv();
  env.reports = [];
  env.report = (event) => env.reports.push(event);
  env.sizeOf = () => size;
  return env;
}

function loginPage() {
  const { window } = dom(loginHtml(), LOGIN_URL);
  const doc = window.document;
  return { window, doc, field: doc.querySelector("input[name=passwd2]"), form: doc.forms[0] };
}

const noSubmit = { ...ns.login.spec, submit: () => {}, moreImages: async () => [], freshImage: async () => "data:image/png;base64,FRESH" };

function submitForm(window, form) {
  form.dispatchEvent(new window.Event("submit", { bubbles: true, cancelable: true }));
}

test("controller: paused, nothing is solved or filled, and Re-solve does nothing", async () => {
  const { window, field } = loginPage();
  const env = reportingEnv();
  const { c } = controllerFor(window, noSubmit, { env, settings: SETTINGS });
  c.setGate({ paused: "unsure-run", hold: false });
  const img = window.document.querySelector("img[src^=auth_img]");
  env.requests[0].answer(ok(result("012345")));
  await settle();
  assert.equal(field.value, "", "the answer that came back while paused is not filled");
  assert.equal(c.snapshot().phase, PHASE.PAUSED);
  // A new image while paused.
  img.setAttribute("src", "auth_img.php?pwdstr=20261124-9");
  img.dispatchEvent(new window.Event("load"));
  await c.resolveNow();
  assert.equal(env.requests.length, 1, "no request while paused");
  assert.equal(c.snapshot().phase, PHASE.PAUSED);
  assert.equal(c.snapshot().reason, "unsure-run");
  assert.equal(field.value, "");
});

test("controller: turned back on, the captcha shown is read and filled", async () => {
  const { window, field } = loginPage();
  const env = reportingEnv();
  const c = new ns.captcha.CaptchaController({ doc: window.document, spec: noSubmit, env, settings: SETTINGS, gate: { paused: "unknown-size", hold: false } });
  c.start();
  assert.equal(env.requests.length, 0);
  assert.equal(c.snapshot().phase, PHASE.PAUSED);
  c.setGate({ paused: null, hold: false });
  assert.equal(env.requests.length, 1);
  env.requests[0].answer(ok(result("012345")));
  await settle();
  assert.equal(field.value, "012345");
});

test("controller: held after a rejection, the next captcha waits for Re-solve, which reports the user acted", async () => {
  const { window, field } = loginPage();
  const env = reportingEnv();
  const c = new ns.captcha.CaptchaController({ doc: window.document, spec: noSubmit, env, settings: { ...SETTINGS, submitAfterFill: true }, gate: { paused: null, hold: true } });
  c.start();
  assert.equal(env.requests.length, 0, "not even solved");
  assert.equal(c.snapshot().phase, PHASE.HELD);
  const done = c.resolveNow();
  await settle();
  assert.deepEqual(env.reports.at(-1), { event: "user-acted", kind: "ais6" });
  env.requests[0].answer(ok(result("012345")));
  await done;
  assert.equal(field.value, "012345", "filled because the user asked");
});

test("controller: an image of another size pauses at once, nothing solved", () => {
  const { window } = loginPage();
  const env = reportingEnv({ width: 120, height: 40 });
  const { c } = controllerFor(window, noSubmit, { env });
  assert.equal(env.requests.length, 0);
  assert.equal(c.snapshot().phase, PHASE.PAUSED);
  assert.equal(c.snapshot().reason, PAUSE_REASONS.UNKNOWN_SIZE);
  assert.deepEqual(env.reports, [{ event: "unknown-size", kind: "ais6", width: 120, height: 40 }]);
});

test("controller: each settled captcha is reported sure or unsure", async () => {
  const { window } = loginPage();
  const env = reportingEnv();
  controllerFor(window, noSubmit, { env });
  env.requests[0].answer(ok(result("012345", 0.5)));
  await settle();
  assert.deepEqual(env.reports, [{ event: "settled", kind: "ais6", unsure: true }]);
});

test("controller: a confident answer is in the field before it is reported settled", async () => {
  // The report is bookkeeping (a message to the background): not on the way to the fill.
  const { window, field } = loginPage();
  const env = reportingEnv();
  const seen = [];
  const report = env.report;
  env.report = (event) => {
    seen.push(field.value);
    report(event);
  };
  controllerFor(window, noSubmit, { env });
  env.requests[0].answer(ok(result("012345")));
  await settle();
  assert.deepEqual(env.reports, [{ event: "settled", kind: "ais6", unsure: false }]);
  assert.deepEqual(seen, ["012345"]);
});

test("controller: a submit reports who answered; the answer and image only with the keep switch on", async () => {
  const { window, field, form } = loginPage();
  const env = reportingEnv();
  const c = new ns.captcha.CaptchaController({ doc: window.document, spec: noSubmit, env, settings: SETTINGS });
  c.start();
  env.requests[0].answer(ok(result("012345")));
  await settle();
  submitForm(window, form);
  assert.deepEqual(env.reports.at(-1), { event: "submitted", kind: "ais6", source: "helper" });

  // The user corrects the helper's answer: theirs. Keep on: answer and image go along.
  c.setSettings({ ...SETTINGS, keepCaptchas: true });
  field.value = "012346";
  field.dispatchEvent(new window.Event("input", { bubbles: true }));
  submitForm(window, form);
  const report = env.reports.at(-1);
  assert.equal(report.source, "user");
  assert.equal(report.answer, "012346");
  assert.match(report.image, /^data:image\/png;base64,/);

  // Not digits of the right count: never kept.
  field.value = "12";
  submitForm(window, form);
  assert.deepEqual(env.reports.at(-1), { event: "submitted", kind: "ais6", source: "user" });
  // An empty field, or another form: nothing.
  const count = env.reports.length;
  field.value = "";
  submitForm(window, form);
  const other = window.document.createElement("form");
  window.document.body.append(other);
  submitForm(window, other);
  assert.equal(env.reports.length, count);
});

test("controller: the course captcha does not report submits (its result page is not known)", async () => {
  const { window } = dom(`<form><input name=auth_num><img src=/ccxp/INQUIRE/JH/mod/auth_img/auth_img.php?ACIXSTORE=a></form>`, "https://www.ccxp.nthu.edu.tw/ccxp/INQUIRE/JH/6/6.2/6.2.9/JH629001.php");
  const env = reportingEnv({ width: 42, height: 30 });
  const { c } = controllerFor(window, { ...ns.course.spec, reloadImage: () => {} }, { env });
  env.requests[0].answer(ok(result("507")));
  await settle();
  window.document.forms[0].dispatchEvent(new window.Event("submit", { bubbles: true }));
  assert.equal(env.reports.filter((r) => r.event === "submitted").length, 0);
  assert.equal(c.snapshot().phase, PHASE.FILLED);
});

test("popup learning view: 'AIS accepted 57 of 57', the pause's reason, the kept folder", async () => {
  const { learningView } = await import("../src/popup/learning-format.js");
  const counts = { ais6: { helperAccepted: 57, helperRejected: 0, userAccepted: 2, userRejected: 1, locked: 0 }, ais3: {} };
  const view = learningView({ counts, pause: null, hold: false, kept: { folder: "/home/u/.local/share/x", total: 3 } });
  assert.deepEqual(view.helper, { key: "outcomeHelper", subs: ["57", "57"] });
  assert.deepEqual(view.user, { key: "outcomeUser", subs: ["2", "3"] });
  assert.equal(view.pausedKey, null);
  assert.equal(view.folder, "/home/u/.local/share/x");
  assert.equal(view.canDelete, true);
  const paused = learningView({ counts: {}, pause: { reason: PAUSE_REASONS.REJECTED_TWICE }, hold: true, kept: null });
  assert.equal(paused.pausedKey, "pausedRejectedTwice");
  assert.equal(paused.held, false, "the pause says it all");
  assert.equal(paused.helper.key, "outcomeHelperNone");
  assert.equal(paused.kept.key, "keepUnavailable", "a host without the keep action");
  assert.equal(paused.canDelete, false);
  // Every key the view can name is in both locales.
  const { readFileSync } = await import("node:fs");
  for (const loc of ["en", "zh_TW"]) {
    const messages = JSON.parse(readFileSync(new URL(`../src/_locales/${loc}/messages.json`, import.meta.url)));
    for (const key of ["outcomeHelper", "outcomeHelperNone", "outcomeUser", "outcomeUserNone", "pausedUnknownSize", "pausedUnsureRun", "pausedRejectedTwice", "keepCount", "keepUnavailable", "keepFolderError", "phasePaused", "phaseHeld"]) {
      assert.ok(messages[key]?.message, `${loc}: ${key}`);
    }
  }
});

test("run-result.js sends the page's verdict, and nothing when the page says nothing known", async () => {
  const sent = [];
  globalThis.chrome = { runtime: { sendMessage: async (m) => sent.push(m) } };
  try {
    globalThis.document = resultPage("驗證碼輸入錯誤!");
    await import("../src/content/run-result.js?rejected");
    globalThis.document = resultPage("系統錯誤");
    await import("../src/content/run-result.js?other");
  } finally {
    delete globalThis.chrome;
    delete globalThis.document;
  }
  assert.deepEqual(sent, [{ type: MSG.RESULT_PAGE, verdict: VERDICTS.REJECTED }]);
});
