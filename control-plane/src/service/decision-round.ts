// One decision round of the leader: who sends the traffic (source-round.ts), the engine's round
// (windows closed and scored, breakers stepped, weights computed), then what follows from its
// result: transitions and trigger events audited and emitted, an expired rollback ended, the
// assessment and trigger states kept for a successor (replicas), and the new set published when
// its content changed. A follower runs no rounds. Callers serialise rounds (serial-queue.ts).
// Times are epoch ms of the injected clock; durations of the round are real time
// (performance.now()).
import type { Logger } from "../../../lib/log.js";
import type { AuditRecord } from "../audit/records.js";
import { ASSESSMENT_EVERY_MS } from "../core/assessment.js";
import type { DecisionEngine } from "../core/decision-engine.js";
import type { ReplicaApi } from "../core/engine-replica.js";
import { sameTriggerStates, type SharedTriggerStates, type TriggerEngine } from "../core/triggers/index.js";
import type { ControlPlaneEvents, DecisionSet, Scorer } from "../core/types.js";
import type { TypedEmitter } from "../core/typed-emitter.js";
import type { IncidentTracker } from "../incident-tracker.js";
import type { StateStore } from "../state/state-store.js";
import type { PublishedSet } from "./published-set.js";
import type { RunStatus } from "./run-state.js";
import type { SourceRound } from "./source-round.js";

export interface DecisionRoundDeps {
  now(): number;
  state: RunStatus;
  engine: Pick<DecisionEngine, "round"> & { replica: Pick<ReplicaApi, "assessment">; triggers: Pick<TriggerEngine, "persisted" | "shared"> };
  sources: Pick<SourceRound, "run" | "limitFromTrigger">;
  published: Pick<PublishedSet, "current" | "publish">;
  /** Resends the set in force to the streams that lag behind it (sidecar-streams.ts). */
  resendIfLagging(atMs: number): void;
  incidents: Pick<IncidentTracker, "trigger">;
  /** The audit log or shared store: records are appended; replicas keep the assessment and the
   *  trigger states in it. */
  audit: Pick<StateStore, "saveAssessment" | "saveTriggers"> | undefined;
  /** Appends to the audit log (if any); the promise may be dropped. */
  record(record: AuditRecord): Promise<void>;
  emitter: TypedEmitter<ControlPlaneEvents>;
  log: Logger;
  modelScorer: Scorer | undefined;
}

export class DecisionRound {
  private modelScorer: Scorer | undefined;
  /** When the leader last saved its assessment (replicas), epoch ms. */
  private assessmentSavedAtMs = Number.NEGATIVE_INFINITY;
  /** The trigger states the leader last saved (replicas): only changes are written. */
  private savedTriggers: SharedTriggerStates | undefined;

  constructor(private readonly deps: DecisionRoundDeps) {
    this.modelScorer = deps.modelScorer;
  }

  /** Plugs in (or removes) the anomaly model; takes effect at the next round. */
  setModelScorer(scorer: Scorer | undefined): void {
    this.modelScorer = scorer;
  }

  /** A new term begins (replicas): the assessment is saved at the first round, and the trigger
   *  states are compared with those the shared store holds. */
  beginTerm(savedTriggers: SharedTriggerStates | undefined): void {
    this.assessmentSavedAtMs = Number.NEGATIVE_INFINITY;
    this.savedTriggers = savedTriggers;
  }

  /** Runs one round (the leader only); resolves to the new set when its content changed,
   *  undefined when it did not (or when following). */
  async run(): Promise<DecisionSet | undefined> {
    const { engine, emitter, log, audit, record, published } = this.deps;
    if (!this.deps.state.leading) return undefined;
    const started = performance.now();
    const atMs = this.deps.now();
    this.deps.sources.run(atMs);
    const result = await engine.round(atMs, this.modelScorer);
    const computedAtHrMs = performance.timeOrigin + performance.now();
    for (const transition of result.transitions) {
      void record({ kind: "transition", atMs: transition.atMs, transition });
      emitter.emit("transition", transition);
    }
    if (result.triggerEvents.length > 0) {
      const inForce = engine.triggers.persisted();
      for (const event of result.triggerEvents) {
        void record({ kind: "trigger", atMs: event.atMs, event, inForce });
        const fields = { trigger: event.trigger, action: event.action, value: event.values.value, threshold: event.values.threshold, held_ms: event.values.heldMs };
        if (event.kind === "fired") log.warn(fields, event.values.reason);
        else log.info(fields, `trigger ${event.trigger} cleared: its condition no longer holds`);
        emitter.emit("trigger", event);
        this.deps.sources.limitFromTrigger(event, atMs);
      }
    }
    if (result.rollbackExpired !== undefined) {
      const pin = result.rollbackExpired;
      void record({ kind: "rollback_end", atMs, rollback: pin, cause: "expired" });
      log.info({ from_version: pin.fromVersion, until_ms: pin.untilMs }, "rollback expired: the policy decides again");
      emitter.emit("rollback", { kind: "expired", rollback: pin, atMs });
    }
    if (result.closedWindows.length > 0) emitter.emit("windows", result.closedWindows);
    // For a successor (replicas): when a breaker moved, and every few seconds of windows.
    if (audit?.saveAssessment !== undefined && (result.transitions.length > 0 || (result.windowsClosed > 0 && atMs - this.assessmentSavedAtMs >= ASSESSMENT_EVERY_MS))) {
      this.assessmentSavedAtMs = atMs;
      audit.saveAssessment(engine.replica.assessment(atMs, result.decisions.version));
    }
    // Replicas: the rules' states when they changed, before the set that may carry their actions.
    if (audit?.saveTriggers !== undefined) {
      const states = engine.triggers.shared(atMs);
      if (!sameTriggerStates(this.savedTriggers, states)) {
        this.savedTriggers = states;
        audit.saveTriggers(states);
      }
    }
    const changed = result.decisions.version !== published.current.version;
    if (changed) {
      published.publish(result.decisions, atMs);
    } else {
      this.deps.resendIfLagging(atMs);
    }
    for (const event of result.triggerEvents) this.deps.incidents.trigger(event, published.current.version);
    emitter.emit("round", {
      atMs,
      durationMs: performance.now() - started,
      windowsClosed: result.windowsClosed,
      version: published.current.version,
      changed,
      computedAtHrMs,
    });
    return changed ? published.current : undefined;
  }
}
