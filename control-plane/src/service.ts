// The control plane as one object: the public facade other parts build on (gRPC server, admin
// API, metrics, xDS, the scenario runner, the model).
//
//   const cp = new ControlPlane({ clusters, slo, now, random, config, audit, modelScorer, logger });
//   cp.start();                       // real-time mode: decision rounds on a timer (optional)
//   await cp.decide();                // one decision round (the scenario runner calls it on virtual time)
//   cp.openInProcessStream(md, sink)  // a sidecar stream without sockets (grpc/server.ts uses openSession)
//   cp.on("decisions", (set) => ...)  // typed events: decisions, transition, nack, report, override,
//                                     // halt, sidecar, round, trigger, rollback, windows
//
// Decision rounds are serialised: decide(), setOverride(), halt(), resume() and rollback() never
// run a round concurrently. Times are epoch milliseconds from the injected now().
//
// One of several replicas (replicas/replica.ts, `follower: true`): a follower runs no rounds; it
// serves its sidecars the sets the leader publishes (adopt()), applies control changes other
// replicas committed (applyShared()), and its own operator calls answer once the shared store
// committed them. lead() makes it the leader of a new term, stepDown() a follower again.
//
// This file builds the parts (service/) and wires them; each method hands over to one of them:
//   service/published-set.ts       the decision set in force and publishing a new one
//   service/decision-round.ts      one decision round (with service/source-round.ts)
//   service/real-time-rounds.ts    rounds on a timer, and early when every reporter reported
//   service/sidecar-streams.ts     sidecar sessions: open, in-process, connected and gone workers
//   service/sidecar-reports.ts     a session's reports, and a version ahead followed
//   service/operator-controls.ts   overrides, halt, trigger clears, source limits, rollbacks
//   service/acknowledged-writes.ts an operator's change, write-ahead
//   service/replica-role.ts        lead, stepDown, adopt, applyShared (service/shared-records.ts), mirrors
//   service/assemble.ts            builds the parts and wires them
//   service/serial-queue.ts, service/run-state.ts, service/options.ts
import type { CoreConfig } from "./core/config.js";
import type { DecisionEngine } from "./core/decision-engine.js";
import type { GoneSidecar } from "./core/gone-sidecars.js";
import type { PublishedWorker, RemoteWorker } from "./core/halt/index.js";
import type { Incident } from "./core/incidents/index.js";
import type { RollbackRequest } from "./core/rollback.js";
import type { SourceLimitEntry, SourceMonitor, SourcesView } from "./core/sources/index.js";
import type { SharedTriggerStates, TriggerEvent, TriggerStatus } from "./core/triggers/index.js";
import type { Listener, TypedEmitter } from "./core/typed-emitter.js";
import type {
  ClusterSpec,
  ClusterStatus,
  ControlPlaneEvents,
  DecisionSet,
  HaltMode,
  Override,
  PersistedState,
  Rollback,
  Scorer,
  SidecarStatus,
  Slo,
} from "./core/types.js";
import type { SessionInfo, SessionSink, SidecarSession } from "./grpc/sidecar-session.js";
import { GRPC_STATUS } from "./grpc/status.js";
import type { HaltStatus, IncidentTracker } from "./incident-tracker.js";
import type { StateStore } from "./state/state-store.js";
import { assembleService } from "./service/assemble.js";
import type { DecisionRound } from "./service/decision-round.js";
import type { OperatorControls } from "./service/operator-controls.js";
import type { ControlPlaneOptions, InProcessSidecarSink, InProcessStream, SharedControlRecord } from "./service/options.js";
import type { PublishedSet } from "./service/published-set.js";
import type { RealTimeRounds } from "./service/real-time-rounds.js";
import type { ReplicaRole } from "./service/replica-role.js";
import type { RunState } from "./service/run-state.js";
import type { SerialQueue } from "./service/serial-queue.js";
import type { SidecarStreams } from "./service/sidecar-streams.js";

