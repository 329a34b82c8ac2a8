// Builds build/filter.wasm (the release target of asconfig.json) when it is missing or older
// than any source under filter/src, so `npm start` works on a fresh clone. Progress and errors
// go to stderr; the exit code is asc's.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wasm = join(root, "build", "filter.wasm");

/** Newest modification time (ms) of the files under a folder. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const sourcesMs = Math.max(newest(join(root, "filter", "src")), statSync(join(root, "asconfig.json")).mtimeMs);
if (existsSync(wasm) && statSync(wasm).mtimeMs >= sourcesMs) process.exit(0);
process.stderr.write(`building ${wasm} (missing or older than filter/src)...\n`);
const asc = join(root, "node_modules", "assemblyscript", "bin", "asc.js");
const run = spawnSync(process.execPath, [asc, "filter/src/index.ts", "--target", "release"], { cwd: root, stdio: "inherit" });
process.exit(run.status ?? 1);
