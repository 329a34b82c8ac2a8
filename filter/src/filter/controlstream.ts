// The worker's gRPC stream to the control plane (autoglm.v1.TrafficGuard/Connect): opening,
// sending, and reconnecting with exponential backoff and jitter after it closes or stays silent.
// Telemetry reports produced while the stream is down wait in a bounded queue and are sent after
// the next Hello (the oldest dropped beyond MAX_QUEUED_REPORTS).
//
// Only a message proves a live control plane: a stream that is being opened, or that got only
// metadata, does not (a control plane answers every Hello with its current decision set).
// Failed attempts are logged the first time, then at most once a minute with a count.
import { grpcCancel, grpcSend, grpcStream, log, serializePairs } from "../abi/hostcalls";
import { LogLevel, Status } from "../abi/types";
import { Rng } from "../core/rng";
import { TelemetryReport } from "../wire/messages";
import { encodeReport } from "../wire/encode";
import { LOG_INTERVAL_MS, LogLimit } from "./loglimit";
import { grpcUpstream } from "./grpcservice";
import { dec } from "../core/numbertext";

export const SERVICE = "autoglm.v1.TrafficGuard";
export const METHOD = "Connect";
export const MAX_QUEUED_REPORTS: i32 = 10;

export class ControlStream {
  /** Host stream id; 0 while there is no stream. */
  streamId: u32 = 0;
  /** When the current stream was opened, epoch ms. */
  openedAtMs: u64 = 0;
  /** Whether a message arrived on the current stream (the control plane proved live on it). */
  heardFrom: bool = false;
  /** When to try to open the next stream, epoch ms. */
  reconnectAtMs: u64 = 0;
  /** Consecutive failed attempts (drives the backoff). */
  failures: i32 = 0;
  /** Streams opened so far. */
  opened: u64 = 0;
  /** Per-stream report sequence (the last one sent). */
  sequence: u64 = 0;
  /** Reports waiting for a stream. */
  queued: TelemetryReport[] = [];
  droppedReports: u64 = 0;
  /** Warnings about attempts that failed (refused, closed or silent) since the last live stream. */
  failureLog: LogLimit = new LogLimit(LOG_INTERVAL_MS);
  /** Warnings about reports the control plane refused. */
  rejectedLog: LogLimit = new LogLimit(LOG_INTERVAL_MS);

  private cluster: string;
  /** proxy_grpc_stream's upstream argument (built once). */
  private upstream: ArrayBuffer;
  private metadata: ArrayBuffer;
  private timeoutMs: u32;
  private baseMs: u32;
  private maxMs: u32;

  constructor(cluster: string, authority: string, token: string, timeoutMs: u32, baseMs: u32, maxMs: u32) {
    this.cluster = cluster;
    this.upstream = grpcUpstream(cluster, authority);
    this.timeoutMs = timeoutMs;
    this.baseMs = baseMs;
    this.maxMs = maxMs;
    this.metadata = token.length > 0
      ? serializePairs(["authorization"], ["Bearer " + token])
      : new ArrayBuffer(0);
  }

  isOpen(): bool {
    return this.streamId != 0;
  }

  /** The stream counts as a live control plane: open, and a message arrived on it. */
  isLive(): bool {
    return this.streamId != 0 && this.heardFrom;
  }

  /** Logs a failed attempt (WARN), rate-limited. */
  warnFailure(nowMs: u64, message: string): void {
    const suffix = this.failureLog.take(nowMs);
    if (suffix !== null) log(LogLevel.WARN, message + (suffix as string));
  }

  /** An open stream on which no message arrived within timeout_ms: cancels it and schedules
   *  the next attempt. Returns whether it did. */
  giveUpIfSilent(nowMs: u64, rng: Rng): bool {
    if (this.streamId == 0 || this.heardFrom || nowMs < this.openedAtMs + <u64>this.timeoutMs) return false;
    grpcCancel(this.streamId);
    this.warnFailure(nowMs, "control plane silent for " + dec(this.timeoutMs) + " ms: reconnecting");
    this.closed(nowMs, rng);
    return true;
  }

  /** Opens a stream and sends the hello; on refusal schedules the next attempt. */
  open(nowMs: u64, hello: ArrayBuffer, rng: Rng): bool {
    const id = grpcStream(this.upstream, SERVICE, METHOD, this.metadata);
    if (id == 0) {
      this.warnFailure(nowMs, "cannot open stream to \"" + this.cluster + "\"");
      this.scheduleReconnect(nowMs, rng);
      return false;
    }
    this.streamId = id;
    this.openedAtMs = nowMs;
    this.heardFrom = false;
    this.sequence = 0;
    this.opened++;
    if (grpcSend(id, hello, false) != Status.OK) {
      log(LogLevel.WARN, "hello not sent");
    }
    // Reports that waited for a stream go out in order, with this stream's sequence numbers.
    const waiting = this.queued;
    this.queued = [];
    for (let i = 0; i < waiting.length; i++) this.sendReport(unchecked(waiting[i]));
    return true;
  }

  /** Sends one report now, or queues it while there is no stream. */
  sendReport(report: TelemetryReport): void {
    if (this.streamId == 0) {
      if (this.queued.length >= MAX_QUEUED_REPORTS) {
        this.queued.shift();
        this.droppedReports++;
      }
      this.queued.push(report);
      return;
    }
    this.sequence++;
    report.sequence = this.sequence;
    grpcSend(this.streamId, encodeReport(report), false);
  }

  /** Sends a serialized SidecarMessage when the stream is open. */
  send(message: ArrayBuffer): void {
    if (this.streamId != 0) grpcSend(this.streamId, message, false);
  }

  /** A message arrived: the control plane is live; backoff and failure warnings start afresh. */
  markHeardFrom(): void {
    this.heardFrom = true;
    this.failures = 0;
    this.failureLog.reset();
  }

  /** The host closed the stream: schedule the reconnect. */
  closed(nowMs: u64, rng: Rng): void {
    this.streamId = 0;
    this.scheduleReconnect(nowMs, rng);
  }

  /** Equal-jitter exponential backoff: delay = d/2 + random(0..d/2), d = min(max, base * 2^failures). */
  private scheduleReconnect(nowMs: u64, rng: Rng): void {
    let d = <u64>this.baseMs;
    for (let i = 0; i < this.failures && d < <u64>this.maxMs; i++) d <<= 1;
    if (d > <u64>this.maxMs) d = <u64>this.maxMs;
    if (this.failures < 30) this.failures++;
    this.reconnectAtMs = nowMs + d / 2 + rng.below(d / 2 + 1);
  }
}
