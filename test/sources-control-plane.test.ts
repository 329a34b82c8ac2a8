// Who sends the traffic through the control plane on virtual time: sidecars report their top
// sources over in-process streams, the admin API shows them merged (GET /v1/sources), limits set
// through it reach every sidecar's decisions (a cap as the admitted fraction of the source's
// merged rate), are audited, expire, and survive a restart through the audit records; a source
// whose share jumps is flagged as an event, an alert and an audit record.
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Registry } from "prom-client";
import { ControlMessageSchema, SidecarMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import type { AdminDeps } from "../control-plane/src/admin/deps.js";
import { applyRecord, parseRecord, type AuditRecord } from "../control-plane/src/audit/records.js";
import { encodeRecord } from "../control-plane/src/audit/record-codec.js";
import { csvRows } from "../control-plane/src/admin/audit-export.js";
import { sourceFlagAlert } from "../control-plane/src/alerts/bind.js";
import type { PersistedState } from "../control-plane/src/core/types.js";
import type { TriggerRule } from "../control-plane/src/core/triggers/index.js";
import type { SourceFlagEvent } from "../control-plane/src/core/sources/index.js";
import { createLogger } from "../lib/log.js";
import { latencyCounts } from "../control-plane/src/core/report-builder.js";

const T0 = 1_700_000_000_000;
const TOKEN = "admin-token";
const logger = createLogger("test", "silent");

/** A latency histogram of n requests of 100 ms each, as the wire spells it. */
function histogram(n: number) {
  const h = latencyCounts(new Array<number>(n).fill(100));
  return { firstBucket: h.firstBucket, counts: [...h.counts], sumUs: BigInt(h.sumUs), maxUs: BigInt(h.maxUs) };
}

interface Source { source: string; requests: number; overestimate?: number; errors?: number; limited?: number }

/** A control plane with two sidecars that report sources, an audit record list, and the admin app. */
async function harness(restored?: PersistedState, triggers: readonly TriggerRule[] = []) {
  let now = T0;
  const records: AuditRecord[] = [];
  const cp = new ControlPlane({
    clusters: [{ name: "a", baseWeight: 100 }],
    slo: { latencyMs: 2000, successRate: 0.99 },
    now: () => now,
    random: () => 0.5,
    logger,
    config: { sources: { minHistory: 5, n: 2, m: 3, minRequests: 10 } },
    audit: { restored, append: async (r) => void records.push(r), flush: async () => {} },
    triggers,
  });
  const received: Array<{ sourceLimits: { source: string; deny: boolean; admitFraction: number; capPerS: number }[] }> = [];
  const flags: SourceFlagEvent[] = [];
  cp.on("source_flag", (f) => flags.push(f));
  const streams = [0, 1].map((i) => {
    const stream = cp.openInProcessStream({}, {
      onMessage: (bytes) => {
        const m = fromBinary(ControlMessageSchema, bytes);
        if (m.kind.case === "decisions" && i === 0) received.push(m.kind.value);
      },
      onClose: () => {},
    });
    stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, {
      kind: { case: "hello", value: { nodeId: `node-${i}`, workerId: 0, clusters: ["a"], capabilities: ["sources", "source_limits"] } },
    })));
    return stream;
  });
  let seq = 0;
  let index = 0;
  /** One 1 s window: each sidecar i reports sources(i) (total: their requests; errorShare of them
   *  failed with a 5xx), then a round. */
  const step = async (sources: (sidecar: number) => Source[], errorShare = 0) => {
    const start = T0 + index * 1000;
    index++;
    seq++;
    now = start + 1100;
    streams.forEach((stream, i) => {
      const list = sources(i);
      const total = list.reduce((a, s) => a + s.requests, 0);
      stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, {
        kind: {
          case: "report",
          value: {
            windowStartMs: BigInt(start), windowLengthMs: 1000, sequence: BigInt(seq), enforcedVersion: 0n,
            clusters: [{ cluster: "a", requests: total, errors5xx: Math.round(total * errorShare), totalLatency: histogram(total) }],
            sources: list.map((s) => ({ overestimate: 0, errors: 0, limited: 0, ...s })),
            sourcesTotal: BigInt(total),
          },
        },
      })));
    });
    now = start + 1000 + 3100; // past the window's end and the late grace: the window is closed
    await cp.decide();
  };
  const deps: AdminDeps = {
    controlPlane: cp,
    model: { status: () => ({ mode: "rules-only" }), reload: async () => ({ mode: "rules-only" }) },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    token: TOKEN,
    logger,
    now: () => now,
  };
  const app = await buildAdminApp(deps);
  return { cp, app, records, received, flags, step, setNow: (t: number) => (now = t), now: () => now };
}

