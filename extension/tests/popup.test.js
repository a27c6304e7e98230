// The popup's states, rendered by the real popup.html + popup.js in jsdom over a fake
// `chrome`, in both locales: what a student sees in each one.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { JSDOM } from "jsdom";

import { fakeExt, messages, settle } from "./fake-ext.js";

const HTML = readFileSync(new URL("../src/popup/popup.html", import.meta.url), "utf8");
const IMAGE = "data:image/png;base64,iVBORw0KGgo=";
const RELEASES = "https://github.com/nthu-ais-decaptcha/nthu-ais-decaptcha/releases/latest";
const LOCALES = ["en", "zh_TW"];

const STATUS_OK = { ok: true, result: { protocol: 1, version: "0.2.0", runtime: "ai-edge-litert 2.3.0", ready: true, models: { ctc_ais6: { loaded: true } } } };
const STATUS_OLDER = { ok: true, result: { ...STATUS_OK.result, version: "0.1.0" } };
const STATUS_NEWER_PROTOCOL = { ok: true, result: { ...STATUS_OK.result, version: "0.9.0", protocol: 2 } };
const STATUS_MISSING = { ok: false, error: { code: "HOST_UNAVAILABLE", message: "Specified native messaging host not found." } };
const STATUS_MISSING_FIREFOX = { ok: false, error: { code: "HOST_UNAVAILABLE", message: "No such native application nthu_ais_decaptcha" } };
const STATUS_CRASHING = { ok: false, error: { code: "HOST_UNAVAILABLE", message: "Native host has exited." } };
const STATUS_UNSUPPORTED = { ok: false, error: { code: "UNSUPPORTED_VERSION", message: "this host speaks protocol 1" } };
const STATUS_NO_MODELS = { ok: true, result: { ...STATUS_OK.result, ready: false, models: { error: "no runtime" } } };

const base = { kind: "ais6", seq: 1, done: 1, image: IMAGE, method: "auto", used: "ctc", agree: true, renderings: 1, hostMs: 3.2, totalMs: 40 };
const PAGES = {
  filled: { ...base, phase: "filled", answer: "482913", confidence: 0.9951, renderings: 5, agree: null },
  unsure: { ...base, phase: "low-confidence", reason: "low-confidence", answer: "001719", confidence: 0.34 },
  noAnswer: { ...base, phase: "low-confidence", reason: "no-answer", answer: null, confidence: null },
  kept: { ...base, phase: "kept-user-input", reason: "user-typed", answer: "482913", confidence: 0.99 },
  off: { kind: "ais6", seq: 0, done: 1, phase: "off", image: IMAGE, answer: null, confidence: null },
  paused: { kind: "ais6", seq: 0, done: 1, phase: "paused", reason: "unsure-run", image: IMAGE, answer: null, confidence: null },
  held: { kind: "ais6", seq: 0, done: 1, phase: "held", reason: "rejected", image: IMAGE, answer: null, confidence: null },
  pageError: { kind: "ais6", seq: 0, done: 1, phase: "error", reason: "host", image: IMAGE, error: { code: "INTERNAL", message: "boom" } },
};

/** Open the popup on a fresh jsdom document; resolves once it has rendered the helper's state. */
async function openPopup({ locale = "en", os = "win", status = STATUS_OK, page = PAGES.filled, learning = null } = {}) {
  const dom = new JSDOM(HTML, { url: "chrome-extension://test/popup/popup.html" });
  const { window } = dom;
  const ext = fakeExt({ locale, os, status, page, learning });
  const intervals = [];
  Object.assign(globalThis, { document: window.document, location: window.location, chrome: ext });
  Object.defineProperty(globalThis, "navigator", { value: { userAgent: "Mozilla/5.0 Chrome/156.0.0.0", clipboard: { writeText: async (s) => (ext.clipboard = s) } }, configurable: true });
  const realSetInterval = globalThis.setInterval;
  globalThis.setInterval = (fn) => intervals.push(fn); // the refresh loop: the test drives it
  try {
    await import(`../src/popup/popup.js?${Math.random()}`);
    for (let i = 0; i < 50 && !window.document.getElementById("host-status").dataset.ok; i++) await settle(2);
  } finally {
    globalThis.setInterval = realSetInterval;
  }
  assert.ok(window.document.getElementById("host-status").dataset.ok, "the popup never showed the helper's state");
  const doc = window.document;
  const $ = (id) => doc.getElementById(id);
  /** Whether an element and all its ancestors are shown (no `hidden`). */
  const shown = (id) => {
    for (let el = $(id); el; el = el.parentElement) if (el.hidden) return false;
    return true;
  };
  /** The text a user sees (hidden parts and the closed diagnostics left out). */
  const visibleText = () => {
    const clone = doc.body.cloneNode(true);
    for (const el of clone.querySelectorAll("[hidden], details")) el.remove();
    return clone.textContent.replace(/\s+/g, " ").trim();
  };
  return { doc, $, shown, visibleText, ext, t: messages(locale), tick: () => Promise.all(intervals.map((fn) => fn())) };
}

