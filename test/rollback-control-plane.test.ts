// Rollback in a real ControlPlane on virtual time, with a real audit log in a temporary
// directory: an earlier decision set (found by version in the log) republished as a new version
// and pinned, rounds that follow not overwriting it while windows close, the expiry and the
// release handing back to the automatic decisions, the halt still applying on top, a restart
// keeping the pin, and every refusal naming what is wrong.
import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AuditLog } from "../control-plane/src/audit/audit-log.js";
import { auditDecisionHistory } from "../control-plane/src/audit/decision-history.js";
import { readAudit } from "../control-plane/src/audit/reader.js";
import type { AuditRecord } from "../control-plane/src/audit/records.js";
import { ControlPlaneError } from "../control-plane/src/core/errors.js";
import type { DecisionSet, RollbackEvent } from "../control-plane/src/core/types.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";
import { connectWorker, type InProcessWorker } from "./support/in-process-sidecar.js";

const T0 = 1_700_000_000_000;
const logger = createLogger("test", "silent");
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A control plane over the audit log in `dir` (a fresh one when absent), one healthy sidecar. */
async function harness(options: { dir?: string; startMs?: number; history?: boolean } = {}) {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "autoglm-rollback-")));
  if (options.dir === undefined) dirs.push(dir);
  const clock = { now: options.startMs ?? T0 };
  const audit = await AuditLog.open({ dir, fsync: false, now: () => clock.now, logger });
  const cp = new ControlPlane({
    clusters: [{ name: "a", baseWeight: 50 }, { name: "b", baseWeight: 50 }],
    slo: { latencyMs: 2000, successRate: 0.99 },
    now: () => clock.now,
    random: () => 0.5,
    logger,
    audit,
    ...(options.history === false ? {} : { decisionHistory: auditDecisionHistory(dir) }),
  });
  const events: RollbackEvent[] = [];
  cp.on("rollback", (e) => events.push(e));
  const worker: InProcessWorker = connectWorker(cp, { nodeId: "node-1", clusters: ["a", "b"], answer: "ack" });
  let window = Math.floor(clock.now / 1000) * 1000;
  /** One healthy 1 s window reported and closed, then a round. */
  const step = async (): Promise<DecisionSet | undefined> => {
    worker.report(window, { a: { requests: 50, latencyMs: 100 }, b: { requests: 50, latencyMs: 100 } });
    window += 1000;
    clock.now = window + 1500;
    await new Promise((resolve) => setImmediate(resolve));
    return cp.decide();
  };
  /** Moves the clock (and the next window) on by ms without reports. */
  const skip = (ms: number) => {
    window += ms;
    clock.now = window;
  };
  const close = async () => {
    worker.close();
    await cp.stop();
    await audit.close();
  };
  return { dir, clock, audit, cp, events, step, skip, close };
}

/** Three versions: v1 the first set, v2 with "a" forced open, v3 with "a" handed back (probing). */
async function threeVersions(h: Awaited<ReturnType<typeof harness>>) {
  const v1 = h.cp.currentDecisions();
  const v2 = await h.cp.setOverride({ cluster: "a", state: "open", reason: "maintenance", actor: "alice" });
  const v3 = await h.cp.setOverride({ cluster: "a", state: "auto", reason: "done", actor: "alice" });
  await h.step();
  return { v1, v2, v3: h.cp.currentDecisions().version === v3.version ? v3 : h.cp.currentDecisions() };
}

const stateOf = (set: DecisionSet, cluster: string) => set.clusters.find((c) => c.cluster === cluster)!;
const pinned = (set: DecisionSet) => set.clusters.every((c) => c.reason.startsWith("rollback to version "));

async function records(dir: string, kinds: AuditRecord["kind"][]): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of readAudit(dir, { kinds })) out.push(r);
  return out;
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ControlPlaneError, `expected a ControlPlaneError, got ${String(error)}`);
    return { code: error.code, message: error.message };
  }
  assert.fail("expected a refusal");
}

