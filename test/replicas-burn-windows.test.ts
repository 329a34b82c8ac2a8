// The error budgets' burn-rate windows shared by control-plane replicas on a real three-member etcd
// cluster (Debian's etcd-server, on loopback): the leader writes the alert windows' minute buckets
// to etcd (state/burn-windows/<minute>), fenced, every 10 s of its clock; it dies (its etcd client
// closed without leaving the election, as a kill -9 would: the lease runs out) during a fast burn,
// and the new leader, seeing only healthy traffic from then on, still alerts from its first window:
// the 1 h and 5 min windows it restored hold the burn. Without the shared minute buckets its
// windows would hold one healthy window and nothing would fire. The clock is virtual (a window at
// a time); no timed assertions: every wait is for a condition, with a generous deadline.
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { parseRecord } from "../control-plane/src/audit/records.js";
import { configFromDocument } from "../control-plane/src/config/index.js";
import { createLogger } from "../lib/log.js";
import { startEtcdCluster, type EtcdCluster } from "./support/etcd-cluster.js";
import { connectSidecar } from "./support/replica-sidecar.js";
import { closeReplicas, leadersOf, startReplicas, type Replica } from "./support/replica-group.js";
import { until } from "./support/until.js";

const logger = createLogger("test", "silent");
const TOKEN = "burn-windows-admin-token";
const CLUSTERS = ["a", "b", "c"];
const PREFIX = "/autoglm-burn/";
// On a minute boundary plus 5 s: the failing windows below fill one minute bucket and start the next.
const clock = { now: Date.now() - (Date.now() % 60_000) + 5_000 };

let etcd: EtcdCluster;

function config(id: string) {
  return configFromDocument(
    {
      grpc: { host: "127.0.0.1", port: 0 },
      admin: { host: "127.0.0.1", port: 0, token: TOKEN },
      clusters: CLUSTERS.map((name) => ({ name, base_weight: 1 })),
      slo: { latency_ms: 2000, success_rate: 0.99 },
      detector: { warmup_windows: 3 },
      // Fast burn (the defaults): burn rate 14.4 over 1 h and over 5 min.
      error_budgets: { objective: 0.99, persist_interval_s: 60 },
      etcd: { endpoints: etcd.endpoints, prefix: PREFIX, lease_ttl_s: 3, replica_id: id },
    },
    {},
  );
}

interface BurnView {
  name: string;
  firing: boolean;
  since_ms: number | null;
  long_burn_rate: number;
  short_burn_rate: number;
}

/** A scope's fast-burn alert as GET /v1/error-budgets shows it. */
async function fastBurn(r: Replica, scope: string): Promise<BurnView> {
  const response = await fetch(`${r.running.adminUrl}/v1/error-budgets`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { scopes: { scope: string; alerts: BurnView[] }[] };
  return body.scopes.find((s) => s.scope === scope)!.alerts.find((a) => a.name === "fast_burn")!;
}

/** One window: every sidecar of `leader` reports (cluster a failing half its requests when
 *  `failing`), the clock moves a window on, and the leader runs its round. */
async function window(leader: Replica, failing: boolean): Promise<void> {
  const start = clock.now - 1000;
  for (const s of leader.sidecars) s.report(start, failing ? { errorRate: { a: 0.5 } } : {});
  clock.now += 1000;
  await leader.running.controlPlane.decide();
}

/** Bad and total events of `scope` in etcd's burn-window minute buckets. */
async function burnInEtcd(probe: Etcd3, scope: string): Promise<{ bad: number; total: number; keys: number }> {
  const values = await probe.getAll().prefix(`${PREFIX}state/burn-windows/`).strings();
  let bad = 0;
  let total = 0;
  for (const text of Object.values(values)) {
    const parsed = parseRecord(text);
    assert.ok(parsed.ok && parsed.record.kind === "error_budget", parsed.ok ? parsed.record.kind : parsed.error);
    assert.equal(parsed.record.budget.bucketMs, 60_000);
    for (const b of parsed.record.budget.buckets) if (b.scope === scope) [bad, total] = [bad + b.total - b.good, total + b.total];
  }
  return { bad, total, keys: Object.keys(values).length };
}

describe("burn-rate windows shared by replicas on etcd", () => {
  let probe: Etcd3;
  let replicas: Replica[] = [];
  const leaders = () => leadersOf(replicas);

  before(async () => {
    etcd = await startEtcdCluster();
    probe = new Etcd3({ hosts: etcd.endpoints });
    replicas = await startReplicas(["b0", "b1"], config, logger, () => clock.now);
  });

  after(async () => {
    await closeReplicas(replicas);
    probe.close();
    await etcd.stop();
  });

  it("a fast burn under the first leader fires, and its minute buckets are in etcd", async () => {
    await until("one replica leads", () => leaders().length === 1);
    const leader = leaders()[0]!;
    for (const n of [0, 1]) leader.sidecars.push(connectSidecar(leader.running.controlPlane, `${leader.id}-s${n}`, CLUSTERS));
    for (let i = 0; i < 4; i++) await window(leader, false);
    // 25 failing windows: two saves at least (every 10 s of the clock) after the burn began.
    for (let i = 0; i < 25; i++) await window(leader, true);
    const burn = await fastBurn(leader, "a");
    assert.ok(burn.firing && burn.long_burn_rate > 14.4 && burn.short_burn_rate > 14.4, JSON.stringify(burn));
    // Burn rate 14.4 at objective 0.99: 14.4 % of the events bad.
    await until("what etcd holds of a's windows burns above 14.4", async () => {
      const stored = await burnInEtcd(probe, "a");
      return stored.total > 0 && stored.bad / stored.total > 0.144;
    });
    const stored = await burnInEtcd(probe, "a");
    assert.ok(stored.keys >= 1 && stored.keys <= 2, `one key per minute bucket (30 s of windows), got ${stored.keys}`);
  });

  it("after a kill -9 of the leader, the new leader alerts from its first window although its own traffic is healthy", async () => {
    const old = leaders()[0]!;
    const bBefore = (await burnInEtcd(probe, "b")).total;
    old.running.replica!.abandon();
    old.dead = true;
    for (const s of old.sidecars) s.close();
    await old.running.close();
    await until("the other replica leads", () => leaders().length === 1);
    const leader = leaders()[0]!;
    for (const n of [0, 1]) leader.sidecars.push(connectSidecar(leader.running.controlPlane, `${leader.id}-s${n}`, CLUSTERS));
    await window(leader, false);
    const burn = await fastBurn(leader, "a");
    assert.ok(burn.firing, `fast burn on a goes on alerting under the new leader: ${JSON.stringify(burn)}`);
    assert.ok(burn.long_burn_rate > 14.4 && burn.short_burn_rate > 14.4, JSON.stringify(burn));
    // The new leader writes the windows on (fenced by its own election key).
    for (let i = 0; i < 11; i++) await window(leader, false);
    await until("the new leader's counts reach etcd", async () => (await burnInEtcd(probe, "b")).total > bBefore);
  });
});