const CODE = /\b[A-Z]{2,}_[A-Z_]+\b/;
const JARGON = /\b(ctc|seg|auto)\b|→|\d+×|ai-edge-litert|\bv?\d+\.\d+\.\d+\b/;

for (const locale of LOCALES) {
  test(`${locale}: filled: the answer in the answer style, how it was read in words, Re-solve`, async () => {
    const p = await openPopup({ locale });
    assert.equal(p.doc.body.dataset.view, "filled");
    assert.equal(p.$("page-status").textContent, p.t("phaseFilled"));
    assert.ok(p.shown("answer"));
    assert.equal(p.$("answer").textContent, "482913");
    assert.ok(!p.shown("guess"));
    assert.equal(p.$("method-used").textContent, p.t("readCtcMany", ["5"]));
    assert.match(p.$("method-used").textContent, /5/);
    assert.equal(p.$("confidence").textContent, p.t("confidenceLine", ["99.5%"]));
    assert.ok(p.shown("resolve") && !p.$("resolve").disabled);
    assert.ok(p.shown("settings") && !p.shown("host-help") && !p.shown("update-notice"));
    assert.equal(p.$("host-status").textContent, p.t("hostOk"));
    assert.doesNotMatch(p.visibleText(), CODE);
    assert.doesNotMatch(p.visibleText(), JARGON);
    assert.equal(p.$("shortcut").textContent, p.t("shortcutHint", ["Alt+Shift+R"]));
  });

  test(`${locale}: unsure: says first to read it yourself; the guess small and marked, never in the answer`, async () => {
    const p = await openPopup({ locale, page: PAGES.unsure });
    assert.equal(p.doc.body.dataset.view, "unsure");
    assert.equal(p.$("page-status").textContent, p.t("phaseLow"));
    assert.equal(p.$("answer").textContent, "", "an unsure reading in the answer element");
    assert.ok(!p.shown("answer"));
    assert.ok(p.shown("guess"));
    assert.equal(p.$("guess-label").textContent, p.t("guessLabel"));
    assert.equal(p.$("guess-text").textContent, "001719 (34.0%)");
    // The status comes before the guess in reading order.
    const order = p.$("page-status").compareDocumentPosition(p.$("guess"));
    assert.ok(order & p.doc.defaultView.Node.DOCUMENT_POSITION_FOLLOWING);
    assert.ok(!p.shown("method-used") && !p.shown("confidence"));
    assert.ok(p.shown("captcha-image") && p.shown("resolve"));
    assert.doesNotMatch(p.visibleText(), JARGON);
  });

  test(`${locale}: unreadable: no guess at all`, async () => {
    const p = await openPopup({ locale, page: PAGES.noAnswer });
    assert.equal(p.doc.body.dataset.view, "unsure");
    assert.equal(p.$("page-status").textContent, p.t("phaseNoAnswer"));
    assert.ok(!p.shown("guess") && !p.shown("answer"));
    assert.equal(p.$("answer").textContent, "");
  });

  test(`${locale}: typed by the user: their text kept, the helper's reading small`, async () => {
    const p = await openPopup({ locale, page: PAGES.kept });
    assert.equal(p.doc.body.dataset.view, "kept");
    assert.equal(p.$("page-status").textContent, p.t("phaseKept"));
    assert.ok(!p.shown("answer"));
    assert.equal(p.$("guess-label").textContent, p.t("keptLabel"));
    assert.equal(p.$("guess-text").textContent, "482913");
  });

  test(`${locale}: autofill off: says so, offers Re-solve`, async () => {
    const p = await openPopup({ locale, page: PAGES.off });
    assert.equal(p.doc.body.dataset.view, "off");
    assert.equal(p.$("page-status").textContent, p.t("phaseOff"));
    assert.ok(p.shown("resolve") && p.shown("captcha-image") && !p.shown("answer"));
  });

  test(`${locale}: not an AIS page: says where to go, nothing else about a captcha`, async () => {
    const p = await openPopup({ locale, page: null });
    assert.equal(p.doc.body.dataset.view, "none");
    assert.equal(p.$("page-status").textContent, p.t("popupNoCaptcha"));
    assert.ok(!p.shown("captcha") && !p.shown("resolve") && !p.shown("host-help"));
  });

  for (const [name, status] of [["Chromium", STATUS_MISSING], ["Firefox", STATUS_MISSING_FIREFOX]]) {
    test(`${locale}: helper missing (${name}'s words): the one thing shown, install steps, no dead controls`, async () => {
      const p = await openPopup({ locale, status, page: PAGES.pageError });
      assert.equal(p.doc.body.dataset.view, "missing");
      assert.ok(p.shown("host-help"));
      assert.equal(p.$("host-help-title").textContent, p.t("hostMissingTitle"));
      assert.ok(!p.shown("page") && !p.shown("resolve") && !p.shown("settings"), "controls that cannot work");
      const link = p.$("install-step-download").querySelector("a");
      assert.equal(link.href, RELEASES);
      assert.equal(p.$("install-step-download").textContent, p.t("installDownloadWin") + p.t("releasesLink") + p.t("sentenceEnd"));
      assert.equal(p.$("install-step-open").textContent, p.t("installOpenWin"));
      assert.equal(p.$("install-command").textContent, "py build.py");
      assert.ok(p.shown("copy-command"));
      assert.equal(p.$("host-status").textContent, p.t("hostLineMissing"));
      assert.equal(p.$("host-status").dataset.ok, "false");
      assert.doesNotMatch(p.visibleText(), CODE);
      assert.match(p.$("diagnostics-text").textContent, /HOST_UNAVAILABLE/);
    });
  }

  test(`${locale}: helper missing: the steps follow the system`, async () => {
    for (const [os, sys, command] of [["mac", "Mac", "python3 build.py"], ["linux", "Linux", "python3 build.py"]]) {
      const p = await openPopup({ locale, os, status: STATUS_MISSING, page: null });
      assert.equal(p.$("install-step-open").textContent, p.t(`installOpen${sys}`));
      assert.ok(p.$("install-step-download").textContent.startsWith(p.t(`installDownload${sys}`)));
      assert.equal(p.$("install-command").textContent, command);
    }
  });

  for (const [name, status] of [["exits at once", STATUS_CRASHING], ["without its models", STATUS_NO_MODELS]]) {
    test(`${locale}: helper installed but failing (${name}): its own words, not "not installed"`, async () => {
      const p = await openPopup({ locale, status, page: PAGES.pageError });
      assert.equal(p.doc.body.dataset.view, "failing");
      assert.equal(p.$("host-help-title").textContent, p.t("hostFailingTitle"));
      assert.notEqual(p.t("hostFailingTitle"), p.t("hostMissingTitle"));
      assert.equal(p.$("host-help-text").textContent, p.t("hostFailingText"));
      assert.ok(!p.shown("resolve") && !p.shown("page"));
      assert.equal(p.$("host-status").textContent, p.t("hostLineFailing"));
    });
  }

  test(`${locale}: helper older but compatible: works, and suggests updating`, async () => {
    const p = await openPopup({ locale, status: STATUS_OLDER });
    assert.equal(p.doc.body.dataset.view, "filled");
    assert.ok(p.shown("update-notice") && p.shown("answer") && p.shown("resolve"));
    assert.equal(p.$("update-notice").querySelector("a").href, RELEASES);
    assert.equal(p.$("host-status").textContent, p.t("hostOkOlder"));
    assert.equal(p.$("host-status").dataset.ok, "true");
    assert.match(p.$("diagnostics-text").textContent, /version 0\.1\.0/);
  });

  for (const [name, status] of [["another protocol", STATUS_NEWER_PROTOCOL], ["UNSUPPORTED_VERSION", STATUS_UNSUPPORTED]]) {
    test(`${locale}: helper incompatible (${name}): "update the helper program" with the download step`, async () => {
      const p = await openPopup({ locale, status, page: { ...PAGES.pageError, error: { code: "HOST_OUTDATED", message: "" } } });
      assert.equal(p.doc.body.dataset.view, "incompatible");
      assert.equal(p.$("host-help-title").textContent, p.t("hostIncompatibleTitle"));
      assert.equal(p.$("install-step-download").querySelector("a").href, RELEASES);
      assert.ok(!p.shown("resolve") && !p.shown("update-notice"));
      assert.equal(p.$("host-status").textContent, p.t("hostLineIncompatible"));
    });
  }

  test(`${locale}: paused: the warning with its reason and Resume first, above the page; no Re-solve`, async () => {
    const learning = { counts: { ais6: { helperAccepted: 5, helperRejected: 0, userAccepted: 0, userRejected: 0 } }, pause: { reason: "unsure-run", kind: "ais6", at: 1 }, hold: false, kept: null };
    const p = await openPopup({ locale, page: PAGES.paused, learning });
    await settle(20);
    assert.equal(p.doc.body.dataset.view, "paused");
    assert.equal(p.$("page-status").textContent, p.t("phasePaused"));
    assert.equal(p.$("page-status").dataset.phase, "paused");
    assert.ok(p.shown("paused"), "the pause warning is not shown");
    assert.equal(p.$("paused").dataset.reason, "unsure-run");
    assert.equal(p.$("paused-title").textContent, p.t("pausedTitle"));
    assert.equal(p.$("paused-reason").textContent, p.t("pausedUnsureRun"));
    assert.ok(p.shown("resume"));
    // Where a student looks first: before the page's status, not under the settings.
    const order = p.$("paused").compareDocumentPosition(p.$("page-status"));
    assert.ok(order & p.doc.defaultView.Node.DOCUMENT_POSITION_FOLLOWING);
    assert.ok(!p.shown("resolve") && !p.shown("shortcut"), "Re-solve while paused");
    assert.ok(!p.shown("answer") && p.shown("captcha-image"));
    assert.ok(!p.shown("held"), "the pause says it all");
    assert.equal(p.$("outcome-helper").textContent, p.t("outcomeHelper", ["5", "5"]));
    assert.equal(p.$("outcome-user").textContent, p.t("outcomeUserNone"));
    assert.doesNotMatch(p.visibleText(), CODE);
    p.$("resume").click();
    await settle();
    assert.ok(p.ext.sent.some((s) => s.msg?.type === "decaptcha:resume"), "Resume sent nothing");
  });

  test(`${locale}: held: says why it is not filled; Re-solve fills it`, async () => {
    const learning = { counts: {}, pause: null, hold: true, kept: null };
    const p = await openPopup({ locale, page: PAGES.held, learning });
    await settle(20);
    assert.equal(p.doc.body.dataset.view, "held");
    assert.equal(p.$("page-status").textContent, p.t("phaseHeld"));
    assert.ok(p.shown("resolve") && !p.$("resolve").disabled);
    assert.ok(!p.shown("paused") && !p.shown("answer"));
    // Nothing submitted yet: one plain sentence.
    assert.ok(p.shown("outcomes-none") && !p.shown("outcomes-some"));
    assert.equal(p.$("outcomes-none").textContent, p.t("outcomesNone"));
  });

  test(`${locale}: the keep switch and kept captchas wait in a closed details; the counters are one line`, async () => {
    const learning = { counts: { ais6: { helperAccepted: 57, helperRejected: 0, userAccepted: 2, userRejected: 1 } }, pause: null, hold: false, kept: { folder: "/home/u/kept", total: 3 } };
    const p = await openPopup({ locale, learning });
    await settle(20);
    assert.equal(p.$("learning-details").tagName, "DETAILS");
    assert.equal(p.$("learning-details").open, false, "the learning details start closed");
    assert.equal(p.$("learning-summary").textContent, p.t("learningTitle"));
    assert.ok(p.$("learning-details").contains(p.$("keep-captchas")) && p.$("learning-details").contains(p.$("kept-count")));
    assert.ok(p.shown("outcomes-some") && !p.shown("outcomes-none"));
    assert.equal(p.$("outcomes-some").textContent.replace(/\s+/g, " ").trim(), `${p.t("outcomesLabel")}${p.t("outcomeHelper", ["57", "57"])}${p.t("outcomesSep")}${p.t("outcomeUser", ["2", "3"])}`.trim());
    assert.equal(p.$("kept-count").textContent, p.t("keepCount", ["3"]));
    assert.equal(p.$("kept-folder").textContent, "/home/u/kept");
    assert.ok(p.shown("keep-delete"));
  });

  test(`${locale}: the pause is not shown over the helper card`, async () => {
    const learning = { counts: {}, pause: { reason: "unknown-size" }, hold: false, kept: null };
    const p = await openPopup({ locale, status: STATUS_MISSING, page: PAGES.pageError, learning });
    await settle(20);
    assert.equal(p.doc.body.dataset.view, "missing");
    assert.ok(!p.shown("paused") && !p.shown("learning"));
  });

  test(`${locale}: a failed read with a working helper: Re-solve offered, no install card`, async () => {
    const p = await openPopup({ locale, page: PAGES.pageError });
    assert.equal(p.doc.body.dataset.view, "error");
    assert.equal(p.$("page-status").textContent, p.t("phaseError"));
    assert.ok(p.shown("resolve") && !p.shown("host-help"));
  });
}

