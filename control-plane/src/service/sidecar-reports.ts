// What a sidecar worker's stream tells the control plane beyond its hello: its telemetry reports
// (admitted into the engine, their sources counted, or, on a follower, handed on to the leader)
// and a decision version above the set in force, which the leader follows by continuing in a
// generation above it. Times are epoch ms of the injected clock.
import type { Logger } from "../../../lib/log.js";
import type { DecisionEngine } from "../core/decision-engine.js";
import type { SourceMonitor } from "../core/sources/index.js";
import type { ControlPlaneEvents, WorkerReport } from "../core/types.js";
import type { TypedEmitter } from "../core/typed-emitter.js";
import type { SidecarSession } from "../grpc/sidecar-session.js";
import type { IncidentTracker } from "../incident-tracker.js";
import type { FollowerTelemetry } from "./options.js";
import type { PublishedSet } from "./published-set.js";
import type { RealTimeRounds } from "./real-time-rounds.js";
import type { RunStatus } from "./run-state.js";
import type { SerialQueue } from "./serial-queue.js";

export interface SidecarReportsDeps {
  now(): number;
  state: RunStatus;
  queue: Pick<SerialQueue, "run">;
  engine: Pick<DecisionEngine, "ingest" | "followSidecar">;
  sources: Pick<SourceMonitor, "ingest">;
  published: Pick<PublishedSet, "current" | "bytes" | "publish">;
  incidents: Pick<IncidentTracker, "rejects">;
  rounds: Pick<RealTimeRounds, "afterReport">;
  /** A follower's sidecars' reports go there (ControlPlaneOptions.followerTelemetry). */
  followerTelemetry: FollowerTelemetry | undefined;
  /** A follower's sidecar enforces a version above the set it serves (ControlPlaneOptions.onSidecarAhead). */
  onSidecarAhead: ((held: number) => void) | undefined;
  emitter: TypedEmitter<ControlPlaneEvents>;
  log: Logger;
}

export class SidecarReports {
  constructor(private readonly deps: SidecarReportsDeps) {}

  /** One report a session decoded: admitted (or refused, the session told why), its sources
   *  counted, the 'report' event; in real-time mode an early round when every reporter has
   *  reported a window. */
  ingest(session: SidecarSession, report: WorkerReport): void {
    const { published } = this.deps;
    // A follower hands its sidecars' windows on, to be merged and forwarded to the leader; what
    // the worker says it enforces counts here (a filter that does not acknowledge confirms a
    // halt so; the leader counts it through this replica's presence, replicas/sidecar-presence.ts).
    if (!this.deps.state.leading) {
      this.deps.followerTelemetry?.report(session.streamId, report);
      session.noteProgress(report.enforcedVersion, this.deps.now());
      return;
    }
    const atMs = this.deps.now();
    const { outcome, refusal } = this.deps.engine.ingest(session.streamId, report, atMs);
    session.countOutcome(outcome);
    if (refusal !== undefined) session.reportRefused(report.sequence, refusal);
    // A sidecar of an older filter build says what it enforces only in its reports: follow it
    // too (a refused report is not trusted for that).
    else if (report.enforcedVersion > published.current.version) void this.follow(session, report.enforcedVersion);
    if (refusal === undefined) session.noteProgress(report.enforcedVersion, atMs);
    if (outcome === "accepted" || outcome === "late_folded") {
      this.deps.incidents.rejects(report.clusters);
      if (report.sources !== undefined) this.deps.sources.ingest(session.streamId, report.windowStartMs, report.windowLengthMs, report.sources);
    }
    this.deps.emitter.emit("report", {
      streamId: session.streamId,
      nodeId: session.status?.nodeId ?? "",
      windowStartMs: report.windowStartMs,
      outcome,
      ...(refusal === undefined ? {} : { refusal: refusal.reason }),
      atMs,
    });
    // Real-time mode: decide as soon as every live reporter has reported a window.
    this.deps.rounds.afterReport(atMs);
  }

  /**
   * A sidecar enforces a version newer than the current set (this control plane restarted
   * without its state or lost its last writes, or its clock is behind): re-issues the current
   * content in a generation above it and pushes it to every stream, so no sidecar refuses it.
   * A version outside the scheme, or implausibly far ahead, is not followed; that sidecar then
   * refuses the current set and shows as refusing in /v1/sidecars.
   */
  follow(session: SidecarSession, held: number): Promise<void> {
    return this.deps.queue.run(async () => {
      const { state, published, log } = this.deps;
      if (state.stopped) return;
      if (!state.leading) {
        // Only the leader issues versions: the shared store learns of the sidecar's version, and
        // the leader continues above it.
        this.deps.onSidecarAhead?.(held);
        session.push(published.bytes, published.current.version);
        return;
      }
      const atMs = this.deps.now();
      const { outcome, decisions } = this.deps.engine.followSidecar(held, atMs);
      if (decisions !== undefined) {
        log.warn(
          { stream: session.streamId, node: session.status?.nodeId, sidecar_version: held, previous_version: published.current.version, version: decisions.version },
          "a sidecar enforces a newer decision version than this control plane: continuing in a new generation above it",
        );
        published.publish(decisions, atMs);
        return;
      }
      if (outcome === "implausible" && !session.followRefused) {
        session.followRefused = true;
        log.error(
          { stream: session.streamId, node: session.status?.nodeId, sidecar_version: held, version: published.current.version },
          "a sidecar reports a decision version outside the version scheme or implausibly far ahead; not followed (it will refuse the current set)",
        );
      }
      session.push(published.bytes, published.current.version);
    });
  }
}
