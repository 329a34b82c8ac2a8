import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ControlMessageSchema, SidecarMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { CONNECT_PATH, startGrpcServer, type GrpcServerHandle } from "../control-plane/src/grpc/server.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";

const logger = createLogger("test", "silent");
const TOKEN = "test-token";
const CLUSTERS = Array.from({ length: 60 }, (_, i) => ({ name: `cluster-with-a-long-name-${i}`, baseWeight: 10 }));
const toBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const hello = (node: string) => toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId: node, zone: "z", workerId: 0 } } }));

interface Client {
  call: grpc.ClientDuplexStream<Uint8Array, Buffer>;
  versions: number[];
  status: Promise<grpc.StatusObject>;
}

function connect(client: grpc.Client, token?: string): Client {
  const md = new grpc.Metadata();
  if (token !== undefined) md.set("authorization", `Bearer ${token}`);
  const call = client.makeBidiStreamRequest<Uint8Array, Buffer>(CONNECT_PATH, toBuffer, (b) => b, md);
  const versions: number[] = [];
  call.on("data", (bytes: Buffer) => {
    const m = fromBinary(ControlMessageSchema, bytes);
    if (m.kind.case === "decisions") versions.push(Number(m.kind.value.version));
  });
  const status = new Promise<grpc.StatusObject>((resolve) => {
    call.on("status", resolve);
    call.on("error", () => undefined);
  });
  return { call, versions, status };
}

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("gRPC server", () => {
  let cp: ControlPlane;
  let server: GrpcServerHandle;
  let client: grpc.Client;
  before(async () => {
    cp = new ControlPlane({ clusters: CLUSTERS, slo: { latencyMs: 2000, successRate: 0.99 }, sidecarToken: TOKEN, logger });
    server = await startGrpcServer(cp, { address: "127.0.0.1:0", logger, maxMessageBytes: 64 * 1024 });
    client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await cp.stop();
    await server.close();
  });

  const authCases: [name: string, token: string | undefined][] = [
    ["without a token", undefined],
    ["with a wrong token", "nope"],
  ];
  for (const [name, token] of authCases) {
    it(`a stream ${name} is closed with UNAUTHENTICATED`, async () => {
      const c = connect(client, token);
      c.call.write(hello("intruder"));
      const status = await c.status;
      assert.equal(status.code, grpc.status.UNAUTHENTICATED);
      assert.match(status.details, /bearer token/);
    });
  }

  it("a malformed message closes that stream with INVALID_ARGUMENT and the server keeps serving the others", async () => {
    const good = connect(client, TOKEN);
    good.call.write(hello("good"));
    await until(() => good.versions.length > 0, "the good stream's first decision set");
    const bad = connect(client, TOKEN);
    bad.call.write(hello("bad"));
    bad.call.write(new Uint8Array([0x0a, 0xff, 0xff, 0xff]));
    const status = await bad.status;
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    assert.match(status.details, /malformed SidecarMessage/);
    const set = await cp.halt("drill", "test");
    await until(() => good.versions.at(-1) === set.version, "the good stream to get the new version");
    await cp.resume("drill over", "test");
    good.call.end();
  });

  it("a message over the size limit is refused", async () => {
    const c = connect(client, TOKEN);
    c.call.write(hello("big"));
    c.call.write(new Uint8Array(128 * 1024));
    const status = await c.status;
    assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED);
  });

  it("a stream that does not read never stalls the decision loop and gets the latest set when it reads again", async () => {
    // Separate connections: HTTP/2 flow control of one connection is shared by its streams.
    const slowClient = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
    const slow = connect(slowClient, TOKEN);
    const fast = connect(client, TOKEN);
    slow.call.write(hello("slow"));
    fast.call.write(hello("fast"));
    await until(() => slow.versions.length > 0 && fast.versions.length > 0, "both streams' first sets");
    slow.call.pause();
    const started = Date.now();
    let last = 0;
    for (let i = 0; i < 300; i++) {
      const set = await cp.setOverride({ cluster: CLUSTERS[i % CLUSTERS.length]!.name, state: i % 2 === 0 ? "open" : "auto", reason: `toggle ${i} ${"x".repeat(200)}`, actor: "test" });
      last = set.version;
    }
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 60_000, `300 rounds took ${elapsed} ms`);
    await until(() => fast.versions.at(-1) === last, "the fast stream to get the last version");
    const dropped = cp.sidecarStatuses().find((s) => s.nodeId === "slow")!.droppedPushes;
    assert.ok(dropped > 0, "pushes to the slow stream were replaced by newer ones");
    slow.call.resume();
    await until(() => slow.versions.at(-1) === last, "the slow stream to catch up with the latest version");
    // On a loaded machine the fast stream drops intermediate sets too, so only "not more" holds.
    assert.ok(slow.versions.length <= fast.versions.length, `slow got ${slow.versions.length}, fast ${fast.versions.length}`);
    slow.call.end();
    fast.call.end();
    slowClient.close();
  });
});

describe("gRPC server without a configured message size", () => {
  it("refuses a 2 MiB message (RESOURCE_EXHAUSTED) and still serves normal streams", async () => {
    const cp = new ControlPlane({ clusters: CLUSTERS, slo: { latencyMs: 2000, successRate: 0.99 }, logger });
    const server = await startGrpcServer(cp, { address: "127.0.0.1:0", logger });
    const client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    try {
      const big = connect(client);
      big.call.write(hello("x".repeat(2 * 1024 * 1024)));
      const status = await Promise.race([big.status, new Promise<undefined>((r) => setTimeout(r, 20_000, undefined).unref())]);
      assert.equal(status?.code, grpc.status.RESOURCE_EXHAUSTED, "the stream was refused within 20 s");
      big.call.cancel();
      const good = connect(client);
      good.call.write(hello("good"));
      await until(() => good.versions.length > 0, "the good stream's first decision set");
      good.call.end();
    } finally {
      client.close();
      await cp.stop();
      await server.close();
    }
  });
});