test("diagnostics: versions, states and codes; never the image, the answer or paths; copied on request", async () => {
  const status = { ok: true, result: { ...STATUS_OK.result, executable: "/home/student/x", log: "/home/student/log", caller: "chrome-extension://abc/" } };
  const p = await openPopup({ status });
  const text = p.$("diagnostics-text").textContent;
  for (const want of ["extension 0.2.0", "protocol 1", "helper ok, version 0.2.0", "Chrome 156", "win", "ai-edge-litert 2.3.0", "page filled (ais6)", "confidence 0.9951"]) {
    assert.ok(text.includes(want), `${want} not in\n${text}`);
  }
  for (const never of ["data:", "482913", "/home/student", "chrome-extension://"]) assert.ok(!text.includes(never), never);
  assert.equal(p.$("diagnostics").tagName, "DETAILS");
  assert.equal(p.$("diagnostics").open, false, "diagnostics start closed");
  p.$("copy-diagnostics").click();
  await settle();
  assert.equal(p.ext.clipboard, text);
  assert.equal(p.$("copy-done").textContent, p.t("copied"));
});

test("the install command's Copy button copies the command", async () => {
  const p = await openPopup({ status: STATUS_MISSING, page: null });
  p.$("copy-command").click();
  await settle();
  assert.equal(p.ext.clipboard, "py build.py");
});

