// What a fresh clone needs to install and run its tests: package.json's Node range agrees with
// every locked package, npm reads the project's .npmrc without warnings, and nothing the tests,
// the simulator or the command line read lies outside the clone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import semver from "semver";
import { defaultScenarioFolder, loadScenarios, projectRoot } from "../sim/scenario.js";

const root = projectRoot();

interface LockPackage {
  version?: string;
  engines?: { node?: string } | string[];
}

test("every package in the lock file runs on every Node version package.json's engines allow", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, LockPackage> };
  const ours = pkg.engines.node;
  assert.ok(semver.validRange(ours) !== null, `package.json engines.node is not a range: ${ours}`);
  const tooNew: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    // Old lock entries may carry engines as an array of strings; npm ignores those.
    const wanted = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
    if (path === "" || wanted === undefined) continue;
    if (!semver.subset(ours, wanted, { includePrerelease: false })) tooNew.push(`${path}@${entry.version ?? "?"} wants node ${wanted}`);
  }
  assert.deepEqual(tooNew, [], `package.json allows node ${ours}, but:\n${tooNew.join("\n")}`);
});

test("the engines check catches a package that wants a newer Node than the project allows", () => {
  // The table the check above relies on: semver.subset(project range, package range).
  const cases: Array<[project: string, wanted: string, fits: boolean]> = [
    [">=20", ">=18", true],
    [">=20", "^16 || ^18 || >=20", true],
    [">=20", "6.* || 8.* || >= 10.*", true],
    [">=20", ">=22", false],
    [">=20", "^20.17.0 || >=22.9.0", false],
    [">=22", ">=22", true],
  ];
  for (const [project, wanted, fits] of cases) assert.equal(semver.subset(project, wanted), fits, `${project} within ${wanted}`);
});

test("npm reads the project's .npmrc without a warning, and dependencies' install scripts stay off", () => {
  const npm = spawnSync("npm", ["config", "get", "ignore-scripts"], { cwd: root, encoding: "utf8", env: { ...process.env, npm_config_loglevel: "warn" } });
  assert.equal(npm.error, undefined, `npm could not be run: ${String(npm.error)}`);
  assert.equal(npm.status, 0, npm.stderr);
  assert.equal(npm.stdout.trim(), "true");
  assert.doesNotMatch(npm.stderr, /warn/i);
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
  // With ignore-scripts npm skips pre/post scripts of our own package: there must be none.
  const hooks = Object.keys(pkg.scripts).filter((name) => /^(pre|post)/.test(name) && !["prepare", "prepack", "postpack"].includes(name));
  assert.deepEqual(hooks, [], "pre/post scripts do not run under ignore-scripts=true");
  assert.match(pkg.scripts.start!, /ensure-filter\.mjs/, "npm start builds the filter itself");
});

/** Every source file under `dir` (recursively), relative to the project root. */
function sources(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(root, dir))) {
    const path = join(dir, entry);
    if (statSync(join(root, path)).isDirectory()) found.push(...sources(path));
    else if (/\.(ts|mjs|js|json)$/.test(entry)) found.push(path);
  }
  return found;
}

test("no test, simulator, command-line or demo file names a folder outside the clone", () => {
  // A sibling folder of the clone, or a machine's absolute home or work path.
  const outside = /\.\.\/+shared\b|["'`](\/work\/|\/home\/|\/root\/|\/Users\/|[A-Z]:\\\\)/;
  const offenders: string[] = [];
  for (const dir of ["test", "sim", "cli", "bin", "demo", "scripts"]) {
    for (const file of sources(dir)) {
      if (file === join("test", "install-repository.test.ts")) continue;
      const lines = readFileSync(join(root, file), "utf8").split("\n");
      lines.forEach((line, i) => {
        if (outside.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  assert.deepEqual(offenders, []);
});

test("bench scenarios' default folder is inside the clone and holds the public scenarios", () => {
  const folder = defaultScenarioFolder();
  const inside = relative(root, folder);
  assert.ok(!inside.startsWith("..") && !inside.startsWith(sep), `default scenario folder ${folder} is outside ${root}`);
  assert.equal(inside.split(sep).join("/"), "sim/scenarios");
  const names = loadScenarios([folder]).map((l) => l.scenario.name);
  assert.ok(names.length >= 6, `public scenarios: ${names.join(", ")}`);
  assert.ok(readFileSync(join(folder, "README.md"), "utf8").length > 0, "the scenario format's README ships with them");
});
