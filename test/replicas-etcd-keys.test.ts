// The shared keys beyond overrides and the halt (control-plane/src/replicas/etcd-state.ts,
// etcd-decision-history.ts) on a real etcd (Debian's etcd-server, one member on loopback): the
// leader-only keys are written only under the writer's election key, error-budget buckets are
// one key per start and those older than the period go, the decision history finds a version
// and keeps the newest sets, the burn-rate windows are one key per minute kept 6 h apart from the
// period's hours, and damaged values under the new keys are skipped and named.
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { ControlPlaneError } from "../control-plane/src/core/errors.js";
import type { Incident } from "../control-plane/src/core/incidents/index.js";
import { rollbackTarget } from "../control-plane/src/core/rollback.js";
import type { DecisionSet } from "../control-plane/src/core/types.js";
import { EtcdDecisionHistory } from "../control-plane/src/replicas/etcd-decision-history.js";
import { EtcdState } from "../control-plane/src/replicas/index.js";
import { startEtcdCluster, type EtcdCluster } from "./support/etcd-cluster.js";

const HOUR = 3_600_000;
const MIN = 60_000;
const set = (version: number): DecisionSet => ({ version, issuedAtMs: 1, ttlMs: 30_000, halted: false, haltReason: "", clusters: [] });
const incident = (id: string, startedAtMs: number): Incident => ({
  id,
  kind: "halt",
  startedBy: "ops",
  reason: "r",
  mode: "drain",
  startedAtMs,
  version: 3,
  clusters: ["a"],
  confirmations: [],
  cannotEnforce: [],
  rejected: [],
});

