// The popup: one state at a glance (see format.js popupView): the current tab's captcha and
// answer with Re-solve, or, when the helper program is missing, outdated or failing, what to
// do about it; the switches; diagnostics for bug reports. Also works opened as a page:
// popup.html?tab=<tabId> (without ?tab it follows the tab that last showed a captcha).

import "../shared/config.js";
import "../shared/settings.js";
import "../shared/health.js";
import {
  browserName,
  diagnosticsText,
  formatConfidence,
  hostLineKey,
  installCommands,
  installStepKeys,
  popupView,
  readingMessage,
} from "./format.js";
import { setUpLearning } from "./learning.js";

const ext = globalThis.browser ?? globalThis.chrome;
const { ERRORS, MSG, PROTOCOL_VERSION, RELEASES_URL } = globalThis.AISDecaptcha.config;
const { hostHealth, usable } = globalThis.AISDecaptcha.health;
const { loadSettings } = globalThis.AISDecaptcha.settings;
const $ = (id) => document.getElementById(id);
const t = (key, subs) => ext.i18n.getMessage(key, subs) || key;
const REFRESH_MS = 500;
const COMMAND = "resolve-captcha";

let tabId = null;
let lastState = null;
let health = null; // null until the helper answered `status` (or failed to)
let status = null;
let transport = null;
let os = null;

function localize() {
  document.documentElement.lang = ext.i18n.getUILanguage();
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const a of document.querySelectorAll(".releases-link")) a.href = RELEASES_URL;
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

function show(el, visible) {
  if (el.hidden === visible) el.hidden = !visible;
}

function renderCard(card) {
  show($("host-help"), Boolean(card));
  if (!card) return;
  setText($("host-help-title"), t(card.title));
  setText($("host-help-text"), t(card.text));
  const steps = installStepKeys(os);
  const download = $("install-step-download");
  if (download.dataset.key !== steps.download) {
    download.dataset.key = steps.download;
    const link = document.createElement("a");
    link.className = "releases-link";
    link.href = RELEASES_URL;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = t("releasesLink");
    download.replaceChildren(t(steps.download), link, t("sentenceEnd"));
  }
  setText($("install-step-open"), t(steps.open));
  setText($("install-command"), installCommands(os).install);
}

function renderPage(view) {
  const state = lastState;
  setText($("page-status"), t(view.status)); // a live region: announce changes only
  const c = view.captcha;
  show($("captcha"), Boolean(c) && (c.image || c.resolve));
  if (!c) return;
  const img = $("captcha-image");
  if (c.image && img.getAttribute("src") !== state.image) img.src = state.image;
  show(img, c.image);
  // The answer style is for a confident answer only; an unsure one is a guess, said so.
  setText($("answer"), c.answer ? (state.answer ?? "") : "");
  show($("answer"), c.answer);
  show($("guess"), Boolean(c.guess));
  if (c.guess) {
    setText($("guess-label"), t(c.guess));
    const conf = c.guess === "guessLabel" ? ` (${formatConfidence(state.confidence)})` : "";
    setText($("guess-text"), `${state.answer}${conf}`);
  }
  const [key, subs] = readingMessage(state);
  setText($("method-used"), c.reading ? t(key, subs) : "");
  show($("method-used"), c.reading);
  setText($("confidence"), c.reading ? t("confidenceLine", [formatConfidence(state.confidence)]) : "");
  show($("confidence"), c.reading);
  show($("resolve"), c.resolve);
  show($("shortcut"), c.resolve); // no shortcut hint without the button it is for (paused)
  $("resolve").disabled = c.busy;
}

function render() {
  const view = popupView(lastState, health);
  document.body.dataset.view = view.view;
  renderCard(view.card);
  show($("update-notice"), view.older);
  show($("page"), view.page);
  show($("settings"), view.settings);
  // The pause, the hold and how the answers fare: not while the helper card is the one thing.
  show($("learning-alerts"), view.settings);
  show($("learning"), view.settings);
  // The page's phase, for tests, even while the helper card hides the page section.
  $("page-status").dataset.phase = lastState?.phase ?? "none";
  if (view.page) renderPage(view);
  const footer = $("host-status");
  setText(footer, t(hostLineKey(health)));
  if (health) footer.dataset.ok = String(usable(health));
  setText(
    $("diagnostics-text"),
    diagnosticsText({
      extensionVersion: ext.runtime.getManifest().version,
      protocol: PROTOCOL_VERSION,
      browser: browserName(navigator.userAgent),
      os,
      health,
      status,
      transport,
      pageState: lastState,
    }),
  );
}

async function checkHost() {
  const reply = await ext.runtime.sendMessage({ type: MSG.HOST_STATUS }).catch((e) => ({
    ok: false,
    error: { code: ERRORS.HOST_UNAVAILABLE, message: String(e?.message ?? e) },
  }));
  status = reply;
  transport = reply?.transport ?? null;
  health = hostHealth(reply, ext.runtime.getManifest().version);
  render();
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

async function copyText(text, done) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Older engines: copy from a selected, off-screen textarea.
    const area = document.createElement("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  if (done) setText(done, t("copied"));
}

async function showShortcut() {
  const commands = (await ext.commands?.getAll?.().catch(() => [])) ?? [];
  const shortcut = commands.find((c) => c.name === COMMAND)?.shortcut;
  setText($("shortcut"), shortcut ? t("shortcutHint", [shortcut]) : "");
  if (shortcut) $("resolve").setAttribute("aria-keyshortcuts", shortcut.replaceAll(" ", ""));
  else $("resolve").removeAttribute("aria-keyshortcuts");
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
      lastState = await pageState();
      render();
      if (!lastState || (lastState.done ?? 0) > before) break;
    }
  } finally {
    button.disabled = lastState?.phase === "solving";
  }
}

async function main() {
  localize();
  os = (await ext.runtime.getPlatformInfo().catch(() => null))?.os ?? null;
  await setUpSettings();
  tabId = await findTab();
  document.body.dataset.tab = tabId ?? "";
  $("resolve").addEventListener("click", resolve);
  $("copy-command").addEventListener("click", () => copyText($("install-command").textContent, $("copy-command")));
  $("copy-diagnostics").addEventListener("click", () => copyText($("diagnostics-text").textContent, $("copy-done")));
  showShortcut();
  lastState = await pageState();
  render();
  checkHost();
  setUpLearning(ext);
  // Keep the view current while the page solves (the popup may open before it is done).
  setInterval(async () => {
    lastState = await pageState();
    render();
  }, REFRESH_MS);
}

main();
