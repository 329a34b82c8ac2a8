// TLS of the admin API and the sidecar gRPC server, with a self-signed certificate made at run
// time by the `openssl` command (none is committed), and the start-up errors for unusable files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ControlMessageSchema, SidecarMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { ConfigError, validateConfig } from "../control-plane/src/config/index.js";
import { CONNECT_PATH } from "../control-plane/src/grpc/server.js";
import { startControlPlane } from "../control-plane/src/server.js";
import { createLogger } from "../lib/log.js";

const logger = createLogger("tls-test", "silent");
const ADMIN_TOKEN = "admin-tls-token";
const READ_TOKEN = "read-tls-token";
const SIDECAR_TOKEN = "sidecar-tls-token";

/** A temporary directory with cert.pem and key.pem for localhost / 127.0.0.1, valid one day. */
async function selfSigned(t: { after(fn: () => Promise<void>): void }): Promise<{ dir: string; certFile: string; keyFile: string; cert: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-tls-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const made = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", keyFile, "-out", certFile, "-days", "1"],
    { encoding: "utf8" },
  );
  // No skip: without openssl this test fails, saying what to install.
  assert.equal(made.error, undefined, `the openssl command is needed to make a test certificate (apt-get install openssl): ${String(made.error)}`);
  assert.equal(made.status, 0, `openssl failed: ${made.stderr}`);
  return { dir, certFile, keyFile, cert: await readFile(certFile) };
}

function httpsGet(url: string, ca: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers }, async (res) => {
      let body = "";
      for await (const chunk of res) body += chunk;
      resolve({ status: res.statusCode ?? 0, body });
    });
    req.on("error", reject);
    req.end();
  });
}

test("the admin API serves HTTPS and the gRPC server TLS with the configured certificate", async (t) => {
  const { certFile, keyFile, cert } = await selfSigned(t);
  const config = validateConfig({
    grpc: { port: 0, token: SIDECAR_TOKEN, tls: { cert_file: certFile, key_file: keyFile } },
    admin: { port: 0, token: ADMIN_TOKEN, read_token: READ_TOKEN, tls: { cert_file: certFile, key_file: keyFile } },
    clusters: [{ name: "llm-a", base_weight: 1 }],
  });
  const cp = await startControlPlane(config, { logger });
  t.after(() => cp.close());
  assert.match(cp.adminUrl, /^https:\/\/127\.0\.0\.1:\d+$/);

  // HTTPS, trusting only the test certificate.
  const health = await httpsGet(`${cp.adminUrl}/healthz`, cert);
  assert.deepEqual([health.status, JSON.parse(health.body)], [200, { status: "ok" }]);
  const clusters = await httpsGet(`${cp.adminUrl}/v1/clusters`, cert, { authorization: `Bearer ${READ_TOKEN}` });
  assert.equal(clusters.status, 200, clusters.body);
  assert.equal((await httpsGet(`${cp.adminUrl}/v1/clusters`, cert)).status, 401);

  // A client that does not trust the certificate is refused by its own TLS check.
  await assert.rejects(httpsGet(`${cp.adminUrl}/healthz`, Buffer.from("")), /self[- ]signed|certificate/i);

  // Plain HTTP to the HTTPS port gets no answer of the API.
  const plain = await new Promise<string>((resolve) => {
    const req = httpRequest(cp.adminUrl.replace("https:", "http:") + "/healthz", (res) => {
      resolve(`status ${res.statusCode}`);
      res.resume();
    });
    req.on("error", (error) => resolve(`error ${error.message}`));
    req.end();
  });
  assert.doesNotMatch(plain, /status 200/);

  // gRPC over TLS with the sidecar token gets its first decision set.
  const client = new grpc.Client(`127.0.0.1:${cp.grpcPort}`, grpc.credentials.createSsl(cert));
  t.after(() => client.close());
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${SIDECAR_TOKEN}`);
  const call = client.makeBidiStreamRequest<Uint8Array, Buffer>(CONNECT_PATH, (b) => Buffer.from(b), (b) => b, md);
  const first = await new Promise<string>((resolve, reject) => {
    call.on("data", (bytes: Buffer) => resolve(fromBinary(ControlMessageSchema, bytes).kind.case ?? "none"));
    call.on("error", (error) => reject(error));
    call.write(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId: "n", zone: "z", workerId: 0 } } })));
  });
  assert.equal(first, "decisions");
  call.on("error", () => undefined);
  call.cancel();
});

const startErrors: { name: string; admin: (files: { certFile: string; keyFile: string; otherKey: string; junk: string; missing: string }) => object; error: RegExp }[] = [
  {
    name: "a missing admin certificate",
    admin: (f) => ({ tls: { cert_file: f.missing, key_file: f.keyFile } }),
    error: /^admin\.tls\.cert_file: cannot read ".*nope\.pem": ENOENT$/,
  },
  {
    name: "a missing admin key",
    admin: (f) => ({ tls: { cert_file: f.certFile, key_file: f.missing } }),
    error: /^admin\.tls\.key_file: cannot read ".*nope\.pem": ENOENT$/,
  },
  {
    name: "an admin certificate that is not PEM",
    admin: (f) => ({ tls: { cert_file: f.junk, key_file: f.keyFile } }),
    error: /^admin\.tls: cert_file ".*junk\.pem" and key_file ".*key\.pem" are not a PEM certificate and its private key: /,
  },
  {
    name: "a key that does not belong to the certificate",
    admin: (f) => ({ tls: { cert_file: f.certFile, key_file: f.otherKey } }),
    error: /^admin\.tls: cert_file ".*cert\.pem" and key_file ".*key\.pem" are not a PEM certificate and its private key: .*mismatch/,
  },
];
for (const c of startErrors) {
  test(`start-up with ${c.name} fails with an error naming the field and the file`, async (t) => {
    const { dir, certFile, keyFile } = await selfSigned(t);
    const otherKey = (await selfSigned(t)).keyFile;
    const junk = join(dir, "junk.pem");
    await writeFile(junk, "not a certificate\n");
    const config = validateConfig({
      grpc: { port: 0 },
      admin: { port: 0, ...c.admin({ certFile, keyFile, otherKey, junk, missing: join(dir, "nope.pem") }) },
      clusters: [{ name: "llm-a", base_weight: 1 }],
    });
    const error = await startControlPlane(config, { logger }).then(
      (cp) => cp.close().then(() => undefined),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.problems.length, 1);
    assert.match(error.problems[0]!, c.error);
  });
}

test("start-up with a missing gRPC key fails naming grpc.tls.key_file and the file", async (t) => {
  const { dir, certFile } = await selfSigned(t);
  const config = validateConfig({
    grpc: { port: 0, tls: { cert_file: certFile, key_file: join(dir, "gone.pem") } },
    admin: { port: 0 },
    clusters: [{ name: "llm-a", base_weight: 1 }],
  });
  await assert.rejects(startControlPlane(config, { logger }), (e: unknown) => e instanceof ConfigError && /^grpc\.tls\.key_file: cannot read ".*gone\.pem": ENOENT$/.test(e.problems[0]!));
});
