// TLS to etcd (etcd.tls: the CA, this replica's client certificate): a control plane started
// against an etcd that serves only TLS and asks every client for a certificate (--client-cert-auth)
// leads and commits an override there; without the CA or without a client certificate it does not
// start and names the endpoints; mistakes in the section are configuration problems naming the
// field. The certificates are made here with openssl (test/support/test-ca.ts).
import { strict as assert } from "node:assert";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { ConfigError, configFromDocument } from "../control-plane/src/config/index.js";
import { readEtcdSection } from "../control-plane/src/config/etcd.js";
import { etcdClientOptions } from "../control-plane/src/replicas/etcd-client.js";
import { startControlPlane } from "../control-plane/src/server.js";
import { createLogger } from "../lib/log.js";
import { startEtcdCluster, type EtcdCluster } from "./support/etcd-cluster.js";
import { makeTestCa, type TestCa } from "./support/test-ca.js";

const logger = createLogger("test", "silent");
const TOKEN = "etcd-tls-token";

async function until(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a control plane reaches etcd over TLS with a client certificate", () => {
  let ca: TestCa;
  let etcd: EtcdCluster;
  before(async () => {
    ca = await makeTestCa();
    etcd = await startEtcdCluster({ size: 1, tls: ca });
  });
  after(async () => {
    await etcd?.stop();
    await ca?.remove();
  });

  const document = (tls: Record<string, string> | undefined, extra: Record<string, unknown> = {}) => ({
    grpc: { port: 0 },
    admin: { port: 0, token: TOKEN },
    clusters: [{ name: "a" }, { name: "b" }],
    etcd: { endpoints: etcd.endpoints, prefix: "/autoglm-tls/", lease_ttl_s: 2, replica_id: "tls-0", dial_timeout_ms: 1500, ...(tls === undefined ? {} : { tls }), ...extra },
  });

  it("leads and commits an override in an etcd that serves only TLS", async () => {
    assert.match(etcd.endpoints[0]!, /^https:\/\//);
    const config = configFromDocument(document({ ca_file: ca.caFile, cert_file: ca.clientCertFile, key_file: ca.clientKeyFile }), {});
    const running = await startControlPlane(config, { logger });
    const probe = new Etcd3(await etcdClientOptions(config.etcd!));
    try {
      await until("it leads", () => running.controlPlane.isLeading);
      const response = await fetch(`${running.adminUrl}/v1/clusters/b/override`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ state: "open", reason: "over tls" }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      const stored = (await probe.get("/autoglm-tls/state/overrides/b").json()) as { override: { reason: string } } | null;
      assert.equal(stored?.override.reason, "over tls");
    } finally {
      probe.close();
      await running.close();
    }
  });

  const refused: { name: string; tls: () => Record<string, string> | undefined }[] = [
    { name: "without a client certificate (etcd asks every client for one)", tls: () => ({ ca_file: ca.caFile }) },
    { name: "without the CA (the system's roots do not know the members' certificate)", tls: () => ({ cert_file: ca.clientCertFile, key_file: ca.clientKeyFile }) },
    { name: "without an etcd.tls section", tls: () => undefined },
  ];
  for (const r of refused) {
    it(`does not start ${r.name}, and names the endpoints`, async () => {
      const config = configFromDocument(document(r.tls()), {});
      await assert.rejects(startControlPlane(config, { logger }), (error: Error) => {
        assert.match(error.message, /etcd: cannot read the shared state from https:\/\/127\.0\.0\.1:\d+ within 1500 ms/);
        return true;
      });
    });
  }

  it("a certificate that is not the key's, or a file that cannot be read, is a configuration problem naming the field", async () => {
    const wrongKey = join(ca.dir, "wrong.key");
    await writeFile(wrongKey, await readFile(ca.serverKeyFile));
    const cases: { tls: Record<string, string>; problem: RegExp }[] = [
      { tls: { ca_file: ca.caFile, cert_file: ca.clientCertFile, key_file: wrongKey }, problem: /^etcd\.tls: cert_file ".*client\.pem" and key_file ".*wrong\.key" are not a PEM certificate and its private key/ },
      { tls: { ca_file: join(ca.dir, "missing.pem") }, problem: /^etcd\.tls\.ca_file: cannot read ".*missing\.pem": ENOENT/ },
      { tls: { ca_file: ca.clientKeyFile }, problem: /^etcd\.tls\.ca_file: ".*client\.key" is not a PEM CA bundle/ },
    ];
    for (const c of cases) {
      const config = configFromDocument(document(c.tls), {});
      await assert.rejects(startControlPlane(config, { logger }), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.problems.length, 1, error.problems.join("; "));
        assert.match(error.problems[0]!, c.problem);
        return true;
      });
    }
  });
});

describe("the etcd.tls section is checked with the rest of the configuration", () => {
  const cases: { name: string; section: Record<string, unknown>; problems: string[] }[] = [
    { name: "TLS with http:// endpoints", section: { endpoints: ["http://e:2379"], tls: { ca_file: "ca.pem" } }, problems: ["etcd.tls: the endpoints are http://; TLS needs https:// endpoints"] },
    { name: "endpoints mixing http:// and https://", section: { endpoints: ["http://e0:2379", "https://e1:2379"] }, problems: ["etcd.endpoints: mixes http:// and https://; all members are reached the same way"] },
    { name: "a client certificate without its key", section: { endpoints: ["https://e:2379"], tls: { cert_file: "c.pem" } }, problems: ["etcd.tls: cert_file without key_file; a client certificate needs both"] },
    { name: "a key without its certificate", section: { endpoints: ["https://e:2379"], tls: { key_file: "c.key" } }, problems: ["etcd.tls: key_file without cert_file; a client certificate needs both"] },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}`, () => {
      assert.deepEqual(readEtcdSection(c.section).problems, c.problems);
    });
  }

  it("reads the files' paths, and https:// endpoints without a tls section use the system's roots", () => {
    const read = readEtcdSection({ endpoints: ["https://e:2379/"], tls: { ca_file: "ca.pem", cert_file: "c.pem", key_file: "c.key" } });
    assert.deepEqual(read.problems, []);
    assert.deepEqual(read.etcd?.tls, { caFile: "ca.pem", certFile: "c.pem", keyFile: "c.key" });
    assert.equal(readEtcdSection({ endpoints: ["https://e:2379"] }).etcd?.tls, undefined);
  });

  it("the AUTOGLM_ETCD_TLS_* variables set the files", () => {
    const config = configFromDocument(
      { clusters: [{ name: "a" }], etcd: { endpoints: ["https://e:2379"] } },
      { AUTOGLM_ETCD_TLS_CA_FILE: "/ca.pem", AUTOGLM_ETCD_TLS_CERT_FILE: "/c.pem", AUTOGLM_ETCD_TLS_KEY_FILE: "/c.key" },
    );
    assert.deepEqual(config.etcd?.tls, { caFile: "/ca.pem", certFile: "/c.pem", keyFile: "/c.key" });
  });
});