export { DEFAULT_CONFIRM_WAIT_MS, type ControlPlaneOptions, type FollowerTelemetry, type InProcessSidecarSink, type InProcessStream, type SharedControlRecord } from "./service/options.js";

export class ControlPlane {
  readonly clusters: readonly ClusterSpec[];
  readonly slo: Slo;
  readonly config: CoreConfig;
  readonly now: () => number;
  readonly random: () => number;
  private readonly engine: DecisionEngine;
  private readonly emitter: TypedEmitter<ControlPlaneEvents>;
  private readonly audit: StateStore | undefined;
  private readonly state: RunState;
  private readonly queue: SerialQueue;
  private readonly sources: SourceMonitor;
  private readonly published: PublishedSet;
  private readonly incidents: IncidentTracker;
  private readonly round: DecisionRound;
  private readonly rounds: RealTimeRounds;
  private readonly streams: SidecarStreams;
  private readonly controls: OperatorControls;
  private readonly replica: ReplicaRole;

  constructor(options: ControlPlaneOptions) {
    const parts = assembleService(options);
    this.config = parts.config;
    this.now = parts.now;
    this.random = parts.random;
    this.engine = parts.engine;
    this.clusters = parts.engine.clusters;
    this.slo = parts.engine.slo;
    this.emitter = parts.emitter;
    this.audit = parts.audit;
    this.state = parts.state;
    this.queue = parts.queue;
    this.sources = parts.sources;
    this.published = parts.published;
    this.incidents = parts.incidents;
    this.round = parts.round;
    this.rounds = parts.rounds;
    this.streams = parts.streams;
    this.controls = parts.controls;
    this.replica = parts.replica;
  }

  // ------------------------------------------------------------------ lifecycle

  /** Real-time mode: runs decision rounds every decision.decideIntervalMs (and early, when every
   *  live reporter has reported a window). Not needed on virtual time: call decide() instead. */
  start(): void {
    if (this.state.stopped) return;
    this.rounds.start();
  }

  /** Stops the timer, closes every sidecar stream (UNAVAILABLE) and flushes the audit log. */
  async stop(): Promise<void> {
    if (this.state.stopped) return;
    this.state.stopped = true;
    this.rounds.stop();
    this.streams.closeAll(GRPC_STATUS.UNAVAILABLE, "control plane stopping");
    await this.queue.settled();
    await this.audit?.flush();
  }

  // ------------------------------------------------------------------ decisions

  /**
   * One decision round: closes due windows, scores them, steps every breaker, computes weights.
   * Resolves to the new decision set when its content changed (the next version, pushed to every
   * stream, 'decisions' emitted), undefined when it did not.
   */
  decide(): Promise<DecisionSet | undefined> {
    return this.queue.run(() => this.round.run());
  }

  /** The decision set in force (version 1 with base weights before any round, or the restored one). */
  currentDecisions(): DecisionSet {
    return this.published.current;
  }

  /** Serialised ControlMessage bytes of the current decision set (what streams receive). */
  currentDecisionBytes(): Uint8Array {
    return this.published.bytes;
  }

  clusterStatuses(): ClusterStatus[] {
    return this.engine.clusterStatuses(this.published.current, this.now());
  }

  /** Every connected worker, with whether it confirmed the version in force within
   *  halt.confirm_wait_s (core/halt/version-confirmation.ts). */
  sidecarStatuses(): SidecarStatus[] {
    return this.streams.statuses();
  }

  /** Sidecar workers that were connected and are gone (they run on their fallback), the most
   *  recent departure first; bounded in number and age (core/gone-sidecars.ts). */
  goneSidecars(): GoneSidecar[] {
    return this.streams.goneSidecars();
  }

  /** Plugs in (or removes) the anomaly model; takes effect at the next round. */
  setModelScorer(scorer: Scorer | undefined): void {
    this.round.setModelScorer(scorer);
  }

  // ------------------------------------------------------------------ operator controls
  // (service/operator-controls.ts: what each validates and throws; each resolves once the
  // change's and the resulting set's audit records are durable, service/acknowledged-writes.ts)