const auth = { authorization: `Bearer ${TOKEN}` };

test("GET /v1/sources merges both sidecars' sketches: QPS, share, error rate and the count's bounds", async () => {
  const h = await harness();
  try {
    for (let i = 0; i < 2; i++) {
      await h.step((s) => s === 0
        ? [{ source: "10.0.0.1", requests: 300, errors: 30 }, { source: "10.0.0.2", requests: 100 }]
        : [{ source: "10.0.0.1", requests: 100, overestimate: 20, errors: 8 }, { source: "10.0.0.3", requests: 20, overestimate: 20 }]);
    }
    const res = await h.app.inject({ method: "GET", url: "/v1/sources?window_s=10", headers: auth });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { windows: number; total_requests: number; unlisted_max_requests: number; sources: Record<string, unknown>[] };
    assert.equal(body.windows, 2);
    assert.equal(body.total_requests, 1040);
    assert.equal(body.unlisted_max_requests, 40, "sidecar 1 displaced sources: its smallest count, 20, per window");
    assert.deepEqual(body.sources[0], {
      source: "10.0.0.1", requests: 800, min_requests: 760, max_requests: 800, qps: 400, share: 800 / 1040,
      error_rate: 76 / 760, errors: 76, limited: 0, flagged: false, limit: null,
    });
    assert.deepEqual(body.sources.map((s) => [s.source, s.max_requests]), [["10.0.0.1", 800], ["10.0.0.2", 240], ["10.0.0.3", 40]]);
    const bad = await h.app.inject({ method: "GET", url: "/v1/sources?window_s=0", headers: auth });
    assert.equal(bad.statusCode, 400);
    assert.match((bad.json() as { message: string }).message, /window_s/);
  } finally {
    await h.app.close();
    await h.cp.stop();
  }
});

test("a cap set through the API reaches every sidecar as the fraction of the source's merged rate; a deny denies; both are audited and listed", async () => {
  const h = await harness();
  try {
    await h.step((s) => [{ source: "10.0.0.1", requests: s === 0 ? 300 : 100 }, { source: "k1", requests: 10 }]);
    const cap = await h.app.inject({ method: "POST", url: "/v1/sources/limits", headers: auth, payload: { source: "10.0.0.1", action: "cap", cap_per_s: 100, ttl_s: 60, reason: "scraper" } });
    assert.equal(cap.statusCode, 200, cap.body);
    const capBody = cap.json() as { limit: Record<string, unknown>; decisions: { source_limits: Record<string, unknown>[] } };
    assert.deepEqual(capBody.limit, { source: "10.0.0.1", action: "cap", cap_per_s: 100, until_ms: h.now() + 60_000, reason: "scraper", actor: "admin@127.0.0.1", at_ms: h.now() });
    // 400 req/s over both sidecars, capped at 100: each admits a quarter (300 -> 75, 100 -> 25).
    assert.deepEqual(capBody.decisions.source_limits, [{ source: "10.0.0.1", deny: false, admit_fraction: 0.25, cap_per_s: 100, retry_after_s: 1, reason: "source limit by admin@127.0.0.1: scraper" }]);
    assert.equal(h.received.at(-1)!.sourceLimits[0]!.admitFraction, 0.25, "the sidecars got it");
    const deny = await h.app.inject({ method: "POST", url: "/v1/sources/limits", headers: auth, payload: { source: "k1", action: "deny", ttl_s: 30, reason: "leaked key" } });
    assert.equal(deny.statusCode, 200, deny.body);
    assert.deepEqual(h.received.at(-1)!.sourceLimits.map((l) => [l.source, l.deny]), [["10.0.0.1", false], ["k1", true]]);
    const listed = (await h.app.inject({ method: "GET", url: "/v1/sources/limits", headers: auth })).json() as { limits: { source: string }[] };
    assert.deepEqual(listed.limits.map((l) => l.source), ["10.0.0.1", "k1"]);
    const view = (await h.app.inject({ method: "GET", url: "/v1/sources", headers: auth })).json() as { sources: { source: string; limit: { action: string } | null }[] };
    assert.equal(view.sources.find((s) => s.source === "k1")!.limit!.action, "deny");
    // The source halves its rate: the fraction follows, a window later.
    await h.step((s) => [{ source: "10.0.0.1", requests: s === 0 ? 150 : 50 }]);
    assert.equal(h.received.at(-1)!.sourceLimits[0]!.admitFraction, 0.5);
    const audited = h.records.filter((r) => r.kind === "source_limit").map((r) => r.kind === "source_limit" ? [r.cause, r.limit.source] : []);
    assert.deepEqual(audited, [["set", "10.0.0.1"], ["set", "k1"]]);
    const del = await h.app.inject({ method: "DELETE", url: "/v1/sources/limits", headers: auth, payload: { source: "k1", reason: "rotated" } });
    assert.equal(del.statusCode, 200, del.body);
    assert.deepEqual(h.received.at(-1)!.sourceLimits.map((l) => l.source), ["10.0.0.1"]);
    const again = await h.app.inject({ method: "DELETE", url: "/v1/sources/limits", headers: auth, payload: { source: "k1", reason: "again" } });
    assert.equal(again.statusCode, 404);
    assert.equal((again.json() as { code: string }).code, "AUTOGLM_ERR_SOURCE_LIMIT_UNKNOWN");
    // The cap's TTL ends: dropped from the decisions, audited as expired.
    h.setNow(h.now() + 61_000);
    await h.cp.decide();
    assert.deepEqual(h.received.at(-1)!.sourceLimits, []);
    assert.deepEqual(h.records.filter((r) => r.kind === "source_limit").map((r) => r.kind === "source_limit" ? r.cause : ""), ["set", "set", "removed", "expired"]);
  } finally {
    await h.app.close();
    await h.cp.stop();
  }
});

