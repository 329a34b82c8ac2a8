// The dashboard's panel of top sources ("Who sends the traffic"), in headless Chromium (Debian's,
// as the other dashboard tests: missing, the test fails saying how to install it). The control
// plane runs on virtual time; sidecars report their sources over in-process streams.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { chromium, type Browser } from "playwright-core";
import { Registry } from "prom-client";
import { SidecarMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { latencyCounts } from "../control-plane/src/core/report-builder.js";
import { createLogger } from "../lib/log.js";

const CHROMIUM = "/usr/bin/chromium";
const LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const T0 = 1_700_000_000_000;

let browser: Browser;
before(async () => {
  assert.ok(existsSync(CHROMIUM), `Debian's chromium is missing at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does this in CI)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
});
after(async () => {
  await browser?.close();
});

test("the dashboard lists the top sources with their rate, share and error rate, marks a jump and names a limit, at 1280 and 420 px", async () => {
  let now = T0;
  const logger = createLogger("dashboard-sources-test", "silent");
  const cp = new ControlPlane({
    clusters: [{ name: "llm-a", baseWeight: 100 }],
    slo: { latencyMs: 2000, successRate: 0.99 },
    now: () => now,
    logger,
    config: { sources: { minHistory: 5, n: 2, m: 3, minRequests: 10 } },
  });
  const app = await buildAdminApp({
    controlPlane: cp,
    model: { status: () => ({ mode: "rules-only" }), reload: async () => ({ mode: "rules-only" }) },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    token: "",
    logger,
    now: () => now,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const stream = cp.openInProcessStream({}, { onMessage: () => {}, onClose: () => {} });
  stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, {
    kind: { case: "hello", value: { nodeId: "node-1", workerId: 0, clusters: ["llm-a"], capabilities: ["sources", "source_limits"] } },
  })));
  const step = async (i: number, sources: { source: string; requests: number; errors?: number }[]) => {
    const start = T0 + i * 1000;
    now = start + 1100;
    const total = sources.reduce((a, s) => a + s.requests, 0);
    const h = latencyCounts(new Array<number>(total).fill(100));
    stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, {
      kind: {
        case: "report",
        value: {
          windowStartMs: BigInt(start), windowLengthMs: 1000, sequence: BigInt(i + 1), enforcedVersion: 0n,
          clusters: [{ cluster: "llm-a", requests: total, totalLatency: { firstBucket: h.firstBucket, counts: [...h.counts], sumUs: BigInt(h.sumUs), maxUs: BigInt(h.maxUs) } }],
          sources: sources.map((s) => ({ overestimate: 0, errors: 0, limited: 0, ...s })),
          sourcesTotal: BigInt(total),
        },
      },
    })));
    now = start + 4100;
    await cp.decide();
  };
  try {
    for (let i = 0; i < 6; i++) await step(i, [{ source: "10.0.0.1", requests: 800, errors: 8 }, { source: "203.0.113.9", requests: 100 }, { source: "", requests: 20 }]);
    for (let i = 6; i < 8; i++) await step(i, [{ source: "10.0.0.1", requests: 800, errors: 8 }, { source: "203.0.113.9", requests: 2000 }, { source: "", requests: 20 }]);
    await cp.setSourceLimit({ source: "10.0.0.1", action: "cap", capPerS: 100, untilMs: now + 60_000, reason: "test", actor: "ops", atMs: now });
    for (const width of [1280, 420]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      try {
        await page.goto(origin + "/");
        await page.waitForSelector('#sources tr[data-source="203.0.113.9"]', { timeout: 30_000 });
        assert.equal(await page.isVisible("#sources"), true);
        const rows = await page.$$eval("#sources tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")));
        // The last minute: 8 windows of 1 s; 10.0.0.1 sent 6400 of 11 160 requests.
        assert.deepEqual(rows, [
          ["10.0.0.1", "800", "57.3%", "1.0%", "cap 100/s"],
          ["203.0.113.9", "575", "41.2%", "0.0%", "jumped"],
          ["(none)", "20", "1.4%", "0.0%", "normal"],
        ]);
        const flaggedColor = await page.evaluate('getComputedStyle(document.querySelector("#sources tr.flagged b")).color');
        assert.equal(flaggedColor, "rgb(229, 72, 77)", "the jump is red, as an open breaker");
        const overflow = await page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth");
        assert.equal(overflow, false, `no horizontal scroll at ${width} px`);
      } finally {
        await page.close();
      }
    }
  } finally {
    stream.close();
    await app.close();
    await cp.stop();
  }
});