  /** Active overrides (expired ones are dropped at the next round). */
  overrides(): Override[] {
    return this.engine.operator.list();
  }

  /** Sets (state "open"/"closed") or clears (state "auto") a manual override until untilMs;
   *  runs a round and resolves to the resulting decision set. */
  setOverride(override: Override): Promise<DecisionSet> {
    return this.controls.setOverride(override);
  }

  /** Mesh-wide halt: every sidecar answers 503 to new requests until resume(); "immediate" also
   *  ends the streams in flight on filters that can (capability "halt_immediate"). Opens an
   *  incident (or continues the operator's open one). Resolves to the new set. */
  halt(reason: string, actor: string, mode: HaltMode = "drain"): Promise<DecisionSet> {
    return this.controls.halt(reason, actor, mode);
  }

  /** Ends the halt; the operator's open halt incident ends with it. */
  resume(reason: string, actor: string): Promise<DecisionSet> {
    return this.controls.resume(reason, actor);
  }

  /** The halt in force and which connected workers confirmed enforcing it (GET /v1/halt);
   *  `waitMs`: how long workers are given (default halt.confirm_wait_s). */
  haltStatus(waitMs?: number): HaltStatus {
    return this.incidents.haltStatus(waitMs);
  }

  /** Resolves when every connected worker (with replicas: of every replica) confirmed the halt in
   *  force, or after waitMs (real time) with those that have not listed as unconfirmed. A
   *  follower, whose halt the leader publishes, first waits (within waitMs) for the halting set. */
  awaitHaltConfirmation(waitMs: number): Promise<HaltStatus> {
    return this.incidents.awaitHalt(waitMs, !this.state.leading);
  }

  /** The incidents kept, the most recent first (GET /v1/incidents). */
  incidentList(): Incident[] {
    return this.incidents.list();
  }

  incident(id: string): Incident | undefined {
    return this.incidents.get(id);
  }

  /** Every trigger rule with its state and the values that fired it (GET /v1/triggers). */
  triggerStatuses(): TriggerStatus[] {
    return this.engine.triggers.statuses();
  }

  /** A human clears a fired trigger (any clear mode): its action ends with the decision set this
   *  resolves to. */
  clearTrigger(name: string, reason: string, actor: string): Promise<{ event: TriggerEvent; decisions: DecisionSet }> {
    return this.controls.clearTrigger(name, reason, actor);
  }

  /** The top `limit` sources over the closed windows of the last spanMs (GET /v1/sources). */
  sourcesView(spanMs: number, limit: number): SourcesView & { flagged: string[] } {
    return { ...this.sources.view(this.now(), spanMs, limit), flagged: this.sources.flagged() };
  }

  /** The source limits in force, in source order (GET /v1/sources/limits). */
  sourceLimits(): SourceLimitEntry[] {
    return this.sources.limitsInForce();
  }

  /** Sets (or replaces) the limit on a source: deny, or a cap on its rate over the mesh, until
   *  untilMs; resolves to the decision set carrying it. */
  setSourceLimit(limit: SourceLimitEntry): Promise<DecisionSet> {
    return this.controls.setSourceLimit(limit);
  }

  /** Removes the limit on `source` (CP_ERR_SOURCE_LIMIT_UNKNOWN when none). */
  removeSourceLimit(source: string, actor: string, reason: string): Promise<{ limit: SourceLimitEntry; decisions: DecisionSet }> {
    return this.controls.removeSourceLimit(source, actor, reason);
  }

  /** The rollback pinned, if any (GET /v1/decisions/rollback). */
  rollbackInForce(): Rollback | undefined {
    return this.engine.operator.rollback();
  }

  /** Republishes the decision set of an earlier version (found in the audit log) as a new version
   *  and pins it until released or untilMs. */
  rollback(request: RollbackRequest): Promise<{ rollback: Rollback; decisions: DecisionSet }> {
    return this.controls.rollback(request);
  }

