// Decision versions (control-plane/src/core/decision-version.ts): generation * 2^20 + sequence,
// a new generation per lifetime above the restored state, the clock and what sidecars enforce.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ControlMessageSchema, SidecarMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import {
  composeVersion,
  generationOf,
  MAX_FOLLOW_AHEAD_S,
  MAX_GENERATION,
  SEQUENCE_SPAN,
  sequenceOf,
  startingGeneration,
  VersionClock,
  versionsBehind,
} from "../control-plane/src/core/decision-version.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";

const T0 = 1_700_000_000_000;
const T0_S = T0 / 1000;
const logger = createLogger("test", "silent");

describe("the version scheme", () => {
  it("every version stays an exact JavaScript number, up to the last generation", () => {
    const last = composeVersion(MAX_GENERATION, SEQUENCE_SPAN - 1);
    assert.ok(Number.isSafeInteger(last));
    assert.equal(generationOf(last), MAX_GENERATION);
    assert.equal(sequenceOf(last), SEQUENCE_SPAN - 1);
  });

  const starts: { name: string; restored: number; nowMs: number; generation: number }[] = [
    { name: "no state: the clock in seconds", restored: 0, nowMs: T0, generation: T0_S },
    { name: "no state, no clock (virtual time 0): generation 1", restored: 0, nowMs: 0, generation: 1 },
    { name: "a restored version of the old counter (18) is below the clock", restored: 18, nowMs: T0, generation: T0_S },
    { name: "restored state ahead of the clock: one above it", restored: composeVersion(T0_S + 50, 7), nowMs: T0, generation: T0_S + 51 },
    { name: "a restored version outside the scheme is ignored", restored: 1e300, nowMs: T0, generation: T0_S },
    { name: "a negative restored version is ignored", restored: -7, nowMs: T0, generation: T0_S },
  ];
  for (const c of starts) {
    it(`a new lifetime starts at the right generation: ${c.name}`, () => assert.equal(startingGeneration(c.restored, c.nowMs), c.generation));
  }

  it("versions of a lifetime count up, and a full sequence starts the next generation", () => {
    const clock = new VersionClock(5);
    const first = clock.next(composeVersion(3, 9));
    assert.equal(first, composeVersion(5, 1), "above a restored version of an older generation");
    assert.equal(clock.next(first), first + 1);
    const lastOfFive = composeVersion(5, SEQUENCE_SPAN - 1);
    const afterLast = clock.next(lastOfFive);
    assert.equal(afterLast, composeVersion(6, 1));
    assert.ok(afterLast > lastOfFive);
    assert.equal(clock.generation, 6);
  });

  const follows: { name: string; held: number; latest: number; nowMs: number; outcome: "below" | "followed" | "implausible"; generation: number }[] = [
    { name: "the sidecar holds the current version", held: composeVersion(T0_S, 3), latest: composeVersion(T0_S, 3), nowMs: T0, outcome: "below", generation: T0_S },
    { name: "the sidecar holds an older generation", held: composeVersion(T0_S - 100, 9), latest: composeVersion(T0_S, 1), nowMs: T0, outcome: "below", generation: T0_S },
    { name: "the sidecar holds a later version of this generation (lost writes)", held: composeVersion(T0_S, 12), latest: composeVersion(T0_S, 1), nowMs: T0, outcome: "followed", generation: T0_S + 1 },
    { name: "the sidecar holds a later generation (this clock is behind)", held: composeVersion(T0_S + 3600, 2), latest: composeVersion(T0_S, 1), nowMs: T0, outcome: "followed", generation: T0_S + 3601 },
    { name: "a version more than a day ahead of both clock and generation", held: composeVersion(T0_S + MAX_FOLLOW_AHEAD_S + 1, 1), latest: composeVersion(T0_S, 1), nowMs: T0, outcome: "implausible", generation: T0_S },
    { name: "a version beyond 2^53", held: Number.MAX_SAFE_INTEGER + 2, latest: composeVersion(T0_S, 1), nowMs: T0, outcome: "implausible", generation: T0_S },
    { name: "a version in the last generation", held: composeVersion(MAX_GENERATION, 1), latest: composeVersion(T0_S, 1), nowMs: T0, outcome: "implausible", generation: T0_S },
  ];
  for (const c of follows) {
    it(`a sidecar's version is followed only when newer and plausible: ${c.name}`, () => {
      const clock = new VersionClock(T0_S);
      assert.equal(clock.follow(c.held, c.latest, c.nowMs), c.outcome);
      assert.equal(clock.generation, c.generation);
      if (c.outcome === "followed") assert.ok(clock.next(c.latest) > c.held);
    });
  }

  const behind: { name: string; current: number; held: number; behind: number }[] = [
    { name: "up to date", current: composeVersion(9, 4), held: composeVersion(9, 4), behind: 0 },
    { name: "two sets behind in one generation", current: composeVersion(9, 4), held: composeVersion(9, 2), behind: 2 },
    { name: "an older generation: every set of this one", current: composeVersion(9, 4), held: composeVersion(8, 900), behind: 4 },
    { name: "nothing held yet", current: composeVersion(9, 4), held: 0, behind: 4 },
    { name: "ahead", current: composeVersion(9, 4), held: composeVersion(10, 1), behind: 0 },
  ];
  for (const c of behind) {
    it(`a sidecar's lag counts decision sets, not version arithmetic: ${c.name}`, () => assert.equal(versionsBehind(c.current, c.held), c.behind));
  }
});

