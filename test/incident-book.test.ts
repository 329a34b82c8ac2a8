// Incidents (core/incidents/): opened by a halt or a trigger firing, confirmed, counting the
// local rejects of the affected clusters, ended by a resume or the trigger clearing; their
// downtime report's figures against known traffic, as JSON and Markdown; and the audit record
// that keeps them across restarts. Pure, on given times.
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { IncidentBook, MAX_INCIDENTS, downtimeReport, downtimeReportMarkdown, type Incident } from "../control-plane/src/core/incidents/index.js";
import type { TriggerAction, TriggerEvent } from "../control-plane/src/core/triggers/types.js";
import type { WorkerClusterWindow } from "../control-plane/src/core/types.js";
import { latencyCounts } from "../control-plane/src/core/report-builder.js";
import { applyRecord, parseRecord, type AuditRecord } from "../control-plane/src/audit/records.js";
import { encodeRecord } from "../control-plane/src/audit/record-codec.js";

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const CLUSTERS = ["llm-a", "llm-b", "llm-c"];
const values = { value: 6200, peak: 7000, threshold: 5000, heldMs: 30_000, reason: "p99_ms of llm-a 6200 > 5000 for 30 s" };

const window = (cluster: string, localRejects: number, shed = 0): WorkerClusterWindow => ({
  cluster, requests: 0, errors5xx: 0, localRejects, timeouts: 0, resets: 0, grpcErrors: 0, totalLatency: latencyCounts([]), shed,
});

const fired = (trigger: string, action: TriggerAction, atMs: number): TriggerEvent => ({ kind: "fired", trigger, action, atMs, values });

const cases: { name: string; action: TriggerAction; counted: string[] }[] = [
  { name: "a trigger's halt affects every cluster", action: { kind: "halt" }, counted: CLUSTERS },
  { name: "a trigger opening a cluster affects that cluster only", action: { kind: "open", cluster: "llm-b" }, counted: ["llm-b"] },
  { name: "a cluster's shed affects that cluster only", action: { kind: "shed", fraction: 0.5, cluster: "llm-c" }, counted: ["llm-c"] },
  { name: "a mesh-wide shed affects every cluster", action: { kind: "shed", fraction: 0.3 }, counted: CLUSTERS },
];

for (const c of cases) {
  test(`incidents: ${c.name}, and only its clusters' local rejects count`, () => {
    const book = new IncidentBook(CLUSTERS);
    const opened = book.openTrigger(fired("rule", c.action, T0), 7);
    assert.deepEqual(opened.clusters, c.counted);
    assert.equal(opened.startedBy, "trigger rule");
    book.countRejects(CLUSTERS.map((name) => window(name, 10, 4)));
    const rows = book.get(opened.id)!.rejected;
    assert.deepEqual(rows.map((r) => r.cluster), c.counted);
    assert.ok(rows.every((r) => r.localRejects === 10 && r.shed === 4));
  });
}

test("a downtime report gives start, confirmation, end, duration and the refused requests per cluster and in total", () => {
  const book = new IncidentBook(CLUSTERS);
  const { incident, opened } = book.openHalt("ops", "runaway generation", "drain", 42, T0);
  assert.equal(opened, true);
  assert.equal(incident.id, `inc-${T0}`);
  // Known traffic: three windows of refusals on two clusters while halted.
  book.countRejects([window("llm-a", 100), window("llm-b", 40, 5)]);
  book.countRejects([window("llm-a", 20), window("llm-c", 0)]);
  book.confirm(incident.id, T0 + 1_500, [{ nodeId: "n1", workerId: 0, atMs: T0 + 900 }, { nodeId: "n2", workerId: 1, atMs: T0 + 1_500 }], []);
  const running = downtimeReport(book.get(incident.id)!, T0 + 60_000);
  assert.equal(running.running, true);
  assert.equal(running.duration_ms, 60_000, "a running incident is reported up to now");
  book.countRejects([window("llm-b", 3)]);
  const ended = book.endHalt("ops-2", "fixed", T0 + 125_000)!;
  book.countRejects([window("llm-a", 1_000)]); // after the end: not counted
  const report = downtimeReport(book.get(ended.id)!, T0 + 999_999);
  assert.deepEqual(
    { started_at_ms: report.started_at_ms, confirmed_at_ms: report.confirmed_at_ms, time_to_confirm_ms: report.time_to_confirm_ms, ended_at_ms: report.ended_at_ms, duration_ms: report.duration_ms, ended_by: report.ended_by },
    { started_at_ms: T0, confirmed_at_ms: T0 + 1_500, time_to_confirm_ms: 1_500, ended_at_ms: T0 + 125_000, duration_ms: 125_000, ended_by: "ops-2" },
  );
  assert.deepEqual(report.rejected, [{ cluster: "llm-a", local_rejects: 120, shed: 0 }, { cluster: "llm-b", local_rejects: 43, shed: 5 }]);
  assert.equal(report.rejected_total, 163);
  assert.equal(report.shed_total, 5);
  const markdown = downtimeReportMarkdown(report);
  for (const line of [
    `# Incident inc-${T0}`,
    "- **Started by:** ops",
    "- **Start:** 2026-01-01T00:00:00.000Z",
    "- **Confirmed by every sidecar:** 2026-01-01T00:00:01.500Z (after 1.5 s)",
    "- **End:** 2026-01-01T00:02:05.000Z by ops-2 (fixed)",
    "- **Duration:** 125.0 s",
    "| llm-a | 120 | 0 |",
    "| llm-b | 43 | 5 |",
    "| **total** | **163** | **5** |",
    "| n2 | 1 | 2026-01-01T00:00:01.500Z |",
  ]) assert.ok(markdown.split("\n").includes(line), `missing line ${JSON.stringify(line)} in\n${markdown}`);
});

