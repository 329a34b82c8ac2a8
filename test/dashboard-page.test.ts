import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";
import { Registry } from "prom-client";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { CLUSTER_COLORS } from "../control-plane/src/dashboard/palette.js";
import { snapshotAccess, SnapshotRecorder, SnapshotStore } from "../control-plane/src/snapshots/index.js";
import { createLogger } from "../lib/log.js";
import { connectWorker, type ClusterTraffic } from "./support/in-process-sidecar.js";
import { mergedStreams, times } from "./support/streams.js";

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

// One browser for the file: playwright gives every launch() a fresh temporary profile (its own
// --user-data-dir); a persistent context closed its page under load here.
let browser: Browser;
before(async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `Debian's chromium is missing at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does this in CI)`,
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
});
after(async () => {
  await browser?.close();
});

test("the dashboard renders the clusters, updates live when a breaker opens, links the opening to its fault snapshot, and loads nothing external", async (t) => {
  const cp = new FakeControlPlane([
    { name: "llm-a", baseWeight: 50 },
    { name: "llm-b", baseWeight: 30 },
    { name: "llm-c", baseWeight: 20 },
  ]);
  for (const name of ["llm-a", "llm-b", "llm-c"]) cp.addWindow(name, { rps: 40, p99Ms: 900, errorRate: 0.002 });
  const logger = createLogger("dashboard-test", "silent");
  const snapshotDir = await mkdtemp(join(tmpdir(), "autoglm-dashboard-snapshots-"));
  t.after(() => rm(snapshotDir, { recursive: true, force: true }));
  const store = await SnapshotStore.open({ dir: snapshotDir, maxFiles: 10, maxBytes: 1e9, logger });
  const recorder = new SnapshotRecorder({
    store,
    facts: () => ({ atMs: Date.now(), decisions: cp.currentDecisions(), clusters: cp.clusterStatuses(), sidecars: cp.sidecarStatuses(), gone: cp.goneSidecars(), model: { mode: "model", featureNames: [] } }),
    config: {},
    secrets: [],
    windowsBefore: 3,
    windowsAfter: 2,
    logger,
  });
  // Bound before the admin app, as server.ts does: the recorder names the snapshot before the dashboard shows the transition.
  recorder.bind({ on: (event, listener) => (cp.on(event, listener), () => cp.off(event, listener)) });
  t.after(() => recorder.close());
  const app = await buildAdminApp({
    snapshots: snapshotAccess(store, recorder),
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
      const rps = Math.round(30 + Math.random() * 20);
      // llm-a serves streamed responses (LLM output): its TTFT and TPOT p99 are charted too.
      // TPOT stays above 25 ms, so the axis (rounded up to 1, 2, 2.5 or 5 × 10^k) ends at 50 ms
      // whichever windows the chart holds (20–30 ms made it end at 25 when all drawn were below).
      const streams = name === "llm-a" ? { streams: mergedStreams({ ttftMs: times(rps, 300 + Math.random() * 200), tpotMs: times(rps, 27 + Math.random() * 3), tokensOut: rps * 200 }) } : {};
      cp.addWindow(name, { rps, requests: rps, p99Ms: failing ? 2600 : 800 + Math.random() * 200, errorRate: failing ? 0.3 : 0.002, ...streams });
    }
  }, 250);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
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
    cp.emit("round", { atMs: Date.now(), durationMs: 1, windowsClosed: 1, version: cp.currentDecisions().version, changed: true, computedAtHrMs: 0 });
    await page.waitForSelector("#transitions td.to-open", { timeout: 90_000 });
    assert.match((await page.textContent("#transitions tbody")) ?? "", /llm-b.*closed.*open.*error rate 0\.30 > 0\.05.*snapshot/s);
    // The row's link downloads the snapshot with the page's read token.
    const [download] = await Promise.all([
      page.waitForResponse((r) => r.url().includes("/v1/snapshots/"), { timeout: 90_000 }),
      page.click("#transitions a.snapshot"),
    ]);
    assert.equal(download.status(), 200);
    const [taken] = store.list();
    assert.deepEqual([taken?.cause, taken?.cluster], ["breaker_open", "llm-b"]);
    assert.ok(download.url().endsWith(`/v1/snapshots/${taken!.id}`), download.url());
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
    assert.equal(drawn.length, 8);
    for (const ink of drawn) assert.ok(ink > 500, `a chart drew ${ink} pixels`);
    // The stream charts: llm-a's TTFT and TPOT p99 (the only cluster with streams) have lines,
    // their axes end above its values; its card shows them.
    const streamAxes = await page.$$eval("#chart-ttft, #chart-tpot", (els) => els.map((c) => Number(c.getAttribute("data-y-max"))));
    assert.ok(streamAxes[0]! >= 500 && streamAxes[0]! <= 1000, `TTFT axis ends at ${streamAxes[0]} ms`);
    assert.ok(streamAxes[1]! >= 30 && streamAxes[1]! <= 50, `TPOT axis ends at ${streamAxes[1]} ms`);
    assert.match((await page.textContent('.card[data-cluster="llm-a"] .ttft')) ?? "", /^\d+ ms$/);
    assert.match((await page.textContent('.card[data-cluster="llm-a"] .tpot')) ?? "", /^\d+ ms$/);
    assert.match((await page.textContent('.card[data-cluster="llm-a"] .streams')) ?? "", / tok\/s$/);
    assert.equal(await page.$('.card[data-cluster="llm-b"] .ttft'), null, "no TTFT row without streams");

    await mkdir("out", { recursive: true });
    await page.screenshot({ path: "out/dashboard.png", fullPage: true });
    assert.deepEqual(external, [], "the page requested nothing outside the control plane");
    assert.deepEqual(pageErrors, []);
  } finally {
    clearInterval(feeder);
    await page.close();
    await app.close();
  }
});

