// Background (Chromium service worker / Firefox background script): the only part that
// may talk to the native host. Content scripts and the popup send it messages.

import "../shared/config.js";
import { NativeHost } from "./native.js";
import { solveRequest } from "./requests.js";
import { SubmitGuard, memoryStore } from "./submit-guard.js";
import { OUTCOME_MESSAGES, Outcomes } from "./outcomes.js";

const { AUTO_SUBMIT_OUTCOME_MS, AUTO_SUBMIT_WINDOW_MS, ERRORS, HOST_NAME, MSG } = globalThis.AISDecaptcha.config;
// Firefox has `browser` (promises); Chromium's `chrome` returns promises in MV3 too.
const ext = globalThis.browser ?? globalThis.chrome;

const host = new NativeHost({
  connect: () => ext.runtime.connectNative(HOST_NAME),
  // Firefox puts the reason on the port, Chromium in runtime.lastError (read it here,
  // inside onDisconnect, or Chromium logs it as unchecked).
  errorOf: (port) => port?.error?.message ?? ext.runtime.lastError?.message,
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

async function handle(msg, sender) {
  const tabId = sender.tab?.id;
  switch (msg?.type) {
    case MSG.WARM:
      noteCaptchaTab(tabId);
      host.warm();
      return { ok: true };
    case MSG.SOLVE:
      noteCaptchaTab(tabId);
      return host.request(solveRequest(msg));
    case MSG.MAY_SUBMIT:
      // Paused or held (outcomes.js): never submit, and do not use up the guard's one "yes".
      return { ok: tabId !== undefined && !(await outcomes.blocksSubmit()) && (await submitGuard.maySubmit(tabId)) };
    case MSG.HOST_STATUS: {
      const reply = await host.request({ action: "status" });
      return { ...reply, transport: host.state };
    }
    case MSG.LAST_TAB:
      return { tabId: await lastCaptchaTab() };
    default:
      return outcomes.handle(msg, tabId);
  }
}

const HANDLED = new Set([MSG.WARM, MSG.SOLVE, MSG.MAY_SUBMIT, MSG.HOST_STATUS, MSG.LAST_TAB, ...OUTCOME_MESSAGES]);

ext.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  if (sender.id !== ext.runtime.id) return false;
  if (!HANDLED.has(msg?.type)) return false;
  handle(msg, sender).then(sendResponse, (err) => sendResponse({ ok: false, error: { code: ERRORS.INTERNAL, message: String(err) } }));
  return true; // answer asynchronously
});

ext.tabs.onRemoved.addListener(async (tabId) => {
  if (tabId === (await lastCaptchaTab())) session.remove?.("lastCaptchaTab");
});

// The outcome of an automatic submit: the next page load in the tab that submitted.
ext.tabs.onUpdated.addListener((tabId, info, tab) => {
  if (info.status) submitGuard.tabUpdated(tabId, { status: info.status, url: tab?.url ?? info.url });
});
