// Rollback on plain data (control-plane/src/core/rollback.ts, audit/decision-history.ts): which
// error a version gets, what a pin does to a built set, how the log is searched, and how the
// rollback records restore and read back.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { findDecisionSet } from "../control-plane/src/audit/decision-history.js";
import { encodeRecord } from "../control-plane/src/audit/record-codec.js";
import { applyRecord, parseRecord, type AuditRecord } from "../control-plane/src/audit/records.js";
import { ControlPlaneError } from "../control-plane/src/core/errors.js";
import { applyRollback, rollbackOf, rollbackTarget, validateRollbackClusters, type RollbackLookup } from "../control-plane/src/core/rollback.js";
import type { ClusterDecision, DecisionSet, Rollback } from "../control-plane/src/core/types.js";

const decision = (cluster: string, over: Partial<ClusterDecision> = {}): ClusterDecision => ({
  cluster, state: "closed", weight: 500, probeFraction: 1, retryAfterS: 0, reason: "", anomalyScore: 0, ...over,
});
const set = (version: number, clusters: ClusterDecision[], over: Partial<DecisionSet> = {}): DecisionSet => ({
  version, issuedAtMs: 1000 * version, ttlMs: 30_000, halted: false, haltReason: "", clusters, ...over,
});
const OLD = set(10, [decision("a", { state: "open", weight: 0, retryAfterS: 30, reason: "p99 over slo", shedFraction: 0.5 }), decision("b", { weight: 1000 })]);
const CURRENT = set(14, [decision("a"), decision("b")]);

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    assert.ok(error instanceof ControlPlaneError);
    return `${error.code}: ${error.message}`;
  }
  return "no error";
};

describe("the version asked for is found, or refused with the error that says why", () => {
  const cases: [name: string, version: number, lookup: RollbackLookup, expected: string][] = [
    ["found in the log", 10, { kind: "found", set: OLD }, "found"],
    ["above the set in force", 15, { kind: "missing" }, "CP_ERR_VERSION_UNKNOWN: decision version 15 was never issued: the set in force is version 14"],
    ["the set in force", 14, { kind: "missing" }, "CP_ERR_ROLLBACK_CONFLICT: decision version 14 is the set in force; a rollback republishes an earlier one"],
    ["older than the log retains", 3, { kind: "missing", oldest: 8, newest: 14 }, "CP_ERR_VERSION_NOT_RETAINED: decision version 3 is older than the oldest decision set the audit log retains (version 8)"],
    ["a log without any set", 3, { kind: "missing" }, "CP_ERR_VERSION_NOT_RETAINED: decision version 3: the audit log retains no decision set"],
    ["inside the retained range and absent", 9, { kind: "missing", oldest: 8, newest: 14 }, "CP_ERR_VERSION_UNKNOWN: decision version 9 was never issued: the audit log retains versions 8 to 14 and none is 9"],
  ];
  for (const [name, version, lookup, expected] of cases) {
    it(name, () => {
      const got = codeOf(() => assert.equal(rollbackTarget(version, CURRENT, lookup), OLD));
      assert.equal(got === "no error" ? "found" : got, expected);
    });
  }
});

describe("a pin replaces the built set's cluster decisions", () => {
  const pin: Rollback = rollbackOf(OLD, { version: 10, reason: "bad deploy", actor: "bob" }, 5000);
  const built = set(15, [decision("a", { reason: "planner" }), decision("b", { weight: 200 })], { halted: true, haltReason: "incident (by dave)", haltMode: "drain" });

  it("keeps the earlier states, weights and retry-after, drops its shed, and says why in each reason", () => {
    assert.deepEqual(applyRollback(built, pin, new Set()).clusters, [
      decision("a", { state: "open", weight: 0, retryAfterS: 30, reason: "rollback to version 10 by bob: bad deploy (then: p99 over slo)" }),
      decision("b", { weight: 1000, reason: "rollback to version 10 by bob: bad deploy" }),
    ]);
  });
  it("keeps the built set's halt, version and issue time (an emergency stop is never undone by a rollback)", () => {
    const out = applyRollback(built, pin, new Set());
    assert.deepEqual([out.version, out.issuedAtMs, out.halted, out.haltReason, out.haltMode], [15, 15_000, true, "incident (by dave)", "drain"]);
  });
  it("leaves a cluster an override or a trigger decides as built", () => {
    assert.deepEqual(applyRollback(built, pin, new Set(["a"])).clusters[0], decision("a", { reason: "planner" }));
  });
  it("fits only the configured clusters", () => {
    assert.equal(codeOf(() => validateRollbackClusters(pin, ["a", "b"])), "no error");
    assert.equal(codeOf(() => validateRollbackClusters(pin, ["a", "b", "c"])), "CP_ERR_ROLLBACK_CONFLICT: decision version 10 decides for clusters a, b; the configured clusters are a, b, c");
  });
});

async function* from(records: AuditRecord[]): AsyncGenerator<AuditRecord> {
  yield* records;
}

describe("the audit log is searched for a version", () => {
  const snapshot: AuditRecord = { kind: "snapshot", atMs: 1, state: { overrides: [], decisions: set(8, [decision("a")]) } };
  const records: AuditRecord[] = [snapshot, { kind: "decisions", atMs: 2, decisions: OLD }, { kind: "halt", atMs: 3, reason: "r", actor: "x" }, { kind: "decisions", atMs: 4, decisions: CURRENT }];
  const cases: [name: string, version: number, expected: RollbackLookup][] = [
    ["a published set", 10, { kind: "found", set: OLD }],
    ["the set a file's snapshot carries (its own record may be in a file no longer kept)", 8, { kind: "found", set: snapshot.kind === "snapshot" ? snapshot.state.decisions! : OLD }],
    ["absent: the range of versions retained", 9, { kind: "missing", oldest: 8, newest: 14 }],
  ];
  for (const [name, version, expected] of cases) it(name, async () => assert.deepEqual(await findDecisionSet(from(records), version), expected));
  it("an empty log retains nothing", async () => assert.deepEqual(await findDecisionSet(from([]), 3), { kind: "missing" }));
});

describe("rollback records", () => {
  const pin = rollbackOf(OLD, { version: 10, untilMs: 99_000, reason: "bad deploy", actor: "bob" }, 5000);
  it("restore the pin, and its end removes it", () => {
    const pinned = applyRecord({ overrides: [] }, { kind: "rollback", atMs: 5000, rollback: pin });
    assert.deepEqual(pinned.rollback, pin);
    assert.deepEqual(applyRecord(pinned, { kind: "rollback_end", atMs: 6000, rollback: pin, cause: "expired" }), { overrides: [] });
  });
  it("read back as written, in the files' snake_case", () => {
    for (const record of [{ kind: "rollback", atMs: 5000, rollback: pin }, { kind: "rollback_end", atMs: 6000, rollback: pin, cause: "released", actor: "carol", reason: "fixed" }] as AuditRecord[]) {
      const line = encodeRecord(record);
      assert.match(line, /"from_version":10/);
      assert.deepEqual(parseRecord(line), { ok: true, record });
    }
  });
  it("a damaged one is skipped naming the field", () => {
    const line = JSON.stringify({ kind: "rollback_end", at_ms: 1, rollback: { from_version: 10, clusters: [], reason: "r", actor: "a", at_ms: 1 }, cause: "lost" });
    assert.deepEqual(parseRecord(line), { ok: false, reason: "bad_field", error: 'rollback_end.cause: expected "released" | "expired", got a string "lost"' });
  });
});