/** Eight clusters, equal base weights: the decision set sends each 1/8 of the traffic. */
const CLUSTERS = ["llm-a", "llm-b", "llm-c", "llm-d", "llm-e", "llm-f", "llm-g", "llm-h"];
/** Per window, what the healthy sidecar measures (it follows no weights: 18 vs 1 req/s for
 *  llm-a and llm-b, as in the issue); llm-g fails every request, llm-h gets nothing. */
const HEALTHY: Record<string, ClusterTraffic> = {
  "llm-a": { requests: 18 },
  "llm-b": { requests: 1 },
  "llm-c": { requests: 5 },
  "llm-d": { requests: 5, latencyMs: 400 },
  "llm-e": { requests: 5 },
  "llm-f": { requests: 5, latencyMs: 250 },
  "llm-g": { requests: 10, errors5xx: 10 },
  "llm-h": { requests: 0 },
};
/** What the refusing sidecar measures per window (it keeps its own old weights). */
const REFUSING: Record<string, ClusterTraffic> = { "llm-a": { requests: 9 }, "llm-c": { requests: 1 }, "llm-d": { requests: 1 }, "llm-h": { requests: 0 } };
const REFUSAL = "decision set v3: cluster llm-z is not configured in this sidecar";

/** The measured share the page should show for a cluster, once every counted window holds the
 *  reports of both live sidecars: its requests over all requests, as the card prints it. */
function expectedShare(cluster: string): string {
  const requests = (t: Record<string, ClusterTraffic>, c: string) => t[c]?.requests ?? 0;
  const total = CLUSTERS.reduce((a, c) => a + requests(HEALTHY, c) + requests(REFUSING, c), 0);
  return (((requests(HEALTHY, cluster) + requests(REFUSING, cluster)) / total) * 100).toFixed(1) + "%";
}

/** Listens to what a page does that a user would see as broken. */
function watch(page: Page, origin: string) {
  const seen = { external: [] as string[], errors: [] as string[], failed: [] as string[], icons: [] as string[] };
  page.on("request", (req) => {
    if (!req.url().startsWith(origin)) seen.external.push(req.url());
  });
  page.on("pageerror", (err) => seen.errors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error") seen.errors.push(msg.text());
  });
  page.on("response", (res) => {
    if (res.status() >= 400) seen.failed.push(`${res.status()} ${res.url()}`);
    if (res.url().includes("/favicon.")) seen.icons.push(`${res.status()} ${res.headers()["content-type"]}`);
  });
  return seen;
}

