// Background (Chromium service worker / Firefox background script): the only part that
// may talk to the native host. Content scripts and the popup send it messages. It also keeps
// the toolbar badge of each AIS tab, refuses solves for a host that speaks another protocol,
// and runs the keyboard shortcut that re-solves the current tab's captcha.

import "../shared/config.js";
import "../shared/health.js";
import "../shared/settings.js";
import { NativeHost } from "./native.js";
import { solveRequest } from "./requests.js";
import { SubmitGuard, memoryStore } from "./submit-guard.js";
import { OUTCOME_MESSAGES, Outcomes } from "./outcomes.js";

const { AUTO_SUBMIT_OUTCOME_MS, AUTO_SUBMIT_WINDOW_MS, ERRORS, HOST_NAME, MSG } = globalThis.AISDecaptcha.config;
const { HEALTH, badgeFor, hostHealth, usable } = globalThis.AISDecaptcha.health;
// Firefox has `browser` (promises); Chromium's `chrome` returns promises in MV3 too.
const ext = globalThis.browser ?? globalThis.chrome;

const host = new NativeHost({
  connect: () => ext.runtime.connectNative(HOST_NAME),
  // Firefox puts the reason on the port, Chromium in runtime.lastError (read it here,
  // inside onDisconnect, or Chromium logs it as unchecked).
  errorOf: (port) => port?.error?.message ?? ext.runtime.lastError?.message,
});

// The autofill switch, kept here so that a page's WARM, sent before the page has read the
// settings itself, is answered without a storage read (docs/BENCHMARKS.md, issue 13).
const { loadSettings, onSettingsChanged } = globalThis.AISDecaptcha.settings;
let autofillOn = loadSettings(ext.storage.local).then(
  (s) => s.autofill,
  () => true, // unreadable: the page's own read decides what it fills; warming is harmless
);
onSettingsChanged(ext.storage, (s) => {
  autofillOn = Promise.resolve(s.autofill);
});

// storage.session survives the service worker being stopped, and is cleared with the browser.
const session = ext.storage.session ?? memoryStore();
const submitGuard = new SubmitGuard(session, { windowMs: AUTO_SUBMIT_WINDOW_MS, outcomeMs: AUTO_SUBMIT_OUTCOME_MS });
const outcomes = new Outcomes({ local: ext.storage.local, session, host });

// The tab that last showed a captcha: the popup falls back to it when it is opened as a
// page of its own (tests do that) rather than from the toolbar.
function noteCaptchaTab(tabId) {
  if (tabId !== undefined) session.set({ lastCaptchaTab: tabId });
}

async function lastCaptchaTab() {
  return (await session.get("lastCaptchaTab"))?.lastCaptchaTab ?? null;
}

// ---------------------------------------------------------------- the version gate

// The host's state from its last `status`, as a promise shared by concurrent callers. A host
// that works is asked once; any other answer is asked again next time (it may have been
// installed or updated meanwhile). The gate asks a brief status (protocol and version): a full
// one makes the host load every model before it answers, and the first solve, which must
// wait for the gate, would wait for all of them (docs/BENCHMARKS.md, issue 13). A host that
// does not know `brief` answers the full status.
let healthCheck = null;
let lastHealth = null;

function noteHealth(reply) {
  lastHealth = hostHealth(reply, ext.runtime.getManifest().version);
  return lastHealth;
}

function checkHost() {
  if (!healthCheck) {
    const check = host.request({ action: "status", brief: true }).then(noteHealth);
    healthCheck = check;
    check.then((health) => {
      if (!usable(health) && healthCheck === check) healthCheck = null;
    });
  }
  return healthCheck;
}

/**
 * A solve goes to the host only if the host speaks our protocol: an incompatible one is
 * answered HOST_OUTDATED here, so the page is left alone and the popup says "update". A host
 * that cannot be reached still gets the request (its own error is the one to report).
 */
async function solve(msg, trace) {
  const health = await checkHost();
  trace.mark("gate");
  if (health.state === HEALTH.INCOMPATIBLE) {
    return { v: 1, id: null, ok: false, error: { code: ERRORS.HOST_OUTDATED, message: health.message ?? "" } };
  }
  const reply = await host.request(solveRequest(msg), trace.mark);
  trace.mark("resolved");
  if (reply?.error?.code === ERRORS.UNSUPPORTED_VERSION) {
    healthCheck = null;
    noteHealth(reply);
  }
  return reply;
}

// ---------------------------------------------------------------- the badge

function setBadge(tabId, text) {
  const action = ext.action;
  if (tabId === undefined || !action) return;
  const title = { "!": "badgeHostMissing", "?": "badgeUnsure" }[text] ?? "actionTitle";
  const ignore = () => {}; // the tab may be gone already
  action.setBadgeText({ tabId, text }).catch?.(ignore);
  if (text) action.setBadgeBackgroundColor({ tabId, color: "#b45309" }).catch?.(ignore);
  action.setTitle({ tabId, title: ext.i18n.getMessage(title) }).catch?.(ignore);
}

const BADGE_POLLS = 10;
const BADGE_POLL_MS = 100;

/**
 * After a solve: ask the page (the frame that asked) what it made of the reply. The reply
 * may reach the page after this question does (Firefox), so a page still "solving" is asked
 * again a few times; one that keeps solving (more renderings, a reloaded image) sends another
 * solve, whose own refresh settles the badge.
 */
