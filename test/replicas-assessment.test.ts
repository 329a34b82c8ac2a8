// The leader's compact assessment (core/assessment.ts): taken when a breaker moves and every few
// seconds, stored (replicas: etcd), and continued by a new leader, so that it keeps an open
// breaker's time and backoff, the cooldowns and recent windows instead of starting blind. On
// virtual time, without etcd (the store is a recorder; replicas-etcd.test.ts runs it on etcd).
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { ASSESSMENT_MAX_AGE_MS, encodeAssessment, parseAssessment, usableAssessment, type Assessment } from "../control-plane/src/core/assessment.js";
import type { AuditRecord } from "../control-plane/src/audit/records.js";
import type { DecisionSet, PersistedState } from "../control-plane/src/core/types.js";
import { ControlPlane } from "../control-plane/src/service.js";
import type { StateStore } from "../control-plane/src/state/state-store.js";
import { createLogger } from "../lib/log.js";
import { clusterWindow } from "./cluster-window.js";
import { connectSidecar, type InProcessSidecar } from "./support/replica-sidecar.js";

const logger = createLogger("test", "silent");
const CLUSTERS = ["a", "b", "c"];

/** A state store that keeps the assessments it is given. */
function recordingStore(): StateStore & { saved: Assessment[] } {
  const saved: Assessment[] = [];
  return { restored: undefined, saved, append: async (_r: AuditRecord) => undefined, flush: async () => undefined, saveAssessment: (a) => saved.push(a) };
}

function replica(clock: { now: number }, store: StateStore): ControlPlane {
  return new ControlPlane({
    clusters: CLUSTERS.map((name) => ({ name, baseWeight: 1 })),
    slo: { latencyMs: 2000, successRate: 0.99 },
    now: () => clock.now,
    random: () => 0.5,
    logger,
    audit: store,
    follower: true,
    config: { detector: { warmupWindows: 3 }, breaker: { openBaseMs: 4000, openMaxMs: 64_000 } },
  });
}

/** One window: every sidecar reports (the `failing` clusters answering 5xx), the clock moves a window on, a round. */
async function window(cp: ControlPlane, sidecars: readonly InProcessSidecar[], clock: { now: number }, failing: readonly string[]): Promise<void> {
  const start = clock.now - (clock.now % 1000);
  for (const s of sidecars) s.report(start, { errorRate: Object.fromEntries(failing.map((c) => [c, 1])) });
  clock.now += 1000;
  await cp.decide();
}

const breakerOf = (cp: ControlPlane, cluster: string) => cp.clusterStatuses().find((s) => s.cluster === cluster)!.state;
const historyOf = (cp: ControlPlane, cluster: string) => cp.clusterStatuses().find((s) => s.cluster === cluster)!;

describe("a new leader continues the last leader's assessment", () => {
  it("the open breaker keeps its time and backoff, the recent windows carry over; from the published set alone both start again", async () => {
    const clock = { now: Date.UTC(2026, 0, 1) };
    const store = recordingStore();
    const old = replica(clock, store);
    // Replicas built together, as a Deployment's are; the others follow until they lead.
    const successor = replica(clock, recordingStore());
    const blind = replica(clock, recordingStore());
    const generation = old.generation();
    await old.lead(generation + 1, { overrides: [] }, 0);
    const sidecars = ["s0", "s1"].map((id) => connectSidecar(old, id, CLUSTERS));
    for (let i = 0; i < 8; i++) await window(old, sidecars, clock, []);
    // a fails; it opens, probes after its open period, fails again: a second, longer opening.
    for (let i = 0; i < 40 && (breakerOf(old, "a").kind !== "open" || (breakerOf(old, "a") as { openings: number }).openings < 2); i++) await window(old, sidecars, clock, ["a"]);
    const before = breakerOf(old, "a");
    assert.equal(before.kind, "open");
    assert.equal((before as { openings: number }).openings, 2, JSON.stringify(before));
    await window(old, sidecars, clock, ["a"]);
    assert.ok(store.saved.length > 0, "the leader saved its assessment");
    const stored = parseAssessment(encodeAssessment(store.saved.at(-1)!));
    assert.ok(stored.ok, stored.ok ? "" : stored.error);
    const shared: PersistedState = { overrides: [], decisions: old.currentDecisions(), assessment: stored.assessment };

    clock.now += 300;
    await successor.lead(generation + 2, shared, 0);
    assert.deepEqual(breakerOf(successor, "a"), before, "the same open period and openings");
    const gathered = (cp: ControlPlane, cluster: string) => (cp as unknown as { engine: { runtime: Map<string, { shareLog: unknown[] }> } }).engine.runtime.get(cluster)!.shareLog;
    assert.deepEqual(gathered(successor, "b"), gathered(old, "b"), "the shares the carried windows were gathered at");
    assert.deepEqual(
      historyOf(successor, "b").capacity,
      historyOf(old, "b").capacity,
      "capacity learnt from the carried windows (b was healthy throughout: same estimate)",
    );

    // Without the assessment: the published set alone.
    await blind.lead(generation + 2, { overrides: [], decisions: old.currentDecisions() }, 0);
    const restarted = breakerOf(blind, "a");
    assert.equal(restarted.kind, "open");
    assert.notEqual((restarted as { until: number }).until, (before as { until: number }).until);
    assert.equal((restarted as { openings: number }).openings, 1, "the backoff starts over");
    assert.notDeepEqual(historyOf(blind, "b").capacity, historyOf(old, "b").capacity, "nothing learnt yet");
    for (const cp of [old, successor, blind]) await cp.stop();
  });
});