test("every control is a real, focusable control (keyboard reachable)", () => {
  const doc = new JSDOM(HTML).window.document;
  for (const el of doc.querySelectorAll("button, select, input, a, summary")) {
    assert.ok(!el.hasAttribute("tabindex") || Number(el.getAttribute("tabindex")) >= 0, el.outerHTML);
  }
  for (const b of doc.querySelectorAll("button")) assert.equal(b.getAttribute("type"), "button", b.id);
  const css = readFileSync(new URL("../src/popup/popup.css", import.meta.url), "utf8");
  assert.match(css, /:focus-visible\s*\{[^}]*outline:\s*2px/);
  assert.match(css, /button,\s*select,\s*input,[^{]*\{\s*font: inherit;/);
  assert.match(css, /--font: "Noto Sans TC", "Noto Sans CJK TC", "Microsoft JhengHei", "PingFang TC", system-ui, sans-serif;/);
  assert.match(css, /html body \{\s*font: [^;]*var\(--font\);/, "the font is set on body itself (Chromium sets 75% there)");
});

test("the refresh follows the page: unsure, then filled after a Re-solve", async () => {
  let page = PAGES.unsure;
  const dom = await openPopupWith(() => page);
  assert.equal(dom.doc.body.dataset.view, "unsure");
  page = { ...PAGES.filled, done: 2 };
  await dom.tick();
  assert.equal(dom.doc.body.dataset.view, "filled");
  assert.equal(dom.$("answer").textContent, "482913");
  assert.ok(!dom.shown("guess"));
});

function openPopupWith(page) {
  return openPopup({ page });
}

test("zh_TW uses full-width punctuation next to Chinese text; both locales have the same keys", () => {
  const read = (l) => JSON.parse(readFileSync(new URL(`../src/_locales/${l}/messages.json`, import.meta.url), "utf8"));
  const zh = read("zh_TW");
  const en = read("en");
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  const cjk = "\\u3400-\\u9fff"; // ideographs; 「.deb」 is a file name in brackets
  const half = new RegExp(`[${cjk}][,:;!?.()]|[,:;!?()][${cjk}]`);
  for (const [key, { message }] of Object.entries(zh)) {
    assert.doesNotMatch(message, half, `${key}: ${message}`);
  }
});

test("page-status keeps the page's phase even while the helper card hides the page", async () => {
  const p = await openPopup({ status: STATUS_CRASHING, page: PAGES.pageError });
  assert.equal(p.doc.body.dataset.view, "failing");
  assert.equal(p.$("page-status").dataset.phase, "error");
});
