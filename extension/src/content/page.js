// The browser side of a content script: settings, messages to the background, canvas
// capture, and answering the popup. The DOM logic itself is in captcha.js.
// Classic script on the AISDecaptcha namespace (see shared/config.js for why).
(() => {
  "use strict";
  const ns = (globalThis.AISDecaptcha ??= {});
  const { MSG } = ns.config;
  const { loadSettings, onSettingsChanged } = ns.settings;
  const { CaptchaController } = ns.captcha;
  const { loadGate, onGateChanged } = ns.outcomes;
  const ext = globalThis.browser ?? globalThis.chrome;
  const MAX_PIXELS = 512 * 512;
  const MAX_FRAME_DEPTH = 16;
  // User Timing marks around the capture and the round trip to the background: the e2e
  // harness reads them to break the image-load -> field-filled time down
  // (docs/BENCHMARKS.md). Silent (nothing on the console), about a microsecond each.
  const MARK = "ais-decaptcha:";
  const mark = (name) => globalThis.performance?.mark?.(MARK + name);

  /**
   * The background's marks of a solve or a WARM (background/main.js `trace`: [step, epoch ms]), as
   * marks on this page's clock ("w:<step>"); the host's own solve time goes along as the
   * reply mark's detail. Taken off the reply.
   */
  function markTrace(reply) {
    const trace = reply?.trace;
    if (!trace) return;
    delete reply.trace;
    const perf = globalThis.performance;
    if (!Array.isArray(trace) || typeof perf?.mark !== "function") return;
    const hostMs = reply.result?.ms ?? null;
    for (const [step, at] of trace) {
      try {
        perf.mark(`${MARK}w:${step}`, { startTime: at - perf.timeOrigin, detail: step === "port reply" ? { hostMs } : null });
      } catch {
        // a time before this page's origin (another clock): not a mark
      }
    }
  }

  /** Draw the displayed image (same origin, so the canvas is not tainted) and encode it as PNG. */
  function captureImage(img) {
    // Captchas are about 100x30; anything far larger is not one, and is not worth encoding.
    if (img.naturalWidth * img.naturalHeight > MAX_PIXELS) throw new Error("image too large for a captcha");
    mark("capture");
    const canvas = img.ownerDocument.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    canvas.getContext("2d").drawImage(img, 0, 0);
    mark("drawn");
    const url = canvas.toDataURL("image/png");
    mark("encoded");
    return url;
  }

  /**
   * Whether every window above `win` (if any) is an AIS page. Chromium lists the ancestors'
   * origins in location.ancestorOrigins; Firefox has no such list, so we walk up the parents:
   * reading a cross-origin window's location throws, and that means "not AIS".
   */
  function framedOnlyByAis(win) {
    if (win.top === win) return true;
    const listed = win.location?.ancestorOrigins;
    if (listed && typeof listed.length === "number") return [...listed].every(isAisOrigin);
    try {
      // Bounded, should a wrapper ever make `w.parent` a new object at the top.
      for (let w = win, depth = 0; w !== w.parent && depth < MAX_FRAME_DEPTH; w = w.parent, depth++) {
        if (!isAisOrigin(w.parent.location.origin)) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  function isAisOrigin(origin) {
    try {
      const url = new URL(origin);
      return url.protocol === "https:" && url.port === "" && ns.config.AIS_HOSTS.includes(url.hostname) && url.origin === origin;
    } catch {
      return false; // "null" (sandboxed, data:) and anything else that is not a URL
    }
  }

  function isLoaded(img) {
    return img.complete && img.naturalWidth > 0;
  }

  function domReady(doc) {
    if (doc.readyState !== "loading") return Promise.resolve();
    return new Promise((resolve) => doc.addEventListener("DOMContentLoaded", resolve, { once: true }));
  }

  async function send(message) {
    try {
      return await ext.runtime.sendMessage(message);
    } catch (err) {
      return { ok: false, error: { code: ns.config.ERRORS.HOST_UNAVAILABLE, message: String(err?.message ?? err) } };
    }
  }

  /**
   * Solves go to the background over one long-lived port rather than a runtime.sendMessage
   * each: a message on an open port is there and back ~2 ms sooner in Chromium (~1 ms in
   * Firefox; docs/BENCHMARKS.md, issue 13). The port is opened with the WARM message (`open`),
   * so that the first solve does not pay for opening it, or else with the first solve. When it
   * closes (the background was stopped, or the browser refused it), what was waiting on it is
   * sent again by sendMessage, which starts the background if need be; the next solve opens a
   * new port.
   */
  function portSender() {
    let port = null;
    let next = 0;
    const waiting = new Map(); // id -> {message, resolve}
    function open() {
      const opened = ext.runtime.connect({ name: MSG.SOLVE });
      opened.onMessage.addListener((msg) => {
        const entry = waiting.get(msg?.id);
        if (!entry) return;
        waiting.delete(msg.id);
        entry.resolve(msg.reply);
      });
      opened.onDisconnect.addListener(() => {
        void ext.runtime.lastError; // Chromium puts the reason there; read, so it is not logged
        if (port === opened) port = null;
        const left = [...waiting.values()];
        waiting.clear();
        for (const entry of left) entry.resolve(send(entry.message));
      });
      return opened;
    }
    const sendSolve = (message) =>
      new Promise((resolve) => {
        const id = ++next;
        try {
          port ??= open();
          waiting.set(id, { message, resolve });
          port.postMessage({ id, message });
        } catch {
          waiting.delete(id);
          port = null;
          resolve(send(message));
        }
      });
    sendSolve.open = () => {
      try {
        port ??= open();
      } catch {
        port = null; // the first solve tries again, or uses sendMessage
      }
    };
    return sendSolve;
  }

  function browserEnv(sendSolve) {
    return {
      solve: async (request) => {
        mark("sent");
        const reply = await sendSolve({ type: MSG.SOLVE, ...request });
        mark("replied");
        markTrace(reply);
        return reply;
      },
      capture: captureImage,
      isLoaded,
      maySubmit: async () => (await send({ type: MSG.MAY_SUBMIT }))?.ok === true,
      t: (key) => ext.i18n.getMessage(key) || key,
      now: () => performance.now(),
      sizeOf: (img) => ({ width: img.naturalWidth, height: img.naturalHeight }),
      // Fire and forget: the page may be leaving (a submit), the background keeps it.
      report: (event) => void send({ type: MSG.REPORT, ...event }),
    };
  }

  /** Run one captcha kind on this page; does nothing when the page has no such captcha. */
  async function runOnPage(spec, { warmEarly }) {
    // An AIS page framed by another site: not ours to fill (a script there could read the answer).
    if (!framedOnlyByAis(document.defaultView)) return;
    mark("start");
    // Ask for the host before reading the settings (in a fresh browser that read takes
    // ~0.1 s): the background keeps the autofill switch and starts no host when it is off.
    const sendSolve = portSender();
    if (warmEarly) {
      send({ type: MSG.WARM, ifAutofill: true }).then(markTrace);
      sendSolve.open();
    }
    // The settings and the gate together, started now: read one after the other (the gate
    // after DOMContentLoaded), the second read was still out when the image loaded, and the
    // capture waited for it (5-25 ms; docs/BENCHMARKS.md, issue 13).
    const reads = await Promise.all([loadSettings(ext.storage.local), loadGate(ext.storage.local)]);
    let settings = reads[0];
    const gate = reads[1];
    mark("settings");
    await domReady(document);
    mark("ready");
    const controller = new CaptchaController({ doc: document, spec, env: browserEnv(sendSolve), settings, gate });
    if (!controller.start()) return;
    onGateChanged(ext.storage, (next) => controller.setGate(next));
    if (!warmEarly && settings.autofill) {
      send({ type: MSG.WARM }).then(markTrace);
      sendSolve.open();
    }
    onSettingsChanged(ext.storage, (next) => {
      settings = next;
      controller.setSettings(next);
    });
    ext.runtime.onMessage.addListener((msg, _sender, sendResponse) => {
      if (msg?.type === MSG.PAGE_STATE) {
        sendResponse(controller.snapshot());
      } else if (msg?.type === MSG.RESOLVE) {
        controller.resolveNow();
        sendResponse({ started: true });
      }
      return false;
    });
  }

  ns.page = { captureImage, framedOnlyByAis, isLoaded, markTrace, portSender, runOnPage };
})();
