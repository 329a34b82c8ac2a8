// Failover as it happens in production: a three-member etcd cluster on loopback, three
// control-plane replicas as separate processes (`autoglm control-plane` with an etcd section),
// and sidecars running the real filter (build/filter.wasm) in the project's proxy-wasm host on
// the wall clock, whose control-plane cluster lists the three replicas (Envoy's round robin with
// outlier detection: filter/host/endpoint-picker.ts). A cluster fails and its breaker opens; an
// override is acknowledged; the leader is killed with SIGKILL (no resignation, no flush: its lease
// runs out); then a follower. Checked: a new leader takes over, no sidecar's enforced version ever
// goes down, the open breaker stays open, the override is in force, every sidecar of a killed
// replica moves to another.
//
// No timed assertions: every wait is for a condition with a generous bound (a loaded 2-core
// machine stalls); the measured times are printed as diagnostics (README, "Running several
// replicas").
import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { generationOf } from "../control-plane/src/core/decision-version.js";
import { FILTER_WASM } from "./filter-support.js";
import { startEtcdCluster, type EtcdCluster } from "./support/etcd-cluster.js";
import { startFilterSidecar, type FilterSidecar } from "./support/filter-sidecar.js";
import { startReplicaProcess, type ReplicaProcess } from "./support/replica-process.js";

const CLUSTERS = ["a", "b", "c"];
const PREFIX = "/autoglm-failover/";
const GRPC_TOKEN = "failover-grpc-token";
const ADMIN_TOKEN = "failover-admin-token";
const LEASE_TTL_S = 3;
const HOLD_WINDOWS = 3;
/** The filter's reconnect backoff (exponential with jitter), ms. */
const RECONNECT_BASE_MS = 500;
const RECONNECT_MAX_MS = 2000;
/** A sidecar's reconnect bound: its longest backoff plus the tick that looks at it (window_ms). */
const RECONNECT_BOUND_MS = RECONNECT_MAX_MS + 1000;
/** Sidecars per replica at the start (each starts on a different endpoint, in turn). */
const SIDECARS_PER_REPLICA = 2;
/** Requests per sidecar every 100 ms (~50 a second; ~17 per cluster). */
const REQUESTS_PER_TICK = 5;
/** A generous bound for every wait: conditions, not speed, are tested. */
const WAIT_MS = 90_000;

const CONFIG = {
  clusters: CLUSTERS.map((name) => ({ name, base_weight: 1 })),
  slo: { latency_ms: 2000, success_rate: 0.99 },
  detector: { warmup_windows: 3 },
  // Long enough that the open breaker does not probe during the test: "stays open" means open.
  breaker: { open_base_ms: 120_000, open_max_ms: 120_000 },
};

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

/** Whether a list of versions never goes down. */
const neverDown = (versions: readonly number[]): boolean => versions.every((v, i) => i === 0 || v >= versions[i - 1]!);