describe("a rollback republishes an earlier decision set and pins it", () => {
  it("the earlier set's cluster decisions come back as a new version, and the rounds that follow do not overwrite them", async () => {
    const h = await harness();
    const { v2, v3 } = await threeVersions(h);
    assert.equal(stateOf(v2, "a").state, "open");
    assert.notEqual(stateOf(h.cp.currentDecisions(), "a").state, "open", "the policy has handed 'a' back");

    const { rollback, decisions } = await h.cp.rollback({ version: v2.version, reason: "v3 misroutes", actor: "bob" });
    assert.ok(decisions.version > v3.version, "a new version above every earlier one");
    assert.equal(rollback.fromVersion, v2.version);
    assert.deepEqual(
      decisions.clusters.map((c) => [c.cluster, c.state, c.weight, c.retryAfterS]),
      v2.clusters.map((c) => [c.cluster, c.state, c.weight, c.retryAfterS]),
    );
    assert.ok(pinned(decisions), decisions.clusters.map((c) => c.reason).join(" | "));
    assert.match(stateOf(decisions, "a").reason, /^rollback to version \d+ by bob: v3 misroutes \(then: override by alice: maintenance\)$/);
    assert.deepEqual(h.events.map((e) => e.kind), ["set"]);

    // Healthy windows close: the policy alone would probe and close "a"; the pin holds.
    for (let i = 0; i < 8; i++) await h.step();
    const now = h.cp.currentDecisions();
    assert.equal(now.version, decisions.version, "no round issued another version");
    assert.equal(stateOf(now, "a").state, "open");
    assert.notEqual(h.cp.clusterStatuses().find((s) => s.cluster === "a")!.state.kind, "open", "underneath, the breaker kept stepping");
    assert.deepEqual(h.cp.rollbackInForce(), rollback);
    await h.close();
  });

  it("at its ttl the pin ends: the next round issues the automatic decisions again, and the expiry is audited", async () => {
    const h = await harness();
    const { v2 } = await threeVersions(h);
    const { decisions } = await h.cp.rollback({ version: v2.version, untilMs: h.clock.now + 3000, reason: "try the old split", actor: "bob" });
    await h.step();
    assert.equal(h.cp.currentDecisions().version, decisions.version, "still pinned before the ttl");
    for (let i = 0; i < 3; i++) await h.step();
    const automatic = h.cp.currentDecisions();
    assert.ok(automatic.version > decisions.version);
    assert.ok(automatic.clusters.every((c) => !c.reason.startsWith("rollback")), "no pinned decision is left");
    assert.notEqual(stateOf(automatic, "a").state, "open");
    assert.equal(h.cp.rollbackInForce(), undefined);
    assert.deepEqual(h.events.map((e) => e.kind), ["set", "expired"]);
    await h.audit.flush();
    const audited = await records(h.dir, ["rollback", "rollback_end"]);
    assert.deepEqual(audited.map((r) => (r.kind === "rollback_end" ? `${r.kind}:${r.cause}` : r.kind)), ["rollback", "rollback_end:expired"]);
    await h.close();
  });

  it("a release hands back to the policy at once and is audited with who and why", async () => {
    const h = await harness();
    const { v2 } = await threeVersions(h);
    await h.cp.rollback({ version: v2.version, reason: "r", actor: "bob" });
    const { rollback, decisions } = await h.cp.releaseRollback("v3 fixed", "carol");
    assert.equal(rollback.fromVersion, v2.version);
    assert.ok(!pinned(decisions));
    assert.equal(h.cp.rollbackInForce(), undefined);
    const audited = await records(h.dir, ["rollback_end"]);
    assert.deepEqual(audited.map((r) => r.kind === "rollback_end" && [r.cause, r.actor, r.reason]), [["released", "carol", "v3 fixed"]]);
    assert.deepEqual(await refusal(h.cp.releaseRollback("again", "carol")), { code: "CP_ERR_ROLLBACK_CONFLICT", message: "no rollback is in force" });
    await h.close();
  });

  it("a halt still stops the mesh during a rollback, and the resume returns to the pinned set", async () => {
    const h = await harness();
    const { v2 } = await threeVersions(h);
    const { decisions } = await h.cp.rollback({ version: v2.version, reason: "r", actor: "bob" });
    const halted = await h.cp.halt("incident", "dave");
    assert.equal(halted.halted, true);
    assert.deepEqual(halted.clusters, decisions.clusters, "the pinned clusters under the halt");
    const resumed = await h.cp.resume("over", "dave");
    assert.equal(resumed.halted, false);
    assert.deepEqual(resumed.clusters, decisions.clusters);
    await h.close();
  });

  it("an override set during a rollback decides its cluster; the other clusters stay pinned", async () => {
    const h = await harness();
    const { v2 } = await threeVersions(h);
    await h.cp.rollback({ version: v2.version, reason: "r", actor: "bob" });
    const set = await h.cp.setOverride({ cluster: "a", state: "closed", reason: "force", actor: "erin" });
    assert.deepEqual([stateOf(set, "a").state, stateOf(set, "a").reason], ["closed", "override by erin: force"]);
    assert.match(stateOf(set, "b").reason, /^rollback to version /);
    await h.close();
  });

  it("a restart keeps the rollback: the restored control plane serves the pinned set, and the ttl still ends it", async () => {
    const h = await harness();
    const { v2 } = await threeVersions(h);
    const { decisions } = await h.cp.rollback({ version: v2.version, untilMs: h.clock.now + 60_000, reason: "r", actor: "bob" });
    const lastOfFirstLife = h.cp.currentDecisions().version;
    await h.close();

    const again = await harness({ dir: h.dir, startMs: h.clock.now + 5000 });
    assert.equal(again.cp.rollbackInForce()?.fromVersion, v2.version);
    assert.deepEqual(again.cp.currentDecisions().clusters, decisions.clusters, "the restored set is the pinned one");
    await again.step();
    assert.ok(pinned(again.cp.currentDecisions()), "a round after the restart does not overwrite it");

    // Versions between the first lifetime's last and the new generation were never issued.
    assert.equal((await refusal(again.cp.rollback({ version: lastOfFirstLife + 1, reason: "r", actor: "bob" }))).code, "CP_ERR_VERSION_UNKNOWN");

    again.skip(60_000);
    await again.step();
    assert.equal(again.cp.rollbackInForce(), undefined);
    assert.ok(!pinned(again.cp.currentDecisions()));
    await again.close();
  });
});

