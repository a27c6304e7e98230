// A fake `chrome` for the popup and the background: i18n from the real messages.json files,
// messages, tabs, storage, action (badge), commands and a native port the test scripts.
import { readFileSync } from "node:fs";

const LOCALES = {};

/** chrome.i18n.getMessage over the real _locales/<locale>/messages.json. */
export function messages(locale) {
  LOCALES[locale] ??= JSON.parse(readFileSync(new URL(`../src/_locales/${locale}/messages.json`, import.meta.url), "utf8"));
  const table = LOCALES[locale];
  return (key, subs) => {
    const entry = table[key];
    if (!entry) return "";
    const args = subs === undefined ? [] : Array.isArray(subs) ? subs : [subs];
    return entry.message.replace(/\$([A-Za-z_]+)\$/g, (_, name) => {
      const content = entry.placeholders?.[name.toLowerCase()]?.content ?? "";
      return content.replace(/\$(\d)/g, (__, i) => String(args[Number(i) - 1] ?? ""));
    });
  };
}

export function event() {
  const listeners = [];
  return { listeners, addListener: (fn) => listeners.push(fn) };
}

/**
 * options: locale ("en" | "zh_TW"), os, status (the HOST_STATUS reply the popup gets),
 * page (the page state, or null: no content script), host (function(request) -> reply, for
 * the background's native port; null: not installed), commands, learning (the popup's
 * LEARNING summary: counts, pause, hold, kept; or a function returning it).
 */
export function fakeExt({ locale = "en", os = "win", status = null, page = null, host = null, learning = null } = {}) {
  const getMessage = messages(locale);
  const stored = {};
  const badge = {};
  const sent = []; // tabs.sendMessage calls
  const posted = []; // requests that reached the native host
  const ext = {
    sent,
    posted,
    badge,
    i18n: { getMessage, getUILanguage: () => (locale === "zh_TW" ? "zh-TW" : "en-US") },
    runtime: {
      id: "test-extension",
      lastError: undefined,
      onMessage: event(),
      onConnect: event(),
      getManifest: () => ({ version: "0.2.0" }),
      getPlatformInfo: async () => ({ os }),
      async sendMessage(msg) {
        if (msg.type === "decaptcha:host-status") return status;
        if (msg.type === "decaptcha:last-tab") return { tabId: 7 };
        if (msg.type === "decaptcha:learning" && learning) return { ok: true, ...(typeof learning === "function" ? learning() : learning) };
        if (msg.type === "decaptcha:resume") {
          sent.push({ msg });
          return { ok: true };
        }
        return undefined;
      },
      connectNative() {
        if (!host) {
          // As Chromium does: the port opens, then disconnects with the reason.
          const port = fakePort();
          setImmediate(() => {
            ext.runtime.lastError = { message: "Specified native messaging host not found." };
            for (const fn of port.onDisconnect.listeners) fn(port);
            ext.runtime.lastError = undefined;
          });
          return port;
        }
        const port = fakePort((message) => {
          posted.push(message);
          const reply = host(message);
          setImmediate(() => {
            for (const fn of port.onMessage.listeners) fn({ v: 1, id: message.id, ...reply });
          });
        });
        return port;
      },
    },
    tabs: {
      getCurrent: async () => undefined,
      query: async () => [{ id: 7 }],
      async sendMessage(tabId, msg, options) {
        sent.push({ tabId, msg, options });
        if (page === null) throw new Error("Could not establish connection. Receiving end does not exist.");
        if (msg.type === "decaptcha:page-state") return typeof page === "function" ? page() : page;
        return { started: true };
      },
      onRemoved: event(),
      onUpdated: event(),
    },
    storage: {
      local: {
        get: async () => ({ ...stored }),
        set: async (v) => Object.assign(stored, v),
      },
      session: {
        data: {},
        async get(k) {
          return { [k]: this.data[k] };
        },
        async set(v) {
          Object.assign(this.data, v);
        },
        async remove(k) {
          delete this.data[k];
        },
      },
      onChanged: event(),
    },
    action: {
      setBadgeText: async ({ tabId, text }) => {
        badge[tabId] = text;
      },
      setBadgeBackgroundColor: async () => {},
      setTitle: async () => {},
    },
    commands: {
      onCommand: event(),
      getAll: async () => [{ name: "resolve-captcha", shortcut: "Alt+Shift+R" }],
    },
  };
  return ext;
}

function fakePort(onPost = () => {}) {
  return {
    onMessage: event(),
    onDisconnect: event(),
    postMessage: onPost,
    disconnect() {},
  };
}

/** Let pending promise callbacks, immediates and short timers run. */
export async function settle(rounds = 20) {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
