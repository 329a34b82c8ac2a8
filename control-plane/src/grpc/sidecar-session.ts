// One sidecar worker's stream, independent of the transport (gRPC server or in-process): decodes
// what the sidecar sends, keeps its status, and pushes decision sets to it with a bounded,
// drop-to-latest queue so that a slow stream never holds up the decision loop.
//
// Protocol: the first message must be a Hello; then TelemetryReport per window, DecisionAck /
// DecisionNack per decision set. A malformed message or a protocol error closes this stream
// only, with INVALID_ARGUMENT and a message naming the problem.
import { fromBinary } from "@bufbuild/protobuf";
import type { Logger } from "../../../lib/log.js";
import { SidecarMessageSchema, type SidecarMessage } from "../../../proto/gen/autoglm/v1/traffic_guard_pb.js";
import type { DecisionConfig } from "../core/config.js";
import type { NackEvent, ReportOutcome, SidecarStatus, WorkerReport } from "../core/types.js";
import { versionsBehind } from "../core/decision-version.js";
import type { ReportRefusal } from "../core/report-admission.js";
import { reportFromProto } from "./convert.js";
import { knownCapabilities } from "../core/capabilities.js";
import { checkHello, MAX_NACK_REASON_CHARS, truncateText } from "./input-limits.js";
import { NackLimiter } from "./nack-limiter.js";
import { ReportRejections } from "./report-rejections.js";
import { GRPC_STATUS } from "./status.js";

export interface SessionInfo {
  transport: "grpc" | "in-process";
  /** Remote address (or "in-process"). */
  peer: string;
  /** Initial metadata, keys lower-case. */
  metadata: Record<string, string>;
}

/** What the transport provides to a session. */
export interface SessionSink {
  /** Sends one serialised ControlMessage; false when the transport is now backed up (then the
   *  session waits for drained() before sending more). */
  send(bytes: Uint8Array): boolean;
  /** Ends the stream with a gRPC status (idempotent). */
  close(code: number, details: string): void;
}

export interface SessionHooks {
  now(): number;
  config: DecisionConfig;
  knownClusters: ReadonlySet<string>;
  currentBytes(): Uint8Array;
  currentVersion(): number;
  /** The hello arrived; "push": send the current set now; "wait": the control plane publishes
   *  a newer one first (the sidecar enforces a version above the current set). */
  onHello(session: SidecarSession): "push" | "wait";
  onReport(session: SidecarSession, report: WorkerReport): void;
  onNack(event: NackEvent): void;
  /** The worker acknowledged `version` (DecisionAck) at atMs, or said in its hello that it
   *  enforces it (for reports the control plane calls noteProgress once it admits the report). */
  onProgress?(session: SidecarSession, version: number, atMs: number): void;
  onClosed(session: SidecarSession, reason: string): void;
  logger: Logger;
}

/** Versions kept per worker for reachedAt(). */
const PROGRESS_KEPT = 16;

type MutableStatus = Omit<SidecarStatus, "lagVersions" | "refusing">;

/** A uint64 version from the wire as a number; beyond 2^53 (outside the version scheme) it
 *  saturates at Number.MAX_SAFE_INTEGER rather than rounding to a neighbour. */
