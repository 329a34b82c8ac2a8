// The control plane's construction options and the types of its public API that are not
// classes: the shared control records a replica applies, the in-process stream ends. service.ts
// re-exports all of them (their import path for callers).
import type { Logger } from "../../../lib/log.js";
import type { AuditRecord } from "../audit/records.js";
import type { PartialCoreConfig } from "../core/config.js";
import type { GoneSidecarLimits } from "../core/gone-sidecars.js";
import type { RollbackLookup } from "../core/rollback.js";
import type { TriggerRule } from "../core/triggers/index.js";
import type { ClusterSpec, Scorer, Slo, WorkerReport } from "../core/types.js";
import type { StateStore } from "../state/state-store.js";

export interface ControlPlaneOptions {
  clusters: ClusterSpec[];
  slo: Slo;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
  /** Seeded random source in [0, 1). Default Math.random. */
  random?: () => number;
  /** Tuning parameters; missing ones take DEFAULT_CONFIG (core/config.ts). */
  config?: PartialCoreConfig;
  /** Opened audit log, or another state store (state/state-store.ts): decisions, overrides,
   *  halts and transitions are appended; the last decision set, overrides and halt are restored
   *  from it at construction. */
  audit?: StateStore;
  /** The anomaly model (async), combined with the built-in detectors. */
  modelScorer?: Scorer;
  logger?: Logger;
  /** Bearer token sidecars must present (metadata `authorization: Bearer <token>`); none: no check. */
  sidecarToken?: string;
  /** Trigger rules (core/triggers/), validated by the configuration (config/triggers.ts). */
  triggers?: readonly TriggerRule[];
  /** How many gone sidecar workers are remembered, and for how long (default
   *  DEFAULT_GONE_SIDECAR_LIMITS, core/gone-sidecars.ts). */
  goneSidecarLimits?: GoneSidecarLimits;
  /** How long sidecars are given to confirm a halt, or any decision version, before they are
   *  listed as unconfirmed, ms (configuration halt.confirm_wait_s). Default DEFAULT_CONFIRM_WAIT_MS. */
  haltConfirmWaitMs?: number;
  /** Finds an earlier decision set by version (audit/decision-history.ts over the audit log);
   *  absent: rollback() refuses with CP_ERR_ROLLBACK_UNAVAILABLE. */
  decisionHistory?: (version: number) => Promise<RollbackLookup>;
  /** One of several replicas: start as a follower (no rounds) until lead(). Default false: the
   *  single process decides. */
  follower?: boolean;
  /** A follower's sidecar enforces `held`, a version above the set this replica serves: the
   *  replica registers it in the shared store, so the leader continues above it. */
  onSidecarAhead?: (held: number) => void;
  /** Where a follower's sidecars' reports go (replicas/telemetry-forwarder.ts: merged per window
   *  and forwarded to the leader); `reporter` is the stream. */
  followerTelemetry?: FollowerTelemetry;
  /** Replicas: this replica's sidecar workers changed (one connected or left, reached a version,
   *  or the versions watched changed): publishedWorkers() is worth publishing again. */
  onWorkersChanged?: () => void;
}

/** Where a follower hands its sidecars' reports (ControlPlaneOptions.followerTelemetry). */
export interface FollowerTelemetry {
  report(reporter: string, report: WorkerReport): void;
  forget(reporter: string): void;
}

/** A change an operator made on any replica, committed to the shared store (applyShared). */
export type SharedControlRecord = Extract<AuditRecord, { kind: "override" | "halt" | "resume" | "rollback" | "rollback_end" | "trigger" | "source_limit" }>;

/** Default wait for sidecars to confirm a halt, ms. */
export const DEFAULT_CONFIRM_WAIT_MS = 30_000;

/** The sidecar's end of an in-process stream (bytes are serialised ControlMessage). */
export interface InProcessSidecarSink {
  onMessage(bytes: Uint8Array): void;
  onClose(code: number, details: string): void;
}

/** The control plane's end of an in-process stream (bytes are serialised SidecarMessage). */
export interface InProcessStream {
  send(bytes: Uint8Array): void;
  close(): void;
}
