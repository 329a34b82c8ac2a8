// The sidecar workers' streams of this control plane: opening a session (bearer check, a
// mesh-unique stream id), an in-process stream without sockets, the hooks a session calls (hello,
// report, progress, nack, close), the connected and the gone workers, and pushing the set in
// force to every stream. What a report or a version ahead means is sidecar-reports.ts's.
// Times are epoch ms of the injected clock.
import type { Logger } from "../../../lib/log.js";
import { bearerMatches, secretDigest } from "../auth/bearer.js";
import type { AuditRecord } from "../audit/records.js";
import type { DecisionConfig } from "../core/config.js";
import type { DecisionEngine } from "../core/decision-engine.js";
import { GoneSidecars, type GoneSidecar, type GoneSidecarLimits } from "../core/gone-sidecars.js";
import { isReplicaStream, versionConfirmation } from "../core/halt/index.js";
import type { ControlPlaneEvents, SidecarStatus } from "../core/types.js";
import type { TypedEmitter } from "../core/typed-emitter.js";
import { SidecarSession, type SessionInfo, type SessionSink } from "../grpc/sidecar-session.js";
import { GRPC_STATUS } from "../grpc/status.js";
import type { IncidentTracker, TrackedWorker } from "../incident-tracker.js";
import type { FollowerTelemetry, InProcessSidecarSink, InProcessStream } from "./options.js";
import type { PublishedSet } from "./published-set.js";
import type { RunStatus } from "./run-state.js";
import type { SidecarReports } from "./sidecar-reports.js";

export interface SidecarStreamsDeps {
  now(): number;
  state: RunStatus;
  /** decision.* (sessions' push and resend pacing). */
  config: DecisionConfig;
  /** Every configured cluster (a report naming another is refused). */
  clusters: readonly string[];
  published: Pick<PublishedSet, "current" | "bytes" | "publishedAtMs">;
  reports: Pick<SidecarReports, "ingest" | "follow">;
  engine: Pick<DecisionEngine, "forgetReporter" | "expectReporter">;
  incidents: Pick<IncidentTracker, "progress" | "departed">;
  /** A follower forgets a closed stream's reports (ControlPlaneOptions.followerTelemetry). */
  followerTelemetry: FollowerTelemetry | undefined;
  /** Appends to the audit log (if any); the promise may be dropped. */
  record(record: AuditRecord): Promise<void>;
  /** Bearer token sidecars must present; undefined or empty: no check. */
  sidecarToken: string | undefined;
  goneSidecarLimits: GoneSidecarLimits | undefined;
  /** How long workers are given to confirm a version, ms (halt.confirm_wait_s). */
  confirmWaitMs: number;
  /** This replica's sidecar workers changed (ControlPlaneOptions.onWorkersChanged). */
  workersChanged(): void;
  emitter: TypedEmitter<ControlPlaneEvents>;
  log: Logger;
}

export class SidecarStreams {
  private readonly sessions = new Map<string, SidecarSession>();
  /** Workers whose stream ended and that have not come back (bounded; core/gone-sidecars.ts). */
  private readonly gone: GoneSidecars;
  private nextStreamId = 1;

  constructor(private readonly deps: SidecarStreamsDeps) {
    this.gone = new GoneSidecars(deps.goneSidecarLimits);
  }