test("the dashboard shows measured traffic next to the weights sent and a red banner for refusing, gone and returning sidecars, at 1280 and 420 px", async () => {
  const startedAt = Date.now();
  const cp = new ControlPlane({
    clusters: CLUSTERS.map((name) => ({ name, baseWeight: 100 })),
    slo: { latencyMs: 2000, successRate: 0.99 },
    logger: createLogger("dashboard-test", "silent"),
  });
  const app = await buildAdminApp({
    controlPlane: cp,
    model: { status: () => ({ mode: "rules-only" }), reload: async () => ({ mode: "rules-only" }) },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    token: "",
    logger: createLogger("dashboard-test", "silent"),
    now: Date.now,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  cp.start();

  const healthy = connectWorker(cp, { nodeId: "node-healthy", clusters: CLUSTERS, answer: "ack" });
  const refusing = connectWorker(cp, { nodeId: "node-refusing", zone: "zone-b", clusters: CLUSTERS, answer: { nack: REFUSAL } });
  const gone = connectWorker(cp, { nodeId: "node-gone", workerId: 1, clusters: CLUSTERS, answer: "ack" });
  connectWorker(cp, { nodeId: "node-back", workerId: 2, clusters: CLUSTERS, answer: "ack", back: { disconnectedMs: 93_250, fallbackMs: 63_250 } });
  /** The window that ended last (1 s windows on the wall clock). */
  const lastWindow = () => Math.floor(Date.now() / 1000) * 1000 - 1000;
  gone.report(lastWindow(), HEALTHY);
  gone.close();
  const feeder = setInterval(() => {
    healthy.report(lastWindow(), HEALTHY);
    refusing.report(lastWindow(), REFUSING);
  }, 1000);
  const pages: Page[] = [];
  try {
    // An operator forces llm-c open once the dashboard has samples: a transition marker on the charts.
    await new Promise((r) => setTimeout(r, 3000));
    await cp.setOverride({ cluster: "llm-c", state: "open", reason: "maintenance", actor: "test" });
    const listed = await fetch(`${origin}/v1/sidecars`).then((r) => r.json() as Promise<{ sidecars: { node_id: string; refusing: boolean }[]; gone: { node_id: string; reason: string }[] }>);
    assert.deepEqual(listed.gone.map((g) => [g.node_id, g.reason]), [["node-gone", "sidecar closed the stream"]]);

    for (const path of ["/favicon.svg", "/favicon.ico"]) {
      const icon = await fetch(origin + path);
      assert.equal(icon.status, 200, path);
      assert.equal(icon.headers.get("content-type"), "image/svg+xml", path);
      assert.match(await icon.text(), /^<svg /, path);
    }

    await mkdir("out", { recursive: true });
    for (const width of [1280, 420]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      pages.push(page);
      const seen = watch(page, origin);
      await page.goto(origin + "/");
      // The measured shares settle once the counted windows hold both live sidecars' reports
      // (the gone one's single report drops out).
      await page.waitForFunction(
        `document.querySelector('.card[data-cluster="llm-a"] .measured')?.textContent?.includes(${JSON.stringify(expectedShare("llm-a"))}) === true`,
        undefined,
        { timeout: 90_000 },
      );

      // Let the charts get more data than the axis' 10 s minimum: it then follows the data.
      await page.waitForFunction(`Number(document.getElementById("chart-sent")?.getAttribute("data-span-ms")) > 14000`, undefined, { timeout: 90_000 });

      // The banner: one refusing, one gone, each with its reason and when it was last seen.
      assert.equal(await page.isVisible("#sidecar-alert"), true, "the banner shows");
      assert.match((await page.textContent("#sidecar-alert h2")) ?? "", /2 sidecar workers not following the control plane: 1 refuses the decisions, 1 is gone/);
      const refusingItem = (await page.textContent('#sidecar-alert li[data-kind="refusing"]')) ?? "";
      assert.match(refusingItem, /node-refusing worker 0 \(zone-b\): refuses decisions, keeps enforcing v0/);
      assert.ok(refusingItem.includes(REFUSAL), refusingItem);
      assert.match(refusingItem, /last seen .+ \(\d+ s ago\)/);
      const goneItem = (await page.textContent('#sidecar-alert li[data-kind="gone"]')) ?? "";
      assert.match(goneItem, /node-gone worker 1 \(zone-a\): gone, runs on its fallback: sidecar closed the stream · last seen .+ \(\d+ s ago\)/);
      // Below them, a worker that came back says how long it was away and how much of it on its fallback.
      const backItem = (await page.textContent('#sidecar-alert li[data-kind="back"]')) ?? "";
      assert.match(backItem, /node-back worker 2 \(zone-a\): follows again: back after 93 s, 63 s on its fallback · said hello .+ \(\d+ s ago\)/);
      const bannerColor = await page.evaluate('getComputedStyle(document.querySelector("#sidecar-alert")).borderLeftColor');
      assert.equal(bannerColor, "rgb(229, 72, 77)", "the banner is red");

      // Measured shares next to the weights sent; llm-a gets far more than it is sent.
      for (const cluster of ["llm-a", "llm-b", "llm-d"]) {
        assert.match((await page.textContent(`.card[data-cluster="${cluster}"] .measured`)) ?? "", new RegExp(`^(⚠ )?${expectedShare(cluster).replace(".", "\\.")} · `), cluster);
      }
      assert.equal(await page.$eval('.card[data-cluster="llm-a"] .measured', (el) => el.className), "measured diverges");
      assert.match((await page.textContent('.card[data-cluster="llm-a"] .weight')) ?? "", /^\d+ \(\d+\.\d%\)$/);
      // A cluster without traffic says so, instead of 0 % errors.
      assert.equal(await page.textContent('.card[data-cluster="llm-h"] .errors'), "no traffic");
      assert.equal(await page.textContent('.card[data-cluster="llm-h"] .measured'), "no traffic");

      // Every chart has a legend for every cluster (eight distinct colours) and every marker.
      const legends = await page.$$eval(".legend", (els) =>
        els.map((el) => ({
          clusters: [...el.querySelectorAll("[data-cluster]")].map((s) => [s.textContent, (s as never as { style: { getPropertyValue(p: string): string } }).style.getPropertyValue("--c")]),
          markers: [...el.querySelectorAll("[data-marker]")].map((s) => s.getAttribute("data-marker")),
        })),
      );
      assert.equal(legends.length, 8);
      for (const legend of legends) {
        assert.deepEqual(legend.clusters.map(([name]) => name), CLUSTERS);
        assert.deepEqual(legend.clusters.map(([, color]) => color), CLUSTER_COLORS.slice(0, 8));
        assert.deepEqual(legend.markers, ["open", "half_open", "closed"]);
      }

      // The time axis spans the data the page has, not a fixed five minutes; shares and error
      // rates end at 100 % (llm-g fails every request).
      const axes = await page.$$eval("canvas", (els) => els.map((c) => ({ id: c.id, span: Number(c.getAttribute("data-span-ms")), ticks: c.getAttribute("data-ticks") ?? "", yMax: Number(c.getAttribute("data-y-max")) })));
      const elapsed = Date.now() - startedAt;
      for (const axis of axes) {
        assert.ok(axis.span > 14_000 && axis.span <= elapsed, `${axis.id}: time span ${axis.span} ms within (14 s, ${elapsed} ms]`);
        assert.match(axis.ticks, /^now,-\d+ s/, axis.id);
      }
      assert.equal(axes.find((a) => a.id === "chart-errors")?.yMax, 1);
      assert.equal(axes.find((a) => a.id === "chart-measured")?.yMax, 1);

      // The icon is linked and served; nothing failed, nothing external was asked for.
      assert.equal(await page.getAttribute('link[rel="icon"]', "href"), "/favicon.svg");
      assert.ok(seen.icons.some((i) => i === "200 image/svg+xml"), `the icon was served: ${seen.icons.join(", ")}`);
      assert.deepEqual(seen.failed, [], "no request failed");
      assert.deepEqual(seen.errors, [], "no error in the console");
      assert.deepEqual(seen.external, [], "the page requested nothing outside the control plane");
      await page.screenshot({ path: `out/dashboard-${width}.png`, fullPage: true });
    }
  } finally {
    clearInterval(feeder);
    for (const page of pages) await page.close();
    healthy.close();
    refusing.close();
    await app.close();
    await cp.stop();
  }
});
