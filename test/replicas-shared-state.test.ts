// What the leader decides and operators change beyond overrides and the halt, shared by three
// control-plane replicas (startControlPlane with an etcd section) on a real three-member etcd
// cluster (Debian's etcd-server, on loopback): the trigger rules' states, the incidents they open,
// the error budgets and a pinned rollback. A rollback and a trigger's clear by hand sent to a
// follower answer 200 only once etcd holds them; the leader dies (its etcd client closed without
// leaving the election, as a kill -9 would: the lease runs out) during a trigger's clearing
// hysteresis, and the new leader continues the firing trigger (its clearing counted from where the
// last leader left off), the open incident (the same id, ended by the same clearing), the budget
// spent and the pin, with versions above every earlier one. The clock is virtual (a window at a
// time); no timed assertions: every wait is for a condition, with a generous deadline.
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { parseRecord } from "../control-plane/src/audit/records.js";
import { configFromDocument } from "../control-plane/src/config/index.js";
import { generationOf } from "../control-plane/src/core/decision-version.js";
import type { TriggerState } from "../control-plane/src/core/triggers/index.js";
import { EtcdState } from "../control-plane/src/replicas/index.js";
import { startControlPlane } from "../control-plane/src/server.js";
import { createLogger } from "../lib/log.js";
import { startEtcdCluster, type EtcdCluster } from "./support/etcd-cluster.js";
import { connectSidecar, versionsOnlyGrow } from "./support/replica-sidecar.js";
import { adminCall, aliveOf, closeReplicas, followersOf, leadersOf, startReplicas, type Replica } from "./support/replica-group.js";
import { until } from "./support/until.js";

const logger = createLogger("test", "silent");
const TOKEN = "shared-state-admin-token";
const CLUSTERS = ["a", "b", "c"];
const PREFIX = "/autoglm-shared/";
/** a-errors clears by itself after its condition has been false over windows spanning this, ms. */
const CLEAR_AFTER_MS = 6000;
const clock = { now: Date.now() - (Date.now() % 1000) };

function config(id: string, prefix = PREFIX) {
  return configFromDocument(
    {
      grpc: { host: "127.0.0.1", port: 0 },
      admin: { host: "127.0.0.1", port: 0, token: TOKEN },
      clusters: CLUSTERS.map((name) => ({ name, base_weight: 1 })),
      slo: { latency_ms: 2000, success_rate: 0.99 },
      detector: { warmup_windows: 3 },
      breaker: { open_base_ms: 120_000, open_max_ms: 120_000 },
      triggers: [
        { name: "a-errors", when: { metric: "error_rate", scope: "a", above: 0.5 }, for_s: 1, action: { halt: true }, clear_after_s: CLEAR_AFTER_MS / 1000 },
        { name: "mesh-errors", when: { metric: "error_rate", above: 0.2 }, for_s: 1, action: { shed: 0.1 }, clear: "manual" },
      ],
      error_budgets: { objective: 0.99, persist_interval_s: 10 },
      etcd: { endpoints: etcd.endpoints, prefix, lease_ttl_s: 3, replica_id: id },
    },
    {},
  );
}

let etcd: EtcdCluster;

const admin = (r: Replica, method: string, path: string, body?: unknown) => adminCall(r, TOKEN, method, path, body);

/** One window: every sidecar of `leader` reports (cluster a failing when `failing`), the clock
 *  moves a window on, and the leader runs its round. */
async function window(leader: Replica, failing: boolean): Promise<void> {
  const start = clock.now - 1000;
  for (const s of leader.sidecars) s.report(start, failing ? { errorRate: { a: 1 } } : {});
  clock.now += 1000;
  await leader.running.controlPlane.decide();
}

const triggerState = (r: Replica, name: string): TriggerState => r.running.controlPlane.triggerStatuses().find((t) => t.rule.name === name)!.state;