/** A control plane without state on a clock `offsetMs` from T0, and one in-process sidecar. */
function controlPlaneWithSidecar(offsetMs: number, helloEnforced: number) {
  const cp = new ControlPlane({ clusters: [{ name: "a", baseWeight: 1 }, { name: "b", baseWeight: 1 }], slo: { latencyMs: 1000, successRate: 0.99 }, logger, now: () => T0 + offsetMs });
  const versions: number[] = [];
  const stream = cp.openInProcessStream({}, {
    onMessage: (bytes) => {
      const m = fromBinary(ControlMessageSchema, bytes);
      if (m.kind.case === "decisions") versions.push(Number(m.kind.value.version));
    },
    onClose: () => undefined,
  });
  const send = (kind: Parameters<typeof create<typeof SidecarMessageSchema>>[1]) => stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, kind)));
  send({ kind: { case: "hello", value: { nodeId: "n1", zone: "z", workerId: 0, clusters: ["a", "b"], enforcedVersion: BigInt(helloEnforced) } } });
  return { cp, versions, send };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("a control plane behind its sidecars", () => {
  it("continues above the version a sidecar enforces when it restarted without state and its clock is behind", async () => {
    const held = composeVersion(T0_S, 18);
    const { cp, versions } = controlPlaneWithSidecar(-3_600_000, held);
    await settle();
    assert.ok(versions.length >= 1, "the sidecar got a set");
    for (const v of versions) assert.ok(v > held, `version ${v} is above the sidecar's ${held}: it would not be refused`);
    assert.equal(cp.currentDecisions().version, versions.at(-1));
    const halted = await cp.halt("drill", "test");
    assert.ok(halted.version > held);
    assert.equal(versions.at(-1), halted.version, "the halt reached the sidecar");
  });

  it("does not follow a version implausibly far ahead, and shows the sidecar refusing with its reason", async () => {
    const absurd = composeVersion(T0_S + 10 * MAX_FOLLOW_AHEAD_S, 1);
    const { cp, versions, send } = controlPlaneWithSidecar(0, absurd);
    await settle();
    assert.deepEqual(versions, [cp.currentDecisions().version], "the current set is pushed as it is");
    assert.ok(cp.currentDecisions().version < absurd);
    send({ kind: { case: "nack", value: { version: BigInt(cp.currentDecisions().version), reason: `version: ${cp.currentDecisions().version} is older than the enforced ${absurd}`, enforcedVersion: BigInt(absurd) } } });
    const status = cp.sidecarStatuses()[0]!;
    assert.equal(status.refusing, true);
    assert.match(status.rejectReason, /older than the enforced/);
  });

  it("a sidecar that acknowledges the current set is not refusing", async () => {
    const { cp, send } = controlPlaneWithSidecar(0, 0);
    await settle();
    send({ kind: { case: "ack", value: { version: BigInt(cp.currentDecisions().version) } } });
    const status = cp.sidecarStatuses()[0]!;
    assert.equal(status.refusing, false);
    assert.equal(status.lagVersions, 0);
  });
});
