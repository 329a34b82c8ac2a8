import { test } from "node:test";
import assert from "node:assert/strict";
import type { GoneSidecar } from "../control-plane/src/core/gone-sidecars.js";
import type { SidecarStatus } from "../control-plane/src/core/types.js";
import { BACK_SHOWN_MS, sidecarAlerts } from "../control-plane/src/dashboard/sidecar-alerts.js";
import { dashboardSnapshot, MAX_SIDECAR_ALERTS } from "../control-plane/src/dashboard/snapshot.js";

const T0 = 1_800_000_000_000;

function connected(nodeId: string, extra: Partial<SidecarStatus> = {}): SidecarStatus {
  return {
    streamId: `s-${nodeId}`, transport: "grpc", peer: "p", nodeId, zone: "zone-a", workerId: 0, instanceId: "1", filterVersion: "0.1.0",
    connectedAtMs: T0 - 60_000, ackedVersion: 5, rejectedVersion: 0, rejectReason: "", enforcedVersion: 5, lagVersions: 0,
    refusing: false, reports: 0, duplicates: 0, lateReports: 0, droppedPushes: 0, ...extra,
  };
}

function gone(nodeId: string, extra: Partial<GoneSidecar> = {}): GoneSidecar {
  return {
    nodeId, zone: "zone-b", workerId: 1, instanceId: "2", filterVersion: "0.1.0", transport: "grpc", peer: "p", streamId: `s-${nodeId}`,
    connectedAtMs: T0 - 90_000, disconnectedAtMs: T0 - 30_000, reason: "stream cancelled", enforcedVersion: 4, refusing: false, rejectReason: "", ...extra,
  };
}

test("the banner lists refusing workers, then gone ones, each with the reason and when it was last seen; following workers are not listed", () => {
  const alerts = sidecarAlerts(
    [
      connected("fine"),
      connected("refuses", { refusing: true, rejectedVersion: 9, rejectReason: "unknown cluster llm-z", lastReportAtMs: T0 - 2000 }),
      connected("refuses-silent", { refusing: true, rejectReason: "bad", enforcedVersion: 3 }),
    ],
    [gone("left"), gone("left-refusing", { refusing: true, rejectReason: "unknown cluster llm-z" })],
  );
  assert.deepEqual(
    alerts.map((a) => [a.kind, a.node_id, a.reason, a.last_seen_at_ms, a.enforced_version]),
    [
      ["refusing", "refuses", "unknown cluster llm-z", T0 - 2000, 5],
      ["refusing", "refuses-silent", "bad", T0 - 60_000, 3], // never reported: last seen at its hello
      ["gone", "left", "stream cancelled", T0 - 30_000, 4],
      ["gone", "left-refusing", "stream cancelled (it was refusing decisions: unknown cluster llm-z)", T0 - 30_000, 4],
    ],
  );
});

test("no banner entries when every connected worker follows and none is gone", () => {
  assert.deepEqual(sidecarAlerts([connected("a"), connected("b")], []), []);
});

test("a snapshot carries at most MAX_SIDECAR_ALERTS banner entries, refusing ones first, and the counts of all", () => {
  const cases: { refusing: number; gone: number; sent: number; firstGone: number }[] = [
    { refusing: 0, gone: 0, sent: 0, firstGone: -1 },
    { refusing: 1, gone: 1, sent: 2, firstGone: 1 },
    { refusing: 30, gone: 300, sent: MAX_SIDECAR_ALERTS, firstGone: 30 },
    { refusing: 2000, gone: 10, sent: MAX_SIDECAR_ALERTS, firstGone: -1 },
  ];
  for (const c of cases) {
    const snap = dashboardSnapshot({
      nowMs: T0,
      statuses: [],
      decisions: { version: 1, issuedAtMs: T0, ttlMs: 30_000, halted: false, haltReason: "", clusters: [] },
      sidecars: Array.from({ length: c.refusing }, (_, i) => connected(`r${i}`, { refusing: true, rejectReason: "bad" })),
      gone: Array.from({ length: c.gone }, (_, i) => gone(`g${i}`)),
      model: "model",
    });
    const name = `${c.refusing} refusing, ${c.gone} gone`;
    assert.equal(snap.sidecar_alerts.length, c.sent, name);
    assert.equal(snap.sidecar_alerts.findIndex((a) => a.kind === "gone"), c.firstGone, name);
    assert.deepEqual(snap.sidecar_alert_counts, { refusing: c.refusing, unconfirmed: 0, gone: c.gone, back: 0 }, name);
  }
});

test("a worker that came back is listed after the others for BACK_SHOWN_MS after its hello: back after N s, M s on its fallback", () => {
  const back = (nodeId: string, extra: Partial<SidecarStatus>) => connected(nodeId, { connectedAtMs: T0 - 10_000, disconnectedMs: 93_250, fallbackMs: 63_250, ...extra });
  const cases: { name: string; worker: SidecarStatus; listed: string | null }[] = [
    { name: "back 10 s ago", worker: back("w", {}), listed: "back after 93 s, 63 s on its fallback" },
    { name: "back exactly BACK_SHOWN_MS ago", worker: back("w", { connectedAtMs: T0 - BACK_SHOWN_MS }), listed: "back after 93 s, 63 s on its fallback" },
    { name: "back longer ago", worker: back("w", { connectedAtMs: T0 - BACK_SHOWN_MS - 1 }), listed: null },
    { name: "back within its ttl (no fallback)", worker: back("w", { disconnectedMs: 4_000, fallbackMs: 0 }), listed: "back after 4 s, 0 s on its fallback" },
    { name: "on its first connection", worker: back("w", { disconnectedMs: 0, fallbackMs: 0 }), listed: null },
    { name: "from a filter that does not report it", worker: connected("w", { connectedAtMs: T0 - 10_000 }), listed: null },
  ];
  for (const c of cases) {
    const alerts = sidecarAlerts([c.worker], [], T0);
    assert.deepEqual(alerts.map((a) => [a.kind, a.reason]), c.listed === null ? [] : [["back", c.listed]], c.name);
  }
  const refusingToo = sidecarAlerts([back("r", { refusing: true, rejectReason: "bad" }), back("b", {})], [gone("g")], T0);
  assert.deepEqual(refusingToo.map((a) => [a.kind, a.node_id]), [["refusing", "r"], ["gone", "g"], ["back", "b"]], "a refusing worker is listed as refusing only");
  const snap = dashboardSnapshot({
    nowMs: T0, statuses: [], decisions: { version: 1, issuedAtMs: T0, ttlMs: 30_000, halted: false, haltReason: "", clusters: [] },
    sidecars: [back("b", {})], gone: [], model: "model",
  });
  assert.deepEqual(snap.sidecar_alert_counts, { refusing: 0, unconfirmed: 0, gone: 0, back: 1 });
});