/** A stored value read straight from etcd, as a record. */
async function stored(probe: Etcd3, key: string) {
  const text = await probe.get(`${PREFIX}${key}`).string();
  if (text === null) return undefined;
  const parsed = parseRecord(text);
  assert.ok(parsed.ok, `${key}: ${parsed.ok ? "" : parsed.error}`);
  return parsed.record;
}

/** The period buckets' counts of one scope in etcd: [good, total]. */
async function budgetInEtcd(probe: Etcd3, scope: string): Promise<[number, number]> {
  const values = await probe.getAll().prefix(`${PREFIX}state/error-budget/`).strings();
  let good = 0;
  let total = 0;
  for (const text of Object.values(values)) {
    const parsed = parseRecord(text);
    assert.ok(parsed.ok && parsed.record.kind === "error_budget");
    for (const b of parsed.record.budget.buckets) if (b.scope === scope) [good, total] = [good + b.good, total + b.total];
  }
  return [good, total];
}

async function budgetOf(r: Replica, scope: string): Promise<[number, number]> {
  const { json } = await admin(r, "GET", "/v1/error-budgets");
  const s = (json.scopes as { scope: string; good: number; total: number }[]).find((x) => x.scope === scope)!;
  return [s.good, s.total];
}

describe("triggers, incidents, error budgets and the rollback shared by three replicas on etcd", () => {
  let probe: Etcd3;
  let replicas: Replica[] = [];
  const leaders = () => leadersOf(replicas);
  const followers = () => followersOf(replicas);
  const allSidecars = () => replicas.flatMap((r) => r.sidecars);
  /** The version v1 rolled back to, and a's firing as the first leader last wrote it. */
  let pinnedVersion = 0;
  let firing: Extract<TriggerState, { kind: "fired" }>;
  let incidentId = "";
  let highest = 0;

  before(async () => {
    etcd = await startEtcdCluster();
    probe = new Etcd3({ hosts: etcd.endpoints });
    replicas = await startReplicas(["r0", "r1", "r2"], config, logger, () => clock.now);
  });

  after(async () => {
    await closeReplicas(replicas);
    probe.close();
    await etcd.stop();
  });

  it("one replica leads, its sidecars warm up, and two overrides give versions to roll back to", async () => {
    await until("one replica leads", () => leaders().length === 1);
    const leader = leaders()[0]!;
    for (const n of [0, 1]) leader.sidecars.push(connectSidecar(leader.running.controlPlane, `${leader.id}-s${n}`, CLUSTERS));
    for (let i = 0; i < 6; i++) await window(leader, false);
    const opened = await leader.running.controlPlane.setOverride({ cluster: "b", state: "open", reason: "drain b", actor: "ops" });
    await leader.running.controlPlane.setOverride({ cluster: "b", state: "auto", reason: "b is back", actor: "ops" });
    pinnedVersion = opened.version;
  });

  it("a rollback sent to a follower answers 200 once etcd holds the pin, and the leader publishes it", async () => {
    const follower = followers()[0]!;
    const leader = leaders()[0]!;
    const { status, json } = await admin(follower, "POST", "/v1/decisions/rollback", { version: pinnedVersion, reason: "the new weights misbehave" });
    assert.equal(status, 200, JSON.stringify(json));
    // Read straight from etcd right after the 200: the commit happened before it.
    const pin = await stored(probe, "state/rollback");
    assert.equal(pin?.kind, "rollback");
    assert.equal(pin?.kind === "rollback" ? pin.rollback.fromVersion : 0, pinnedVersion);
    await until("the leader has the pin in force and published", () => leader.running.controlPlane.rollbackInForce()?.fromVersion === pinnedVersion);
    const b = leader.running.controlPlane.currentDecisions().clusters.find((c) => c.cluster === "b")!;
    assert.equal(b.state, "open");
    assert.match(b.reason, new RegExp(`rollback to version ${pinnedVersion} by .*the new weights misbehave`));
    for (const r of followers()) await until(`${r.id} shows the pin`, () => r.running.controlPlane.rollbackInForce()?.fromVersion === pinnedVersion);
  });

  it("a trigger fires at the leader, opens an incident, and every replica shows both; the error budget spent is in etcd", async () => {
    const leader = leaders()[0]!;
    for (let i = 0; i < 10 && (triggerState(leader, "a-errors").kind !== "fired" || triggerState(leader, "mesh-errors").kind !== "fired"); i++) await window(leader, true);
    assert.equal(triggerState(leader, "a-errors").kind, "fired");
    assert.equal(triggerState(leader, "mesh-errors").kind, "fired");
    assert.equal(leader.running.controlPlane.currentDecisions().halted, true, "a-errors halts the mesh");
    // a is healthy again (or held open): its condition no longer holds; the clearing hysteresis runs.
    for (let i = 0; i < 2; i++) await window(leader, false);
    const state = triggerState(leader, "a-errors");
    assert.ok(state.kind === "fired" && state.falseSince !== undefined, JSON.stringify(state));
    firing = state as Extract<TriggerState, { kind: "fired" }>;
    const incident = leader.running.controlPlane.incidentList().find((i) => i.trigger === "a-errors" && i.endedAtMs === undefined);
    assert.ok(incident !== undefined, "a-errors opened an incident");
    incidentId = incident.id;
    // Enough windows for the error budget's counts to be written (persist_interval_s 10).
    for (let i = 0; i < 2; i++) await window(leader, false);
    assert.equal(triggerState(leader, "a-errors").kind, "fired", "still within its clearing hysteresis");
    firing = triggerState(leader, "a-errors") as Extract<TriggerState, { kind: "fired" }>;
    await until("etcd holds the leader's trigger states", async () => {
      const text = await probe.get(`${PREFIX}state/triggers`).string();
      const a = text === null ? undefined : (JSON.parse(text) as { rules: { name: string; state: unknown }[] }).rules.find((r) => r.name === "a-errors");
      return JSON.stringify(a?.state) === JSON.stringify(firing);
    });
    await until("etcd holds the open incident", async () => (await stored(probe, `state/incidents/${incidentId}`))?.kind === "incident");
    const [good, total] = await budgetInEtcd(probe, "a");
    assert.ok(total > good && good > 0, `a's budget in etcd: ${good} good of ${total}`);
    for (const r of followers()) {
      await until(`${r.id} shows a-errors fired`, () => JSON.stringify(triggerState(r, "a-errors")) === JSON.stringify(firing));
      await until(`${r.id} lists the open incident`, () => r.running.controlPlane.incident(incidentId)?.endedAtMs === undefined && r.running.controlPlane.incident(incidentId) !== undefined);
      await until(`${r.id} shows a's budget as etcd holds it`, async () => JSON.stringify(await budgetOf(r, "a")) === JSON.stringify(await budgetInEtcd(probe, "a")));
    }
  });

  it("when the leader dies another takes over and continues the firing triggers, the open incident, the budget and the pin", async () => {
    const old = leaders()[0]!;
    highest = Math.max(...allSidecars().map((s) => s.enforced()));
    const orphans = old.sidecars.map((s) => ({ nodeId: s.nodeId, held: s.enforced() }));
    const budgetBefore = await budgetInEtcd(probe, "a");
    // A crash: no resignation, the lease runs out; nothing more is written.
    old.running.replica!.abandon();
    old.dead = true;
    for (const s of old.sidecars) s.close();
    await old.running.close();
    await until("a surviving replica leads", () => leaders().length === 1);
    const leader = leaders()[0]!;
    const cp = leader.running.controlPlane;
    assert.ok(cp.generation() > generationOf(highest), `new generation ${cp.generation()} above ${generationOf(highest)}`);
    assert.deepEqual(triggerState(leader, "a-errors"), firing, "the firing, its time and its clearing hysteresis as the last leader left them");
    assert.equal(triggerState(leader, "mesh-errors").kind, "fired");
    assert.equal(cp.currentDecisions().halted, true, "the trigger's halt stays in force");
    assert.equal(cp.incident(incidentId)?.endedAtMs, undefined, "the incident is open, under the same id");
    assert.equal(cp.incidentList().filter((i) => i.endedAtMs === undefined && i.trigger === "a-errors").length, 1, "not opened anew");
    assert.deepEqual(await budgetOf(leader, "a"), budgetBefore, "the budget spent, as etcd held it");
    assert.equal(cp.rollbackInForce()?.fromVersion, pinnedVersion);
    assert.match(cp.currentDecisions().clusters.find((c) => c.cluster === "b")!.reason, /rollback to version/);
    for (const o of orphans) leader.sidecars.push(connectSidecar(cp, `${o.nodeId}-again`, CLUSTERS, o.held));
  });

  it("the new leader clears the trigger when the clearing that began under the last leader is complete, and ends the same incident", async () => {
    const leader = leaders()[0]!;
    const cp = leader.running.controlPlane;
    let clearedAtWindowStart: number | undefined;
    const off = cp.on("trigger", (e) => {
      if (e.trigger === "a-errors" && e.kind === "cleared") clearedAtWindowStart = cp.triggerStatuses().find((t) => t.rule.name === "a-errors")!.lastWindowStartMs;
    });
    try {
      for (let i = 0; i < 10 && clearedAtWindowStart === undefined; i++) await window(leader, false);
    } finally {
      off();
    }
    // Counted from the last leader's falseSince: cleared with the window that ends CLEAR_AFTER_MS
    // after it (a clearing begun anew would end two windows later at the earliest).
    assert.equal(clearedAtWindowStart, firing.falseSince! + CLEAR_AFTER_MS - 1000);
    const incident = cp.incident(incidentId)!;
    assert.equal(incident.endedBy, "condition");
    assert.equal(cp.currentDecisions().halted, false);
    assert.ok(cp.currentDecisions().version > highest);
  });

  it("a clear by hand sent to a follower answers 200 once etcd holds it, and the leader ends the manual trigger", async () => {
    const leader = leaders()[0]!;
    const follower = followers()[0]!;
    await until(`${follower.id} shows mesh-errors fired`, () => triggerState(follower, "mesh-errors").kind === "fired");
    // Who announces the clear (the alerts listen to these events): the leader only, once.
    const announced: string[] = [];
    const offs = aliveOf(replicas).map((r) => r.running.controlPlane.on("trigger", (e) => e.kind === "cleared" && announced.push(r.id)));
    const { status, json } = await admin(follower, "POST", "/v1/triggers/mesh-errors/clear", { reason: "errors understood" });
    assert.equal(status, 200, JSON.stringify(json));
    const clear = await stored(probe, "state/trigger-clears/mesh-errors");
    assert.ok(clear?.kind === "trigger" && clear.event.kind === "cleared" && clear.event.clearReason === "errors understood", JSON.stringify(clear));
    await until("the leader cleared mesh-errors", () => triggerState(leader, "mesh-errors").kind === "idle");
    const incident = leader.running.controlPlane.incidentList().find((i) => i.trigger === "mesh-errors")!;
    assert.ok(incident.endedAtMs !== undefined && incident.endedBy === clear.event.clearedBy, JSON.stringify(incident));
    await until("the leader published the set without the shed", () => (leader.running.controlPlane.currentDecisions().shedFraction ?? 0) === 0);
    for (const r of followers()) await until(`${r.id} shows mesh-errors idle`, () => triggerState(r, "mesh-errors").kind === "idle");
    for (const off of offs) off();
    assert.deepEqual(announced, [leader.id]);
  });

  it("a release of the rollback sent to a follower answers 200 once etcd holds it, and the leader hands back to the policy", async () => {
    const leader = leaders()[0]!;
    const follower = followers()[0]!;
    const { status, json } = await admin(follower, "DELETE", "/v1/decisions/rollback", { reason: "fixed" });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal((await stored(probe, "state/rollback"))?.kind, "rollback_end");
    await until("the leader released the pin", () => leader.running.controlPlane.rollbackInForce() === undefined);
    await window(leader, false);
    assert.doesNotMatch(leader.running.controlPlane.currentDecisions().clusters.find((c) => c.cluster === "b")!.reason, /rollback/);
    await until("the follower released its copy", () => follower.running.controlPlane.rollbackInForce() === undefined);
    for (const s of allSidecars()) assert.ok(versionsOnlyGrow(s), `${s.nodeId} saw a version go down`);
  });

  it("a halt and a resume sent to a follower open and end one incident, the leader's, which every replica lists", async () => {
    const leader = leaders()[0]!;
    const follower = followers()[0]!;
    const before = new Set(leader.running.controlPlane.incidentList().map((i) => i.id));
    const halted = await admin(follower, "POST", "/v1/halt", { reason: "maintenance" });
    assert.equal(halted.status, 200, JSON.stringify(halted.json));
    const opened = () => leader.running.controlPlane.incidentList().filter((i) => !before.has(i.id));
    await until("the leader opened an incident for the halt", () => opened().length === 1);
    const id = opened()[0]!.id;
    assert.equal(opened()[0]!.kind, "halt");
    for (const r of aliveOf(replicas)) {
      await until(`${r.id} lists it open`, () => r.running.controlPlane.incident(id) !== undefined && r.running.controlPlane.incident(id)!.endedAtMs === undefined);
      assert.equal(r.running.controlPlane.incidentList().filter((i) => !before.has(i.id)).length, 1, `${r.id} opened none of its own`);
    }
    const resumed = await admin(follower, "POST", "/v1/resume", { reason: "done" });
    assert.equal(resumed.status, 200, JSON.stringify(resumed.json));
    for (const r of aliveOf(replicas)) await until(`${r.id} shows it ended`, () => r.running.controlPlane.incident(id)?.endedAtMs !== undefined);
    assert.equal((await stored(probe, `state/incidents/${id}`))?.kind, "incident");
  });

  it("a clear by hand committed when no leader applied it is applied by the next leader, for the firing it names only", async () => {
    const prefix = "/autoglm-shared-late/";
    const values = (value: number) => ({ value, peak: value, threshold: 0.2, heldMs: 1000, reason: `fired at ${value}` });
    const fired = (value: number) => ({ kind: "fired", since: clock.now - 5000, firedAtMs: clock.now - 4000, fired: values(value) });
    await probe.put(`${prefix}state/triggers`).value(JSON.stringify({ atMs: clock.now, rules: [{ name: "a-errors", state: fired(0.9) }, { name: "mesh-errors", state: fired(0.4) }] }));
    const writer = new EtcdState(probe, prefix, "gone");
    const clear = (trigger: string, value: number) => ({
      kind: "trigger" as const,
      atMs: clock.now,
      event: { kind: "cleared" as const, trigger, action: { kind: "halt" as const }, atMs: clock.now, values: values(value), clearedBy: "ops", clearReason: "seen" },
      inForce: [],
    });
    await writer.putControl(clear("mesh-errors", 0.4));
    // An older firing of a-errors: its clear does not clear the one in force.
    await writer.putControl(clear("a-errors", 0.7));
    const late: Replica = { id: "late", running: await startControlPlane(config("late", prefix), { logger, now: () => clock.now }), sidecars: [], dead: false };
    replicas.push(late);
    await until("the late replica leads", () => late.running.controlPlane.isLeading);
    await until("it applied the clear of mesh-errors", () => triggerState(late, "mesh-errors").kind === "idle");
    assert.equal(triggerState(late, "a-errors").kind, "fired");
  });
});
