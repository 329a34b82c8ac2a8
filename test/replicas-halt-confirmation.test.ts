// A halt's confirmation counts the sidecars of every replica: three control-plane replicas on a
// real three-member etcd cluster (Debian's etcd-server, on loopback), each with its own sidecar
// workers acknowledging what they apply (DecisionAck, as the filter does). Each replica publishes
// its workers and their arrivals at the watched versions under presence/<replica>/<shard>, bound to
// its own lease (replicas/sidecar-presence.ts); GET /v1/halt on any replica lists every worker of
// the mesh. A follower's worker that does not apply the halt keeps it unconfirmed on every replica;
// a follower killed like kill -9 (its etcd client closed without revoking its lease) leaves every
// count once its lease has run out. POST /v1/halt with wait_s sent to a follower answers once the
// leader's halting set reached it and every sidecar of the mesh confirmed it. The clock is virtual; no timed assertions: every wait is for a
// condition, with a generous deadline (the delay measured is printed as a diagnostic).
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { configFromDocument } from "../control-plane/src/config/index.js";
import { createLogger } from "../lib/log.js";
import { startEtcdCluster, type EtcdCluster } from "./support/etcd-cluster.js";
import { connectSidecar } from "./support/replica-sidecar.js";
import { adminCall, aliveOf, closeReplicas, followersOf, leadersOf, startReplicas, type Replica } from "./support/replica-group.js";
import { until } from "./support/until.js";

const logger = createLogger("test", "silent");
const TOKEN = "halt-confirmation-admin-token";
const CLUSTERS = ["a", "b"];
const PREFIX = "/autoglm-halt/";
const LEASE_TTL_S = 3;
/** halt.confirm_wait_s: how long workers are given before they are listed as unconfirmed. */
const CONFIRM_WAIT_S = 30;
const clock = { now: Date.now() - (Date.now() % 1000) };

let etcd: EtcdCluster;

function config(id: string) {
  return configFromDocument(
    {
      grpc: { host: "127.0.0.1", port: 0 },
      admin: { host: "127.0.0.1", port: 0, token: TOKEN },
      clusters: CLUSTERS.map((name) => ({ name, base_weight: 1 })),
      slo: { latency_ms: 2000, success_rate: 0.99 },
      halt: { confirm_wait_s: CONFIRM_WAIT_S },
      etcd: { endpoints: etcd.endpoints, prefix: PREFIX, lease_ttl_s: LEASE_TTL_S, replica_id: id },
    },
    {},
  );
}

interface WorkerRef {
  stream_id: string;
  node_id: string;
}

interface HaltView {
  halted: boolean;
  version?: number;
  confirmation?: { state: string; confirmed: WorkerRef[]; waiting: WorkerRef[]; unconfirmed: WorkerRef[] };
}

const admin = (r: Replica, method: string, path: string, body?: unknown) => adminCall(r, TOKEN, method, path, body);

async function haltOf(r: Replica): Promise<HaltView> {
  const { status, json } = await admin(r, "GET", "/v1/halt");
  assert.equal(status, 200, JSON.stringify(json));
  return json as unknown as HaltView;
}

const nodes = (refs: readonly WorkerRef[] | undefined) => (refs ?? []).map((w) => w.node_id).sort();

