// The control plane's configuration after validation: what `autoglm control-plane` runs with.
// The file format (YAML or JSON, snake_case keys) is defined by the section schemas in ./schema/,
// documented in docs/configuration.md and shown in demo/control-plane.example.yaml; environment
// variables AUTOGLM_* override single fields (./env.ts).
import type { AlertsConfig } from "../alerts/types.js";
import type { BreakerConfig, DetectorConfig, SourcesConfig } from "../core/config.js";
import type { ClusterSpec, Slo } from "../core/types.js";
import type { TriggerRule } from "../core/triggers/types.js";
import type { ErrorBudgetSettings } from "../core/error-budget/types.js";
import type { ExportLimits } from "./export-limits.js";

import type { EtcdConfig } from "./etcd.js";

export type { AlertsConfig, EtcdConfig };

/** A TCP listen address. Port 0 asks the OS for a free port. */
export interface ListenConfig {
  host: string;
  /** 0..65535. */
  port: number;
}

/** TLS of a listener: PEM files. With caFile (gRPC only), client certificates are required. */
export interface TlsConfig {
  certFile: string;
  keyFile: string;
  caFile?: string;
}

export interface GrpcConfig extends ListenConfig {
  /** Absent: plaintext (loopback, tests, the demo). */
  tls?: TlsConfig;
  /** Bearer token sidecars must send in `authorization`; "" accepts any stream. */
  token: string;
  /**
   * Start even though `host` is not a loopback address and `token` is "" (any host that reaches
   * the port may then stream). False: such a configuration is refused at start-up.
   */
  allowUnauthenticatedNonLoopback: boolean;
}

export interface AdminConfig extends ListenConfig {
  /** Absent: plain HTTP. Present: HTTPS only (cert_file, key_file; no client certificates). */
  tls?: TlsConfig;
  /** Admin bearer token: every route; "" disables the mutating ones (they answer 401). */
  token: string;
  /**
   * Read-only bearer token: GET routes only. Once token or readToken is set, every GET route
   * but the probes (/healthz, /readyz, /metrics) and the dashboard page (/) needs one of them.
   * "": none. Must differ from token.
   */
  readToken: string;
  /**
   * Start even though `host` is not a loopback address and neither token is set (anyone who
   * reaches the port may then read the state and the audit log). False: refused at start-up.
   */
  allowUnauthenticatedNonLoopback: boolean;
  /** Limits of the audit export, GET /v1/audit (./export-limits.ts). */
  export: ExportLimits;
}

export interface XdsConfig extends ListenConfig {
  enabled: boolean;
  /** Serve xDS off loopback although it has no authentication. */
  allowUnauthenticatedNonLoopback: boolean;
  /** Serve LRS and mark outlier hosts UNHEALTHY over EDS (xds/host-health.ts). */
  hostEjection: boolean;
}

export interface ModelConfig {
  /** Path of the ONNX anomaly model; undefined: rules-only detectors. */
  path?: string;
}

export interface AuditConfig {
  /** Directory of the audit log files; undefined: no audit log is written. */
  dir?: string;
  /** A file is rotated once it reaches this size, bytes. */
  rotateBytes: number;
  /** Fault snapshots, kept in <dir>/snapshots (written only with a dir; ../snapshots/). */
  snapshots: SnapshotsConfig;
}

export interface SnapshotsConfig {
  /** Most bytes the snapshot files may hold together; beyond, the oldest are removed. */
  maxBytes: number;
  /** Most snapshot files kept; beyond, the oldest are removed. */
  maxFiles: number;
  /** Windows of each cluster kept from before the event, 1..10. */
  windowsBefore: number;
  /** Windows of the event's cluster awaited after it before the snapshot is complete, 1..10. */
  windowsAfter: number;
}

/** Scalar parameters handed to the decision core unchanged (the core validates their meaning). */
export type PassThroughParams = Record<string, number | boolean | string>;

export interface ControlPlaneConfig {
  grpc: GrpcConfig;
  admin: AdminConfig;
  xds: XdsConfig;
  clusters: ClusterSpec[];
  slo: Slo;
  /** The detector parameters the file sets (the core's names; the rest take the core's defaults). */
  detector: Partial<DetectorConfig>;
  /** The breaker parameters the file sets (the core's names; the rest take the core's defaults). */
  breaker: Partial<BreakerConfig>;
  /** Who sends the traffic: the parameters the file sets (the core's names; the rest take the core's defaults). */
  sources?: Partial<SourcesConfig>;
  model: ModelConfig;
  audit: AuditConfig;
  alerts: AlertsConfig;
  /** Trigger rules (./triggers.ts); empty: none. */
  triggers: TriggerRule[];
  /** Error budgets (./error-budgets.ts); absent: none tracked. */
  errorBudgets?: ErrorBudgetSettings;
  halt: HaltConfig;
  /** Several replicas sharing their state in etcd (./etcd.ts); absent: one embedded process. */
  etcd?: EtcdConfig;
}

export interface HaltConfig {
  /** How long sidecar workers are given to confirm a halt before GET /v1/halt lists them as
   *  unconfirmed, seconds. */
  confirmWaitS: number;
}