async function refreshBadge(sender) {
  const tabId = sender.tab?.id;
  if (tabId === undefined) return;
  for (let i = 0; i < BADGE_POLLS; i++) {
    const state = await ext.tabs
      .sendMessage(tabId, { type: MSG.PAGE_STATE }, { frameId: sender.frameId ?? 0 })
      .catch(() => null);
    if (!state) return;
    if (state.phase !== "solving" || i === BADGE_POLLS - 1) {
      setBadge(tabId, badgeFor(state, lastHealth));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, BADGE_POLL_MS));
  }
}

// ---------------------------------------------------------------- messages

/**
 * Timing marks of one solve, sent back to the page with its reply (`trace`: [step, ms] on the
 * epoch clock, timeOrigin + now, so the page can place them on its own clock as User Timing
 * marks; content/page.js). They break the page's round trip down (docs/BENCHMARKS.md, issue
 * 13): a few numbers per solve, nothing logged or stored.
 */
function newTrace(prefix = "") {
  const steps = [];
  const mark = (step) => steps.push([prefix + step, performance.timeOrigin + performance.now()]);
  mark("received");
  return {
    mark,
    done() {
      mark("respond");
      return steps;
    },
  };
}

async function handle(msg, sender, trace) {
  const tabId = sender.tab?.id;
  switch (msg?.type) {
    case MSG.WARM:
      noteCaptchaTab(tabId);
      if (msg.ifAutofill && !(await autofillOn)) return { ok: true };
      host.warm();
      trace?.mark("connected"); // connectNative called: the browser starts the host
      checkHost().then((health) => setBadge(tabId, badgeFor(null, health)));
      return { ok: true };
    case MSG.SOLVE:
      return solve(msg, trace); // noteCaptchaTab once it is answered (the listener below)
    case MSG.MAY_SUBMIT:
      // Paused or held (outcomes.js): never submit, and do not use up the guard's one "yes".
      return { ok: tabId !== undefined && !(await outcomes.blocksSubmit()) && (await submitGuard.maySubmit(tabId)) };
    case MSG.HOST_STATUS: {
      const reply = await host.request({ action: "status" });
      const health = noteHealth(reply);
      healthCheck = usable(health) ? Promise.resolve(health) : null; // the gate follows what the popup saw
      return { ...reply, transport: host.state };
    }
    case MSG.LAST_TAB:
      return { tabId: await lastCaptchaTab() };
    default:
      return outcomes.handle(msg, tabId);
  }
}

const HANDLED = new Set([MSG.WARM, MSG.SOLVE, MSG.MAY_SUBMIT, MSG.HOST_STATUS, MSG.LAST_TAB, ...OUTCOME_MESSAGES]);

/** Answer one message through `respond`; a solve's bookkeeping comes after its answer. */
function serve(msg, sender, respond) {
  // A WARM's marks too: when a cold host's start began, on the page's clock.
  const trace = msg.type === MSG.SOLVE ? newTrace() : msg.type === MSG.WARM ? newTrace("warm ") : null;
  handle(msg, sender, trace)
    .then(
      (reply) => respond(trace ? { ...reply, trace: trace.done() } : reply),
      (err) => respond({ ok: false, error: { code: ERRORS.INTERNAL, message: String(err) } }),
    )
    .then(() => {
      // Bookkeeping after the page has its answer: none of it is on the way there.
      if (msg.type === MSG.SOLVE) noteCaptchaTab(sender.tab?.id);
      // After a solve, and when the user typed the captcha left to them (its "?" goes).
      if (msg.type === MSG.SOLVE || (msg.type === MSG.REPORT && msg.event === "typed")) refreshBadge(sender);
    });
}

ext.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  if (sender.id !== ext.runtime.id) return false;
  if (!HANDLED.has(msg?.type)) return false;
  serve(msg, sender, sendResponse);
  return true; // answer asynchronously
});

// The content scripts' solves come over a long-lived port (content/page.js portSender):
// {id, message} in, {id, reply} out. Only solves: anything else on it is not answered.
ext.runtime.onConnect?.addListener((port) => {
  if (port.name !== MSG.SOLVE || port.sender?.id !== ext.runtime.id) return;
  port.onMessage.addListener((msg) => {
    if (msg?.message?.type !== MSG.SOLVE) return;
    serve(msg.message, port.sender, (reply) => {
      try {
        port.postMessage({ id: msg.id, reply });
      } catch {
        // the page is gone
      }
    });
  });
});

// The keyboard shortcut (manifest `commands`): re-solve the captcha of the current tab, as
// the popup's Re-solve does. A tab without our content script (not an AIS captcha page)
// has no listener, so nothing happens there.
ext.commands?.onCommand.addListener(async (command, tab) => {
  if (command !== "resolve-captcha") return;
  const target = tab?.id !== undefined ? tab : (await ext.tabs.query({ active: true, currentWindow: true }))[0];
  if (target?.id === undefined) return;
  ext.tabs.sendMessage(target.id, { type: MSG.RESOLVE }).catch(() => {});
});

ext.tabs.onRemoved.addListener(async (tabId) => {
  if (tabId === (await lastCaptchaTab())) session.remove?.("lastCaptchaTab");
});

// The outcome of an automatic submit: the next page load in the tab that submitted.
ext.tabs.onUpdated.addListener((tabId, info, tab) => {
  if (info.status) submitGuard.tabUpdated(tabId, { status: info.status, url: tab?.url ?? info.url });
});