function safeVersion(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** A uint64 duration from the wire (ms) as a number, saturating as safeVersion does. */
const safeMs = safeVersion;

export class SidecarSession {
  /** Undefined until the Hello arrived. */
  status: MutableStatus | undefined;
  private closed = false;
  /** The transport said it is backed up; pushes wait in `pending` (latest only). */
  private blocked = false;
  private pending: Uint8Array | undefined;
  /** The control plane declined to follow this sidecar's version (logged once). */
  followRefused = false;
  private lastSentVersion = 0;
  private lastSentAtMs = 0;
  private readonly nacks = new NackLimiter();
  /** The versions this worker reached (acknowledged or enforced) and when, increasing; the last
   *  PROGRESS_KEPT only (a halt's watch starts from the newest few). */
  private readonly progress: { version: number; atMs: number }[] = [];
  private readonly rejections = new ReportRejections();

  constructor(
    readonly streamId: string,
    readonly info: SessionInfo,
    private readonly sink: SessionSink,
    private readonly hooks: SessionHooks,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes of one SidecarMessage from the sidecar. */
  receive(bytes: Uint8Array): void {
    if (this.closed) return;
    let message: SidecarMessage;
    try {
      message = fromBinary(SidecarMessageSchema, bytes);
    } catch (err) {
      this.close(GRPC_STATUS.INVALID_ARGUMENT, `malformed SidecarMessage: ${(err as Error).message}`);
      return;
    }
    const kind = message.kind;
    if (kind.case === undefined) {
      this.close(GRPC_STATUS.INVALID_ARGUMENT, "SidecarMessage: no kind set (expected hello, report, ack or nack)");
      return;
    }
    if (this.status === undefined && kind.case !== "hello") {
      this.close(GRPC_STATUS.INVALID_ARGUMENT, `SidecarMessage: the first message must be hello, got ${kind.case}`);
      return;
    }
    const nowMs = this.hooks.now();
    switch (kind.case) {
      case "hello": {
        if (this.status !== undefined) {
          this.close(GRPC_STATUS.INVALID_ARGUMENT, "hello: sent twice on one stream");
          return;
        }
        const h = kind.value;
        if (h.nodeId === "") {
          this.close(GRPC_STATUS.INVALID_ARGUMENT, "hello.node_id: must not be empty");
          return;
        }
        const tooLong = checkHello(h);
        if (tooLong !== undefined) {
          this.close(GRPC_STATUS.INVALID_ARGUMENT, tooLong);
          return;
        }
        this.status = {
          streamId: this.streamId,
          transport: this.info.transport,
          peer: this.info.peer,
          nodeId: h.nodeId,
          zone: h.zone,
          workerId: h.workerId,
          instanceId: h.instanceId.toString(),
          filterVersion: h.filterVersion,
          capabilities: knownCapabilities(h.capabilities),
          connectedAtMs: nowMs,
          ackedVersion: 0,
          rejectedVersion: 0,
          rejectReason: "",
          enforcedVersion: safeVersion(h.enforcedVersion),
          ...(h.capabilities.includes("fallback_time")
            ? { disconnectedMs: safeMs(h.disconnectedMs), fallbackMs: safeMs(h.fallbackMs) }
            : {}),
          reports: 0,
          duplicates: 0,
          lateReports: 0,
          droppedPushes: 0,
        };
        if (this.hooks.onHello(this) === "push") this.push(this.hooks.currentBytes(), this.hooks.currentVersion());
        if (this.status.enforcedVersion > 0) this.noteProgress(this.status.enforcedVersion, nowMs);
        return;
      }
      case "report": {
        const converted = reportFromProto(kind.value, this.hooks.knownClusters);
        if (!converted.ok) {
          this.close(GRPC_STATUS.INVALID_ARGUMENT, converted.error);
          return;
        }
        const status = this.status!;
        status.reports++;
        status.lastReportAtMs = nowMs;
        status.lastWindowStartMs = converted.value.windowStartMs;
        status.enforcedVersion = converted.value.enforcedVersion;
        this.hooks.onReport(this, converted.value);
        return;
      }
      case "ack": {
        this.status!.ackedVersion = safeVersion(kind.value.version);
        this.noteProgress(this.status!.ackedVersion, nowMs);
        return;
      }
      case "nack": {
        const status = this.status!;
        const version = safeVersion(kind.value.version);
        const reason = truncateText(kind.value.reason, MAX_NACK_REASON_CHARS);
        status.rejectedVersion = version;
        status.rejectReason = reason;
        const verdict = this.nacks.admit(version, nowMs);
        if (!verdict.record) return; // a repeat, or over the stream's budget: counted, not recorded
        this.hooks.logger.warn({ stream: this.streamId, node: status.nodeId, version, reason, suppressed: verdict.suppressed }, "sidecar rejected a decision set");
        this.hooks.onNack({
          streamId: this.streamId,
          nodeId: status.nodeId,
          version,
          reason,
          enforcedVersion: safeVersion(kind.value.enforcedVersion),
          atMs: nowMs,
          suppressed: verdict.suppressed,
        });
        return;
      }
    }
  }

  /** The worker acknowledged or enforces `version` at atMs (kept when above what it reached). */
  noteProgress(version: number, atMs: number): void {
    const last = this.progress[this.progress.length - 1];
    if (version <= 0 || (last !== undefined && version <= last.version)) return;
    this.progress.push({ version, atMs });
    if (this.progress.length > PROGRESS_KEPT) this.progress.shift();
    this.hooks.onProgress?.(this, version, atMs);
  }

  /** The newest version this worker reached (acknowledged or enforced), and when; undefined: none. */
  latestProgress(): { version: number; atMs: number } | undefined {
    const last = this.progress[this.progress.length - 1];
    return last === undefined ? undefined : { ...last };
  }

  /** When this worker first reached `version` or above, as far as the kept progress tells
   *  (undefined: not reached). */
  reachedAt(version: number): number | undefined {
    return this.progress.find((p) => p.version >= version)?.atMs;
  }

  /** Counts what became of a report (for the status view). */
  countOutcome(outcome: ReportOutcome): void {
    if (this.status === undefined) return;
    if (outcome === "duplicate") this.status.duplicates++;
    else if (outcome === "late_folded" || outcome === "late_dropped") this.status.lateReports++;
  }

  /** Tells the sidecar a report was refused (at most one notice per reason per 10 s). */
  reportRefused(sequence: number, refusal: ReportRefusal): void {
    if (this.closed || this.status === undefined) return;
    const notice = this.rejections.notice(sequence, refusal, this.hooks.now());
    if (notice === undefined) return;
    this.hooks.logger.warn({ stream: this.streamId, node: this.status.nodeId, reason: refusal.reason, refusals: notice.refusals, detail: refusal.message }, "refused a sidecar report");
    if (!this.blocked && !this.sink.send(notice.bytes)) this.blocked = true;
  }

  /** Pushes a decision set; when the transport is backed up only the latest one waits. */
  push(bytes: Uint8Array, version: number): void {
    if (this.closed || this.status === undefined) return;
    if (this.blocked) {
      if (this.pending !== undefined) this.status.droppedPushes++;
      this.pending = bytes;
      this.lastSentVersion = version;
      return;
    }
    this.lastSentVersion = version;
    this.lastSentAtMs = this.hooks.now();
    if (!this.sink.send(bytes)) this.blocked = true;
  }

  /** The transport can take more: sends the waiting decision set, if any. */
  drained(): void {
    this.blocked = false;
    const bytes = this.pending;
    this.pending = undefined;
    if (bytes !== undefined && !this.closed) {
      this.lastSentAtMs = this.hooks.now();
      if (!this.sink.send(bytes)) this.blocked = true;
    }
  }

  /** Re-sends the current set to a stream that has not acknowledged it for resendAfterMs. */
  resendIfLagging(nowMs: number): void {
    const status = this.status;
    if (status === undefined || this.closed || this.blocked) return;
    const current = this.hooks.currentVersion();
    const behind = status.ackedVersion < current && status.enforcedVersion < current;
    if (!behind || status.rejectedVersion === current) return;
    if (nowMs - this.lastSentAtMs < this.hooks.config.resendAfterMs) return;
    this.push(this.hooks.currentBytes(), current);
  }

  statusView(currentVersion: number): SidecarStatus {
    const s = this.status!;
    return {
      ...s,
      lagVersions: versionsBehind(currentVersion, Math.max(s.ackedVersion, s.enforcedVersion)),
      refusing: s.rejectedVersion > s.ackedVersion,
    };
  }

  /** Closes the stream from the control plane's side with a status. */
  close(code: number, details: string): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    if (code !== GRPC_STATUS.OK) {
      this.hooks.logger.info({ stream: this.streamId, code, details }, "closing sidecar stream");
    }
    this.sink.close(code, details);
    this.noteSuppressedNacks();
    this.hooks.onClosed(this, details);
  }

  /** The sidecar (or the transport) ended the stream. */
  peerClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    this.noteSuppressedNacks();
    this.hooks.onClosed(this, reason);
  }

  private noteSuppressedNacks(): void {
    if (this.nacks.suppressed > 0) {
      this.hooks.logger.warn({ stream: this.streamId, node: this.status?.nodeId, suppressed: this.nacks.suppressed }, "repeated nacks not recorded");
    }
  }
}
