// A control change another replica committed to the shared store, applied to this replica's
// engine and source limits as its own would be (override, halt, resume, rollback, its end, a
// source limit, a trigger cleared by hand), with the same events. A change that does not apply
// here is logged and skipped. The round that follows and the incidents are the replica role's
// (replica-role.ts).
import type { Logger } from "../../../lib/log.js";
import type { DecisionEngine } from "../core/decision-engine.js";
import type { OperatorApi } from "../core/overrides.js";
import type { SourceMonitor } from "../core/sources/index.js";
import type { TriggerEngine, TriggerEvent } from "../core/triggers/index.js";
import type { ControlPlaneEvents } from "../core/types.js";
import type { TypedEmitter } from "../core/typed-emitter.js";
import type { SharedControlRecord } from "./options.js";
import type { RunStatus } from "./run-state.js";

export interface SharedRecordDeps {
  state: RunStatus;
  engine: Pick<DecisionEngine, "setSourceLimits"> & { operator: Pick<OperatorApi, "set" | "setHalt" | "setRollback" | "rollback" | "releaseRollback">; triggers: Pick<TriggerEngine, "clearFiring"> };
  sources: Pick<SourceMonitor, "setLimit" | "removeLimit" | "limitsInForce" | "decisions">;
  emitter: TypedEmitter<ControlPlaneEvents>;
  log: Logger;
}

/** What applying a shared record did: skipped, or applied (with the trigger event a clear by
 *  hand made, for the incidents). */
export type SharedOutcome = { applied: false } | { applied: true; cleared: TriggerEvent | undefined };

const SKIPPED: SharedOutcome = { applied: false };

/**
 * Applies `record` at atMs. Skipped (logged where it is news): an override of an unknown
 * cluster, a pin that does not fit the configured clusters, the end of another pin, a source
 * limit whose TTL passed on the way or the removal of an older limit, a clear of a firing no
 * longer in force.
 */
export function applySharedRecord(record: SharedControlRecord, atMs: number, deps: SharedRecordDeps): SharedOutcome {
  const { engine, sources, emitter, log } = deps;
  let cleared: TriggerEvent | undefined;
  switch (record.kind) {
    case "override":
      try {
        engine.operator.set(record.override, atMs);
      } catch (error) {
        log.warn({ cluster: record.override.cluster, err: error }, "a shared override does not apply here; skipped");
        return SKIPPED;
      }
      emitter.emit("override", { override: record.override, atMs });
      break;
    case "halt":
    case "resume": {
      const halted = record.kind === "halt";
      const mode = record.kind === "halt" ? record.mode : undefined;
      engine.operator.setHalt(halted, record.reason, record.actor, atMs, mode);
      emitter.emit("halt", { halted, reason: record.reason, actor: record.actor, atMs, ...(mode === undefined ? {} : { mode }) });
      break;
    }
    case "rollback":
      try {
        engine.operator.setRollback(record.rollback);
      } catch (error) {
        log.warn({ from_version: record.rollback.fromVersion, err: error }, "a shared rollback does not apply here; skipped");
        return SKIPPED;
      }
      emitter.emit("rollback", { kind: "set", rollback: record.rollback, atMs });
      break;
    case "rollback_end": {
      const pin = engine.operator.rollback();
      if (pin === undefined || pin.atMs !== record.rollback.atMs || pin.fromVersion !== record.rollback.fromVersion) return SKIPPED;
      engine.operator.releaseRollback();
      emitter.emit(
        "rollback",
        record.cause === "released"
          ? { kind: "released", rollback: pin, atMs, actor: record.actor ?? "", reason: record.reason ?? "" }
          : { kind: "expired", rollback: pin, atMs },
      );
      break;
    }
    case "source_limit": {
      const { limit, cause } = record;
      if (cause === "set") {
        if (limit.untilMs <= atMs) return SKIPPED; // its TTL passed on the way
        sources.setLimit(limit);
      } else {
        // Only the limit the record names (a newer one on the source stays).
        if (sources.limitsInForce().find((l) => l.source === limit.source)?.atMs !== limit.atMs) return SKIPPED;
        sources.removeLimit(limit.source);
      }
      engine.setSourceLimits(sources.decisions(atMs));
      emitter.emit("source_limit", { cause, limit, atMs, ...(record.actor === undefined ? {} : { actor: record.actor }), ...(record.reason === undefined ? {} : { reason: record.reason }) });
      break;
    }
    case "trigger": {
      const e = record.event;
      cleared = engine.triggers.clearFiring(e.trigger, e.values, e.clearedBy ?? "", atMs);
      if (cleared === undefined) {
        log.info({ trigger: e.trigger }, "a shared clear of a trigger whose firing is no longer in force; skipped");
        return SKIPPED;
      }
      cleared = { ...cleared, ...(e.clearReason === undefined ? {} : { clearReason: e.clearReason }) };
      // Alerted once, by the leader (a follower's copy only mirrors it).
      if (deps.state.leading) emitter.emit("trigger", cleared);
      break;
    }
  }
  return { applied: true, cleared };
}
