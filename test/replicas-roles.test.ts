// The control plane's roles among several replicas, without etcd (replicas-etcd.test.ts runs
// them on a real etcd cluster): a follower runs no rounds and serves the sets the leader
// published; a new leader continues above every earlier version and holds the breakers it took
// over for its first windows; a leader moves above a generation another replica registered.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { composeVersion, generationOf } from "../control-plane/src/core/decision-version.js";
import type { BreakerKind, DecisionSet } from "../control-plane/src/core/types.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";
import { connectSidecar, versionsOnlyGrow } from "./support/replica-sidecar.js";

const logger = createLogger("test", "silent");
const T0 = 1_700_000_000_000;
const CLUSTERS = ["a", "b", "c"];

function replica(clock: { now: number }, options: { follower?: boolean; onSidecarAhead?: (held: number) => void } = {}): ControlPlane {
  return new ControlPlane({
    clusters: CLUSTERS.map((name) => ({ name, baseWeight: 1 })),
    slo: { latencyMs: 2000, successRate: 0.99 },
    now: () => clock.now,
    random: () => 0.5,
    logger,
    follower: options.follower ?? true,
    ...(options.onSidecarAhead === undefined ? {} : { onSidecarAhead: options.onSidecarAhead }),
  });
}

/** `set` with cluster `name` open (retry after `retryAfterS`), as the last leader published it. */
function withOpen(set: DecisionSet, name: string, version: number, retryAfterS: number): DecisionSet {
  return {
    ...set,
    version,
    clusters: set.clusters.map((c) => (c.cluster === name ? { ...c, state: "open", weight: 0, retryAfterS, reason: "error rate 100% > 5%" } : c)),
  };
}

describe("replica roles", () => {
  it("a follower runs no rounds and serves only sets newer than the one it holds", async () => {
    const clock = { now: T0 };
    const cp = replica(clock);
    const sidecar = connectSidecar(cp, "s1", CLUSTERS);
    const first = cp.currentDecisions();
    assert.equal(await cp.decide(), undefined);
    const newer = withOpen(first, "a", first.version + 5, 30);
    assert.equal(await cp.adopt({ ...newer, version: first.version - 1 }), false, "an older set is not taken");
    assert.equal(await cp.adopt(newer), true);
    assert.equal(sidecar.received.at(-1)!.version, newer.version);
    assert.equal(cp.clusterStatuses().find((s) => s.cluster === "a")!.state.kind, "open", "the follower's status shows the leader's breaker");
    assert.ok(versionsOnlyGrow(sidecar));
    await cp.stop();
  });

  it("an override set on a follower is applied without a round; the leader applies a shared one and publishes it", async () => {
    const clock = { now: T0 };
    const follower = replica(clock);
    const leader = replica(clock, { follower: false });
    const before = follower.currentDecisions().version;
    const override = { cluster: "c", state: "open" as const, reason: "maintenance", actor: "alice" };
    const set = await follower.setOverride(override);
    assert.equal(set.version, before, "a follower issues no version");
    assert.equal(follower.overrides()[0]!.cluster, "c");
    await leader.applyShared({ kind: "override", atMs: clock.now, override });
    const c = leader.currentDecisions().clusters.find((x) => x.cluster === "c")!;
    assert.equal(c.state, "open");
    assert.match(c.reason, /override by alice/);
    await follower.stop();
    await leader.stop();
  });

  it("a new leader keeps the set it took over, then continues in the generation it claimed, above every earlier version", async () => {
    const clock = { now: T0 };
    const cp = replica(clock);
    const sidecar = connectSidecar(cp, "s1", CLUSTERS);
    const earlier = { ...cp.currentDecisions(), version: composeVersion(generationOf(cp.currentDecisions().version) + 3, 40) };
    const claimed = generationOf(earlier.version) + 1;
    await cp.lead(claimed, { decisions: earlier, overrides: [] }, 0);
    assert.equal(cp.isLeading, true);
    assert.equal(cp.currentDecisions().version, earlier.version, "the same content keeps its version");
    const next = await cp.setOverride({ cluster: "b", state: "open", reason: "drain", actor: "bob" });
    assert.equal(next.version, composeVersion(claimed, 1));
    assert.deepEqual(sidecar.received.map((s) => s.version).slice(-2), [earlier.version, next.version]);
    assert.ok(versionsOnlyGrow(sidecar));
    await cp.stop();
  });

  const holdCases: { hold: number; states: BreakerKind[] }[] = [
    { hold: 0, states: ["half_open", "half_open", "half_open", "closed"] },
    { hold: 3, states: ["open", "open", "open", "half_open"] },
  ];
  for (const { hold, states } of holdCases) {
    it(`a new leader holding the breakers for ${hold} windows leaves an open one open until they closed, though its wait is over`, async () => {
      const clock = { now: T0 };
      const cp = replica(clock);
      const sidecar = connectSidecar(cp, "s1", CLUSTERS);
      const earlier = withOpen(cp.currentDecisions(), "a", cp.currentDecisions().version + 1, 1);
      await cp.lead(generationOf(earlier.version) + 1, { decisions: earlier, overrides: [] }, hold);
      const seen: BreakerKind[] = [];
      for (let w = 0; w < states.length; w++) {
        sidecar.report(clock.now - (clock.now % 1000));
        clock.now += 2000;
        await cp.decide();
        seen.push(cp.currentDecisions().clusters.find((c) => c.cluster === "a")!.state);
      }
      assert.deepEqual(seen, states);
      await cp.stop();
    });
  }

  it("a leader moves to a generation another replica registered and re-issues its set there", async () => {
    const clock = { now: T0 };
    const cp = replica(clock);
    const sidecar = connectSidecar(cp, "s1", CLUSTERS);
    const generation = generationOf(cp.currentDecisions().version) + 1;
    await cp.lead(generation, { overrides: [] }, 0);
    const before = cp.currentDecisions();
    assert.equal(await cp.advanceGeneration(generation), undefined, "not above: nothing to do");
    const moved = await cp.advanceGeneration(generation + 7);
    assert.equal(moved!.version, composeVersion(generation + 7, 1));
    assert.deepEqual(moved!.clusters, before.clusters);
    assert.equal(sidecar.received.at(-1)!.version, moved!.version);
    await cp.stop();
  });

  it("a follower whose sidecar enforces a newer version registers it and issues none itself", async () => {
    const clock = { now: T0 };
    const registered: number[] = [];
    const cp = replica(clock, { onSidecarAhead: (held) => registered.push(held) });
    const ahead = cp.currentDecisions().version + 1000;
    const sidecar = connectSidecar(cp, "s1", CLUSTERS, ahead);
    assert.equal(await cp.decide(), undefined, "(waits for the follow-up of the hello)");
    await cp.stop();
    assert.deepEqual(registered, [ahead]);
    assert.ok(cp.currentDecisions().version < ahead);
    assert.ok(sidecar.received.every((s) => s.version < ahead), "the follower pushed what it has (the sidecar refuses it until the leader moves above)");
  });
});
