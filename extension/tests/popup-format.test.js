// The popup's pure helpers, the helper-health rules (version skew) and the settings normalisation.
import assert from "node:assert/strict";
import { test } from "node:test";

import "../src/shared/config.js";
import "../src/shared/health.js";
import { formatConfidence, hostProblem, installCommands, installStepKeys, popupView, readingMessage } from "../src/popup/format.js";
import { ns } from "./helpers.js";

const { compareVersions, hostHealth, healthOfError, badgeFor } = ns.health;
const ok = (result) => ({ ok: true, result: { protocol: 1, version: "0.2.0", ready: true, ...result } });

test("versions compare numerically, part by part", () => {
  assert.equal(compareVersions("0.1.0", "0.2.0"), -1);
  assert.equal(compareVersions("0.10.0", "0.9.1"), 1);
  assert.equal(compareVersions("1.0", "1.0.0"), 0);
  assert.equal(compareVersions("0.2.0", "0.2.0"), 0);
});

test("version skew: an older host on our protocol works (update suggested); another protocol does not", () => {
  assert.equal(hostHealth(ok({}), "0.2.0").state, "ok");
  assert.equal(hostHealth(ok({ version: "0.3.0" }), "0.2.0").state, "ok", "a newer host on our protocol is fine");
  const older = hostHealth(ok({ version: "0.1.0" }), "0.2.0");
  assert.deepEqual(older, { state: "older", version: "0.1.0", protocol: 1 });
  const other = hostHealth(ok({ protocol: 2, version: "1.0.0" }), "0.2.0");
  assert.equal(other.state, "incompatible");
  assert.equal(other.code, "HOST_OUTDATED");
  assert.equal(hostHealth(ok({ protocol: undefined }), "0.2.0").state, "incompatible", "a host that does not say its protocol");
  assert.equal(hostHealth({ ok: false, error: { code: "UNSUPPORTED_VERSION", message: "" } }, "0.2.0").state, "incompatible");
});

test("not installed, installed but failing, and an unreadable captcha are told apart", () => {
  const down = (message) => hostHealth({ ok: false, error: { code: "HOST_UNAVAILABLE", message } }, "0.2.0").state;
  assert.equal(down("Specified native messaging host not found."), "missing");
  assert.equal(down("No such native application nthu_ais_decaptcha"), "missing");
  assert.equal(down("Native host has exited."), "failing");
  assert.equal(down("Access to the specified native messaging host is forbidden."), "failing");
  assert.equal(hostHealth(ok({ ready: false }), "0.2.0").state, "failing");
  assert.equal(hostHealth({ ok: false, error: { code: "HOST_TIMEOUT" } }, "0.2.0").state, "failing");
  assert.equal(hostHealth(null, "0.2.0").state, "failing");
  for (const code of ["NO_ANSWER", "BAD_SIZE", "BAD_IMAGE", "CAPTURE"]) assert.equal(healthOfError({ code }), null, code);
});

test("the badge: ! for a missing or incompatible helper, ? for an unsure captcha, nothing otherwise", () => {
  const missing = { state: "missing" };
  assert.equal(badgeFor(null, missing), "!");
  assert.equal(badgeFor(null, { state: "incompatible" }), "!");
  assert.equal(badgeFor({ phase: "error", error: { code: "HOST_UNAVAILABLE", message: "Specified native messaging host not found." } }, null), "!");
  assert.equal(badgeFor({ phase: "low-confidence" }, { state: "ok" }), "?");
  assert.equal(badgeFor({ phase: "low-confidence", typed: true }, { state: "ok" }), "", "the user typed it");
  for (const phase of ["filled", "kept-user-input", "off", "solving", "waiting"]) assert.equal(badgeFor({ phase }, { state: "ok" }), "", phase);
  assert.equal(badgeFor({ phase: "error", error: { code: "INTERNAL" } }, { state: "ok" }), "");
  assert.equal(badgeFor(null, { state: "older" }), "");
});

