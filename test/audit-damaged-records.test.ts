import { strict as assert } from "node:assert";
import { appendFile, cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AuditLog } from "../control-plane/src/audit/audit-log.js";
import { auditFileName, listAuditFiles } from "../control-plane/src/audit/files.js";
import { storedForm } from "../control-plane/src/audit/record-codec.js";
import type { DecisionSet } from "../control-plane/src/core/types.js";
import { validateConfig } from "../control-plane/src/config/index.js";
import { startControlPlane } from "../control-plane/src/server.js";
import { createLogger } from "../lib/log.js";

const logger = createLogger("test", "silent");
const T0 = 1_700_000_000_000;

/** The last good state: version 5 with llm-a open, an override on llm-a. */
const good: DecisionSet = {
  version: 5,
  issuedAtMs: T0,
  ttlMs: 30_000,
  halted: false,
  haltReason: "",
  clusters: [
    { cluster: "llm-a", state: "open", weight: 0, probeFraction: 1, retryAfterS: 5, reason: "override: drill", anomalyScore: 0 },
    { cluster: "llm-b", state: "closed", weight: 1000, probeFraction: 1, retryAfterS: 0, reason: "", anomalyScore: 0 },
  ],
};
/** `good` as the files spell it (snake_case). */
const storedGood = storedForm({ kind: "decisions", atMs: T0, decisions: good }).decisions as Record<string, unknown> & { clusters: unknown[] };
const decisionsLine = (patch: Record<string, unknown>, clusters: unknown = storedGood.clusters): string =>
  JSON.stringify({ kind: "decisions", at_ms: T0 + 9, decisions: { ...storedGood, version: 6, clusters, ...patch } });
/** The same in the spelling of earlier versions (camelCase, `type`, `atMs`). */
const legacyDecisionsLine = (patch: Record<string, unknown>): string => JSON.stringify({ type: "decisions", atMs: T0 + 9, decisions: { ...good, version: 6, ...patch } });

const cases: { name: string; line: string | Buffer; reason: string; problem: RegExp; asNewFile?: boolean }[] = [
  { name: "a snapshot without overrides", line: JSON.stringify({ kind: "snapshot", at_ms: T0 + 9, state: {} }), reason: "bad_field", problem: /snapshot\.state\.overrides: missing/ },
  { name: "a newest file that starts with a snapshot without overrides", line: JSON.stringify({ kind: "snapshot", at_ms: T0 + 9, state: { decisions: storedGood } }), reason: "bad_field", problem: /snapshot\.state\.overrides: missing/, asNewFile: true },
  { name: "clusters: [null]", line: decisionsLine({}, [null]), reason: "bad_field", problem: /decisions\.clusters\[0\]: expected an object, got null/ },
  { name: "version 1e300", line: decisionsLine({ version: 1e300 }), reason: "bad_field", problem: /decisions\.version: expected a safe non-negative integer, got 1e\+300/ },
  { name: "version -7", line: decisionsLine({ version: -7 }), reason: "bad_field", problem: /decisions\.version: expected a safe non-negative integer, got -7/ },
  { name: "version 2^53", line: decisionsLine({ version: 2 ** 53 }), reason: "bad_field", problem: /decisions\.version/ },
  { name: "a version that is a string", line: decisionsLine({ version: "6" }), reason: "bad_field", problem: /decisions\.version: expected a safe non-negative integer, got a string "6"/ },
  { name: "a weight that is a string", line: decisionsLine({}, [{ ...(storedGood.clusters[0] as object), weight: "0" }]), reason: "bad_field", problem: /decisions\.clusters\[0\]\.weight/ },
  { name: "an unknown breaker state", line: decisionsLine({}, [{ ...(storedGood.clusters[0] as object), state: "ajar" }]), reason: "bad_field", problem: /decisions\.clusters\[0\]\.state/ },
  { name: "an override without a cluster", line: JSON.stringify({ kind: "override", at_ms: T0 + 9, override: { state: "closed", reason: "r", actor: "x" } }), reason: "bad_field", problem: /override\.override\.cluster: missing/ },
  { name: "an override expiring 'soon'", line: JSON.stringify({ kind: "override", at_ms: T0 + 9, override: { cluster: "llm-a", state: "closed", until_ms: "soon", reason: "r", actor: "x" } }), reason: "bad_field", problem: /override\.override\.until_ms/ },
  { name: "a halt without an actor", line: JSON.stringify({ kind: "halt", at_ms: T0 + 9, reason: "r" }), reason: "bad_field", problem: /halt\.actor: missing/ },
  { name: "a model reload with an unknown outcome", line: JSON.stringify({ kind: "model_reload", at_ms: T0 + 9, actor: "x", path: "m.onnx", outcome: "maybe" }), reason: "bad_field", problem: /model_reload\.outcome/ },
  { name: "a nack with a fractional version", line: JSON.stringify({ kind: "nack", at_ms: T0 + 9, nack: { stream_id: "s1", node_id: "n", version: 1.5, reason: "r", enforced_version: 1, at_ms: T0 } }), reason: "bad_field", problem: /nack\.nack\.version/ },
  { name: "at_ms that is a string", line: JSON.stringify({ kind: "halt", at_ms: "now", reason: "r", actor: "x" }), reason: "bad_field", problem: /halt\.at_ms/ },
  { name: "a record of an unknown kind", line: JSON.stringify({ kind: "bogus", at_ms: T0 }), reason: "unknown_kind", problem: /kind: expected one of/ },
  // Damaged lines of the earlier spelling are named in today's.
  { name: "an earlier version's override expiring 'soon'", line: JSON.stringify({ type: "override", atMs: T0 + 9, override: { cluster: "llm-a", state: "closed", untilMs: "soon", reason: "r", actor: "x" } }), reason: "bad_field", problem: /override\.override\.until_ms/ },
  { name: "an earlier version's halt whose halted is a string", line: JSON.stringify({ type: "halt", atMs: T0 + 9, halted: "yes", reason: "r", actor: "x" }), reason: "bad_field", problem: /halt\.halted: expected a boolean, got "yes"/ },
  { name: "an earlier version's decisions with version 1e300", line: legacyDecisionsLine({ version: 1e300 }), reason: "bad_field", problem: /decisions\.version: expected a safe non-negative integer/ },
  { name: "an earlier version's record of an unknown type", line: JSON.stringify({ type: "bogus", atMs: T0 }), reason: "unknown_kind", problem: /kind: expected one of .*got a string "bogus"/ },
  { name: "a JSON array", line: "[1,2,3]", reason: "not_object", problem: /expected a JSON object, got an array/ },
  { name: "JSON null", line: "null", reason: "not_object", problem: /got null/ },
  { name: "a truncated last line", line: '{"kind":"decisions","at_ms":1,"decisions":{"vers', reason: "not_json", problem: /not JSON/ },
  { name: "binary junk", line: Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x00, 0x00, 0x9c, 0x80]), reason: "not_json", problem: /not JSON/ },
];