describe("three control-plane processes on etcd, killed with SIGKILL, sidecars running the filter", () => {
  let etcd: EtcdCluster;
  let probe: Etcd3;
  let dir: string;
  const replicas: ReplicaProcess[] = [];
  const sidecars: FilterSidecar[] = [];
  const failing = new Set<string>();
  let traffic: NodeJS.Timeout | undefined;

  /** The leading replica's id as etcd's election says (the oldest election key), if any. */
  async function leaderId(): Promise<string | undefined> {
    const response = await probe.getAll().prefix(`${PREFIX}election/leader/`).sort("Create", "Ascend").limit(1).exec();
    const kv = response.kvs[0];
    return kv === undefined ? undefined : (JSON.parse(kv.value.toString("utf8")) as { id: string }).id;
  }
  const byId = (id: string | undefined) => replicas.find((r) => r.id === id);
  const byEndpoint = (endpoint: string | undefined) => replicas.find((r) => r.grpcAddress === endpoint);
  const latest = (s: FilterSidecar) => s.received.at(-1)?.decisions;
  const stateIn = (s: FilterSidecar, cluster: string) => latest(s)?.clusters.find((c) => c.cluster === cluster);
  /** The filter sidecars a replica serves (its /v1/sidecars, without the followers' forwarders). */
  async function servedBy(r: ReplicaProcess): Promise<string[]> {
    const { body } = await r.admin("GET", "/v1/sidecars");
    return (body as { sidecars: { node_id: string }[] }).sidecars.map((s) => s.node_id).filter((id) => !id.startsWith("replica/")).sort();
  }

  before(async () => {
    etcd = await startEtcdCluster();
    probe = new Etcd3({ hosts: etcd.endpoints });
    dir = await mkdtemp(join(tmpdir(), "autoglm-failover-"));
    const etcdSection = { endpoints: etcd.endpoints, prefix: PREFIX, lease_ttl_s: LEASE_TTL_S, takeover_hold_windows: HOLD_WINDOWS };
    replicas.push(
      ...(await Promise.all(
        ["r0", "r1", "r2"].map((id) => startReplicaProcess({ id, dir, config: { ...CONFIG, etcd: etcdSection }, grpcToken: GRPC_TOKEN, adminToken: ADMIN_TOKEN })),
      )),
    );
    const endpoints = replicas.map((r) => r.grpcAddress);
    for (let i = 0; i < SIDECARS_PER_REPLICA * replicas.length; i++) {
      sidecars.push(
        await startFilterSidecar({
          nodeId: `s${i}`,
          wasm: FILTER_WASM,
          endpoints,
          firstEndpoint: i % replicas.length,
          clusters: CLUSTERS,
          token: GRPC_TOKEN,
          reconnectBaseMs: RECONNECT_BASE_MS,
          reconnectMaxMs: RECONNECT_MAX_MS,
        }),
      );
    }
    traffic = setInterval(() => {
      for (const s of sidecars) s.traffic(REQUESTS_PER_TICK, failing);
    }, 100);
  });

  after(async () => {
    if (traffic !== undefined) clearInterval(traffic);
    for (const s of sidecars) s.close();
    await Promise.all(replicas.map((r) => r.kill()));
    probe?.close();
    await etcd?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("three etcd members run, one replica leads, and every replica, the followers too, serves its sidecars' streams", async () => {
    const members = await probe.cluster.memberList({});
    assert.equal(members.members.length, 3);
    assert.equal(etcd.members.filter((m) => !m.exited).length, 3);
    await until("a replica leads", async () => byId(await leaderId()) !== undefined);
    await until("every sidecar got a decision set on its first endpoint", () => sidecars.every((s) => s.received.length > 0 && s.current().endpoint === s.received[0]!.endpoint));
    for (const r of replicas) {
      const expected = sidecars.filter((s) => s.current().endpoint === r.grpcAddress).map((s) => s.nodeId).sort();
      assert.equal(expected.length, SIDECARS_PER_REPLICA, `${r.id}'s sidecars`);
      await until(`${r.id} lists its sidecars`, async () => JSON.stringify(await servedBy(r)) === JSON.stringify(expected));
    }
  });

  it("a failing cluster's breaker opens, and every sidecar, the followers' too, enforces the set with it open", async (t) => {
    failing.add("a");
    const waited = await until("every sidecar holds a set with a open", () => sidecars.every((s) => stateIn(s, "a")?.state === "open"));
    t.diagnostic(`a's breaker open at every sidecar ${waited} ms after it started failing`);
    const leader = byId(await leaderId())!;
    const { body } = await leader.admin("GET", "/v1/decisions");
    const version = (body as { version: number }).version;
    await until("every sidecar acknowledged the leader's set", () => sidecars.every((s) => (s.acked.at(-1) ?? 0) >= version));
  });

  it("kill -9 of the leader during the fault: a new leader within the lease, versions never go down, the open breaker stays open, the override acknowledged just before is in force", async (t) => {
    const old = byId(await leaderId())!;
    const orphans = sidecars.filter((s) => s.current().endpoint === old.grpcAddress);
    assert.equal(orphans.length, SIDECARS_PER_REPLICA);
    // An override acknowledged by the leader, then at once the crash.
    const override = await old.admin("POST", "/v1/clusters/b/override", { state: "open", reason: "failover drill" });
    assert.equal(override.status, 200, JSON.stringify(override.body));
    const killedAt = Date.now();
    await old.kill();
    const receivedAtKill = sidecars.map((s) => s.received.length);
    // The dead leader's last set (the override's, if it got out) and its generation.
    const highestBefore = Math.max(...sidecars.flatMap((s) => s.received.map((r) => r.decisions.version)));
    const newTerm = (version: number) => generationOf(version) > generationOf(highestBefore);

    let newLeader: ReplicaProcess | undefined;
    await until("a surviving replica leads", async () => {
      const id = await leaderId();
      newLeader = id === old.id ? undefined : byId(id);
      return newLeader !== undefined;
    });
    const electedMs = Date.now() - killedAt;
    // When it began its term, by its own log (the term starts once its generation is claimed).
    const led = () => newLeader!.logs.find((l) => l.msg === "elected: leading");
    await until(`${newLeader!.id} logs its term`, () => led() !== undefined);
    const ledMs = Date.parse(String(led()!.time)) - killedAt;
    // It continued every cluster from the dead leader's assessment in etcd (core/assessment.ts).
    const term = () => newLeader!.logs.find((l) => l.msg === "leading: a new term");
    await until(`${newLeader!.id} logs what it continued`, () => term() !== undefined);
    assert.deepEqual(term()!.resumed_clusters, CLUSTERS, JSON.stringify(term()));
    // Every sidecar holds and enforces the new leader's set (the last one kept as is until
    // something changes; then versions continue in its generation, above every earlier one).
    const leaderVersion = async () => Number(((await newLeader!.admin("GET", "/v1/decisions")).body as { version: number }).version);
    await until("every sidecar enforces the new leader's set", async () => {
      const version = await leaderVersion();
      return sidecars.every((s) => s.acked.at(-1) === version);
    });
    const movedMs = Math.max(...orphans.map((s) => s.current().answeredAtMs ?? Number.POSITIVE_INFINITY)) - killedAt;
    t.diagnostic(
      `leader ${old.id} killed: ${newLeader!.id} oldest candidate ${electedMs} ms later, leading ${ledMs} ms later (lease_ttl_s ${LEASE_TTL_S}); ` +
        `the dead leader's ${orphans.length} sidecars answered by another replica after ${movedMs} ms`,
    );
    for (const s of orphans) assert.notEqual(s.current().endpoint, old.grpcAddress, `${s.nodeId} moved off the dead replica`);

    // Watch the new leader's first windows (past the takeover hold) while the fault goes on.
    const watchFrom = Date.now();
    await until("the new leader's first windows passed", () => Date.now() - watchFrom > (HOLD_WINDOWS + 3) * 1000);
    sidecars.forEach((s, i) => {
      const since = s.received.slice(receivedAtKill[i]);
      // The dead leader's sidecars said hello to another replica, which answers with its set. A
      // surviving replica's sidecar gets a set only when the set changes: when the override's set
      // reached it before the kill and nothing changed since, it has none after the kill, and
      // holds that set.
      if (orphans.includes(s)) assert.ok(since.length > 0, `${s.nodeId} received sets after the kill`);
      for (const { decisions } of since) {
        const a = decisions.clusters.find((c) => c.cluster === "a")!;
        assert.equal(a.state, "open", `${s.nodeId}, version ${decisions.version}: a is ${a.state}`);
      }
      assert.equal(stateIn(s, "a")?.state, "open", `${s.nodeId}: a is open in the set it holds`);
      const b = stateIn(s, "b")!;
      assert.equal(b.state, "open", `${s.nodeId}: the override holds b open`);
      assert.match(b.reason, /override by .*: failover drill/);
      assert.ok(neverDown(s.acked), `${s.nodeId} acknowledged versions ${s.acked.join(", ")}`);
    });
    const version = await leaderVersion();
    assert.ok(version >= highestBefore, `the new leader serves ${version}, the dead one had reached ${highestBefore}`);
    if (version > highestBefore) assert.ok(newTerm(version), `${version} is in a generation above ${generationOf(highestBefore)}`);
    const firstNew = sidecars.flatMap((s) => s.received.filter((r) => newTerm(r.decisions.version)).map((r) => r.atMs));
    t.diagnostic(`first set of the new term at a sidecar: ${firstNew.length === 0 ? "none yet (nothing changed)" : `${Math.min(...firstNew) - killedAt} ms after the kill`}`);
    // A set below one a sidecar already holds would be refused (NACK): none was even sent.
    const lower = sidecars.map((s) => s.received.filter((r, i) => i > 0 && r.decisions.version < s.received[i - 1]!.decisions.version).length);
    t.diagnostic(`sets received below an earlier one, per sidecar: ${lower.join(", ")}`);
  });

  it("kill -9 of a follower: its sidecars move to the remaining replica within their reconnect bound", async (t) => {
    const leader = byId(await leaderId())!;
    const follower = replicas.find((r) => !r.exited && r !== leader)!;
    const moving = sidecars.filter((s) => s.current().endpoint === follower.grpcAddress);
    assert.ok(moving.length > 0, `${follower.id} serves sidecars`);
    const killedAt = Date.now();
    await follower.kill();
    await until("every sidecar of the killed follower is answered by the leader", () =>
      moving.every((s) => s.current().endpoint === leader.grpcAddress && s.current().answeredAtMs !== undefined),
    );
    const movedMs = moving.map((s) => s.current().answeredAtMs! - killedAt);
    t.diagnostic(`follower ${follower.id} killed: its ${moving.length} sidecars answered by ${leader.id} after ${movedMs.join(", ")} ms (reconnect bound ${RECONNECT_BOUND_MS} ms)`);
    await until("the last replica lists every sidecar", async () => (await servedBy(leader)).length === sidecars.length);
    assert.equal(byEndpoint(sidecars[0]!.current().endpoint), leader);
    // The last set still has the breaker open and the override in force, and no version went down.
    const version = Number(((await leader.admin("GET", "/v1/decisions")).body as { version: number }).version);
    await until("every sidecar acknowledged the last replica's set", () => sidecars.every((s) => (s.acked.at(-1) ?? 0) >= version));
    for (const s of sidecars) {
      assert.equal(stateIn(s, "a")?.state, "open");
      assert.equal(stateIn(s, "b")?.state, "open");
      assert.ok(neverDown(s.acked), `${s.nodeId} acknowledged versions ${s.acked.join(", ")}`);
    }
  });
});
