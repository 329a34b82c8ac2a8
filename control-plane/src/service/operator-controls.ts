// What an operator changes through the admin API: overrides, the mesh-wide halt and its resume,
// a trigger cleared by hand, source limits, and rollbacks to an earlier decision set. Each call
// validates its input (throwing ControlPlaneError naming the field), then goes through an
// acknowledged write (acknowledged-writes.ts): it resolves to the resulting decision set once the
// change's and that set's audit records are durable. On a follower replica the change is
// committed to the shared store and the leader applies it (replica-role.ts applyShared); the
// leader alone opens and ends incidents and alerts. Times are epoch ms of the injected clock.
import type { Logger } from "../../../lib/log.js";
import type { AuditRecord } from "../audit/records.js";
import { ControlPlaneError } from "../core/errors.js";
import type { OperatorApi } from "../core/overrides.js";
import { rollbackOf, rollbackTarget, validateRollbackRequest, type RollbackLookup, type RollbackRequest } from "../core/rollback.js";
import type { SourceLimitEntry, SourceMonitor } from "../core/sources/index.js";
import type { TriggerEngine, TriggerEvent } from "../core/triggers/index.js";
import type { ControlPlaneEvents, DecisionSet, HaltMode, Override, Rollback } from "../core/types.js";
import type { TypedEmitter } from "../core/typed-emitter.js";
import type { IncidentTracker } from "../incident-tracker.js";
import type { StateStore } from "../state/state-store.js";
import type { AcknowledgedWrites } from "./acknowledged-writes.js";
import type { PublishedSet } from "./published-set.js";
import type { RunStatus } from "./run-state.js";

export interface OperatorControlsDeps {
  now(): number;
  state: RunStatus;
  engine: {
    operator: Pick<OperatorApi, "validate" | "set" | "setHalt" | "rollback" | "validateRollback" | "setRollback" | "releaseRollback">;
    triggers: Pick<TriggerEngine, "statuses" | "persisted" | "clear">;
  };
  sources: Pick<SourceMonitor, "validate" | "setLimit" | "limitOf" | "removeLimit">;
  writes: Pick<AcknowledgedWrites, "write">;
  incidents: Pick<IncidentTracker, "operatorHalted" | "operatorResumed" | "trigger">;
  published: Pick<PublishedSet, "current">;
  /** The audit log (flushed before an earlier set is searched); absent: none. */
  audit: Pick<StateStore, "flush"> | undefined;
  /** Finds an earlier decision set by version; absent: rollback() is unavailable. */
  decisionHistory: ((version: number) => Promise<RollbackLookup>) | undefined;
  emitter: TypedEmitter<ControlPlaneEvents>;
  log: Logger;
}

export class OperatorControls {
  constructor(private readonly deps: OperatorControlsDeps) {}

  /**
   * Sets (state "open"/"closed") or clears (state "auto") a manual override; it wins over the
   * detectors until untilMs. Throws ControlPlaneError CP_ERR_OVERRIDE on an unknown cluster or a
   * bad field; CP_ERR_AUDIT when the records cannot be written.
   */
  async setOverride(override: Override): Promise<DecisionSet> {
    const atMs = this.deps.now();
    this.deps.engine.operator.validate(override, atMs);
    return this.deps.writes.write({ kind: "override", atMs, override }, () => {
      this.deps.engine.operator.set(override, atMs);
      this.deps.emitter.emit("override", { override, atMs });
    });
  }

  /** Mesh-wide halt: every sidecar answers 503 to new requests until resume(); "immediate" also
   *  ends the streams in flight on filters that can (capability "halt_immediate"). Opens an
   *  incident (or continues the operator's open one). */
  async halt(reason: string, actor: string, mode: HaltMode = "drain"): Promise<DecisionSet> {
    if (mode !== "drain" && mode !== "immediate") throw new ControlPlaneError("CP_ERR_HALT", `halt: mode must be "drain" or "immediate", got ${JSON.stringify(mode)}`);
    const set = await this.setHalt(true, reason, actor, mode);
    // A follower's halt is committed to the shared store; the leader opens the incident (applyShared).
    if (this.deps.state.leading) this.deps.incidents.operatorHalted(actor, reason, mode, set);
    return set;
  }

