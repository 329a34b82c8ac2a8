import { test } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import type { AuditRecord } from "../control-plane/src/audit/records.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { createLogger } from "../lib/log.js";

/** About 18 MB of NDJSON: many times the socket buffers and the chunk size. */
const RECORDS = 120_000;

function get(port: number, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers: { authorization: "Bearer t" } }, resolve);
    req.on("error", reject);
    req.end();
  });
}

async function text(res: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of res) body += chunk;
  return body;
}

test("a big audit export streams with backpressure while other routes stay responsive", async () => {
  let produced = 0;
  const cp = new FakeControlPlane([{ name: "llm-a", baseWeight: 1 }]);
  const app = await buildAdminApp({
    controlPlane: cp,
    model: { status: () => ({ mode: "rules-only" }), reload: async () => ({ mode: "rules-only" }) },
    readiness: { grpcListening: () => true },
    audit: {
      async *read() {
        for (let i = 0; i < RECORDS; i++) {
          produced++;
          const atMs = 1_700_000_000_000 + i;
          yield { atMs, kind: "transition", transition: { cluster: "llm-a", from: "closed", to: "open", atMs, reason: "p99 ok ".repeat(10) } } satisfies AuditRecord;
        }
      },
    },
    registry: new Registry(),
    token: "t",
    logger: createLogger("admin-test", "silent"),
    now: Date.now,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  try {
    const exportRes = await get(port, "/v1/audit");
    assert.equal(exportRes.statusCode, 200);
    assert.equal(exportRes.headers["transfer-encoding"], "chunked");
    // Read one chunk, then stop reading: the server must stop producing (backpressure).
    const first = await new Promise<Buffer>((resolve) => exportRes.once("data", resolve));
    exportRes.pause();
    assert.ok(first.length > 0);

    // While the export is stalled mid-way, the rest of the API answers.
    for (let i = 0; i < 5; i++) {
      const res = await get(port, "/v1/clusters");
      assert.equal(res.statusCode, 200);
      assert.equal(JSON.parse(await text(res)).clusters[0].name, "llm-a");
    }
    await new Promise((r) => setTimeout(r, 200));
    const producedWhilePaused = produced;
    assert.ok(
      producedWhilePaused < RECORDS / 2,
      `the reader ran ahead of the client: ${producedWhilePaused} of ${RECORDS} records produced while the client read one chunk`,
    );

    // Now read the rest, counting lines without keeping them, and poll healthz meanwhile.
    let lines = 0;
    let tail = first.toString("utf8");
    const healthDuringExport: number[] = [];
    const poller = (async () => {
      while (produced < RECORDS) {
        const res = await get(port, "/healthz");
        await text(res);
        healthDuringExport.push(res.statusCode ?? 0);
      }
    })();
    exportRes.resume();
    for await (const chunk of exportRes) {
      const textChunk = tail + (chunk as Buffer).toString("utf8");
      const parts = textChunk.split("\n");
      tail = parts.pop()!;
      lines += parts.length;
    }
    await poller;
    assert.equal(tail, "");
    assert.equal(lines, RECORDS);
    assert.ok(healthDuringExport.length > 0 && healthDuringExport.every((s) => s === 200), `healthz during export: ${healthDuringExport.join(",")}`);
  } finally {
    await app.close();
  }
});
