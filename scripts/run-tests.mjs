// Runs every test file (test/**/*.test.ts) with node's test runner and tsx.
// Usage: node scripts/run-tests.mjs [substring...]   (only files whose path contains one of them)
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (entry.endsWith(".test.ts")) found.push(path);
  }
  return found.sort();
}

const filters = process.argv.slice(2);
const files = findTests("test").filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)));
if (files.length === 0) {
  console.error("run-tests: no test files matched");
  process.exit(1);
}
// Tests that run the system in real time against the wall clock (the demo, a headless browser,
// replicas as processes)
// run afterwards, one at a time: next to another heavy test on a 2-core machine their timers
// starve (Chromium's start-up alone takes a core for seconds).
const REAL_TIME = ["test/demo-run.test.ts", "test/demo-trigger.test.ts", "test/dashboard-page.test.ts", "test/bench-control-plane.test.ts", "test/replicas-failover.test.ts"];
const realTime = (file) => REAL_TIME.includes(file.split("\\").join("/"));
const phases = [
  { concurrency: 2, files: files.filter((f) => !realTime(f)) },
  { concurrency: 1, files: files.filter(realTime) },
];
let status = 0;
for (const phase of phases) {
  if (phase.files.length === 0) continue;
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", "--test", `--test-concurrency=${phase.concurrency}`, "--test-reporter=spec", ...phase.files],
    { stdio: "inherit" },
  );
  if ((result.status ?? 1) !== 0) status = result.status ?? 1;
}
process.exit(status);
