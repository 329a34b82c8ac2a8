// Configuration of who may reach the control plane: a gRPC or admin listener on a non-loopback
// address needs a token or an explicit opt-in; the admin read token and TLS sections.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, configFromDocument } from "../control-plane/src/config/index.js";
import { isLoopbackHost } from "../control-plane/src/config/loopback.js";

const clusters = [{ name: "llm-a", base_weight: 1 }];

function problemsOf(doc: object, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    configFromDocument({ clusters, ...doc }, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  return [];
}

const GRPC_REFUSED =
  /^grpc\.host: "(.*)" is not a loopback address and grpc\.token is empty, so any host could stream to the control plane; set grpc\.token, or grpc\.allow_unauthenticated_non_loopback: true to accept that$/;
const ADMIN_REFUSED =
  /^admin\.host: "(.*)" is not a loopback address and neither admin\.token nor admin\.read_token is set, .* set a token, or admin\.allow_unauthenticated_non_loopback: true to accept that$/;

const XDS_REFUSED = /^xds\.host: "(.*)" is not a loopback address and the xDS server has no authentication, .* set xds\.allow_unauthenticated_non_loopback: true to accept that$/;

const listenCases: { name: string; doc: object; env?: NodeJS.ProcessEnv; refused: RegExp[] }[] = [
  { name: "xDS enabled on 0.0.0.0", doc: { xds: { enabled: true, host: "0.0.0.0" } }, refused: [XDS_REFUSED] },
  { name: "xDS enabled on loopback", doc: { xds: { enabled: true, host: "127.0.0.1" } }, refused: [] },
  { name: "xDS on 0.0.0.0 but disabled", doc: { xds: { enabled: false, host: "0.0.0.0" } }, refused: [] },
  { name: "xDS enabled on 0.0.0.0 with the opt-in", doc: { xds: { enabled: true, host: "0.0.0.0", allow_unauthenticated_non_loopback: true } }, refused: [] },
  { name: "the defaults (127.0.0.1, no tokens)", doc: {}, refused: [] },
  { name: "localhost without tokens", doc: { grpc: { host: "localhost" }, admin: { host: "LOCALHOST" } }, refused: [] },
  { name: "127.1.2.3 and ::1 without tokens", doc: { grpc: { host: "127.1.2.3" }, admin: { host: "::1" } }, refused: [] },
  { name: "gRPC on 0.0.0.0 without a token", doc: { grpc: { host: "0.0.0.0" } }, refused: [GRPC_REFUSED] },
  { name: "gRPC on :: without a token", doc: { grpc: { host: "::" } }, refused: [GRPC_REFUSED] },
  { name: "gRPC on a host name without a token", doc: { grpc: { host: "cp.example.test" } }, refused: [GRPC_REFUSED] },
  { name: "gRPC on 0.0.0.0 with a token", doc: { grpc: { host: "0.0.0.0", token: "s" } }, refused: [] },
  { name: "gRPC on 0.0.0.0 with the opt-in", doc: { grpc: { host: "0.0.0.0", allow_unauthenticated_non_loopback: true } }, refused: [] },
  { name: "the admin API on 10.0.0.5 without a token", doc: { admin: { host: "10.0.0.5" } }, refused: [ADMIN_REFUSED] },
  { name: "the admin API on 0.0.0.0 with only a read token", doc: { admin: { host: "0.0.0.0", read_token: "r" } }, refused: [] },
  { name: "the admin API on 0.0.0.0 with only an admin token", doc: { admin: { host: "0.0.0.0", token: "w" } }, refused: [] },
  { name: "the admin API on 0.0.0.0 with the opt-in", doc: { admin: { host: "0.0.0.0", allow_unauthenticated_non_loopback: true } }, refused: [] },
  {
    name: "both on 0.0.0.0 without tokens",
    doc: { grpc: { host: "0.0.0.0" }, admin: { host: "0.0.0.0" } },
    refused: [GRPC_REFUSED, ADMIN_REFUSED],
  },
  {
    name: "gRPC on 0.0.0.0 from the environment, with the opt-in from the environment",
    doc: {},
    env: { AUTOGLM_GRPC_HOST: "0.0.0.0", AUTOGLM_GRPC_ALLOW_UNAUTHENTICATED_NON_LOOPBACK: "true" },
    refused: [],
  },
];
for (const c of listenCases) {
  test(`listen addresses: ${c.name} ${c.refused.length === 0 ? "are accepted" : "are refused, naming the field"}`, () => {
    const problems = problemsOf(c.doc, c.env);
    assert.equal(problems.length, c.refused.length, problems.join("\n"));
    c.refused.forEach((pattern, i) => assert.match(problems[i]!, pattern));
  });
}

test("the opt-in must be a boolean", () => {
  assert.deepEqual(problemsOf({ grpc: { host: "127.0.0.1", allow_unauthenticated_non_loopback: "yes" } }), [
    'grpc.allow_unauthenticated_non_loopback: must be boolean, got "yes"',
  ]);
});

test("loopback addresses are 127.0.0.0/8, ::1 in any spelling and localhost", () => {
  const table: [string, boolean][] = [
    ["127.0.0.1", true],
    ["127.255.0.9", true],
    ["::1", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["localhost", true],
    ["0.0.0.0", false],
    ["::", false],
    ["128.0.0.1", false],
    ["192.168.1.2", false],
    ["localhost.example.test", false],
    ["", false],
  ];
  assert.deepEqual(
    table.map(([host]) => [host, isLoopbackHost(host)]),
    table,
  );
});

test("the admin read token and TLS are read, and their environment variables apply", () => {
  const config = configFromDocument(
    { clusters, admin: { token: "w", read_token: "r", tls: { cert_file: "admin.pem", key_file: "admin-key.pem" } } },
    {},
  );
  assert.equal(config.admin.readToken, "r");
  assert.deepEqual(config.admin.tls, { certFile: "admin.pem", keyFile: "admin-key.pem" });
  const fromEnv = configFromDocument(
    { clusters },
    { AUTOGLM_ADMIN_READ_TOKEN: "r2", AUTOGLM_ADMIN_TLS_CERT_FILE: "c.pem", AUTOGLM_ADMIN_TLS_KEY_FILE: "k.pem" },
  );
  assert.equal(fromEnv.admin.readToken, "r2");
  assert.deepEqual(fromEnv.admin.tls, { certFile: "c.pem", keyFile: "k.pem" });
});

const badCases: { name: string; doc: object; problems: string[] }[] = [
  { name: "a read token equal to the admin token", doc: { admin: { token: "same", read_token: "same" } }, problems: ["admin.read_token: must differ from admin.token (the read token must not be able to write)"] },
  { name: "admin TLS without a key", doc: { admin: { tls: { cert_file: "c.pem" } } }, problems: ["admin.tls.key_file: required"] },
  { name: "admin TLS with a CA (client certificates are not supported there)", doc: { admin: { tls: { cert_file: "c", key_file: "k", ca_file: "ca" } } }, problems: ["admin.tls.ca_file: unknown field"] },
  { name: "a read token that is not text", doc: { admin: { read_token: 5 } }, problems: ["admin.read_token: must be string, got 5"] },
];
for (const c of badCases) {
  test(`configuration with ${c.name} is refused`, () => {
    assert.deepEqual(problemsOf(c.doc), c.problems);
  });
}
