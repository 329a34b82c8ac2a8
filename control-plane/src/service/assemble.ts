// Builds the parts of the control plane (this folder) from its options and wires them: what each
// part needs from the others is a small interface in its own file, handed over here. The facade
// (../service.ts) keeps the parts and hands each public call to one of them.
//
// Construction restores the engine, the source limits and the incidents from the audit log (or
// shared store) when it holds state, and records the set in force unless the log holds it.
import type { Logger } from "../../../lib/log.js";
import { createLogger } from "../../../lib/log.js";
import type { AuditRecord } from "../audit/records.js";
import { resolveConfig, type CoreConfig } from "../core/config.js";
import { DecisionEngine } from "../core/decision-engine.js";
import { SourceMonitor } from "../core/sources/index.js";
import { TypedEmitter } from "../core/typed-emitter.js";
import type { ControlPlaneEvents } from "../core/types.js";
import { IncidentTracker, type TrackedWorker } from "../incident-tracker.js";
import type { StateStore } from "../state/state-store.js";
import { AcknowledgedWrites } from "./acknowledged-writes.js";
import { DecisionRound } from "./decision-round.js";
import { OperatorControls } from "./operator-controls.js";
import { DEFAULT_CONFIRM_WAIT_MS, type ControlPlaneOptions } from "./options.js";
import { PublishedSet } from "./published-set.js";
import { RealTimeRounds } from "./real-time-rounds.js";
import { ReplicaRole } from "./replica-role.js";
import { RunState } from "./run-state.js";
import { SerialQueue } from "./serial-queue.js";
import { SidecarReports } from "./sidecar-reports.js";
import { SidecarStreams } from "./sidecar-streams.js";
import { SourceRound } from "./source-round.js";

/** The parts of one control plane. */
export interface ServiceParts {
  config: CoreConfig;
  /** Clock, epoch ms. */
  now: () => number;
  /** Seeded random source in [0, 1). */
  random: () => number;
  log: Logger;
  engine: DecisionEngine;
  emitter: TypedEmitter<ControlPlaneEvents>;
  audit: StateStore | undefined;
  state: RunState;
  queue: SerialQueue;
  /** Who sends the traffic: merged sketches, jump flags, source limits (core/sources/). */
  sources: SourceMonitor;
  published: PublishedSet;
  /** Incidents (halts, triggers firing) and the confirmation of halts (incident-tracker.ts). */
  incidents: IncidentTracker;
  round: DecisionRound;
  rounds: RealTimeRounds;
  streams: SidecarStreams;
  controls: OperatorControls;
  replica: ReplicaRole;
}

export function assembleService(options: ControlPlaneOptions): ServiceParts {
  const config = resolveConfig(options.config);
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const log = options.logger ?? createLogger("control-plane");
  const audit = options.audit;
  const state = new RunState(options.follower !== true);
  const emitter = new TypedEmitter<ControlPlaneEvents>();
  const queue = new SerialQueue();
  const workersChanged = options.onWorkersChanged ?? (() => undefined);
  // Appends to the audit log (if any); resolves when durable. Callers that do not wait may drop
  // the promise: AuditLog marks it handled and logs failures.
  const record = (r: AuditRecord): Promise<void> => audit?.append(r) ?? Promise.resolve();

  const engine = new DecisionEngine(options.clusters, options.slo, config, options.triggers ?? []);
  const sources = new SourceMonitor(config.sources, config.aggregation.lateGraceMs);
  const restored = audit?.restored;
  if (restored !== undefined) {
    engine.restore(restored, now());
    sources.restore(restored.sourceLimits ?? [], now());
    engine.setSourceLimits(sources.round(now()).decisions);
    log.info({ version: restored.decisions?.version }, "restored state from the audit log");
  }
  const clusters = engine.clusters.map((c) => c.name);
  const confirmWaitMs = options.haltConfirmWaitMs ?? DEFAULT_CONFIRM_WAIT_MS;

  // Parts that call one another are wired through closures; none calls another while it is built.
  const published = new PublishedSet(engine.initialDecisions(now()), now(), {
    record,
    pushToStreams: (bytes, version) => streams.pushToAll(bytes, version),
    incidentsPublished: (set, previous) => incidents.published(set, previous),
    workersChanged,
    emitDecisions: (set) => emitter.emit("decisions", set),
  });
  const incidents: IncidentTracker = new IncidentTracker(
    {
      now,
      // This replica's sidecar workers (not a follower's forwarding stream), and the other replicas'.
      workers: (): TrackedWorker[] => [...streams.trackedWorkers(), ...replica.trackedRemoteWorkers()],
      record: (r) => void record(r),
      logger: log,
      clusters,
      confirmWaitMs,
    },
    restored?.incidents ?? [],
    // A follower mirrors the leader's incidents; the leader opens, confirms and ends them.
    !state.leading,
  );
  const round = new DecisionRound({
    now, state, engine, published, incidents, audit, record, emitter, log,
    sources: new SourceRound({ sources, engine, record, emitter, log }),
    resendIfLagging: (atMs) => streams.resendIfLagging(atMs),
    modelScorer: options.modelScorer,
  });
  const rounds = new RealTimeRounds({
    decide: () => queue.run(() => round.run()),
    hasCompleteWindow: (atMs) => engine.hasCompleteWindow(atMs),
    intervalMs: config.decision.decideIntervalMs,
    log,
  });
  const reports: SidecarReports = new SidecarReports({
    now, state, queue, engine, sources, published, incidents, rounds, emitter, log,
    followerTelemetry: options.followerTelemetry,
    onSidecarAhead: options.onSidecarAhead,
  });
  const streams: SidecarStreams = new SidecarStreams({
    now, state, engine, published, reports, incidents, record, emitter, log, clusters, confirmWaitMs, workersChanged,
    config: config.decision,
    followerTelemetry: options.followerTelemetry,
    sidecarToken: options.sidecarToken,
    goneSidecarLimits: options.goneSidecarLimits,
  });
  const writes = new AcknowledgedWrites({ state, queue, record, published, runRound: () => round.run() });
  const controls = new OperatorControls({
    now, state, engine, sources, writes, incidents, published, audit, emitter, log,
    decisionHistory: options.decisionHistory,
  });
  const replica = new ReplicaRole({
    now, state, queue, engine, sources, published, round, incidents, emitter, log, workersChanged,
    sidecarSessions: () => streams.sidecarSessions(),
  });

  // The set in force at construction: the incidents learn of it (a restored halt is watched
  // again), and the audit log records it unless it holds it already.
  incidents.published(published.current, undefined);
  if (restored?.decisions === undefined || restored.decisions.version !== published.current.version) published.recordCurrent(now());
  return { config, now, random, log, engine, emitter, audit, state, queue, sources, published, incidents, round, rounds, streams, controls, replica };
}