const at = Date.UTC(2026, 0, 1);
const set = (states: Record<string, "open" | "closed" | "half_open">): DecisionSet =>
  ({ version: 5, issuedAtMs: at, ttlMs: 30_000, halted: false, clusters: Object.entries(states).map(([cluster, state]) => ({ cluster, state, weight: 1, anomalyScore: 0, reason: "", retryAfterS: 0 })) }) as unknown as DecisionSet;
const assessmentOf = (clusters: Record<string, "open" | "closed">, atMs = at): Assessment => ({
  atMs,
  version: 5,
  clusters: Object.entries(clusters).map(([cluster, kind]) => ({
    cluster,
    breaker: kind === "open" ? { kind, since: atMs - 1000, until: atMs + 9000, reason: "errors", openings: 2 } : { kind, since: atMs - 1000 },
    verdicts: [],
    recentScores: [],
    corroborations: [],
    lastMove: { direction: 0, roundsAgo: 0 },
    windows: [clusterWindow({ cluster, p50Ms: Number.NaN })],
    shareLog: [{ atMs: atMs - 5000, share: 0.5 }],
  })),
});

describe("which parts of an assessment a new leader uses", () => {
  const cases: { name: string; assessment: Assessment; inForce: DecisionSet | undefined; nowMs: number; usable: string[]; skipped: RegExp[] }[] = [
    { name: "every cluster in the state the published set says", assessment: assessmentOf({ a: "open", b: "closed" }), inForce: set({ a: "open", b: "closed" }), nowMs: at + 2000, usable: ["a", "b"], skipped: [] },
    { name: "not a cluster whose state changed since it was taken", assessment: assessmentOf({ a: "open", b: "closed" }), inForce: set({ a: "half_open", b: "closed" }), nowMs: at + 2000, usable: ["b"], skipped: [/a: its breaker was open, the published set says half_open/] },
    { name: "every cluster when no set was ever published", assessment: assessmentOf({ a: "open" }), inForce: undefined, nowMs: at, usable: ["a"], skipped: [] },
    { name: "nothing of an assessment too old", assessment: assessmentOf({ a: "open" }), inForce: set({ a: "open" }), nowMs: at + ASSESSMENT_MAX_AGE_MS + 1, usable: [], skipped: [/taken 600 s ago/] },
  ];
  for (const c of cases) {
    it(`uses ${c.name}`, () => {
      const { usable, skipped } = usableAssessment(c.assessment, c.inForce, c.nowMs);
      assert.deepEqual(usable.map((u) => u.cluster), c.usable);
      assert.equal(skipped.length, c.skipped.length, skipped.join("; "));
      c.skipped.forEach((re, i) => assert.match(skipped[i]!, re));
    });
  }
});

describe("a stored assessment is checked when read", () => {
  it("reads back what was written, an empty window's NaN quantiles and a breaker held open without end included", () => {
    const a = assessmentOf({ a: "open", b: "closed", c: "open" });
    a.clusters[2]!.breaker = { kind: "open", since: at, until: Number.POSITIVE_INFINITY, reason: "override", openings: 1 };
    const read = parseAssessment(encodeAssessment(a));
    assert.ok(read.ok);
    assert.deepEqual(read.assessment, a);
  });

  const good = JSON.parse(encodeAssessment(assessmentOf({ a: "open" }))) as Record<string, unknown> & { clusters: Record<string, unknown>[] };
  const withCluster = (over: Record<string, unknown>) => JSON.stringify({ ...good, clusters: [{ ...good.clusters[0], ...over }] });
  const damaged: { name: string; text: string; error: RegExp }[] = [
    { name: "text that is not JSON", text: "{", error: /^not JSON/ },
    { name: "no version", text: JSON.stringify({ ...good, version: "5" }), error: /atMs and version: expected numbers/ },
    { name: "a breaker of an unknown kind", text: withCluster({ breaker: { kind: "ajar", since: 1 } }), error: /clusters\[0\]\.breaker\.kind: expected closed, open or half_open, got "ajar"/ },
    { name: "an open breaker without its end", text: withCluster({ breaker: { kind: "open", since: 1, reason: "x", openings: 1 } }), error: /clusters\[0\]\.breaker: an open breaker needs until/ },
    { name: "a score out of range", text: withCluster({ recentScores: [2] }), error: /clusters\[0\]\.recentScores: expected numbers in \[0, 1\]/ },
    { name: "a window of another cluster", text: withCluster({ windows: [clusterWindow({ cluster: "z" })] }), error: /clusters\[0\]\.windows\[0\]: expected a window of a/ },
    { name: "a window with a text count", text: withCluster({ windows: [{ ...clusterWindow(), requests: "100" }] }), error: /clusters\[0\]\.windows\[0\]\.requests: expected a number/ },
    { name: "a planner move out of range", text: withCluster({ lastMove: { direction: 2, roundsAgo: 0 } }), error: /clusters\[0\]\.lastMove/ },
    { name: "a share above 1 in the share log", text: withCluster({ shareLog: [{ atMs: 1, share: 1.5 }] }), error: /clusters\[0\]\.shareLog: expected a list of \{atMs, share in \[0, 1\]\}/ },
  ];
  for (const d of damaged) {
    it(`refuses ${d.name}, naming the field`, () => {
      const read = parseAssessment(d.text);
      assert.equal(read.ok, false);
      if (!read.ok) assert.match(read.error, d.error);
    });
  }
});
