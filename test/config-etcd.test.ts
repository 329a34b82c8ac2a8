// The `etcd` section (control-plane/src/config/etcd.ts): absent means one embedded process; present,
// it is checked against its JSON Schema, every problem named by its dotted path, and gets defaults.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, configFromDocument } from "../control-plane/src/config/index.js";

const minimal = { clusters: [{ name: "llm-a" }] };

function problemsOf(doc: unknown, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    configFromDocument(doc, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  return [];
}

test("without an etcd section the control plane is one embedded process", () => {
  assert.equal(configFromDocument(minimal, {}).etcd, undefined);
});

test("an etcd section with endpoints only gets the documented defaults", () => {
  const etcd = configFromDocument({ ...minimal, etcd: { endpoints: ["https://etcd-0:2379/", "https://etcd-1:2379"], replica_id: "cp-0" } }, {}).etcd;
  assert.deepEqual(etcd, {
    endpoints: ["https://etcd-0:2379", "https://etcd-1:2379"],
    prefix: "/autoglm/",
    leaseTtlS: 5,
    replicaId: "cp-0",
    dialTimeoutMs: 3000,
    commitTimeoutMs: 5000,
    takeoverHoldWindows: 3,
  });
});

test("the replica id defaults to the host name and the process id", () => {
  const etcd = configFromDocument({ ...minimal, etcd: { endpoints: ["http://127.0.0.1:2379"] } }, {}).etcd!;
  assert.match(etcd.replicaId, new RegExp(`-${process.pid}$`));
});

test("the endpoints, the replica id and the advertised address can come from the environment", () => {
  const etcd = configFromDocument(minimal, { AUTOGLM_ETCD_ENDPOINTS: "http://a:2379, http://b:2379", AUTOGLM_ETCD_REPLICA_ID: "pod-7", AUTOGLM_ETCD_ADVERTISE_ADDRESS: "10.1.2.3:50051" }).etcd!;
  assert.deepEqual(etcd.endpoints, ["http://a:2379", "http://b:2379"]);
  assert.equal(etcd.replicaId, "pod-7");
  assert.equal(etcd.advertiseAddress, "10.1.2.3:50051");
});

const bad: { name: string; etcd: unknown; problems: string[] }[] = [
  { name: "a section without endpoints", etcd: {}, problems: ["etcd.endpoints: required"] },
  { name: "an empty endpoint list", etcd: { endpoints: [] }, problems: ["etcd.endpoints: must NOT have fewer than 1 items"] },
  {
    name: "an endpoint that is not an http(s) URL, a lease above 5 s, a prefix without slashes and an unknown field",
    etcd: { endpoints: ["etcd-0:2379"], lease_ttl_s: 10, prefix: "autoglm", leader: true },
    problems: [
      "etcd.leader: unknown field",
      'etcd.endpoints[0]: must match pattern "^https?://[^/\\s]+/?$"',
      "etcd.lease_ttl_s: must be <= 5",
      'etcd.prefix: must match pattern "^/([A-Za-z0-9._-]+/)*$"',
    ],
  },
  { name: "an advertised address without a port", etcd: { endpoints: ["http://e:2379"], advertise_address: "10.1.2.3" }, problems: ['etcd.advertise_address: must match pattern "^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+):[0-9]{1,5}$"'] },
  { name: "a section that is not an object", etcd: "http://etcd:2379", problems: ["etcd: must be object"] },
];
for (const c of bad) {
  test(`an etcd section is refused with every problem named: ${c.name}`, () => {
    assert.deepEqual([...problemsOf({ ...minimal, etcd: c.etcd })].sort(), [...c.problems].sort());
  });
}
