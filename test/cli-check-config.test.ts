// `autoglm check-config`: each file on its own, then each sidecar against the control plane it
// streams to (clusters, base shares, gRPC port, token), every problem listed before anything starts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configAgreementProblems } from "../cli/config-agreement.js";
import { validateConfig } from "../control-plane/src/config/index.js";
import { parseSidecarConfig } from "../sidecar/index.js";

const cpDoc = { grpc: { port: 50051 }, clusters: [{ name: "llm-a", base_weight: 50 }, { name: "llm-b", base_weight: 50 }] };
const filterClusters = [{ name: "llm-a", weight: 1 }, { name: "llm-b", weight: 1 }];
const sidecarDoc = (clusters: { name: string; weight: number }[], extra: Record<string, unknown> = {}, token?: string) => ({
  listen: "127.0.0.1:0",
  filter: { wasm: "f.wasm", configuration: { node_id: "s", clusters, ...(token === undefined ? {} : { control_plane: { token } }) } },
  clusters: ["llm-a", "llm-b", "llm-c"].map((name, i) => ({ name, endpoints: [`127.0.0.1:${9001 + i}`] })),
  control_plane: { address: "127.0.0.1:50051" },
  ...extra,
});

const cases: { name: string; cp?: object; sidecar: object; problems: string[] }[] = [
  { name: "the same clusters with the same shares (weights 1:1 against 50:50) agree", sidecar: sidecarDoc(filterClusters), problems: [] },
  {
    name: "a filter cluster the control plane does not know",
    sidecar: sidecarDoc([...filterClusters, { name: "llm-c", weight: 1 }]),
    problems: ["filter.configuration.clusters: llm-c not among the control plane's clusters (llm-a, llm-b): it decides nothing for them"],
  },
  {
    name: "a control-plane cluster the filter does not know",
    sidecar: sidecarDoc([{ name: "llm-a", weight: 1 }]),
    problems: ["filter.configuration.clusters: the control plane's llm-b missing: its decisions for them cannot be followed"],
  },
  {
    name: "base shares that differ",
    sidecar: sidecarDoc([{ name: "llm-a", weight: 3 }, { name: "llm-b", weight: 1 }]),
    problems: [
      "filter.configuration.clusters: base shares differ from the control plane's base_weight (llm-a 75.0 % here, 50.0 % there; llm-b 25.0 % here, 50.0 % there): on its fallback the sidecar would split traffic otherwise",
    ],
  },
  {
    name: "a stream to another port than grpc.port",
    sidecar: sidecarDoc(filterClusters, { control_plane: { address: "127.0.0.1:18081" } }),
    problems: ["control_plane.address: port 18081 is not the control plane's grpc.port (50051)"],
  },
  { name: "any port when grpc.port is 0 (picked at start)", cp: { ...cpDoc, grpc: { port: 0 } }, sidecar: sidecarDoc(filterClusters, { control_plane: { address: "127.0.0.1:1" } }), problems: [] },
  {
    name: "a filter without the control plane's token",
    cp: { ...cpDoc, grpc: { port: 50051, token: "t" } },
    sidecar: sidecarDoc(filterClusters),
    problems: ["filter.configuration.control_plane.token: differs from the control plane's grpc.token: its stream would be refused"],
  },
  { name: "a filter with the control plane's token", cp: { ...cpDoc, grpc: { port: 50051, token: "t" } }, sidecar: sidecarDoc(filterClusters, {}, "t"), problems: [] },
];

for (const c of cases) {
  test(`a sidecar against its control plane: ${c.name}`, () => {
    assert.deepEqual(configAgreementProblems(validateConfig(c.cp ?? cpDoc), parseSidecarConfig(c.sidecar)), c.problems);
  });
}

function autoglm(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["bin/autoglm.mjs", ...args], { encoding: "utf8", env: { ...process.env, AUTOGLM_LOG_LEVEL: "silent" }, timeout: 240_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("the shipped example configurations of a control plane and a sidecar agree", () => {
  const { status, stdout, stderr } = autoglm("check-config", "--control-plane", "demo/control-plane.example.yaml", "--sidecar", "demo/sidecar.example.yaml");
  assert.equal(status, 0, stderr);
  assert.match(stdout, /no problem/);
});

test("check-config lists every problem of every file, and the disagreements, then exits 2", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-check-config-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cp = join(dir, "cp.json");
  const good = join(dir, "good.json");
  const bad = join(dir, "bad.json");
  const apart = join(dir, "apart.json");
  await writeFile(cp, JSON.stringify(cpDoc));
  await writeFile(good, JSON.stringify(sidecarDoc(filterClusters)));
  await writeFile(bad, JSON.stringify({ ...sidecarDoc(filterClusters), workers: 0, listen: "x" }));
  await writeFile(apart, JSON.stringify(sidecarDoc([{ name: "llm-c", weight: 1 }])));
  const { status, stderr } = autoglm("check-config", "--control-plane", cp, "--sidecar", good, "--sidecar", bad, "--sidecar", apart);
  assert.equal(status, 2, stderr);
  assert.doesNotMatch(stderr, new RegExp(`\\(${good.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)`), "the agreeing sidecar is not listed");
  assert.ok(stderr.includes(`bad configuration (${bad}): 2 problems:`), stderr);
  assert.match(stderr, /  listen: expected "host:port", got "x"/);
  assert.match(stderr, /  workers: must be >= 1, got 0/);
  assert.ok(stderr.includes(`bad configuration (${apart}): 2 problems:`), stderr);
  assert.match(stderr, /llm-c not among the control plane's clusters/);
  assert.match(stderr, /the control plane's llm-a, llm-b missing/);
});

test("check-config without a file is a usage error", () => {
  const { status, stderr } = autoglm("check-config");
  assert.equal(status, 2);
  assert.match(stderr, /give --control-plane <file>, --sidecar <file>, or both/);
});