  /** Ends the rollback in force: the policy decides again from the round this runs. */
  releaseRollback(reason: string, actor: string): Promise<{ rollback: Rollback; decisions: DecisionSet }> {
    return this.controls.releaseRollback(reason, actor);
  }

  // ------------------------------------------------------------------ replicas (service/replica-role.ts)

  /** Whether this control plane runs rounds and issues versions (a follower does not). */
  get isLeading(): boolean {
    return this.state.leading;
  }

  /** The generation this control plane issues (or, following, would issue) versions in. */
  generation(): number {
    return this.replica.generation();
  }

  /** Becomes the leader of a new term in `generation`, from `shared`, holding the breakers for
   *  `holdWindows` windows; then a round runs. Resolves to the set in force. */
  lead(generation: number, shared: PersistedState, holdWindows: number): Promise<DecisionSet> {
    return this.replica.lead(generation, shared, holdWindows);
  }

  /** Stops leading (the lease was lost or the shared store refused a fenced write). */
  stepDown(reason: string): Promise<void> {
    return this.replica.stepDown(reason);
  }

  /** A follower takes a set the leader published; resolves to whether it was taken. */
  adopt(decisions: DecisionSet): Promise<boolean> {
    return this.replica.adopt(decisions);
  }

  /** A control change another replica committed to the shared store, applied as this replica's
   *  own would be (one that does not apply here is logged and skipped). */
  applyShared(record: SharedControlRecord): Promise<void> {
    return this.replica.applyShared(record);
  }

  /** A follower mirrors the leader's trigger states (GET /v1/triggers, a clear by hand here). */
  mirrorTriggers(states: SharedTriggerStates): Promise<void> {
    return this.replica.mirrorTriggers(states);
  }

  /** A follower mirrors an incident as the leader wrote it (GET /v1/incidents). */
  mirrorIncident(incident: Incident): void {
    this.replica.mirrorIncident(incident);
  }

  /** This replica's sidecar workers with their arrivals at the versions it watches: what the
   *  other replicas count in their confirmations. */
  publishedWorkers(): PublishedWorker[] {
    return this.replica.publishedWorkers();
  }

  /** The other replicas' sidecar workers as this replica last heard of them. */
  remoteWorkers(): RemoteWorker[] {
    return this.replica.remoteWorkers();
  }

  /** The other replicas' sidecar workers as they now are (replicas/sidecar-presence.ts). */
  setRemoteWorkers(workers: readonly RemoteWorker[]): void {
    this.replica.setRemoteWorkers(workers);
  }

  /** The leader continues in `generation` when it is above its own: the set in force is
   *  re-issued and pushed there. */
  advanceGeneration(generation: number): Promise<DecisionSet | undefined> {
    return this.replica.advanceGeneration(generation);
  }

  // ------------------------------------------------------------------ events

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof ControlPlaneEvents>(event: K, listener: Listener<ControlPlaneEvents[K]>): () => void {
    return this.emitter.on(event, listener);
  }

  off<K extends keyof ControlPlaneEvents>(event: K, listener: Listener<ControlPlaneEvents[K]>): void {
    this.emitter.off(event, listener);
  }

  // ------------------------------------------------------------------ sidecar streams (service/sidecar-streams.ts)

  /**
   * Opens a transport-neutral sidecar session (the gRPC server calls this per Connect call).
   * The sink sends bytes to the sidecar and closes the stream; the returned session takes the
   * bytes the sidecar sent. Auth is checked here: a missing/wrong token closes the session with
   * UNAUTHENTICATED at once.
   */
  openSession(info: SessionInfo, sink: SessionSink): SidecarSession {
    return this.streams.open(info, sink);
  }

  /** In-process acceptor (no sockets), for the proxy-wasm host in tests and the scenario runner. */
  openInProcessStream(metadata: Record<string, string>, toSidecar: InProcessSidecarSink): InProcessStream {
    return this.streams.openInProcess(metadata, toSidecar);
  }
}
