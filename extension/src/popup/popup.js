// The popup: the current tab's captcha and answer, Re-solve, the switches, and install
// help when the host is missing. Also works opened as a page: popup.html?tab=<tabId>
// (without ?tab it follows the tab that last showed a captcha).

import "../shared/config.js";
import "../shared/settings.js";
import {
  formatConfidence,
  formatMethod,
  formatMs,
  installCommands,
  needsInstallHelp,
  phaseMessageKey,
  statusProblem,
} from "./format.js";
import { setUpLearning } from "./learning.js";

const ext = globalThis.browser ?? globalThis.chrome;
const { ERRORS, MSG } = globalThis.AISDecaptcha.config;
const { loadSettings } = globalThis.AISDecaptcha.settings;
const $ = (id) => document.getElementById(id);
const t = (key, subs) => ext.i18n.getMessage(key, subs) || key;
const REFRESH_MS = 500;

let tabId = null;
let lastState = null;

function localize() {
  document.documentElement.lang = ext.i18n.getUILanguage();
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}

async function findTab() {
  const param = new URLSearchParams(location.search).get("tab");
  if (param && /^\d+$/.test(param)) return Number(param);
  // Opened as a page in a tab of its own (not from the toolbar): follow the captcha tab.
  const self = await ext.tabs.getCurrent?.();
  if (self) return (await ext.runtime.sendMessage({ type: MSG.LAST_TAB }))?.tabId ?? null;
  const [active] = await ext.tabs.query({ active: true, currentWindow: true });
  return active?.id ?? null;
}

async function pageState() {
  if (tabId === null) return null;
  try {
    return (await ext.tabs.sendMessage(tabId, { type: MSG.PAGE_STATE })) ?? null;
  } catch {
    return null; // no content script there: not an AIS captcha page
  }
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function renderPage(state) {
  lastState = state;
  const status = $("page-status");
  setText(status, t(phaseMessageKey(state))); // a live region: announce changes only
  status.dataset.phase = state?.phase ?? "none";
  $("captcha").hidden = !state;
  if (!state) return;
  const img = $("captcha-image");
  const image = typeof state.image === "string" && state.image.startsWith("data:image/png;base64,") ? state.image : null;
  if (image && img.getAttribute("src") !== image) img.src = image;
  img.hidden = !image;
  setText($("answer"), state.answer ?? "—");
  setText($("confidence"), formatConfidence(state.confidence));
  setText($("method-used"), formatMethod(state));
  setText(
    $("time"),
    typeof state.hostMs === "number" ? t("timeFormat", [formatMs(state.hostMs), formatMs(state.totalMs)]) : "—",
  );
  $("resolve").disabled = state.phase === "solving";
  if (needsInstallHelp(state.error)) showHostHelp(state.error);
}

async function showHostHelp(error) {
  const { os } = await ext.runtime.getPlatformInfo();
  const cmd = installCommands(os);
  $("install-command").textContent = cmd.install;
  $("register-command").textContent = cmd.register;
  const broken = error.code === ERRORS.MODEL_ERROR || error.code === ERRORS.INTERNAL;
  $("host-help-title").textContent = t(broken ? "hostBrokenTitle" : "hostMissingTitle");
  $("host-error").textContent = `${t("hostError")}: ${error.code} — ${error.message ?? ""}`;
  $("host-help").hidden = false;
}

async function checkHost() {
  const footer = $("host-status");
  const reply = await ext.runtime.sendMessage({ type: MSG.HOST_STATUS }).catch((e) => ({
    ok: false,
    error: { code: ERRORS.HOST_UNAVAILABLE, message: String(e?.message ?? e) },
  }));
  const problem = statusProblem(reply);
  if (!problem) {
    const r = reply.result ?? {};
    footer.textContent = `${t("hostOk")}: ${r.version ?? "?"}, ${r.runtime ?? "?"}`;
    footer.dataset.ok = "true";
    return;
  }
  footer.textContent = `${t("hostError")}: ${problem.code}`;
  footer.dataset.ok = "false";
  showHostHelp(problem);
}

async function setUpSettings() {
  const s = await loadSettings(ext.storage.local);
  const autofill = $("autofill");
  const submit = $("submit-after-fill");
  const method = $("method");
  autofill.checked = s.autofill;
  submit.checked = s.submitAfterFill;
  method.value = s.method;
  autofill.addEventListener("change", () => ext.storage.local.set({ autofill: autofill.checked }));
  submit.addEventListener("change", () => ext.storage.local.set({ submitAfterFill: submit.checked }));
  method.addEventListener("change", () => ext.storage.local.set({ method: method.value }));
}

async function resolve() {
  const button = $("resolve");
  button.disabled = true;
  const before = lastState?.done ?? 0;
  try {
    await ext.tabs.sendMessage(tabId, { type: MSG.RESOLVE });
    // Wait for the page to settle on a new outcome (a course captcha reloads its image first).
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const state = await pageState();
      renderPage(state);
      if (!state || (state.done ?? 0) > before) break;
    }
  } finally {
    button.disabled = lastState?.phase === "solving";
  }
}

async function main() {
  localize();
  await setUpSettings();
  tabId = await findTab();
  document.body.dataset.tab = tabId ?? "";
  $("resolve").addEventListener("click", resolve);
  renderPage(await pageState());
  checkHost();
  setUpLearning();
  // Keep the view current while the page solves (the popup may open before it is done).
  setInterval(async () => renderPage(await pageState()), REFRESH_MS);
}

main();
