// `npm run lint:firefox`: assemble the Firefox build (src/ + the merged manifest, as build.py
// does) in a temporary folder and run web-ext lint on it.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { manifest } from "./manifest.js";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), "decaptcha-firefox-"));
try {
  cpSync(join(root, "src"), dir, { recursive: true });
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest("firefox"), null, 2));
  const webExt = join(root, "node_modules", ".bin", "web-ext");
  const run = spawnSync(webExt, ["lint", "--source-dir", dir, "--warnings-as-errors", ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, NO_UPDATE_NOTIFIER: "1" },
  });
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