test("the helper card wins over the page only when the helper cannot work", () => {
  assert.equal(hostProblem({ phase: "filled" }, { state: "older" }), null);
  assert.equal(hostProblem({ phase: "filled" }, { state: "missing" }), "missing");
  // Before status answers, a host error on the page says it.
  assert.equal(hostProblem({ phase: "error", error: { code: "HOST_OUTDATED" } }, null), "incompatible");
  // status says the helper works now: an old page error is a one-off (Re-solve).
  assert.equal(hostProblem({ phase: "error", error: { code: "HOST_UNAVAILABLE", message: "Native host has exited." } }, { state: "ok" }), null);
  const v = popupView({ phase: "filled" }, { state: "missing" });
  assert.deepEqual([v.view, v.page, v.settings], ["missing", false, false]);
});

test("views: a confident answer in the answer style, an unsure one only as a guess", () => {
  const image = "data:image/png;base64,AA";
  assert.equal(popupView({ phase: "filled", image, answer: "1" }, null).captcha.answer, true);
  const unsure = popupView({ phase: "low-confidence", reason: "low-confidence", image, answer: "1" }, null);
  assert.deepEqual([unsure.view, unsure.captcha.answer, unsure.captcha.guess], ["unsure", false, "guessLabel"]);
  assert.equal(popupView({ phase: "low-confidence", reason: "no-answer", image }, null).captcha.guess, null);
  assert.equal(popupView(null, { state: "ok" }).view, "none");
  assert.equal(popupView({ phase: "waiting" }, null).captcha.resolve, false, "nothing to re-solve yet");
  assert.equal(popupView({ phase: "solving", image }, null).captcha.busy, true);
});

test("how it was read, in words: the model, the renderings, agreement", () => {
  assert.deepEqual(readingMessage({ used: "ctc", renderings: 1, method: "ctc" }), ["readCtc", []]);
  assert.deepEqual(readingMessage({ used: "ctc", renderings: 5, method: "auto", agree: null }), ["readCtcMany", ["5"]]);
  assert.deepEqual(readingMessage({ used: "seg", renderings: 1, method: "auto", agree: true }), ["readSegAgree", []]);
  assert.deepEqual(readingMessage({ used: "seg", renderings: 3, method: "auto", agree: true }), ["readSegManyAgree", ["3"]]);
});

test("install: the source-build command and the download steps per system", () => {
  assert.deepEqual(installCommands("win"), { install: "py build.py" });
  assert.deepEqual(installCommands("linux"), { install: "python3 build.py" });
  assert.deepEqual(installStepKeys("win"), { download: "installDownloadWin", open: "installOpenWin" });
  assert.deepEqual(installStepKeys("mac"), { download: "installDownloadMac", open: "installOpenMac" });
  assert.deepEqual(installStepKeys("openbsd"), { download: "installDownloadLinux", open: "installOpenLinux" });
  assert.equal(ns.config.RELEASES_URL, "https://github.com/nthu-ais-decaptcha/nthu-ais-decaptcha/releases/latest");
});

test("confidence is shown plainly", () => {
  assert.equal(formatConfidence(0.9), "90.0%");
  assert.equal(formatConfidence(0.99991), "99.99%");
  assert.equal(formatConfidence(1), "100.0%");
  assert.equal(formatConfidence(null), "—");
});

test("settings: stored values over defaults, malformed ones ignored", () => {
  const { normalizeSettings } = ns.settings;
  assert.deepEqual(normalizeSettings(undefined), { autofill: true, submitAfterFill: false, method: "auto", keepCaptchas: false });
  assert.deepEqual(normalizeSettings({ autofill: false, submitAfterFill: true, method: "seg", keepCaptchas: true }), { autofill: false, submitAfterFill: true, method: "seg", keepCaptchas: true });
  assert.deepEqual(normalizeSettings({ autofill: "yes", submitAfterFill: 1, method: "magic", keepCaptchas: "on" }), { autofill: true, submitAfterFill: false, method: "auto", keepCaptchas: false });
});
