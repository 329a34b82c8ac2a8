// What the admin API needs from the rest of the control plane: narrow interfaces, so routes
// can be tested with small fakes and the real ControlPlane (control-plane/src/service.ts)
// satisfies them structurally.
import type { SourceLimitEntry, SourcesView } from "../core/sources/index.js";
import type { Registry } from "prom-client";
import type { Logger } from "../../../lib/log.js";
import type { AlertMessage, Severity, TestDelivery } from "../alerts/index.js";
import type { AuditRecord } from "../audit/records.js";
import type { GoneSidecar } from "../core/gone-sidecars.js";
import type {
  ClusterStatus,
  ControlPlaneEvents,
  DecisionSet,
  HaltMode,
  Override,
  Rollback,
  SidecarStatus,
} from "../core/types.js";
import type { RollbackRequest } from "../core/rollback.js";
import type { TriggerEvent, TriggerStatus } from "../core/triggers/index.js";
import type { BudgetStatus } from "../core/error-budget/types.js";
import type { ExportMetrics } from "../metrics/export-metrics.js";
import type { ExportLimiter } from "./export-limiter.js";
import type { Incident } from "../core/incidents/index.js";
import type { HaltStatus } from "../incident-tracker.js";
import type { SnapshotSummary } from "../snapshots/types.js";

/** The part of ControlPlane the routes and the dashboard call. */
export interface ControlPlaneView {
  currentDecisions(): DecisionSet;
  clusterStatuses(): ClusterStatus[];
  sidecarStatuses(): SidecarStatus[];
  /** Workers that were connected and are gone (bounded list, the most recent departure first). */
  goneSidecars(): GoneSidecar[];
  /** Throws for an unknown cluster (the route checks first) or a bad override. The real control
   *  plane resolves to the resulting decision set once it is recorded (the one to report: the
   *  current set may already be newer and not yet recorded). */
  setOverride(override: Override): Promise<DecisionSet> | void;
  /** `mode` absent: drain. */
  halt(reason: string, actor: string, mode?: HaltMode): Promise<DecisionSet> | void;
  /** The halt in force and which workers confirmed it; absent: GET /v1/halt says not halted. */
  haltStatus?(waitMs?: number): HaltStatus;
  /** Waits up to waitMs (real time) for every connected worker to confirm the halt in force. */
  awaitHaltConfirmation?(waitMs: number): Promise<HaltStatus>;
  /** Incidents, the most recent first; absent: none. */
  incidentList?(): Incident[];
  resume(reason: string, actor: string): Promise<DecisionSet> | void;
  /** Trigger rules and their state; absent: no triggers (GET /v1/triggers lists none). */
  triggerStatuses?(): TriggerStatus[];
  /** Clears a fired trigger by hand; throws ControlPlaneError CP_ERR_TRIGGER when it cannot. */
  clearTrigger?(name: string, reason: string, actor: string): Promise<{ event: TriggerEvent; decisions: DecisionSet }>;
  /** The rollback pinned, if any; absent: GET /v1/decisions/rollback says none. */
  rollbackInForce?(): Rollback | undefined;
  /** Republishes an earlier version and pins it; throws ControlPlaneError (CP_ERR_ROLLBACK,
   *  CP_ERR_VERSION_UNKNOWN, CP_ERR_VERSION_NOT_RETAINED, CP_ERR_ROLLBACK_CONFLICT,
   *  CP_ERR_ROLLBACK_UNAVAILABLE, CP_ERR_AUDIT). Absent: the rollback routes answer 503. */
  rollback?(request: RollbackRequest): Promise<{ rollback: Rollback; decisions: DecisionSet }>;
  /** Ends the rollback in force; throws CP_ERR_ROLLBACK_CONFLICT when none is. */
  releaseRollback?(reason: string, actor: string): Promise<{ rollback: Rollback; decisions: DecisionSet }>;
  /** Who sends the traffic (core/sources/): the top sources over the last spanMs; absent: the
   *  /v1/sources routes answer 503. */
  sourcesView?(spanMs: number, limit: number): SourcesView & { flagged: string[] };
  /** The source limits in force. */
  sourceLimits?(): SourceLimitEntry[];
  /** Sets a limit; throws ControlPlaneError CP_ERR_SOURCE_LIMIT (a bad field) or CP_ERR_AUDIT. */
  setSourceLimit?(limit: SourceLimitEntry): Promise<DecisionSet>;
  /** Removes one; throws CP_ERR_SOURCE_LIMIT_UNKNOWN when none is in force on the source. */
  removeSourceLimit?(source: string, actor: string, reason: string): Promise<{ limit: SourceLimitEntry; decisions: DecisionSet }>;
  on<K extends keyof ControlPlaneEvents>(event: K, listener: (event: ControlPlaneEvents[K]) => void): unknown;
  off<K extends keyof ControlPlaneEvents>(event: K, listener: (event: ControlPlaneEvents[K]) => void): unknown;
}