describe("a halt's confirmation counts the sidecars of every replica", () => {
  let probe: Etcd3;
  let replicas: Replica[] = [];
  const alive = () => aliveOf(replicas);
  const leader = () => leadersOf(replicas)[0]!;
  const followers = () => followersOf(replicas);
  const sidecarNodes = () => alive().flatMap((r) => r.sidecars.map((s) => s.nodeId)).sort();

  before(async () => {
    etcd = await startEtcdCluster();
    probe = new Etcd3({ hosts: etcd.endpoints });
    replicas = await startReplicas(["h0", "h1", "h2"], config, logger, () => clock.now);
    await until("one replica leads", () => leadersOf(replicas).length === 1);
    for (const r of replicas) for (const n of [0, 1]) r.sidecars.push(connectSidecar(r.running.controlPlane, `${r.id}-s${n}`, CLUSTERS, 0, { ack: true }));
    // Each replica has heard of the other replicas' four sidecars (a confirmation counts the
    // workers a replica knows of when it settles).
    for (const r of replicas) await until(`${r.id} knows the other replicas' sidecars`, () => r.running.controlPlane.remoteWorkers().length === 4);
  });

  after(async () => {
    await closeReplicas(replicas);
    probe.close();
    await etcd.stop();
  });

  it("a halt sent to a follower is confirmed by the sidecars of the leader and of both followers, on every replica", async () => {
    // With wait_s the follower answers once the leader's halting set reached it and every sidecar
    // of the mesh confirmed it (a generous real-time bound; it answers as soon as they have).
    const { status, json } = await admin(followers()[0]!, "POST", "/v1/halt", { reason: "mesh-wide maintenance", wait_s: 60 });
    assert.equal(status, 200, JSON.stringify(json));
    const answered = json.halt as HaltView;
    assert.ok(answered.halted && answered.confirmation?.state === "confirmed", JSON.stringify(answered));
    assert.deepEqual(nodes(answered.confirmation.confirmed), sidecarNodes());
    for (const r of alive()) {
      await until(`${r.id} counts all six sidecars as confirmed`, async () => {
        const h = await haltOf(r);
        return h.halted && h.confirmation?.state === "confirmed" && JSON.stringify(nodes(h.confirmation.confirmed)) === JSON.stringify(sidecarNodes());
      });
      const h = await haltOf(r);
      assert.equal(h.confirmation!.confirmed.length, 6, JSON.stringify(h.confirmation));
      // The followers' forwarding streams to the leader are no sidecars.
      assert.ok(!nodes(h.confirmation!.confirmed).some((n) => n.startsWith("replica/")), JSON.stringify(h.confirmation));
    }
    // The leader's halt incident is confirmed by every sidecar of the mesh, not its own two only.
    const incident = leader().running.controlPlane.incidentList().find((i) => i.kind === "halt" && i.endedAtMs === undefined)!;
    await until("the leader confirmed the halt incident", () => leader().running.controlPlane.incident(incident.id)?.confirmedAtMs !== undefined);
    assert.equal(leader().running.controlPlane.incident(incident.id)!.confirmations.length, 6);
  });

  it("a follower's sidecar that does not apply the halt keeps it unconfirmed on every replica", async () => {
    assert.equal((await admin(leader(), "POST", "/v1/resume", { reason: "done" })).status, 200);
    for (const r of alive()) await until(`${r.id} shows no halt`, async () => !(await haltOf(r)).halted);
    const follower = followers()[1]!;
    const serving = follower.running.controlPlane.currentDecisions().version;
    const stuck = connectSidecar(follower.running.controlPlane, `${follower.id}-stuck`, CLUSTERS, 0, { ack: true, appliesUpTo: serving });
    follower.sidecars.push(stuck);
    assert.equal((await admin(leader(), "POST", "/v1/halt", { reason: "second halt" })).status, 200);
    for (const r of alive()) {
      await until(`${r.id} counts six confirmed and the stuck one waiting`, async () => {
        const h = await haltOf(r);
        return h.confirmation?.state === "waiting" && nodes(h.confirmation.confirmed).length === 6 && JSON.stringify(nodes(h.confirmation.waiting)) === JSON.stringify([stuck.nodeId]);
      });
    }
    // Past halt.confirm_wait_s it is listed as unconfirmed, on the leader and on the other follower too.
    clock.now += (CONFIRM_WAIT_S + 1) * 1000;
    for (const r of alive()) {
      const h = await haltOf(r);
      assert.equal(h.confirmation?.state, "unconfirmed", `${r.id}: ${JSON.stringify(h.confirmation)}`);
      assert.deepEqual(nodes(h.confirmation?.unconfirmed), [stuck.nodeId], r.id);
    }
    assert.equal(stuck.enforced() < leader().running.controlPlane.currentDecisions().version, true, "it really holds an older set");
    // Once it leaves, every worker left has confirmed.
    stuck.close();
    follower.sidecars.splice(follower.sidecars.indexOf(stuck), 1);
    for (const r of alive()) await until(`${r.id} shows the halt confirmed again`, async () => (await haltOf(r)).confirmation?.state === "confirmed");
  });

  it("a follower killed like kill -9 leaves the count once its lease has run out", async (t) => {
    const victim = followers()[0]!;
    // Its presence keys are bound to a lease as long as its election key's (etcd.lease_ttl_s, or
    // etcd's minimum TTL, 1.5 election timeouts, when that is longer): etcd deletes them when it runs out.
    const granted = async (lease: string) => Number((await probe.leaseClient.leaseTimeToLive({ ID: lease })).grantedTTL);
    const election = (await probe.getAll().prefix(`${PREFIX}election/leader/`).exec()).kvs.find((kv) => JSON.parse(kv.value.toString()).id === victim.id)!;
    const electionTtl = await granted(election.lease);
    assert.ok(electionTtl >= LEASE_TTL_S && electionTtl <= 4, `election lease TTL ${electionTtl} s`);
    const keys = await probe.getAll().prefix(`${PREFIX}presence/${victim.id}/`).exec();
    assert.ok(keys.kvs.length > 0, "the follower published its sidecars");
    for (const kv of keys.kvs) assert.equal(await granted(kv.lease), electionTtl, kv.key.toString());
    const theirs = victim.sidecars.map((s) => s.nodeId).sort();
    const killedAt = Date.now();
    victim.running.replica!.abandon();
    victim.dead = true;
    for (const r of alive()) {
      await until(`${r.id} no longer counts ${victim.id}'s sidecars`, async () => {
        const h = await haltOf(r);
        return !nodes(h.confirmation?.confirmed).some((n) => theirs.includes(n));
      });
      const h = await haltOf(r);
      assert.equal(h.confirmation?.state, "confirmed", JSON.stringify(h.confirmation));
      assert.deepEqual(nodes(h.confirmation?.confirmed), sidecarNodes());
    }
    t.diagnostic(`the killed follower's ${theirs.length} sidecars left the count ${Date.now() - killedAt} ms after the kill (lease ${LEASE_TTL_S} s)`);
    for (const s of victim.sidecars) s.close();
    await victim.running.close();
  });
});
