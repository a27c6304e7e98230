// content/page.js with a fake extension API: warm-up, settings, answering the popup.
import assert from "node:assert/strict";
import { test } from "node:test";

import { dom, loginHtml, ns, settle } from "./helpers.js";

function fakeExt(stored = {}) {
  const sent = [];
  const listeners = { message: [], storage: [] };
  const ext = {
    sent,
    runtime: {
      sendMessage: async (msg) => {
        sent.push(msg);
        return msg.type === ns.config.MSG.SOLVE ? { ok: false, error: { code: "HOST_UNAVAILABLE", message: "none" } } : { ok: true };
      },
      onMessage: { addListener: (f) => listeners.message.push(f) },
    },
    storage: {
      local: { get: async () => ({ ...stored }) },
      onChanged: { addListener: (f) => listeners.storage.push(f) },
    },
    i18n: { getMessage: (k) => k },
    /** Ask the content script as the popup would (tabs.sendMessage). */
    ask(msg) {
      let reply;
      for (const f of listeners.message) f(msg, {}, (r) => (reply = r));
      return reply;
    },
    listeners,
  };
  return ext;
}

/** Load a fresh instance of page.js bound to this fake API and this jsdom document. */
async function loadPage(ext, window, tag) {
  globalThis.chrome = ext;
  globalThis.document = window.document;
  try {
    await import(`../src/content/page.js?${tag}`);
    return ns.page;
  } finally {
    delete globalThis.chrome;
  }
}

test("the login page warms the host before the DOM is ready, and answers the popup", async (t) => {
  const { window } = dom(loginHtml());
  const ext = fakeExt();
  const page = await loadPage(ext, window, "login");
  t.after(() => delete globalThis.document);
  await page.runOnPage(ns.login.spec, { warmEarly: true });
  assert.equal(ext.sent[0].type, ns.config.MSG.WARM);
  // jsdom draws no images, so the captcha is "not loaded yet": nothing solved, but found.
  assert.equal(ext.sent.filter((m) => m.type === ns.config.MSG.SOLVE).length, 0);
  const state = ext.ask({ type: ns.config.MSG.PAGE_STATE });
  assert.equal(state.kind, "ais6");
  assert.equal(state.phase, "waiting");
  assert.equal(ext.listeners.storage.length, 2, "follows settings and pause (gate) changes");
});

test("the login page asks for the host before reading the settings, on the autofill condition", async (t) => {
  // The background keeps the autofill switch and starts no host when it is off (main.js).
  const { window } = dom(loginHtml());
  const ext = fakeExt({ autofill: false });
  const page = await loadPage(ext, window, "off");
  t.after(() => delete globalThis.document);
  await page.runOnPage(ns.login.spec, { warmEarly: true });
  assert.deepEqual(ext.sent, [{ type: ns.config.MSG.WARM, ifAutofill: true }]);
});

test("a page without the captcha: no warm-up for course pages, no listener, nothing changed", async (t) => {
  const { window } = dom("<html><body><p>課程</p></body></html>");
  const before = window.document.documentElement.outerHTML;
  const ext = fakeExt();
  const page = await loadPage(ext, window, "none");
  t.after(() => delete globalThis.document);
  await page.runOnPage(ns.course.spec, { warmEarly: false });
  await settle();
  assert.equal(ext.sent.length, 0);
  assert.equal(ext.listeners.message.length, 0, "the popup gets no answer from this page");
  assert.equal(window.document.documentElement.outerHTML, before);
});

test("an AIS page framed by another site: nothing sent, nothing changed, no listener", async (t) => {
  // A frame whose parent is another site (jsdom has no ancestorOrigins: the Firefox path).
  const outer = dom("<iframe></iframe>", "https://evil.example/");
  const frame = outer.window.document.querySelector("iframe").contentWindow;
  frame.document.open();
  frame.document.write(loginHtml());
  frame.document.close();
  const before = frame.document.documentElement.outerHTML;
  const ext = fakeExt();
  const page = await loadPage(ext, frame, "framed");
  t.after(() => delete globalThis.document);
  await page.runOnPage(ns.login.spec, { warmEarly: true });
  await settle();
  assert.equal(ext.sent.length, 0, "not even a warm-up");
  assert.equal(ext.listeners.message.length, 0);
  assert.equal(frame.document.documentElement.outerHTML, before);
});

