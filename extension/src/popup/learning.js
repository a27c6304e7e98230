// The popup's "learning" parts (issue 14): the pause and its Resume button, and the hold
// (<div id=learning-alerts>, near the top, where a student sees them first); how the AIS took
// the answers (one short line) and, in the closed "Learning from your logins" <details>, the
// "keep the captchas I type" switch and the kept captchas (count, folder, delete them all).
// One call from popup.js: setUpLearning(). Renders into #learning-alerts and <section id=learning>.
import "../shared/config.js";
import "../shared/settings.js";
import { learningView } from "./learning-format.js";

// The extension API, given by popup.js (so each of the unit tests' popups uses its own).
let ext = globalThis.browser ?? globalThis.chrome;
const { MSG } = globalThis.AISDecaptcha.config;
const { loadSettings } = globalThis.AISDecaptcha.settings;
const $ = (id) => document.getElementById(id);
const t = (key, subs) => ext.i18n.getMessage(key, subs) || key;
const REFRESH_MS = 1000;

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function render(summary) {
  const view = learningView(summary);
  setText($("outcome-helper"), t(view.helper.key, view.helper.subs));
  setText($("outcome-user"), t(view.user.key, view.user.subs));
  // The numbers, for tests: accepted / submitted.
  Object.assign($("outcome-helper").dataset, { accepted: view.helper.subs[0] ?? "0", all: view.helper.subs[1] ?? "0" });
  Object.assign($("outcome-user").dataset, { accepted: view.user.subs[0] ?? "0", all: view.user.subs[1] ?? "0" });
  // Nothing submitted yet: one plain sentence instead of two "none"s.
  const none = view.helper.key === "outcomeHelperNone" && view.user.key === "outcomeUserNone";
  $("outcomes-some").hidden = none;
  $("outcomes-none").hidden = !none;
  const paused = $("paused");
  paused.hidden = !view.pausedKey;
  paused.dataset.reason = summary?.pause?.reason ?? "";
  if (view.pausedKey) setText($("paused-reason"), t(view.pausedKey));
  $("held").hidden = !view.held;
  setText($("kept-count"), t(view.kept.key, view.kept.subs));
  $("kept-count").dataset.total = view.kept.total ?? "";
  $("kept-folder-box").hidden = !view.folder;
  setText($("kept-folder"), view.folder ?? "");
  const confirming = !$("keep-confirm").hidden;
  $("keep-delete").hidden = !view.canDelete || confirming;
}

let kept = null; // the host's count and folder: asked at opening, after a delete, and after an accepted login
let keptFor = null;

/** Counters and pause every second; the host's kept captchas only when they may have changed. */
async function refresh({ host = false } = {}) {
  const summary = await ext.runtime.sendMessage({ type: MSG.LEARNING, withHost: false }).catch(() => null);
  if (!summary?.ok) return;
  const accepted = JSON.stringify(summary.counts);
  if (host || accepted !== keptFor) {
    const withHost = await ext.runtime.sendMessage({ type: MSG.LEARNING, withHost: true }).catch(() => null);
    kept = withHost?.kept ?? null;
    keptFor = accepted;
  }
  render({ ...summary, kept });
}

async function setUpSwitch() {
  const keep = $("keep-captchas");
  keep.checked = (await loadSettings(ext.storage.local)).keepCaptchas;
  keep.addEventListener("change", () => ext.storage.local.set({ keepCaptchas: keep.checked }));
}

function setUpButtons() {
  $("resume").addEventListener("click", async () => {
    await ext.runtime.sendMessage({ type: MSG.RESUME });
    await refresh();
  });
  const ask = (asking) => {
    $("keep-confirm").hidden = !asking;
    $("keep-delete").hidden = asking;
  };
  $("keep-delete").addEventListener("click", () => ask(true));
  $("keep-delete-cancel").addEventListener("click", () => ask(false));
  $("keep-delete-confirm").addEventListener("click", async () => {
    ask(false);
    const reply = await ext.runtime.sendMessage({ type: MSG.KEEP_DELETE }).catch(() => null);
    const result = $("keep-result");
    if (reply?.ok) setText(result, t("keepDeleted", [String(reply.result?.deleted ?? 0)]));
    else setText(result, t("keepDeleteFailed", [String(reply?.error?.code ?? "?")]));
    await refresh({ host: true });
  });
}

export async function setUpLearning(api = ext) {
  ext = api;
  await setUpSwitch();
  setUpButtons();
  await refresh({ host: true });
  setInterval(refresh, REFRESH_MS);
}
