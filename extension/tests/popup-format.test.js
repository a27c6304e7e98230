// The popup's pure helpers and the settings normalisation.
import assert from "node:assert/strict";
import { test } from "node:test";

import { formatConfidence, formatMethod, installCommands, needsInstallHelp, phaseMessageKey, statusProblem } from "../src/popup/format.js";
import { ns } from "./helpers.js";

test("install help is shown for a missing or broken host, not for an unreadable captcha", () => {
  for (const code of ["HOST_UNAVAILABLE", "HOST_TIMEOUT", "MODEL_ERROR", "NOT_ALLOWED", "INTERNAL"]) assert.equal(needsInstallHelp({ code }), true, code);
  for (const code of ["NO_ANSWER", "BAD_SIZE", "BAD_IMAGE"]) assert.equal(needsInstallHelp({ code }), false, code);
  assert.equal(needsInstallHelp(null), false);
});

test("install commands match the README: build.py, or the built host's --install", () => {
  assert.deepEqual(installCommands("linux"), { install: "python3 build.py", register: "dist/decaptcha-host/decaptcha-host --install" });
  assert.equal(installCommands("mac").install, "python3 build.py");
  assert.deepEqual(installCommands("win"), { install: "py build.py", register: "dist\\decaptcha-host\\decaptcha-host.exe --install" });
});

test("every phase has its own message, and the message keys exist in both locales", async () => {
  const { readFile } = await import("node:fs/promises");
  const en = JSON.parse(await readFile(new URL("../src/_locales/en/messages.json", import.meta.url)));
  const phases = ["waiting", "off", "solving", "filled", "low-confidence", "kept-user-input", "error"];
  const keys = phases.map((phase) => phaseMessageKey({ phase }));
  assert.equal(new Set(keys).size, phases.length);
  keys.push(phaseMessageKey(null), phaseMessageKey({ phase: "filled", submitted: true }), phaseMessageKey({ phase: "low-confidence", reason: "no-answer" }));
  for (const key of keys) assert.ok(en[key], key);
});

test("confidence and method are shown plainly", () => {
  assert.equal(formatConfidence(0.9), "90.0%");
  assert.equal(formatConfidence(0.99991), "99.99%");
  assert.equal(formatConfidence(null), "—");
  assert.equal(formatMethod({ method: "auto", used: "seg", renderings: 5 }), "auto → seg (5×)");
  assert.equal(formatMethod({ method: "ctc", used: "ctc", renderings: 1 }), "ctc");
});

test("settings: stored values over defaults, malformed ones ignored", () => {
  const { normalizeSettings } = ns.settings;
  assert.deepEqual(normalizeSettings(undefined), { autofill: true, submitAfterFill: false, method: "auto", keepCaptchas: false });
  assert.deepEqual(normalizeSettings({ autofill: false, submitAfterFill: true, method: "seg", keepCaptchas: true }), { autofill: false, submitAfterFill: true, method: "seg", keepCaptchas: true });
  assert.deepEqual(normalizeSettings({ autofill: "yes", submitAfterFill: 1, method: "magic", keepCaptchas: "on" }), { autofill: true, submitAfterFill: false, method: "auto", keepCaptchas: false });
});

test("a status reply: fine, unreachable, or running without some models", () => {
  assert.equal(statusProblem({ ok: true, result: { ready: true, models: {} } }), null);
  assert.equal(statusProblem({ ok: false, error: { code: "HOST_UNAVAILABLE", message: "Specified native messaging host not found." } }).code, "HOST_UNAVAILABLE");
  const partial = statusProblem({
    ok: true,
    result: { ready: false, models: { ctc_ais6: { file: "ctc_ais6.tflite", loaded: false, error: "file missing" }, seg_ais6: { loaded: true } } },
  });
  assert.deepEqual(partial, { code: "MODEL_ERROR", message: "ctc_ais6: file missing" });
  assert.equal(statusProblem({ ok: true, result: { ready: false, models: { error: "no runtime" } } }).message, "no runtime");
});
