// The manifests, locales and shipped files: permissions, ids, no remote code.
import assert from "node:assert/strict";
import { readFileSync, readdirSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { manifest, version } from "../scripts/manifest.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SRC = join(ROOT, "src");
const read = (p) => readFileSync(join(ROOT, p), "utf8");
const json = (p) => JSON.parse(read(p));
// What build.py ships: manifest.base.json plus each family's overlay.
const chromium = manifest("chromium");
const firefox = manifest("firefox");
const AIS_HOSTS = ["https://www.ccxp.nthu.edu.tw/*", "https://ccxp.nthu.edu.tw/*"];

/** host/ids.py is the single source of the ids (read when the repository is around it). */
function hostIds() {
  const path = join(ROOT, "..", "host", "ids.py");
  if (!existsSync(path)) return null;
  const text = readFileSync(path, "utf8");
  const str = (name) => text.match(new RegExp(`${name} = "([^"]+)"`))?.[1];
  const key = text.match(/CHROMIUM_EXTENSION_KEY = \(([^)]*)\)/)?.[1].match(/"([^"]*)"/g).map((s) => s.slice(1, -1)).join("");
  return { host: str("HOST_NAME"), firefox: str("FIREFOX_ADDON_ID"), key };
}

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test("both manifests: MV3, only nativeMessaging and storage, only the AIS hosts", () => {
  for (const m of [chromium, firefox]) {
    assert.equal(m.manifest_version, 3);
    assert.deepEqual([...m.permissions].sort(), ["nativeMessaging", "storage"]);
    assert.deepEqual(m.host_permissions, AIS_HOSTS);
    assert.equal(m.optional_permissions, undefined);
    assert.equal(m.web_accessible_resources, undefined, "nothing exposed to web pages");
    assert.equal(m.default_locale, "zh_TW");
    for (const cs of m.content_scripts) {
      for (const match of cs.matches) assert.match(match, /^https:\/\/(www\.)?ccxp\.nthu\.edu\.tw\/ccxp\/INQUIRE\//, match);
    }
  }
});

test("the two manifests differ only where the browsers do", () => {
  const strip = (m, keys) => Object.fromEntries(Object.entries(m).filter(([k]) => !keys.includes(k)));
  assert.deepEqual(
    strip(chromium, ["key", "minimum_chrome_version", "background"]),
    strip(firefox, ["browser_specific_settings", "background"]),
  );
  assert.deepEqual(chromium.background, { service_worker: "background/main.js", type: "module" });
  assert.deepEqual(firefox.background, { scripts: ["background/main.js"], type: "module" });
});

test("the overlays hold only what differs by browser; the version is host/__init__.py's", () => {
  const base = json("manifest.base.json");
  assert.equal(base.version, undefined, "the version lives in host/__init__.py only");
  for (const family of ["chromium", "firefox"]) {
    const overlay = json(`manifest.${family}.json`);
    for (const key of Object.keys(overlay)) assert.equal(base[key], undefined, `${family} repeats ${key}`);
  }
  assert.match(version(), /^\d+\.\d+\.\d+$/);
  assert.equal(chromium.version, version());
  assert.equal(firefox.version, version());
});

test("ids and the key agree with host/ids.py", (t) => {
  const ids = hostIds();
  if (!ids) return t.skip("host/ids.py not found");
  assert.equal(firefox.browser_specific_settings.gecko.id, ids.firefox);
  assert.equal(chromium.key, ids.key);
  const config = read("src/shared/config.js");
  assert.match(config, new RegExp(`HOST_NAME: "${ids.host}"`));
});

test("the login page and course pages are matched, nothing else on the host", () => {
  const [login, course] = chromium.content_scripts;
  assert.ok(login.matches.includes("https://www.ccxp.nthu.edu.tw/ccxp/INQUIRE/"));
  assert.ok(login.matches.includes("https://ccxp.nthu.edu.tw/ccxp/INQUIRE/index.php*"));
  assert.ok(login.matches.includes("https://www.ccxp.nthu.edu.tw/ccxp/INQUIRE/?*"));
  assert.equal(login.run_at, "document_start");
  assert.deepEqual(course.matches, ["https://www.ccxp.nthu.edu.tw/ccxp/INQUIRE/JH/*", "https://ccxp.nthu.edu.tw/ccxp/INQUIRE/JH/*"]);
});

test("every file a manifest names exists", () => {
  for (const m of [chromium, firefox]) {
    const named = [
      ...m.content_scripts.flatMap((cs) => cs.js),
      ...Object.values(m.icons),
      ...Object.values(m.action.default_icon),
      m.action.default_popup,
      m.background.service_worker ?? m.background.scripts[0],
    ];
    for (const f of named) assert.ok(existsSync(join(SRC, f)), f);
  }
  for (const size of [16, 32, 48, 128]) {
    const png = readFileSync(join(SRC, "icons", `icon-${size}.png`));
    assert.equal(png.readUInt32BE(16), size, `icon-${size}.png width`);
    assert.equal(png.readUInt32BE(20), size, `icon-${size}.png height`);
  }
});

test("a strict CSP for extension pages", () => {
  const csp = chromium.content_security_policy.extension_pages;
  assert.match(csp, /script-src 'self';/);
  assert.match(csp, /object-src 'none'/);
  assert.doesNotMatch(csp, /unsafe|http/);
});

test("no remote code: no URL outside the AIS hosts in any shipped file, no eval", () => {
  // One exception: the download page the popup links to (a link for the user, never fetched),
  // and only as config.js RELEASES_URL.
  const releases = read("src/shared/config.js").match(/RELEASES_URL: "([^"]+)"/)?.[1];
  assert.match(releases ?? "", /^https:\/\/github\.com\/[^/]+\/[^/]+\/releases\/latest$/);
  for (const f of files(SRC).filter((p) => /\.(js|html|css|json)$/.test(p))) {
    const text = readFileSync(f, "utf8");
    const urls = (text.match(/https?:\/\/[^\s"'`)]+/g) ?? []).filter((u) => !(u === releases && f.endsWith("config.js")));
    for (const url of urls) assert.match(url, /^https:\/\/(www\.)?ccxp\.nthu\.edu\.tw\//, `${f}: ${url}`);
    assert.doesNotMatch(text, /\beval\(|new Function\(/, f);
  }
});

test("both locales have the same keys, and every key used exists", () => {
  const en = json("src/_locales/en/messages.json");
  const zh = json("src/_locales/zh_TW/messages.json");
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  const used = new Set();
  for (const f of files(SRC).filter((p) => /\.(js|html|json)$/.test(p) && !p.includes("_locales"))) {
    const text = readFileSync(f, "utf8");
    for (const m of text.matchAll(/__MSG_(\w+)__|data-i18n="(\w+)"|\bt\("(\w+)"/g)) used.add(m[1] ?? m[2] ?? m[3]);
  }
  assert.ok(used.size > 20);
  for (const key of used) assert.ok(en[key], `missing message ${key}`);
});
