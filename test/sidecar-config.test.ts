// The local sidecar's configuration: its JSON Schema and the checks across fields report every
// problem of a file at once, each by its snake_case path; the filter's clusters need endpoints.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSidecarConfig, parseSidecarConfig, SidecarConfigError } from "../sidecar/index.js";

const filterConfiguration = { node_id: "s1", clusters: [{ name: "llm-a", weight: 50 }, { name: "llm-b", weight: 50 }] };
const base = {
  listen: "127.0.0.1:0",
  filter: { wasm: "build/filter.wasm", configuration: filterConfiguration },
  clusters: [
    { name: "llm-a", endpoints: ["127.0.0.1:9001"] },
    { name: "llm-b", endpoints: ["127.0.0.1:9002"] },
  ],
};

function problemsOf(doc: unknown): readonly string[] {
  try {
    parseSidecarConfig(doc, "s.yaml");
  } catch (e) {
    assert.ok(e instanceof SidecarConfigError, String(e));
    return e.problems;
  }
  return [];
}

test("a valid configuration is read with Envoy's and the documented defaults", () => {
  const config = parseSidecarConfig({ ...base, control_plane: { address: "http://127.0.0.1:50051" }, node: { metadata: { ZONE: "z" } } });
  assert.deepEqual(config.listen, { host: "127.0.0.1", port: 0 });
  assert.equal(config.workers, 1);
  assert.equal(config.filter.failOpen, false);
  assert.deepEqual(config.clusters[1], { name: "llm-b", endpoints: [{ host: "127.0.0.1", port: 9002 }], limits: { maxConnections: 1024, maxPendingRequests: 1024 } });
  assert.equal(config.clusterHeader, "x-autoglm-cluster");
  assert.equal(config.upstreamTimeoutMs, 30_000);
  assert.deepEqual(config.controlPlane, { cluster: "autoglm-control-plane", addresses: ["127.0.0.1:50051"] });
  assert.deepEqual(config.node, { id: "s1", cluster: "", metadata: { ZONE: "z" } });
});

test("a control plane of several replicas is read as its list of addresses", () => {
  const config = parseSidecarConfig({ ...base, control_plane: { addresses: ["10.0.0.1:50051", "http://10.0.0.2:50051", "[::1]:50051"] } });
  assert.deepEqual(config.controlPlane, { cluster: "autoglm-control-plane", addresses: ["10.0.0.1:50051", "10.0.0.2:50051", "[::1]:50051"] });
});

const bad: { name: string; doc: object; problems: string[] }[] = [
  { name: "a control plane with address and addresses", doc: { ...base, control_plane: { address: "127.0.0.1:1", addresses: ["127.0.0.1:2"] } }, problems: ["control_plane: give address (one replica) or addresses (several), not both"] },
  { name: "a control plane without an address", doc: { ...base, control_plane: {} }, problems: ["control_plane.address: required (or addresses, for several replicas)"] },
  { name: "an empty list of control-plane addresses", doc: { ...base, control_plane: { addresses: [] } }, problems: ["control_plane.addresses: must NOT have fewer than 1 items"] },
  { name: "a control-plane address without a port", doc: { ...base, control_plane: { addresses: ["127.0.0.1:1", "cp"] } }, problems: ['control_plane.addresses[1]: expected "host:port", got "cp"'] },
  { name: "no listen address", doc: { ...base, listen: undefined }, problems: ["listen: required"] },
  { name: "an address without a port", doc: { ...base, listen: "localhost" }, problems: ['listen: expected "host:port", got "localhost"'] },
  { name: "a port out of range", doc: { ...base, metrics: { listen: "127.0.0.1:70000" } }, problems: ["metrics.listen: port 70000 is out of range (0-65535)"] },
  { name: "an empty endpoint list", doc: { ...base, clusters: [{ name: "llm-a", endpoints: [] }, base.clusters[1]] }, problems: ["clusters[0].endpoints: must NOT have fewer than 1 items"] },
  { name: "a duplicate cluster", doc: { ...base, clusters: [...base.clusters, base.clusters[0]] }, problems: ['clusters[2].name: duplicate cluster name "llm-a"'] },
  { name: "a default cluster that does not exist", doc: { ...base, default_cluster: "llm-z" }, problems: ['default_cluster: "llm-z" is not one of the clusters (llm-a, llm-b)'] },
  { name: "a camelCase key", doc: { ...base, defaultCluster: "llm-a" }, problems: ["defaultCluster: unknown field; did you mean `default_cluster`"] },
  { name: "a camelCase filter key", doc: { ...base, filter: { ...base.filter, failOpen: true } }, problems: ["filter.failOpen: unknown field; did you mean `fail_open`"] },
  { name: "a metadata value that is not text", doc: { ...base, node: { metadata: { ZONE: 1 } } }, problems: ["node.metadata.ZONE: must be string, got 1"] },
  {
    name: "a filter cluster without endpoints in the sidecar",
    doc: { ...base, clusters: [base.clusters[0]] },
    problems: ['filter.configuration.clusters[1].name: "llm-b" has no endpoints: it is not one of the sidecar\'s clusters (llm-a)'],
  },
  {
    name: "a filter cluster without endpoints, the configuration given as JSON text",
    doc: { ...base, filter: { wasm: "f.wasm", configuration: JSON.stringify({ clusters: [{ name: "llm-c", weight: 1 }] }) } },
    problems: ['filter.configuration.clusters[0].name: "llm-c" has no endpoints: it is not one of the sidecar\'s clusters (llm-a, llm-b)'],
  },
  {
    name: "a control-plane cluster the filter does not use",
    doc: { ...base, control_plane: { cluster: "cp", address: "127.0.0.1:1" } },
    problems: ['filter.configuration.control_plane.cluster: "autoglm-control-plane" is not the sidecar\'s control_plane.cluster ("cp"): the filter\'s stream would have no upstream'],
  },
];

for (const c of bad) {
  test(`a sidecar configuration with ${c.name} is refused naming the field`, () => {
    assert.deepEqual(problemsOf(c.doc), c.problems);
  });
}

test("a sidecar file with many problems lists all of them in one error naming the file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-config-"));
  const path = join(dir, "sidecar.yaml");
  await writeFile(
    path,
    [
      "listen: nowhere",
      "workers: 0",
      "filter: { wasm: '', failOpen: true, configuration: { clusters: [ { name: llm-z, weight: 1 } ] } }",
      "clusters: [ { name: llm-a, endpoints: ['127.0.0.1'] }, { name: llm-a, endpoints: ['127.0.0.1:1'], circuit_breakers: { max_connections: 0 } } ]",
      "default_cluster: llm-q",
      "upstream_timeout_ms: 5s",
      "control_plane: { cluster: autoglm-control-plane }",
      "colour: blue",
      "",
    ].join("\n"),
  );
  await assert.rejects(loadSidecarConfig(path), (e: unknown) => {
    assert.ok(e instanceof SidecarConfigError);
    assert.ok(e.message.startsWith(`${path}: 12 problems:\n`), e.message);
    assert.deepEqual(e.problems.map((p) => p.split(":")[0]).sort(), [
      "clusters[0].endpoints[0]",
      "clusters[1].circuit_breakers.max_connections",
      "clusters[1].name",
      "colour",
      "control_plane.address",
      "default_cluster",
      "filter.configuration.clusters[0].name",
      "filter.failOpen",
      "filter.wasm",
      "listen",
      "upstream_timeout_ms",
      "workers",
    ]);
    return true;
  });
});