for (const c of cases) {
  test(`restore skips ${c.name}, starts, keeps the last good state and reports it`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "autoglm-audit-damaged-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const auditDir = join(dir, "audit");
    const log = await AuditLog.open({ dir: auditDir, logger });
    await log.append({ kind: "override", atMs: T0 + 1, override: { cluster: "llm-a", state: "open", reason: "drill", actor: "ops" } });
    await log.append({ kind: "decisions", atMs: T0 + 2, decisions: good });
    await log.close();
    const files = await listAuditFiles(auditDir);
    const text = typeof c.line === "string" ? c.line + "\n" : c.line;
    if (c.asNewFile === true) await writeFile(join(auditDir, auditFileName(files.at(-1)!.index + 1)), text);
    else await appendFile(files.at(-1)!.path, text);

    // The log itself (on a copy: opening continues in a fresh file that starts with a snapshot,
    // which a second restore would start from): the damaged line is skipped, the state before
    // it restored.
    await cp(auditDir, `${auditDir}-copy`, { recursive: true });
    const reopened = await AuditLog.open({ dir: `${auditDir}-copy`, logger });
    const health = reopened.health();
    await reopened.close();
    assert.equal(reopened.restored?.decisions?.version, 5);
    assert.deepEqual(reopened.restored?.overrides.map((o) => [o.cluster, o.state]), [["llm-a", "open"]]);
    assert.equal(health.skippedRecords, 1);
    assert.deepEqual(health.skippedByReason, { [c.reason]: 1 });
    assert.match(health.firstProblem ?? "", /^audit-\d{6}\.ndjson:\d+: /);
    assert.match(health.firstProblem ?? "", c.problem);

    // The control plane starts on it, ready, and says what it skipped.
    const running = await startControlPlane(
      validateConfig({ grpc: { port: 0 }, admin: { port: 0 }, clusters: [{ name: "llm-a" }, { name: "llm-b" }], audit: { dir: auditDir } }),
      { logger },
    );
    t.after(() => running.close());
    assert.equal(running.controlPlane.currentDecisions().clusters.find((d) => d.cluster === "llm-a")?.state, "open");
    assert.deepEqual(running.controlPlane.overrides().map((o) => o.cluster), ["llm-a"]);
    const ready = await fetch(`${running.adminUrl}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { ready: boolean; audit: { skipped_records: number; first_problem: string } };
    assert.equal(body.ready, true);
    assert.equal(body.audit.skipped_records, 1);
    assert.match(body.audit.first_problem, c.problem);
    const metrics = await (await fetch(`${running.adminUrl}/metrics`)).text();
    assert.match(metrics, new RegExp(`^autoglm_audit_records_skipped_total\\{reason="${c.reason}"\\} 1$`, "m"));
  });
}
