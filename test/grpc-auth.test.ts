// The sidecar gRPC server's bearer-token check, over a real socket: the right token is admitted
// (scheme case-insensitive, as RFC 7235 says), a wrong token of the same length, one of another
// length, another scheme and none are refused with UNAUTHENTICATED. The comparison itself is
// constant-time (SHA-256 digests through timingSafeEqual, control-plane/src/auth/bearer.ts).
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ControlMessageSchema, SidecarMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { bearerMatches, bearerToken, secretDigest } from "../control-plane/src/auth/bearer.js";
import { CONNECT_PATH, startGrpcServer, type GrpcServerHandle } from "../control-plane/src/grpc/server.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";

const logger = createLogger("test", "silent");
const TOKEN = "sidecar-token-0123456789";
const toBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const hello = toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId: "n", zone: "z", workerId: 0 } } }));

/** Opens a stream with `authorization` (if any) and resolves with what happened first. */
function attempt(client: grpc.Client, authorization: string | undefined): Promise<"admitted" | grpc.StatusObject> {
  const md = new grpc.Metadata();
  if (authorization !== undefined) md.set("authorization", authorization);
  const call = client.makeBidiStreamRequest<Uint8Array, Buffer>(CONNECT_PATH, toBuffer, (b) => b, md);
  return new Promise((resolve) => {
    call.on("data", (bytes: Buffer) => {
      if (fromBinary(ControlMessageSchema, bytes).kind.case === "decisions") {
        resolve("admitted");
        call.cancel();
      }
    });
    call.on("status", resolve);
    call.on("error", () => undefined);
    call.write(hello);
  });
}

const wrongSameLength = TOKEN.slice(0, -1) + (TOKEN.endsWith("x") ? "y" : "x");
const cases: { name: string; authorization: string | undefined; admitted: boolean }[] = [
  { name: "the right token", authorization: `Bearer ${TOKEN}`, admitted: true },
  { name: "the right token with a lower-case scheme", authorization: `bearer ${TOKEN}`, admitted: true },
  { name: "a wrong token of the same length", authorization: `Bearer ${wrongSameLength}`, admitted: false },
  { name: "a wrong token of another length", authorization: `Bearer ${TOKEN}0`, admitted: false },
  { name: "a prefix of the right token", authorization: `Bearer ${TOKEN.slice(0, 5)}`, admitted: false },
  { name: "the right token under another scheme", authorization: `Basic ${TOKEN}`, admitted: false },
  { name: "no token", authorization: undefined, admitted: false },
];

describe("the gRPC server's bearer token", () => {
  let cp: ControlPlane;
  let server: GrpcServerHandle;
  let client: grpc.Client;
  before(async () => {
    cp = new ControlPlane({ clusters: [{ name: "llm-a", baseWeight: 1 }], slo: { latencyMs: 2000, successRate: 0.99 }, sidecarToken: TOKEN, logger });
    server = await startGrpcServer(cp, { address: "127.0.0.1:0", logger });
    client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await cp.stop();
    await server.close();
  });

  for (const c of cases) {
    it(`a stream with ${c.name} is ${c.admitted ? "admitted" : "refused with UNAUTHENTICATED"}`, async () => {
      const outcome = await attempt(client, c.authorization);
      if (c.admitted) assert.equal(outcome, "admitted");
      else {
        assert.notEqual(outcome, "admitted");
        assert.equal((outcome as grpc.StatusObject).code, grpc.status.UNAUTHENTICATED);
        assert.match((outcome as grpc.StatusObject).details, /bearer token/);
      }
    });
  }
});

describe("bearer token parsing and comparison", () => {
  const expected = secretDigest("abc");
  const table: [header: string | undefined, token: string | undefined, matches: boolean][] = [
    ["Bearer abc", "abc", true],
    ["bearer abc", "abc", true],
    ["  BEARER   abc  ", "abc", true],
    ["Bearer abcd", "abcd", false],
    ["Bearer ab", "ab", false],
    ["Bearer abd", "abd", false],
    ["Bearer a bc", undefined, false],
    ["Bearer ", undefined, false],
    ["abc", undefined, false],
    ["", undefined, false],
    [undefined, undefined, false],
  ];
  for (const [header, token, matches] of table) {
    it(`${JSON.stringify(header ?? null)} carries ${JSON.stringify(token ?? null)} and ${matches ? "matches" : "does not match"} "abc"`, () => {
      assert.equal(bearerToken(header), token);
      assert.equal(bearerMatches(header, expected), matches);
    });
  }
  it("an empty expected token matches no header, not even a missing one", () => {
    assert.equal(bearerMatches(undefined, secretDigest("")), false);
    assert.equal(bearerMatches("Bearer ", secretDigest("")), false);
  });
});
