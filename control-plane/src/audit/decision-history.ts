// Finding an earlier decision set by version in the audit log (for a rollback, core/rollback.ts):
// one streamed pass over the retained files, reading the decision sets published (kind
// "decisions") and the set in force that starts each file (kind "snapshot"), so a version whose
// own record is in a file no longer kept is still found when a snapshot carries it. Memory stays
// bounded by one set whatever the size of the log.
import type { RollbackLookup } from "../core/rollback.js";
import type { DecisionSet } from "../core/types.js";
import { readAudit } from "./reader.js";
import type { AuditRecord } from "./records.js";

/** The set of `version` among `records`, or the range of versions they hold. */
export async function findDecisionSet(records: AsyncIterable<AuditRecord>, version: number): Promise<RollbackLookup> {
  let oldest: number | undefined;
  let newest: number | undefined;
  for await (const record of records) {
    const set: DecisionSet | undefined = record.kind === "decisions" ? record.decisions : record.kind === "snapshot" ? record.state.decisions : undefined;
    if (set === undefined) continue;
    if (set.version === version) return { kind: "found", set };
    oldest = oldest === undefined ? set.version : Math.min(oldest, set.version);
    newest = newest === undefined ? set.version : Math.max(newest, set.version);
  }
  return { kind: "missing", ...(oldest === undefined ? {} : { oldest }), ...(newest === undefined ? {} : { newest }) };
}

/** Looks versions up in the audit log in `dir` (damaged lines are skipped, as on restore). */
export function auditDecisionHistory(dir: string): (version: number) => Promise<RollbackLookup> {
  return (version) => findDecisionSet(readAudit(dir, { kinds: ["decisions", "snapshot"] }), version);
}
