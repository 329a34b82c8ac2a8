// The state store of one of several replicas (state/state-store.ts): what operators change
// (overrides, the halt, a rollback, a trigger cleared by hand, source limits) is committed to etcd by any
// replica; what the leader decides (decision sets, the trigger rules' states, incidents, error
// budget counts) only while this replica leads (fenced by its election key);
// every record also goes to the local audit log when one is configured (each replica's own
// history for GET /v1/audit). An operator call is acknowledged once etcd committed its change:
// the local audit log's failures are logged and shown in /readyz, they do not undo a commit
// other replicas already act on.
import type { Logger } from "../../../lib/log.js";
import type { AuditLog } from "../audit/audit-log.js";
import { keepIncident, type AuditRecord } from "../audit/records.js";
import type { Assessment } from "../core/assessment.js";
import type { PersistedBudget } from "../core/error-budget/types.js";
import { ControlPlaneError } from "../core/errors.js";
import type { Incident } from "../core/incidents/incident.js";
import type { SharedTriggerStates } from "../core/triggers/shared-states.js";
import type { PersistedState } from "../core/types.js";
import type { StateStore } from "../state/state-store.js";
import type { EtcdDecisionHistory } from "./etcd-decision-history.js";
import { controlKey, isTriggerClear, type ControlRecord, type EtcdState } from "./etcd-state.js";

export { controlKey };

/** Whether a record is an operator's change any replica commits (etcd-state.ts ControlRecord). */
export function isControlRecord(record: AuditRecord): record is ControlRecord {
  return ["override", "halt", "resume", "rollback", "rollback_end", "source_limit"].includes(record.kind) || isTriggerClear(record);
}

/** The etcd revision of the last change applied per shared key (one's own commits and watched
 *  ones): a watched change older than what a key already holds is not applied again. */
export class AppliedRevisions {
  private readonly byKey = new Map<string, number>();

  /** Records `revision` for `key`; true when it is newer than what was applied (apply it). */
  advance(key: string, revision: number): boolean {
    if (revision <= (this.byKey.get(key) ?? 0)) return false;
    this.byKey.set(key, revision);
    return true;
  }
}

export interface ReplicaStoreOptions {
  shared: EtcdState;
  /** The decision sets' history (a rollback's lookups; the leader trims it). */
  history?: EtcdDecisionHistory;
  /** The shared state read at start. */
  restored: PersistedState | undefined;
  local?: AuditLog;
  applied: AppliedRevisions;
  /** How long an etcd commit may take before the call fails (its outcome then unknown), ms. */
  commitTimeoutMs: number;
  /** A fenced write of a decision set was refused: this replica is no longer the leader. */
  onFenced(): void;
  logger: Logger;
}

export class ReplicaStore implements StateStore {
  readonly restored: PersistedState | undefined;
  /** The leader's election key while this replica leads; undefined while it follows (decision
   *  sets are then recorded locally only). */
  fenceKey: string | undefined;
  private inFlight = new Set<Promise<void>>();
  /** Commits of overrides and halts not yet answered by etcd. */
  private controlsInFlight = new Set<Promise<void>>();
  /** The newest assessment not yet handed to etcd, and whether a write is under way. */
  private pendingAssessment: Assessment | undefined;
  private writingAssessment = false;
  /** The trigger states' writes, one after another; a decision set is committed after them. */
  private triggerWrites: Promise<void> = Promise.resolve();
  /** The burn-rate windows' writes, one after another. */
  private burnWrites: Promise<void> = Promise.resolve();
  /** The incidents in etcd as this replica knows them (id and times), to drop those beyond MAX_INCIDENTS. */
  private incidents: Pick<Incident, "id" | "startedAtMs" | "endedAtMs">[];

  constructor(private readonly options: ReplicaStoreOptions) {
    this.restored = options.restored;
    this.incidents = (options.restored?.incidents ?? []).map(({ id, startedAtMs, endedAtMs }) => ({ id, startedAtMs, ...(endedAtMs === undefined ? {} : { endedAtMs }) }));
  }

