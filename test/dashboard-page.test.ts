import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { chromium } from "playwright-core";
import { Registry } from "prom-client";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { createLogger } from "../lib/log.js";

/** The part of a browser canvas the pixel check reads. */
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

const CHROMIUM = "/usr/bin/chromium";
const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

test("the dashboard renders the clusters, updates live when a breaker opens, and loads nothing external", async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `Debian's chromium is missing at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does this in CI)`,
  );
  const cp = new FakeControlPlane([
    { name: "llm-a", baseWeight: 50 },
    { name: "llm-b", baseWeight: 30 },
    { name: "llm-c", baseWeight: 20 },
  ]);
  for (const name of ["llm-a", "llm-b", "llm-c"]) cp.addWindow(name, { rps: 40, p99Ms: 900, errorRate: 0.002 });
  const app = await buildAdminApp({
    controlPlane: cp,
    model: { status: () => ({ mode: "model" }), reload: async () => ({ mode: "model" }) },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    token: "t",
    readToken: "r",
    logger: createLogger("dashboard-test", "silent"),
    now: Date.now,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  // Keep the fake's windows moving so the charts have points.
  const feeder = setInterval(() => {
    for (const name of ["llm-a", "llm-b", "llm-c"]) {
      const failing = name === "llm-b" && cp.currentDecisions().clusters.find((c) => c.cluster === "llm-b")?.state === "open";
      cp.addWindow(name, { rps: 30 + Math.random() * 20, p99Ms: failing ? 2600 : 800 + Math.random() * 200, errorRate: failing ? 0.3 : 0.002 });
    }
  }, 250);
  // playwright gives every launch() a fresh temporary profile (its own --user-data-dir); a
  // persistent context closed its page under load here.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const external: string[] = [];
    page.on("request", (req) => {
      if (!req.url().startsWith(origin)) external.push(req.url());
    });
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    // Tokens are configured: the page takes the read token from its fragment.
    await page.goto(origin + "/#token=r");
    await page.waitForSelector('.card[data-cluster="llm-c"]', { timeout: 90_000 });
    const names = await page.$$eval(".card .name", (els) => els.map((e) => e.textContent));
    assert.deepEqual(names, ["llm-a", "llm-b", "llm-c"]);
    assert.equal(await page.getAttribute('.card[data-cluster="llm-b"]', "data-state"), "closed");
    assert.match((await page.textContent('.card[data-cluster="llm-a"] .weight')) ?? "", /^50 \(50\.0%\)$/);

    await new Promise((r) => setTimeout(r, 2500));
    cp.openBreaker("llm-b", "error rate 0.30 > 0.05 (hard)");
    await page.waitForSelector('.card[data-cluster="llm-b"][data-state="open"]', { timeout: 90_000 });
    await page.waitForSelector("#transitions td.to-open", { timeout: 90_000 });
    assert.match((await page.textContent("#transitions tbody")) ?? "", /llm-b.*closed.*open.*error rate 0\.30 > 0\.05/s);
    assert.match((await page.textContent('.card[data-cluster="llm-b"] .reasons')) ?? "", /error rate 0\.30/);
    await new Promise((r) => setTimeout(r, 2500));

    // The charts have drawn lines (some non-background pixels in each canvas).
    const drawn = await page.$$eval("canvas", (canvases) =>
      canvases.map((c) => {
        // The browser's canvas, typed structurally (the project compiles without the DOM lib).
        const canvas = c as unknown as CanvasLike;
        const ctx = canvas.getContext("2d")!;
        const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        let ink = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) ink++;
        return ink;
      }),
    );
    assert.equal(drawn.length, 4);
    for (const ink of drawn) assert.ok(ink > 500, `a chart drew ${ink} pixels`);

    await mkdir("out", { recursive: true });
    await page.screenshot({ path: "out/dashboard.png", fullPage: true });
    assert.deepEqual(external, [], "the page requested nothing outside the control plane");
    assert.deepEqual(pageErrors, []);
  } finally {
    clearInterval(feeder);
    await browser.close();
    await app.close();
  }
});
