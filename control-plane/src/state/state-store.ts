// Where the control plane keeps what must outlive it (and, with several replicas, what they
// share): overrides, the halt, every published decision set, triggers, incidents, error budgets,
// the rollback. Two implementations:
//   - the audit log (audit/audit-log.ts): one process, NDJSON files on local disk (the default);
//   - the replica store (replicas/replica-store.ts): etcd for the shared records, plus the local
//     audit log, if configured, for every record.
// The control plane (service.ts) depends on this interface only.
import type { AuditRecord } from "../audit/records.js";
import type { Assessment } from "../core/assessment.js";
import type { PersistedBudget } from "../core/error-budget/types.js";
import type { SharedTriggerStates } from "../core/triggers/shared-states.js";
import type { PersistedState } from "../core/types.js";

export interface StateStore {
  /** The state found when the store was opened; undefined when it held none. */
  readonly restored: PersistedState | undefined;
  /**
   * Records one change. Resolves once it is durable (synced to disk, or committed in etcd), so
   * an acknowledged operator call has outlived this process; rejects with ControlPlaneError
   * CP_ERR_AUDIT (naming why) when it could not be. The returned promise is marked handled:
   * callers that do not wait may drop it (the store logs failures).
   */
  append(record: AuditRecord): Promise<void>;
  /** Resolves when everything appended so far is durable (or has failed). */
  flush(): Promise<void>;
  /**
   * Replicas: keeps the leader's assessment for a successor (core/assessment.ts). Best effort:
   * a newer one replaces one not yet written, failures are logged. Absent: not kept (one process).
   */
  saveAssessment?(assessment: Assessment): void;
  /**
   * Replicas: keeps every trigger rule's state (holds, firings, clearing hysteresis) for a
   * successor and the followers' views (core/triggers/shared-states.ts). Called by the leader when
   * a state changed; a decision set appended after it is committed after it. Absent: the audit
   * log's trigger records keep the fired rules (one process).
   */
  saveTriggers?(states: SharedTriggerStates): void;
  /**
   * Replicas: keeps the error budgets' alert-window minute buckets (core/error-budget/tracker.ts
   * persistedWindows) for a successor, so a burn in progress keeps alerting after a failover.
   * Called by the leader every few seconds with the buckets changed (atMs: now, epoch ms; buckets
   * older than the longest window before it are deleted); failures are logged. Absent:
   * one process starts its alert windows empty after a restart.
   */
  saveBurnWindows?(budget: PersistedBudget, atMs: number): void;
}