describe("a rollback is refused with an error naming what is wrong", () => {
  it("for each bad request", async () => {
    const h = await harness();
    const { v2 } = await threeVersions(h);
    const current = h.cp.currentDecisions().version;
    const cases: [name: string, request: Parameters<ControlPlane["rollback"]>[0], code: string, message: RegExp][] = [
      ["a version above the set in force", { version: current + 1, reason: "r", actor: "a" }, "CP_ERR_VERSION_UNKNOWN", new RegExp(`version ${current + 1} was never issued: the set in force is version ${current}`)],
      ["the version in force", { version: current, reason: "r", actor: "a" }, "CP_ERR_ROLLBACK_CONFLICT", /is the set in force; a rollback republishes an earlier one/],
      ["a version older than the audit log retains", { version: 5, reason: "r", actor: "a" }, "CP_ERR_VERSION_NOT_RETAINED", /version 5 is older than the oldest decision set the audit log retains \(version \d+\)/],
      ["an expiry in the past", { version: v2.version, untilMs: h.clock.now - 1, reason: "r", actor: "a" }, "CP_ERR_ROLLBACK", /rollback\.untilMs: expected a time in the future/],
      ["an empty reason", { version: v2.version, reason: " ", actor: "a" }, "CP_ERR_ROLLBACK", /rollback\.reason: expected a non-empty string/],
      ["no version", { version: 0, reason: "r", actor: "a" }, "CP_ERR_ROLLBACK", /rollback\.version: expected a decision version/],
    ];
    for (const [name, request, code, message] of cases) {
      const got = await refusal(h.cp.rollback(request));
      assert.equal(got.code, code, name);
      assert.match(got.message, message, name);
    }
    assert.equal(h.cp.rollbackInForce(), undefined, "nothing was pinned");
    await h.close();
  });

  it("without an audit log to search", async () => {
    const h = await harness({ history: false });
    const { v2 } = await threeVersions(h);
    assert.deepEqual(await refusal(h.cp.rollback({ version: v2.version, reason: "r", actor: "a" })), {
      code: "CP_ERR_ROLLBACK_UNAVAILABLE",
      message: "a rollback reads earlier decision sets from the audit log, and none is configured (audit.dir)",
    });
    await h.close();
  });
});