  append(record: AuditRecord): Promise<void> {
    void this.options.local?.append(record);
    const done = this.commit(record).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      this.options.logger.error({ kind: record.kind, err: error }, "etcd commit failed");
      throw error instanceof ControlPlaneError ? error : new ControlPlaneError("CP_ERR_AUDIT", `etcd commit failed: ${message}`);
    });
    done.catch(() => undefined);
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done)).catch(() => undefined);
    if (isControlRecord(record)) {
      this.controlsInFlight.add(done);
      void done.finally(() => this.controlsInFlight.delete(done)).catch(() => undefined);
    }
    return done;
  }

  /**
   * The leader's assessment (core/assessment.ts), written fenced by its election key. One write at
   * a time: a newer assessment replaces one still waiting; a failure is logged (the next one
   * replaces it), a refused fence makes this replica step down.
   */
  saveAssessment(assessment: Assessment): void {
    if (this.fenceKey === undefined) return;
    const idle = this.pendingAssessment === undefined && !this.writingAssessment;
    this.pendingAssessment = assessment;
    if (idle) void this.writeAssessments();
  }

  private async writeAssessments(): Promise<void> {
    this.writingAssessment = true;
    try {
      while (this.pendingAssessment !== undefined) {
        const assessment = this.pendingAssessment;
        this.pendingAssessment = undefined;
        const fenceKey = this.fenceKey;
        if (fenceKey === undefined) return;
        try {
          const { committed } = await this.withDeadline(this.options.shared.putAssessment(assessment, fenceKey), "assessment");
          if (!committed) this.fenced(fenceKey);
        } catch (err) {
          this.options.logger.warn({ err }, "etcd: could not save the assessment; the next one replaces it");
        }
      }
    } finally {
      this.writingAssessment = false;
    }
  }

  /**
   * The leader's trigger states (core/triggers/shared-states.ts), written fenced, in order; a
   * decision set is committed only after the states written before it, so a set carrying a
   * trigger's action is never in etcd without the trigger that asks for it. A failure is logged.
   */
  saveTriggers(states: SharedTriggerStates): void {
    const fenceKey = this.fenceKey;
    if (fenceKey === undefined) return;
    this.triggerWrites = this.triggerWrites.then(async () => {
      try {
        const { committed } = await this.withDeadline(this.options.shared.putTriggers(states, fenceKey), "trigger states");
        if (!committed) this.fenced(fenceKey);
      } catch (err) {
        this.options.logger.warn({ err }, "etcd: could not save the trigger states; the next change writes them again");
      }
    });
  }

  /**
   * The error budgets' alert-window minute buckets changed (error-budget/monitor.ts saveWindows),
   * written fenced, one write after another; a failure is logged (the current minute is written
   * again with the next call).
   */
  saveBurnWindows(budget: PersistedBudget, atMs: number): void {
    const fenceKey = this.fenceKey;
    if (fenceKey === undefined) return;
    const record = { kind: "error_budget" as const, atMs, budget };
    this.burnWrites = this.burnWrites.then(async () => {
      try {
        const { committed } = await this.withDeadline(this.options.shared.putBurnWindows(record, fenceKey), "burn-rate windows");
        if (!committed) this.fenced(fenceKey);
      } catch (err) {
        this.options.logger.warn({ err }, "etcd: could not save the burn-rate windows; the next save writes the current minute again");
      }
    });
  }

  private fenced(fenceKey: string): void {
    if (this.fenceKey !== fenceKey) return;
    this.fenceKey = undefined;
    this.options.onFenced();
  }

  /**
   * Resolves once every operator change this replica is committing has its answer (and so its
   * revision recorded in `applied`). A watched change is judged only after that: etcd may deliver
   * the watch event of a commit (this replica's own, or an older one of another) before the
   * commit's own answer.
   */
  async controlsSettled(): Promise<void> {
    await Promise.allSettled([...this.controlsInFlight]);
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.options.local?.flush();
  }

  private async commit(record: AuditRecord): Promise<void> {
    const { shared, applied } = this.options;
    if (isControlRecord(record)) {
      const revision = await this.withDeadline(shared.putControl(record), record.kind);
      applied.advance(controlKey(record), revision);
      return;
    }
    const fenceKey = this.fenceKey;
    if (fenceKey === undefined) return;
    if (record.kind === "incident") {
      const before = this.incidents.map((i) => i.id);
      const { id, startedAtMs, endedAtMs } = record.incident;
      // Taken at once (commits may overlap: each sees the others' incidents).
      this.incidents = keepIncident(this.incidents, { id, startedAtMs, ...(endedAtMs === undefined ? {} : { endedAtMs }) });
      const dropped = before.filter((b) => !this.incidents.some((k) => k.id === b));
      const { committed } = await this.withDeadline(shared.putIncident(record, dropped, fenceKey), "incident");
      if (!committed) this.fenced(fenceKey);
      return;
    }
    if (record.kind === "error_budget") {
      const { committed } = await this.withDeadline(shared.putBudget(record, fenceKey), "error budget counts");
      if (!committed) this.fenced(fenceKey);
      return;
    }
    if (record.kind !== "decisions") return;
    await this.triggerWrites;
    const { committed } = await this.withDeadline(shared.putDecisions(record, fenceKey), "decision set");
    if (!committed) {
      this.fenced(fenceKey);
      throw new ControlPlaneError("CP_ERR_AUDIT", `decision set version ${record.decisions.version} not committed: this replica is no longer the leader`);
    }
    void this.options.history?.published().catch((err: unknown) => this.options.logger.warn({ err }, "etcd: could not trim the decision history"));
  }

  /** A new leader's view of the incidents in etcd (read at its takeover). */
  knowIncidents(incidents: readonly Incident[]): void {
    this.incidents = incidents.map(({ id, startedAtMs, endedAtMs }) => ({ id, startedAtMs, ...(endedAtMs === undefined ? {} : { endedAtMs }) }));
  }

  private withDeadline<T>(work: Promise<T>, what: string): Promise<T> {
    const ms = this.options.commitTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ControlPlaneError("CP_ERR_AUDIT", `etcd did not commit the ${what} within ${ms} ms (it may still be committed)`)), ms);
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}