test("setting a limit is refused without the admin token or with a bad body, naming the field", async () => {
  const h = await harness();
  try {
    const cases: [Record<string, unknown>, Record<string, string>, number, RegExp][] = [
      [{ source: "x", action: "deny", ttl_s: 10, reason: "r" }, {}, 401, /./],
      [{ source: "x", action: "cap", ttl_s: 10, reason: "r" }, auth, 400, /cap_per_s: expected a rate > 0/],
      [{ source: "x", action: "block", ttl_s: 10, reason: "r" }, auth, 400, /action/],
      [{ source: "x", action: "deny", ttl_s: 0, reason: "r" }, auth, 400, /ttl_s/],
      [{ source: "x", action: "deny", ttl_s: 10 }, auth, 400, /reason/],
    ];
    for (const [payload, headers, status, message] of cases) {
      const res = await h.app.inject({ method: "POST", url: "/v1/sources/limits", headers, payload });
      assert.equal(res.statusCode, status, `${JSON.stringify(payload)}: ${res.body}`);
      assert.match((res.json() as { message: string }).message, message);
    }
    assert.equal(h.records.filter((r) => r.kind === "source_limit").length, 0, "nothing recorded");
  } finally {
    await h.app.close();
    await h.cp.stop();
  }
});

test("limits survive a restart through their audit records (expired ones dropped), and their records round-trip and export", async () => {
  const first = await harness();
  let state: PersistedState = { overrides: [] };
  try {
    for (const [source, ttl_s] of [["10.0.0.1", 600], ["10.0.0.2", 5]] as const) {
      const res = await first.app.inject({ method: "POST", url: "/v1/sources/limits", headers: auth, payload: { source, action: "deny", ttl_s, reason: "r" } });
      assert.equal(res.statusCode, 200);
    }
    for (const r of first.records) {
      const parsed = parseRecord(encodeRecord(r));
      assert.ok(parsed.ok, JSON.stringify(parsed));
      state = applyRecord(state, parsed.record);
    }
    const row = csvRows(first.records.find((r) => r.kind === "source_limit")!, undefined)[0]!;
    assert.deepEqual([row.kind, row.source, row.state, row.action], ["source_limit", "10.0.0.1", "set", "deny"]);
  } finally {
    await first.app.close();
    await first.cp.stop();
  }
  const second = await harness(state);
  try {
    second.setNow(T0 + 10_000); // the 5 s limit has expired
    await second.cp.decide();
    assert.deepEqual(second.cp.sourceLimits().map((l) => l.source), ["10.0.0.1"]);
    assert.deepEqual(second.cp.currentDecisions().sourceLimits?.map((l) => l.source), ["10.0.0.1"]);
  } finally {
    await second.app.close();
    await second.cp.stop();
  }
});