  /**
   * Opens a transport-neutral sidecar session (the gRPC server calls this per Connect call).
   * The sink sends bytes to the sidecar and closes the stream; the returned session takes the
   * bytes the sidecar sent. Auth is checked here: a missing/wrong token closes the session with
   * UNAUTHENTICATED at once; after stop() it closes with UNAVAILABLE.
   */
  open(info: SessionInfo, sink: SessionSink): SidecarSession {
    const { published, emitter } = this.deps;
    const streamId = `s${this.nextStreamId++}`;
    const session = new SidecarSession(streamId, info, sink, {
      now: this.deps.now,
      config: this.deps.config,
      knownClusters: new Set(this.deps.clusters),
      currentBytes: () => published.bytes,
      currentVersion: () => published.current.version,
      onHello: (s) => {
        if (s.status !== undefined) this.gone.returned(s.status.nodeId, s.status.workerId);
        emitter.emit("sidecar", { kind: "connected", status: s.statusView(published.current.version) });
        this.deps.engine.expectReporter(s.streamId, this.deps.now());
        this.deps.workersChanged();
        const held = s.status?.enforcedVersion ?? 0;
        if (held <= published.current.version) return "push";
        void this.deps.reports.follow(s, held);
        return "wait";
      },
      onReport: (s, report) => this.deps.reports.ingest(s, report),
      onProgress: (s, version, atMs) => {
        this.deps.incidents.progress(s.streamId, version, atMs);
        this.deps.workersChanged();
      },
      onNack: (event) => {
        void this.deps.record({ kind: "nack", atMs: event.atMs, nack: event });
        emitter.emit("nack", event);
      },
      onClosed: (s, reason) => {
        this.sessions.delete(s.streamId);
        this.deps.engine.forgetReporter(s.streamId);
        this.deps.incidents.departed(s.streamId);
        this.deps.followerTelemetry?.forget(s.streamId);
        this.deps.workersChanged();
        if (s.status !== undefined) {
          const status = s.statusView(published.current.version);
          // Gone: not when this control plane stops, nor when the same worker is connected on
          // another stream (it reconnected before the old stream ended).
          const { nodeId, workerId } = status;
          const stillConnected = [...this.sessions.values()].some((o) => o.status?.nodeId === nodeId && o.status.workerId === workerId);
          if (!this.deps.state.stopped && !stillConnected) this.gone.departed(status, reason, this.deps.now());
          emitter.emit("sidecar", { kind: "disconnected", status, reason });
        }
      },
      logger: this.deps.log,
    });
    if (this.deps.state.stopped) {
      session.close(GRPC_STATUS.UNAVAILABLE, "control plane stopped");
      return session;
    }
    const token = this.deps.sidecarToken;
    if (token !== undefined && token !== "") {
      const auth = info.metadata["authorization"] ?? "";
      if (!bearerMatches(auth, secretDigest(token))) {
        session.close(GRPC_STATUS.UNAUTHENTICATED, auth === "" ? "missing bearer token" : "invalid bearer token");
        return session;
      }
    }
    this.sessions.set(streamId, session);
    return session;
  }

  /** In-process acceptor (no sockets), for the proxy-wasm host in tests and the scenario runner. */
  openInProcess(metadata: Record<string, string>, toSidecar: InProcessSidecarSink): InProcessStream {
    let closed = false;
    const session = this.open(
      { transport: "in-process", peer: "in-process", metadata },
      {
        send(bytes) {
          if (!closed) toSidecar.onMessage(bytes);
          return true;
        },
        close(code, details) {
          if (closed) return;
          closed = true;
          toSidecar.onClose(code, details);
        },
      },
    );
    return {
      send: (bytes) => {
        if (!closed) session.receive(bytes);
      },
      close: () => {
        if (closed) return;
        closed = true;
        session.peerClosed("sidecar closed the stream");
      },
    };
  }

  /** Every connected worker, with whether it confirmed the version in force within
   *  halt.confirm_wait_s (core/halt/version-confirmation.ts). */
  statuses(): SidecarStatus[] {
    const { published } = this.deps;
    const version = published.current.version;
    const nowMs = this.deps.now();
    return [...this.sessions.values()].flatMap((s) => {
      if (s.status === undefined) return [];
      const view = s.statusView(version);
      const confirmation = versionConfirmation({
        version,
        publishedAtMs: published.publishedAtMs,
        connectedAtMs: view.connectedAtMs,
        reachedAtMs: s.reachedAt(version),
        waitMs: this.deps.confirmWaitMs,
        nowMs,
      });
      return [{ ...view, confirmation }];
    });
  }

  /** Sidecar workers that were connected and are gone, the most recent departure first. */
  goneSidecars(): GoneSidecar[] {
    return this.gone.list(this.deps.now());
  }

  /** Connected sidecar workers (hello received, not a follower replica's forwarding stream). */
  sidecarSessions(): SidecarSession[] {
    return [...this.sessions.values()].filter((s) => s.status !== undefined && !s.isClosed && !isReplicaStream(s.status.nodeId));
  }

  /** This replica's sidecar workers as the incident tracker counts them. */
  trackedWorkers(): TrackedWorker[] {
    return this.sidecarSessions().map((s) => ({
      streamId: s.streamId, nodeId: s.status!.nodeId, workerId: s.status!.workerId, capabilities: s.status!.capabilities ?? [], reachedAt: (v: number) => s.reachedAt(v),
    }));
  }

  /** Pushes a decision set's bytes to every stream. */
  pushToAll(bytes: Uint8Array, version: number): void {
    for (const session of this.sessions.values()) session.push(bytes, version);
  }

  /** Resends the set in force to the streams that lag behind it. */
  resendIfLagging(atMs: number): void {
    for (const session of this.sessions.values()) session.resendIfLagging(atMs);
  }

  /** Closes every stream (the control plane stops). */
  closeAll(code: number, details: string): void {
    for (const session of [...this.sessions.values()]) session.close(code, details);
  }
}
