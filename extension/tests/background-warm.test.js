// background/main.js with a fake extension API: WARM starts the host only with autofill on.
import assert from "node:assert/strict";
import { test } from "node:test";

import "./helpers.js";

function fakeExt(stored) {
  const listeners = { message: [], storage: [] };
  const ext = {
    connects: 0,
    runtime: {
      id: "me",
      connectNative: () => {
        ext.connects += 1;
        return { onMessage: { addListener() {} }, onDisconnect: { addListener() {} }, postMessage() {}, disconnect() {} };
      },
      onMessage: { addListener: (f) => listeners.message.push(f) },
    },
    storage: {
      local: { get: async () => ({ ...stored }) },
      session: { get: async () => ({}), set: async () => {}, remove: async () => {} },
      onChanged: { addListener: (f) => listeners.storage.push(f) },
    },
    tabs: { onRemoved: { addListener() {} }, onUpdated: { addListener() {} } },
    /** Send a message as a content script of tab 1 would; resolves with the reply. */
    send(msg) {
      return new Promise((resolve) => {
        for (const f of listeners.message) f(msg, { id: "me", tab: { id: 1 } }, resolve);
      });
    },
    change(changes) {
      for (const f of listeners.storage) f(changes, "local");
    },
  };
  return ext;
}

async function loadMain(ext, tag) {
  globalThis.chrome = ext;
  // The port's idle and request timers must not keep the test process alive.
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = (f, ms, ...args) => realSetTimeout(f, ms, ...args).unref();
  try {
    await import(`../src/background/main.js?${tag}`);
  } finally {
    delete globalThis.chrome;
    globalThis.setTimeout = realSetTimeout;
  }
}

test("a WARM sent before the page read its settings starts the host only with autofill on", async () => {
  const off = fakeExt({ autofill: false });
  await loadMain(off, "off");
  const { WARM } = globalThis.AISDecaptcha.config.MSG;
  const reply = await off.send({ type: WARM, ifAutofill: true });
  assert.equal(reply.ok, true);
  assert.deepEqual(reply.trace.map(([step]) => step), ["warm received", "warm respond"], "no connect mark: no host");
  assert.equal(off.connects, 0, "autofill off: no host");
  await off.send({ type: WARM }); // the popup's or a late page's: unconditional, as before
  assert.equal(off.connects, 1);

  const on = fakeExt({});
  await loadMain(on, "on");
  const started = await on.send({ type: WARM, ifAutofill: true });
  assert.equal(on.connects, 1, "autofill on (the default): the host starts");
  assert.deepEqual(started.trace.map(([step]) => step), ["warm received", "warm connected", "warm respond"]);
});

test("switching autofill on is seen by the next WARM", async () => {
  const ext = fakeExt({ autofill: false });
  await loadMain(ext, "switch");
  const { WARM } = globalThis.AISDecaptcha.config.MSG;
  await ext.send({ type: WARM, ifAutofill: true });
  assert.equal(ext.connects, 0);
  ext.storage.local.get = async () => ({ autofill: true });
  ext.change({ autofill: { newValue: true } });
  await new Promise((resolve) => setTimeout(resolve, 0));
  await ext.send({ type: WARM, ifAutofill: true });
  assert.equal(ext.connects, 1);
});