test("a source whose share jumps is flagged (event, alert, audit record, GET /v1/sources), and cleared when it settles", async () => {
  const h = await harness();
  try {
    const window = (tenant: number) => (s: number) => [{ source: "tenant-x", requests: s === 0 ? tenant : 0 }, { source: "others", requests: 1000 }].filter((x) => x.requests > 0);
    for (let i = 0; i < 6; i++) await h.step(window(50));
    assert.equal(h.flags.length, 0, "no flag while steady");
    await h.step(window(1500));
    await h.step(window(1500));
    assert.deepEqual(h.flags.map((f) => [f.kind, f.source, f.metric]), [["flagged", "tenant-x", "share"]]);
    const view = (await h.app.inject({ method: "GET", url: "/v1/sources?window_s=1", headers: auth })).json() as { flagged: string[]; sources: { source: string; flagged: boolean }[] };
    assert.deepEqual(view.flagged, ["tenant-x"]);
    assert.equal(view.sources.find((s) => s.source === "tenant-x")!.flagged, true);
    const alert = sourceFlagAlert(h.flags[0]!);
    assert.equal(alert.kind, "source_flagged");
    assert.equal(alert.severity, "warning");
    assert.match(alert.summary, /^source tenant-x jumped: share \d+(\.\d)? % above its threshold \d+(\.\d)? %$/);
    assert.equal(h.records.filter((r) => r.kind === "source_flag").length, 1);
    for (let i = 0; i < 3; i++) await h.step(window(50));
    assert.deepEqual(h.flags.map((f) => f.kind), ["flagged", "cleared"]);
    assert.equal(sourceFlagAlert(h.flags[1]!).kind, "source_cleared");
  } finally {
    await h.app.close();
    await h.cp.stop();
  }
});

/** A rule on the mesh's error rate (above 20 %, no hold) whose action limits a source. */
const limitRule = (action: Omit<Extract<TriggerRule["action"], { kind: "limit_source" }>, "kind">): TriggerRule => ({
  name: "abuse", condition: { metric: "error_rate", scope: "mesh", above: 0.2, statistic: "mean" }, forMs: 0,
  action: { kind: "limit_source", ...action }, clear: "auto", clearAfterMs: 0,
});

const ruleCases: { name: string; rule: TriggerRule; expect: { source: string; deny: boolean; capPerS: number } }[] = [
  { name: "a rule without a source caps the top flagged one", rule: limitRule({ deny: false, capPerS: 100, ttlMs: 60_000 }), expect: { source: "tenant-x", deny: false, capPerS: 100 } },
  { name: "a rule naming a source denies that one", rule: limitRule({ source: "others", deny: true, ttlMs: 60_000 }), expect: { source: "others", deny: true, capPerS: 0 } },
];

for (const c of ruleCases) {
  test(`a trigger rule limits a source when it fires, audited and listed as an operator's limit is: ${c.name}`, async () => {
    const h = await harness(undefined, [c.rule]);
    try {
      const window = (tenant: number) => (s: number) => [{ source: "tenant-x", requests: s === 0 ? tenant : 0 }, { source: "others", requests: 1000 }].filter((x) => x.requests > 0);
      for (let i = 0; i < 6; i++) await h.step(window(50));
      await h.step(window(1500));
      assert.equal(h.records.filter((r) => r.kind === "source_limit").length, 0, "no limit before the rule fires");
      await h.step(window(1500), 0.5); // tenant-x flagged (2 of 3) and the error rate above 20 %: the rule fires
      const set = h.records.filter((r): r is Extract<AuditRecord, { kind: "source_limit" }> => r.kind === "source_limit");
      assert.equal(set.length, 1);
      assert.equal(set[0]!.cause, "set");
      assert.equal(set[0]!.limit.source, c.expect.source);
      assert.equal(set[0]!.limit.actor, "trigger abuse");
      assert.equal(set[0]!.limit.untilMs, set[0]!.atMs + 60_000);
      const listed = (await h.app.inject({ method: "GET", url: "/v1/sources/limits", headers: auth })).json() as { limits: { source: string; actor: string }[] };
      assert.deepEqual(listed.limits.map((l) => [l.source, l.actor]), [[c.expect.source, "trigger abuse"]]);
      await h.step(window(1500), 0.5); // the rule stays fired: no second limit; the set carries this one
      assert.equal(h.records.filter((r) => r.kind === "source_limit").length, 1, "one limit per firing");
      const last = h.received.at(-1)!.sourceLimits;
      assert.deepEqual(last.map((l) => ({ source: l.source, deny: l.deny, capPerS: l.capPerS })), [c.expect]);
    } finally {
      await h.app.close();
      await h.cp.stop();
    }
  });
}

test("a rule that names no source sets no limit when none is flagged", async () => {
  const h = await harness(undefined, [limitRule({ deny: true, ttlMs: 60_000 })]);
  try {
    for (let i = 0; i < 3; i++) await h.step(() => [{ source: "others", requests: 1000 }], 0.5);
    assert.equal(h.records.filter((r) => r.kind === "trigger").length, 1, "the rule fired");
    assert.equal(h.records.filter((r) => r.kind === "source_limit").length, 0);
    assert.deepEqual(h.received.at(-1)!.sourceLimits, []);
  } finally {
    await h.app.close();
    await h.cp.stop();
  }
});