  /** Ends the halt; the operator's open halt incident ends with it. */
  async resume(reason: string, actor: string): Promise<DecisionSet> {
    const set = await this.setHalt(false, reason, actor);
    if (this.deps.state.leading) this.deps.incidents.operatorResumed(actor, reason);
    return set;
  }

  /**
   * A human clears a fired trigger (any clear mode): its action ends with the decision set this
   * resolves to. Throws ControlPlaneError CP_ERR_TRIGGER for an unknown trigger, one not fired,
   * or an empty reason or actor.
   */
  async clearTrigger(name: string, reason: string, actor: string): Promise<{ event: TriggerEvent; decisions: DecisionSet }> {
    const { engine, log, emitter, state } = this.deps;
    if (typeof reason !== "string" || reason.trim() === "" || typeof actor !== "string" || actor.trim() === "") {
      throw new ControlPlaneError("CP_ERR_TRIGGER", "clear: reason and actor must be non-empty strings");
    }
    const atMs = this.deps.now();
    const status = engine.triggers.statuses().find((t) => t.rule.name === name);
    if (status === undefined) {
      throw new ControlPlaneError("CP_ERR_TRIGGER", `trigger "${name}" is not configured; configured: ${engine.triggers.statuses().map((t) => t.rule.name).join(", ") || "none"}`);
    }
    if (status.state.kind !== "fired") throw new ControlPlaneError("CP_ERR_TRIGGER", `trigger "${name}" has not fired (it is ${status.state.kind})`);
    const event: TriggerEvent = { kind: "cleared", trigger: name, action: status.rule.action, atMs, values: status.state.fired, clearedBy: actor, clearReason: reason };
    const inForce = engine.triggers.persisted().filter((f) => f.name !== name);
    const decisions = await this.deps.writes.write({ kind: "trigger", atMs, event, inForce }, () => {
      engine.triggers.clear(name, actor, atMs);
      log.warn({ trigger: name, actor, reason }, "trigger cleared by hand");
      // A follower's clear is alerted by the leader when it applies it (applyShared).
      if (state.leading) emitter.emit("trigger", event);
    });
    // A follower's clear is committed to the shared store; the leader ends the incident (applyShared).
    if (state.leading) this.deps.incidents.trigger(event, decisions.version);
    return { event, decisions };
  }

  /** Sets (or replaces) the limit on a source until untilMs. Throws ControlPlaneError
   *  CP_ERR_SOURCE_LIMIT naming a bad field. Audited (kind source_limit, cause set). */
  async setSourceLimit(limit: SourceLimitEntry): Promise<DecisionSet> {
    this.deps.sources.validate(limit, this.deps.now());
    return this.deps.writes.write({ kind: "source_limit", atMs: limit.atMs, limit, cause: "set" }, () => {
      this.deps.sources.setLimit(limit);
      this.deps.emitter.emit("source_limit", { cause: "set", limit, atMs: limit.atMs });
    });
  }

  /** Removes the limit on `source` (throws CP_ERR_SOURCE_LIMIT_UNKNOWN when none); audited. */
  async removeSourceLimit(source: string, actor: string, reason: string): Promise<{ limit: SourceLimitEntry; decisions: DecisionSet }> {
    const limit = this.deps.sources.limitOf(source);
    if (reason.trim() === "" || actor.trim() === "") throw new ControlPlaneError("CP_ERR_SOURCE_LIMIT", "source_limit: removing a limit needs a reason and an actor");
    const atMs = this.deps.now();
    const decisions = await this.deps.writes.write({ kind: "source_limit", atMs, limit, cause: "removed", actor, reason }, () => {
      this.deps.sources.removeLimit(source);
      this.deps.emitter.emit("source_limit", { cause: "removed", limit, atMs, actor, reason });
    });
    return { limit, decisions };
  }