test("the settings and the gate are read together, before the DOM is ready", async (t) => {
  // One after the other, the second read was still out when the image loaded (issue 13).
  const { window } = dom(loginHtml());
  const ext = fakeExt();
  const reads = [];
  ext.storage.local.get = (keys) => new Promise((resolve) => reads.push({ keys, resolve }));
  const page = await loadPage(ext, window, "reads");
  t.after(() => delete globalThis.document);
  const run = page.runOnPage(ns.login.spec, { warmEarly: true });
  await settle();
  assert.equal(reads.length, 2, "both reads out before either answered");
  assert.ok(reads.some((r) => r.keys.includes("autofill")) && reads.some((r) => r.keys.includes("hold")));
  for (const r of reads) r.resolve({});
  await run;
  assert.equal(ext.ask({ type: ns.config.MSG.PAGE_STATE }).phase, "waiting");
});

test("the background's timing marks become this page's User Timing marks and leave the reply", async (t) => {
  const { window } = dom(loginHtml());
  const page = await loadPage(fakeExt(), window, "trace");
  t.after(() => delete globalThis.document);
  const at = performance.timeOrigin + performance.now();
  const reply = { ok: true, result: { text: "123456", ms: 2.5 }, trace: [["received", at], ["port reply", at + 3]] };
  page.markTrace(reply);
  assert.equal("trace" in reply, false);
  assert.equal(reply.result.text, "123456");
  const marks = performance.getEntriesByType("mark").filter((m) => m.name.startsWith("ais-decaptcha:w:"));
  assert.deepEqual(marks.map((m) => m.name), ["ais-decaptcha:w:received", "ais-decaptcha:w:port reply"]);
  assert.ok(Math.abs(marks[1].startTime - marks[0].startTime - 3) < 0.01);
  assert.deepEqual(marks[1].detail, { hostMs: 2.5 });
  // A reply without marks, or with junk, is left as it is.
  const plain = { ok: false, error: { code: "HOST_UNAVAILABLE" } };
  page.markTrace(plain);
  page.markTrace({ ok: true, trace: "junk" });
  assert.deepEqual(plain, { ok: false, error: { code: "HOST_UNAVAILABLE" } });
  performance.clearMarks();
});

test("solves go over one port, matched by id; a port that closes hands its solves to sendMessage", async (t) => {
  const { window } = dom(loginHtml());
  const ext = fakeExt();
  const ports = [];
  ext.runtime.connect = ({ name }) => {
    const listeners = { message: [], disconnect: [] };
    const port = {
      name,
      posted: [],
      onMessage: { addListener: (f) => listeners.message.push(f) },
      onDisconnect: { addListener: (f) => listeners.disconnect.push(f) },
      postMessage: (m) => port.posted.push(m),
      reply: (m) => listeners.message.forEach((f) => f(m)),
      close: () => listeners.disconnect.forEach((f) => f(port)),
    };
    ports.push(port);
    return port;
  };
  const page = await loadPage(ext, window, "port");
  t.after(() => delete globalThis.document);
  const sendSolve = page.portSender();
  const a = sendSolve({ type: ns.config.MSG.SOLVE, image: "A" });
  const b = sendSolve({ type: ns.config.MSG.SOLVE, image: "B" });
  assert.equal(ports.length, 1, "one port for both");
  assert.equal(ports[0].name, ns.config.MSG.SOLVE);
  const [pa, pb] = ports[0].posted;
  assert.deepEqual(pa.message, { type: ns.config.MSG.SOLVE, image: "A" });
  ports[0].reply({ id: pb.id, reply: { ok: true, result: { text: "B" } } });
  assert.equal((await b).result.text, "B");
  assert.equal(ext.sent.length, 0, "nothing by sendMessage while the port works");
  // The background stops: the solve still waiting goes by sendMessage; the next opens a port.
  ports[0].close();
  assert.equal((await a).error.code, "HOST_UNAVAILABLE"); // the fake background's sendMessage answer
  assert.deepEqual(ext.sent.map((m) => m.image), ["A"]);
  sendSolve({ type: ns.config.MSG.SOLVE, image: "C" });
  assert.equal(ports.length, 2);
  // No runtime.connect at all (or it throws): sendMessage.
  delete ext.runtime.connect;
  const page2 = await loadPage(ext, window, "noport");
  assert.equal((await page2.portSender()({ type: ns.config.MSG.SOLVE, image: "D" })).error.code, "HOST_UNAVAILABLE");
});

test("the login page opens the solve port with its WARM, before any solve", async (t) => {
  const { window } = dom(loginHtml());
  const ext = fakeExt();
  const names = [];
  ext.runtime.connect = ({ name }) => {
    names.push(name);
    const noop = { addListener: () => {} };
    return { onMessage: noop, onDisconnect: noop, postMessage: () => {} };
  };
  const page = await loadPage(ext, window, "open");
  t.after(() => delete globalThis.document);
  await page.runOnPage(ns.login.spec, { warmEarly: true });
  assert.deepEqual(names, [ns.config.MSG.SOLVE]);
  assert.equal(ext.sent[0].type, ns.config.MSG.WARM);
});