describe("the shared keys of triggers, incidents, error budgets, the rollback and the decision history", () => {
  let etcd: EtcdCluster;
  let client: Etcd3;
  before(async () => {
    etcd = await startEtcdCluster({ size: 1 });
    client = new Etcd3({ hosts: etcd.endpoints });
  });
  after(async () => {
    client.close();
    await etcd.stop();
  });

  const fencedWrites: [string, (s: EtcdState, fence: string) => Promise<{ committed: boolean }>, string][] = [
    ["trigger states", (s, f) => s.putTriggers({ atMs: 1, rules: [] }, f), "state/triggers"],
    ["an incident", (s, f) => s.putIncident({ kind: "incident", atMs: 1, incident: incident("inc-1", 1) }, [], f), "state/incidents/inc-1"],
    ["error-budget counts", (s, f) => s.putBudget({ kind: "error_budget", atMs: 10 * HOUR, budget: { bucketMs: HOUR, periodMs: 30 * 24 * HOUR, buckets: [{ scope: "a", startMs: 9 * HOUR, good: 9, total: 10 }] } }, f), "state/error-budget/"],
    ["burn-rate windows", (s, f) => s.putBurnWindows({ kind: "error_budget", atMs: 10 * HOUR, budget: { bucketMs: MIN, periodMs: 6 * HOUR + MIN, buckets: [{ scope: "a", startMs: 10 * HOUR - MIN, good: 9, total: 10 }] } }, f), "state/burn-windows/"],
  ];
  for (const [what, write, key] of fencedWrites) {
    it(`the leader's ${what}: written only while the writer's election key exists`, async () => {
      const prefix = `/fence-${key.replace(/\W/g, "")}/`;
      const shared = new EtcdState(client, prefix, "w1");
      assert.equal((await write(shared, `${prefix}election/leader/none`)).committed, false);
      assert.equal(await client.getAll().prefix(`${prefix}${key}`).count(), 0);
      await client.put(`${prefix}election/leader/mine`).value("w1");
      assert.equal((await write(shared, `${prefix}election/leader/mine`)).committed, true);
      assert.equal(await client.getAll().prefix(`${prefix}${key}`).count(), 1);
    });
  }

  it("error-budget buckets are one key per start with every scope, and those a period old are deleted", async () => {
    const prefix = "/budget-keys/";
    const fence = `${prefix}election/leader/mine`;
    await client.put(fence).value("w1");
    const shared = new EtcdState(client, prefix, "w1");
    const periodMs = 24 * HOUR;
    const budget = (atMs: number, starts: number[]) => ({
      kind: "error_budget" as const,
      atMs,
      budget: { bucketMs: HOUR, periodMs, buckets: starts.flatMap((startMs) => ["a", "mesh"].map((scope) => ({ scope, startMs, good: 90, total: 100 }))) },
    });
    await shared.putBudget(budget(2 * HOUR, [HOUR, 2 * HOUR]), fence);
    assert.deepEqual(Object.keys(await client.getAll().prefix(`${prefix}state/error-budget/`).strings()).length, 2);
    await shared.putBudget(budget(30 * HOUR, [30 * HOUR]), fence);
    const loaded = (await shared.load()).state.errorBudget!;
    assert.deepEqual(
      loaded.buckets.map((b) => [b.scope, b.startMs / HOUR]).sort(),
      [["a", 30], ["mesh", 30]],
      "the buckets of hours 1 and 2 ended more than a period before hour 30",
    );
  });

  it("burn-rate windows are one key per minute apart from the period's hours; those older than the longest window go; a bucket of the wrong width is named", async () => {
    const prefix = "/burn-keys/";
    const fence = `${prefix}election/leader/mine`;
    await client.put(fence).value("w1");
    const shared = new EtcdState(client, prefix, "w1");
    const minutes = (atMs: number, starts: number[]) => ({
      kind: "error_budget" as const,
      atMs,
      budget: { bucketMs: MIN, periodMs: 6 * HOUR + MIN, buckets: starts.flatMap((startMs) => ["a", "mesh"].map((scope) => ({ scope, startMs, good: 90, total: 100 }))) },
    });
    await shared.putBurnWindows(minutes(10 * HOUR, [10 * HOUR - 2 * MIN, 10 * HOUR - MIN]), fence);
    await shared.putBudget({ kind: "error_budget", atMs: 10 * HOUR, budget: { bucketMs: HOUR, periodMs: 24 * HOUR, buckets: [{ scope: "a", startMs: 9 * HOUR, good: 1, total: 2 }] } }, fence);
    assert.equal(Object.keys(await client.getAll().prefix(`${prefix}state/burn-windows/`).strings()).length, 2);
    await shared.putBurnWindows(minutes(17 * HOUR, [17 * HOUR - MIN]), fence);
    let snapshot = await shared.load();
    assert.deepEqual(snapshot.state.burnWindows!.buckets.map((b) => [b.scope, (b.startMs - 17 * HOUR) / MIN]).sort(), [["a", -1], ["mesh", -1]], "the minutes of hour 10 are over 6 h old at hour 17");
    assert.deepEqual(snapshot.state.errorBudget!.buckets.map((b) => b.startMs), [9 * HOUR], "the period's hours are kept apart");
    await assert.rejects(shared.putBurnWindows({ ...minutes(17 * HOUR, []), budget: { bucketMs: HOUR, periodMs: HOUR, buckets: [] } }, fence), /expected 60000 ms buckets/);
    await client.put(`${prefix}state/burn-windows/0000000000000001`).value(JSON.stringify({ type: "error_budget", at_ms: 1, budget: { bucket_ms: HOUR, period_ms: HOUR, buckets: [] } }));
    snapshot = await shared.load();
    assert.match(snapshot.problems.join("\n"), /state\/burn-windows\/0000000000000001: a error_budget record does not belong under this key/);
  });

  it("a new incident beyond those kept deletes the dropped one in the same commit", async () => {
    const prefix = "/incident-keys/";
    const fence = `${prefix}election/leader/mine`;
    await client.put(fence).value("w1");
    const shared = new EtcdState(client, prefix, "w1");
    await shared.putIncident({ kind: "incident", atMs: 1, incident: { ...incident("inc-1", 1), endedAtMs: 2 } }, [], fence);
    await shared.putIncident({ kind: "incident", atMs: 3, incident: incident("inc-3", 3) }, ["inc-1"], fence);
    assert.deepEqual((await shared.load()).state.incidents?.map((i) => i.id), ["inc-3"]);
  });

  it("the decision history finds a published version, keeps the newest sets, and says which it retains", async () => {
    const prefix = "/history/";
    const fence = `${prefix}election/leader/mine`;
    await client.put(fence).value("w1");
    const shared = new EtcdState(client, prefix, "w1");
    const history = new EtcdDecisionHistory(client, prefix, 3, 1);
    for (const version of [11, 12, 13, 14, 15]) {
      await shared.putDecisions({ kind: "decisions", atMs: version, decisions: set(version) }, fence);
      await history.published();
    }
    const found = await history.find(14);
    assert.equal(found.kind === "found" ? found.set.version : 0, 14);
    const gone = await history.find(12);
    assert.deepEqual(gone, { kind: "missing", oldest: 13, newest: 15 });
    assert.throws(() => rollbackTarget(12, set(16), gone), (e: unknown) => e instanceof ControlPlaneError && e.code === "CP_ERR_VERSION_NOT_RETAINED");
  });

  it("the rollback, trigger clears and incidents are read back; damaged values under their keys are skipped and named", async () => {
    const prefix = "/new-keys/";
    const shared = new EtcdState(client, prefix, "w1");
    const pin = { fromVersion: 7, clusters: [], reason: "r", actor: "ops", atMs: 5 };
    await shared.putControl({ kind: "rollback", atMs: 5, rollback: pin });
    const values = { value: 1, peak: 1, threshold: 0.5, heldMs: 1000, reason: "why" };
    await shared.putControl({ kind: "trigger", atMs: 6, event: { kind: "cleared", trigger: "t1", action: { kind: "halt" }, atMs: 6, values, clearedBy: "ops" }, inForce: [] });
    await client.put(`${prefix}state/triggers`).value(JSON.stringify({ atMs: 1, rules: [{ name: "x", state: { kind: "ajar", since: 1 } }] }));
    await client.put(`${prefix}state/trigger-clears/t2`).value(JSON.stringify({ type: "override", at_ms: 1, override: { cluster: "a", state: "open", reason: "r", actor: "a" } }));
    await client.put(`${prefix}state/incidents/inc-9`).value(JSON.stringify({ type: "incident", at_ms: 1, incident: { id: "inc-8" } }));
    const snapshot = await shared.load();
    assert.deepEqual(snapshot.state.rollback, pin);
    assert.deepEqual(snapshot.triggerClears.map((c) => c.event.trigger), ["t1"]);
    assert.equal(snapshot.state.triggerStates, undefined);
    assert.equal(snapshot.state.incidents, undefined);
    const problems = snapshot.problems.join("\n");
    assert.equal(snapshot.problems.length, 3, problems);
    assert.match(problems, /state\/triggers: rules\[0\]\.state\.kind: expected pending or fired/);
    assert.match(problems, /state\/trigger-clears\/t2: a override record does not belong under this key/);
    assert.match(problems, /state\/incidents\/inc-9: /);
    await shared.putControl({ kind: "rollback_end", atMs: 8, rollback: pin, cause: "released", actor: "ops", reason: "done" });
    assert.equal((await shared.load()).state.rollback, undefined, "released: no pin");
  });

  it("source limits are one key per source (URI-encoded), read back while set; a removal or expiry ends one, a record under another source's key is skipped", async () => {
    const prefix = "/source-limit-keys/";
    const shared = new EtcdState(client, prefix, "w1");
    const limit = (source: string, atMs: number) => ({ source, action: "cap" as const, capPerS: 5, untilMs: atMs + HOUR, reason: "r", actor: "ops", atMs });
    await shared.putControl({ kind: "source_limit", atMs: 1, limit: limit("[2001:db8::1]:443", 1), cause: "set" });
    await shared.putControl({ kind: "source_limit", atMs: 2, limit: limit("10.0.0.1", 2), cause: "set" });
    await shared.putControl({ kind: "source_limit", atMs: 3, limit: limit("tenant/a", 3), cause: "set" });
    await shared.putControl({ kind: "source_limit", atMs: 4, limit: limit("10.0.0.1", 2), cause: "removed", actor: "ops", reason: "done" });
    await shared.putControl({ kind: "source_limit", atMs: 5, limit: limit("tenant/a", 3), cause: "expired" });
    await client.put(`${prefix}state/source-limits/10.0.0.2`).value(JSON.stringify({ kind: "source_limit", at_ms: 6, limit: { source: "10.0.0.3", action: "cap", cap_per_s: 5, until_ms: 6 + HOUR, reason: "r", actor: "ops", at_ms: 6 }, cause: "set" }));
    const keys = Object.keys(await client.getAll().prefix(`${prefix}state/source-limits/`).strings()).sort();
    assert.deepEqual(keys, ["10.0.0.1", "10.0.0.2", "%5B2001%3Adb8%3A%3A1%5D%3A443", "tenant%2Fa"].map((k) => `${prefix}state/source-limits/${k}`).sort());
    const snapshot = await shared.load();
    assert.deepEqual(snapshot.state.sourceLimits, [limit("[2001:db8::1]:443", 1)]);
    assert.deepEqual(snapshot.problems, [`${prefix}state/source-limits/10.0.0.2: a source_limit record does not belong under this key`]);
  });
});