  /**
   * Republishes the decision set of an earlier version (found in the audit log) as a new version
   * and pins it until released or untilMs (core/rollback.ts: the halt, overrides and triggers in
   * force still apply on top). Throws ControlPlaneError: CP_ERR_ROLLBACK (a bad field),
   * CP_ERR_VERSION_UNKNOWN, CP_ERR_VERSION_NOT_RETAINED, CP_ERR_ROLLBACK_CONFLICT (the version in
   * force, or one deciding for other clusters), CP_ERR_ROLLBACK_UNAVAILABLE (no decision history
   * to search), CP_ERR_AUDIT. On a follower `decisions` is the set in force when the commit was
   * answered.
   */
  async rollback(request: RollbackRequest): Promise<{ rollback: Rollback; decisions: DecisionSet }> {
    const { engine, log, emitter, decisionHistory } = this.deps;
    validateRollbackRequest(request, this.deps.now());
    if (decisionHistory === undefined) {
      throw new ControlPlaneError("CP_ERR_ROLLBACK_UNAVAILABLE", "a rollback reads earlier decision sets from the audit log, and none is configured (audit.dir)");
    }
    const current = this.deps.published.current;
    // The set in force and versions above it need no search; others are looked up once every
    // set published so far is in the files.
    let lookup: RollbackLookup = { kind: "missing" };
    if (request.version < current.version) {
      await this.deps.audit?.flush();
      lookup = await decisionHistory(request.version);
    }
    const target = rollbackTarget(request.version, current, lookup);
    const atMs = this.deps.now();
    validateRollbackRequest(request, atMs); // its expiry may have passed during the search
    const pin = rollbackOf(target, request, atMs);
    engine.operator.validateRollback(pin);
    const decisions = await this.deps.writes.write({ kind: "rollback", atMs, rollback: pin }, () => {
      engine.operator.setRollback(pin);
      log.warn({ from_version: pin.fromVersion, until_ms: pin.untilMs, actor: pin.actor, reason: pin.reason }, "decisions rolled back to an earlier version and pinned");
      emitter.emit("rollback", { kind: "set", rollback: pin, atMs });
    });
    return { rollback: pin, decisions };
  }

  /** Ends the rollback in force: the policy decides again from the round this runs. Throws
   *  CP_ERR_ROLLBACK (no reason or actor) or CP_ERR_ROLLBACK_CONFLICT (none in force). */
  async releaseRollback(reason: string, actor: string): Promise<{ rollback: Rollback; decisions: DecisionSet }> {
    const { engine, log, emitter } = this.deps;
    if (typeof reason !== "string" || reason.trim() === "" || typeof actor !== "string" || actor.trim() === "") {
      throw new ControlPlaneError("CP_ERR_ROLLBACK", "rollback release: reason and actor must be non-empty strings");
    }
    const pin = engine.operator.rollback();
    if (pin === undefined) throw new ControlPlaneError("CP_ERR_ROLLBACK_CONFLICT", "no rollback is in force");
    const atMs = this.deps.now();
    const decisions = await this.deps.writes.write({ kind: "rollback_end", atMs, rollback: pin, cause: "released", actor, reason }, () => {
      engine.operator.releaseRollback();
      log.warn({ from_version: pin.fromVersion, actor, reason }, "rollback released: the policy decides again");
      emitter.emit("rollback", { kind: "released", rollback: pin, atMs, actor, reason });
    });
    return { rollback: pin, decisions };
  }

  private async setHalt(halted: boolean, reason: string, actor: string, mode?: HaltMode): Promise<DecisionSet> {
    if (typeof reason !== "string" || reason.trim() === "" || typeof actor !== "string" || actor.trim() === "") {
      throw new ControlPlaneError("CP_ERR_HALT", `${halted ? "halt" : "resume"}: reason and actor must be non-empty strings`);
    }
    const atMs = this.deps.now();
    const record: AuditRecord = halted ? { kind: "halt", atMs, reason, actor, ...(mode === undefined ? {} : { mode }) } : { kind: "resume", atMs, reason, actor };
    return this.deps.writes.write(record, () => {
      this.deps.engine.operator.setHalt(halted, reason, actor, atMs, mode);
      this.deps.emitter.emit("halt", { halted, reason, actor, atMs, ...(halted && mode !== undefined ? { mode } : {}) });
    });
  }
}
