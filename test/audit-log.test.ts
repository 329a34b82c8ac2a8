import { strict as assert } from "node:assert";
import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AuditLog } from "../control-plane/src/audit/audit-log.js";
import { listAuditFiles } from "../control-plane/src/audit/files.js";
import { readAudit } from "../control-plane/src/audit/reader.js";
import type { AuditRecord } from "../control-plane/src/audit/records.js";
import type { DecisionSet } from "../control-plane/src/core/types.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";

const logger = createLogger("test", "silent");
const T0 = 1_700_000_000_000;

const set = (version: number, state: "closed" | "open" = "closed"): DecisionSet => ({
  version,
  issuedAtMs: T0 + version,
  ttlMs: 30_000,
  halted: false,
  haltReason: "",
  clusters: [
    { cluster: "a", state, weight: state === "open" ? 0 : 500, probeFraction: 1, retryAfterS: state === "open" ? 5 : 0, reason: state === "open" ? "test" : "", anomalyScore: 0 },
    { cluster: "b", state: "closed", weight: state === "open" ? 1000 : 500, probeFraction: 1, retryAfterS: 0, reason: "", anomalyScore: 0 },
  ],
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-audit-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function collect(it: AsyncIterable<AuditRecord>): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe("audit log", () => {
  it("restores the last decision set, overrides and halt after a restart", () =>
    withDir(async (dir) => {
      const log = await AuditLog.open({ dir, logger });
      assert.equal(log.restored, undefined);
      log.append({ kind: "decisions", atMs: T0, decisions: set(7) });
      log.append({ kind: "override", atMs: T0 + 1, override: { cluster: "b", state: "closed", reason: "r", actor: "x" } });
      log.append({ kind: "override", atMs: T0 + 2, override: { cluster: "a", state: "open", reason: "r", actor: "x" } });
      log.append({ kind: "override", atMs: T0 + 3, override: { cluster: "b", state: "auto", reason: "r", actor: "x" } });
      log.append({ kind: "halt", atMs: T0 + 4, reason: "stop", actor: "y" });
      log.append({ kind: "decisions", atMs: T0 + 5, decisions: set(8, "open") });
      await log.close();
      const again = await AuditLog.open({ dir, logger });
      assert.equal(again.restored?.decisions?.version, 8);
      assert.deepEqual(again.restored?.overrides.map((o) => [o.cluster, o.state]), [["a", "open"]]);
      assert.equal(again.restored?.halt?.halted, true);
      assert.equal(again.corruptions.length, 0);
      await again.close();
    }));

  const corruptTails: [name: string, tail: string][] = [
    ["a truncated line", '{"type":"decisions","atMs":1,"decisions":{"vers'],
    ["a line that is not JSON", "garbage\n"],
    ["a record of an unknown type", '{"type":"bogus","atMs":1}\n'],
  ];
  for (const [name, tail] of corruptTails) {
    it(`a corrupt tail (${name}) is reported and skipped, and writing continues`, () =>
      withDir(async (dir) => {
        const log = await AuditLog.open({ dir, logger });
        log.append({ kind: "decisions", atMs: T0, decisions: set(3) });
        await log.close();
        const files = await listAuditFiles(dir);
        await appendFile(files.at(-1)!.path, tail);
        const again = await AuditLog.open({ dir, logger });
        assert.equal(again.restored?.decisions?.version, 3);
        assert.equal(again.corruptions.length, 1);
        again.append({ kind: "decisions", atMs: T0 + 1, decisions: set(4) });
        await again.close();
        const third = await AuditLog.open({ dir, logger });
        assert.equal(third.restored?.decisions?.version, 4);
        await third.close();
      }));
  }

  it("rotates by size, and restoring still finds the latest state", () =>
    withDir(async (dir) => {
      const log = await AuditLog.open({ dir, maxBytes: 2048, logger });
      for (let v = 1; v <= 40; v++) {
        log.append({ kind: "decisions", atMs: T0 + v, decisions: set(v) });
        await log.flush();
      }
      await log.close();
      const files = await listAuditFiles(dir);
      assert.ok(files.length > 3, `${files.length} files`);
      for (const f of files) assert.ok((await readFile(f.path)).length <= 2048 + 1024);
      const again = await AuditLog.open({ dir, maxBytes: 2048, logger });
      assert.equal(again.restored?.decisions?.version, 40);
      await again.close();
    }));

  it("the streaming reader filters by time, cluster and type", () =>
    withDir(async (dir) => {
      const log = await AuditLog.open({ dir, logger });
      log.append({ kind: "transition", atMs: T0 + 10, transition: { cluster: "a", from: "closed", to: "open", atMs: T0 + 10, reason: "x" } });
      log.append({ kind: "transition", atMs: T0 + 20, transition: { cluster: "b", from: "closed", to: "open", atMs: T0 + 20, reason: "y" } });
      log.append({ kind: "halt", atMs: T0 + 30, reason: "z", actor: "q" });
      log.append({ kind: "override", atMs: T0 + 40, override: { cluster: "a", state: "open", reason: "r", actor: "x" } });
      await log.close();
      assert.equal((await collect(readAudit(dir))).length, 4);
      assert.deepEqual((await collect(readAudit(dir, { sinceMs: T0 + 15, untilMs: T0 + 40 }))).map((r) => r.atMs), [T0 + 20, T0 + 30]);
      assert.deepEqual((await collect(readAudit(dir, { cluster: "a" }))).map((r) => r.kind), ["transition", "halt", "override"]);
      assert.deepEqual((await collect(readAudit(dir, { kinds: ["halt"] }))).map((r) => r.kind), ["halt"]);
    }));

  it("a control plane restarted from its audit log continues the version", () =>
    withDir(async (dir) => {
      const clusters = [
        { name: "a", baseWeight: 50 },
        { name: "b", baseWeight: 50 },
      ];
      const slo = { latencyMs: 2000, successRate: 0.99 };
      const audit = await AuditLog.open({ dir, logger });
      const cp = new ControlPlane({ clusters, slo, audit, logger, now: () => T0 });
      const opened = await cp.setOverride({ cluster: "a", state: "open", reason: "drill", actor: "ops" });
      await cp.stop();
      await audit.close();
      const audit2 = await AuditLog.open({ dir, logger });
      const cp2 = new ControlPlane({ clusters, slo, audit: audit2, logger, now: () => T0 + 1000 });
      assert.equal(cp2.currentDecisions().version, opened.version, "same set, same version");
      assert.equal(cp2.currentDecisions().clusters.find((c) => c.cluster === "a")!.state, "open");
      const closed = await cp2.setOverride({ cluster: "a", state: "auto", reason: "done", actor: "ops" });
      assert.ok(closed.version > opened.version);
      await cp2.stop();
      await audit2.close();
    }));
});