test("halting again while an operator's halt is open continues it (a new mode needs confirming again); a resume without a halt ends nothing", () => {
  const book = new IncidentBook(CLUSTERS);
  assert.equal(book.endHalt("ops", "nothing to resume", T0), undefined);
  const first = book.openHalt("ops", "drill", "drain", 5, T0).incident;
  book.confirm(first.id, T0 + 10, [{ nodeId: "n", workerId: 0, atMs: T0 + 10 }], []);
  const again = book.openHalt("ops", "cut streams", "immediate", 6, T0 + 20);
  assert.equal(again.opened, false);
  assert.equal(again.incident.id, first.id);
  assert.equal(again.incident.mode, "immediate");
  assert.equal(again.incident.version, 6);
  assert.equal(again.incident.confirmedAtMs, undefined);
  assert.equal(book.list().length, 1);
});

test("a trigger's incident ends when that trigger clears, by the condition or by hand", () => {
  const book = new IncidentBook(CLUSTERS);
  const a = book.openTrigger(fired("hot", { kind: "shed", fraction: 0.5 }, T0), 3);
  const b = book.openTrigger(fired("slow", { kind: "halt" }, T0), 4);
  assert.notEqual(a.id, b.id, "two incidents in the same millisecond get distinct ids");
  const cleared = book.endTrigger({ kind: "cleared", trigger: "slow", action: { kind: "halt" }, atMs: T0 + 5_000, values, clearedBy: "alice", clearReason: "false alarm" })!;
  assert.deepEqual([cleared.id, cleared.endedBy, cleared.endReason, cleared.mode], [b.id, "alice", "false alarm", "drain"]);
  const auto = book.endTrigger({ kind: "cleared", trigger: "hot", action: { kind: "shed", fraction: 0.5 }, atMs: T0 + 9_000, values, clearedBy: "condition" })!;
  assert.equal(auto.endedBy, "condition");
  assert.deepEqual(book.open(), []);
});

test(`at most ${MAX_INCIDENTS} incidents are kept: the oldest ended ones go, open ones stay`, () => {
  const book = new IncidentBook(CLUSTERS);
  const open = book.openTrigger(fired("stuck", { kind: "halt" }, T0), 1);
  for (let i = 1; i <= MAX_INCIDENTS + 5; i++) {
    book.openTrigger(fired(`r${i}`, { kind: "open", cluster: "llm-a" }, T0 + i), 1);
    book.endTrigger({ kind: "cleared", trigger: `r${i}`, action: { kind: "open", cluster: "llm-a" }, atMs: T0 + i, values, clearedBy: "condition" });
  }
  const kept = book.list();
  assert.equal(kept.length, MAX_INCIDENTS);
  assert.ok(kept.some((i) => i.id === open.id));
  assert.equal(kept[0]!.trigger, `r${MAX_INCIDENTS + 5}`, "the most recent first");
});

test("an incident record round-trips through the audit log's snake_case spelling and restores the newest copy", () => {
  const book = new IncidentBook(CLUSTERS);
  const opened = book.openTrigger(fired("Hot-CPU", { kind: "shed", fraction: 0.25, cluster: "llm-a" }, T0), 9);
  book.countRejects([window("llm-a", 7, 7)]);
  const ended = book.endTrigger({ kind: "cleared", trigger: "Hot-CPU", action: { kind: "shed", fraction: 0.25, cluster: "llm-a" }, atMs: T0 + 1, values, clearedBy: "condition" })!;
  const lines = [opened, ended].map((incident) => encodeRecord({ kind: "incident", atMs: T0, incident }));
  assert.match(lines[1]!, /"kind":"incident","at_ms":\d+,"incident":\{"id":/);
  assert.match(lines[1]!, /"local_rejects":7/);
  let state = { overrides: [] } as Parameters<typeof applyRecord>[0];
  for (const line of lines) {
    const parsed = parseRecord(line);
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
    state = applyRecord(state, parsed.record as AuditRecord);
  }
  assert.deepEqual(state.incidents, [ended] as Incident[]);
});

test("a damaged incident record is refused naming the field", () => {
  const good = JSON.parse(encodeRecord({ kind: "incident", atMs: T0, incident: new IncidentBook(CLUSTERS).openHalt("ops", "x", "drain", 1, T0).incident })) as { incident: Record<string, unknown> };
  const cases: [string, unknown, string][] = [
    ["kind", "outage", 'incident.incident.kind: expected "halt" | "trigger", got a string "outage"'],
    ["mode", "now", 'incident.incident.mode: expected "drain" | "immediate", got a string "now"'],
    ["rejected", [{ cluster: "a", local_rejects: -1, shed: 0 }], "incident.incident.rejected[0].local_rejects: expected a number >= 0, got -1"],
    ["started_at_ms", undefined, "incident.incident.started_at_ms: missing"],
  ];
  for (const [field, value, error] of cases) {
    const parsed = parseRecord(JSON.stringify({ ...good, incident: { ...good.incident, [field]: value } }));
    assert.equal(parsed.ok, false);
    assert.equal(parsed.ok ? "" : parsed.error, error);
  }
});