/** Filters of an audit export; times are epoch ms, since inclusive, until exclusive. */
export interface AuditQuery {
  sinceMs?: number;
  untilMs?: number;
  cluster?: string;
}

/** Streams the audit log in order without loading it whole (files of every spelling read as
 *  today's records, ../audit/record-codec.ts). */
export interface AuditSource {
  read(query: AuditQuery): AsyncIterable<AuditRecord>;
}

/** How the control plane scores clusters right now. */
export interface ModelStatus {
  /** "model": the ONNX model scores; "rules-only": the fallback; "loading": not settled yet. */
  mode: "model" | "rules-only" | "loading";
  path?: string;
  /** Why the model is not in use (rules-only), or the last reload's failure. */
  detail?: string;
  /** When the model in use was loaded, epoch ms. */
  loadedAtMs?: number;
}

export interface ModelControl {
  status(): ModelStatus;
  /**
   * Loads the model file again and swaps it in when it validates, and records the attempt in the
   * audit log (a model_reload record, loaded or rejected). Rejects with ModelReloadError when the
   * new file is invalid (the old model stays in use), and with a ControlPlaneError CP_ERR_AUDIT
   * when the attempt could not be recorded (the message says whether the model was swapped).
   */
  reload(actor: string, reason?: string): Promise<ModelStatus>;
}

/** A model file that failed validation; the message names what is wrong. */
export class ModelReloadError extends Error {
  override readonly name = "ModelReloadError";
}

export interface Readiness {
  /** The sidecar gRPC server is listening. */
  grpcListening(): boolean;
  /** The audit log's health, reported in /readyz's detail (never makes it unready); absent: no
   *  audit log. */
  audit?(): AuditReadiness;
}

export interface AuditReadiness {
  /** Damaged lines skipped while restoring. */
  skippedRecords: number;
  /** The first one, "file:line: problem". */
  firstProblem?: string;
  /** Batches whose write or sync failed since start. */
  writeFailures: number;
  lastWriteError?: string;
}

/** Test alerts (POST /v1/alerts/test); AlertNotifier satisfies it. */
export interface AlertTester {
  /**
   * One attempt per channel, now: to `channels`, or to every channel a `severity` alert is routed
   * to. Rejects with UnknownChannelError (../alerts/notifier.ts) for a name not configured.
   */
  sendTest(severity: Severity, actor: string, channels?: readonly string[]): Promise<{ message: AlertMessage; deliveries: TestDelivery[] }>;
}

/** Fault snapshots (../snapshots/): the store and the recorder behind one narrow interface. */
export interface SnapshotAccess {
  /** Every snapshot kept, the newest first. */
  list(): SnapshotSummary[];
  /** The file's bytes (JSON); undefined when no snapshot has this id. */
  read(id: string): Promise<Buffer | undefined>;
  /** Takes one now; resolves once its file is written, rejects when it cannot be. */
  capture(reason: string, actor: string, cluster: string): Promise<SnapshotSummary>;
  /** The id of the snapshot taken when `cluster`'s breaker changed at `atMs` (the dashboard's links). */
  forTransition(cluster: string, atMs: number): string | undefined;
}

export interface AdminDeps {
  controlPlane: ControlPlaneView;
  model: ModelControl;
  readiness: Readiness;
  /** Undefined: no audit log configured (GET /v1/audit answers 503). */
  audit?: AuditSource;
  /** The registry GET /metrics exposes. */
  registry: Registry;
  /** Undefined (no audit.dir): the /v1/snapshots routes answer 503. */
  snapshots?: SnapshotAccess;
  /** Undefined: POST /v1/alerts/test answers 503. */
  alerts?: AlertTester;
  /** Error budgets (GET /v1/error-budgets); undefined: none configured. */
  errorBudgets?: { statuses(): BudgetStatus[] };
  /** Limits of GET /v1/audit; undefined: unlimited. */
  exportLimits?: ExportLimitDeps;
  /** Admin bearer token (admin.token): every route; "" disables the mutating ones. */
  token: string;
  /**
   * Read-only bearer token (admin.read_token): GET routes only. Once either token is set, GET
   * routes other than the probes need one of them (./auth.ts); absent or "": none.
   */
  readToken?: string;
  logger: Logger;
  /** Epoch ms. */
  now(): number;
}

/** The audit export's limiter, its metrics, and how the route waits (injected for tests). */
export interface ExportLimitDeps {
  limiter: ExportLimiter;
  metrics?: ExportMetrics;
  /** Default: node:timers/promises setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}
