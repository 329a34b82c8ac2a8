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
import { create, toBinary } from "@bufbuild/protobuf";
import type { Logger } from "../../lib/log.js";
import { createLogger } from "../../lib/log.js";
import { ControlMessageSchema } from "../../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { bearerMatches, secretDigest } from "./auth/bearer.js";
import type { AuditRecord } from "./audit/records.js";
import { resolveConfig, type CoreConfig, type PartialCoreConfig } from "./core/config.js";
import { DecisionEngine } from "./core/decision-engine.js";
import { ControlPlaneError } from "./core/errors.js";
import { isReplicaStream, remoteReachedAt, versionConfirmation, type PublishedWorker, type RemoteWorker } from "./core/halt/index.js";
import { rollbackOf, rollbackTarget, validateRollbackRequest, type RollbackLookup, type RollbackRequest } from "./core/rollback.js";
import { GoneSidecars, type GoneSidecar, type GoneSidecarLimits } from "./core/gone-sidecars.js";
import { TypedEmitter, type Listener } from "./core/typed-emitter.js";
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
  WorkerReport,
} from "./core/types.js";
import { decisionSetToProto } from "./grpc/convert.js";
import { sameTriggerStates, type SharedTriggerStates, type TriggerEvent, type TriggerRule, type TriggerStatus } from "./core/triggers/index.js";
import { SidecarSession, type SessionSink, type SessionInfo } from "./grpc/sidecar-session.js";
import { GRPC_STATUS } from "./grpc/status.js";
import type { Incident } from "./core/incidents/index.js";
import { IncidentTracker, type HaltStatus } from "./incident-tracker.js";
import type { StateStore } from "./state/state-store.js";
import { ASSESSMENT_EVERY_MS } from "./core/assessment.js";
import { SourceMonitor, triggerSourceLimit, type SourceLimitEntry, type SourcesView } from "./core/sources/index.js";

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
  followerTelemetry?: { report(reporter: string, report: WorkerReport): void; forget(reporter: string): void };
  /** Replicas: this replica's sidecar workers changed (one connected or left, reached a version,
   *  or the versions watched changed): publishedWorkers() is worth publishing again. */
  onWorkersChanged?: () => void;
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

export class ControlPlane {
  readonly clusters: readonly ClusterSpec[];
  readonly slo: Slo;
  readonly config: CoreConfig;
  readonly now: () => number;
  readonly random: () => number;
  private readonly log: Logger;
  private readonly engine: DecisionEngine;
  private readonly emitter = new TypedEmitter<ControlPlaneEvents>();
  private readonly sessions = new Map<string, SidecarSession>();
  /** Workers whose stream ended and that have not come back (bounded; core/gone-sidecars.ts). */
  private readonly gone: GoneSidecars;
  /** Incidents (halts, triggers firing) and the confirmation of halts (incident-tracker.ts). */
  private readonly incidents: IncidentTracker;
  private readonly audit: StateStore | undefined;
  private readonly onSidecarAhead: ((held: number) => void) | undefined;
  private readonly decisionHistory: ControlPlaneOptions["decisionHistory"];
  private readonly followerTelemetry: ControlPlaneOptions["followerTelemetry"];
  private readonly onWorkersChanged: () => void;
  /** Replicas: the sidecar workers of the other replicas, by their mesh-unique stream id. */
  private remote = new Map<string, RemoteWorker>();
  /** Runs rounds and issues versions (always, unless one of several replicas that follows). */
  private leading: boolean;
  private readonly sidecarToken: string | undefined;
  private modelScorer: Scorer | undefined;
  private current: DecisionSet;
  private currentBytes: Uint8Array;
  /** When the set in force was published (this lifetime's first: when constructed), epoch ms. */
  private currentPublishedAtMs: number;
  /** How long workers are given to confirm a version, ms (halt.confirm_wait_s). */
  private readonly confirmWaitMs: number;
  private chain: Promise<unknown> = Promise.resolve();
  /** Durability of the audit record of the current decision set (an acknowledged call waits
   *  for it, so a restore never yields a lower version than a caller saw). */
  private currentRecorded: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private earlyRoundPending = false;
  private nextStreamId = 1;
  private stopped = false;
  /** When the leader last saved its assessment (replicas), epoch ms. */
  private assessmentSavedAtMs = Number.NEGATIVE_INFINITY;
  /** The trigger states the leader last saved (replicas): only changes are written. */
  private savedTriggers: SharedTriggerStates | undefined;
  /** Who sends the traffic: merged sketches, jump flags, source limits (core/sources/). */
  private readonly sources: SourceMonitor;

  constructor(options: ControlPlaneOptions) {
    this.config = resolveConfig(options.config);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.log = options.logger ?? createLogger("control-plane");
    this.audit = options.audit;
    this.sidecarToken = options.sidecarToken;
    this.modelScorer = options.modelScorer;
    this.gone = new GoneSidecars(options.goneSidecarLimits);
    this.leading = options.follower !== true;
    this.onSidecarAhead = options.onSidecarAhead;
    this.decisionHistory = options.decisionHistory;
    this.followerTelemetry = options.followerTelemetry;
    this.onWorkersChanged = options.onWorkersChanged ?? (() => undefined);
    this.engine = new DecisionEngine(options.clusters, options.slo, this.config, options.triggers ?? []);
    this.clusters = this.engine.clusters;
    this.slo = this.engine.slo;
    this.sources = new SourceMonitor(this.config.sources, this.config.aggregation.lateGraceMs);
    const restored = this.audit?.restored;
    if (restored !== undefined) {
      this.engine.restore(restored, this.now());
      this.sources.restore(restored.sourceLimits ?? [], this.now());
      this.engine.setSourceLimits(this.sources.round(this.now()).decisions);
      this.log.info({ version: restored.decisions?.version }, "restored state from the audit log");
    }
    this.current = this.engine.initialDecisions(this.now());
    this.currentBytes = encodeDecisions(this.current);
    this.currentPublishedAtMs = this.now();
    this.confirmWaitMs = options.haltConfirmWaitMs ?? DEFAULT_CONFIRM_WAIT_MS;
    this.incidents = new IncidentTracker(
      {
        now: this.now,
        // This replica's sidecar workers (not a follower's forwarding stream), and the other replicas'.
        workers: () => [
          ...this.sidecarSessions().map((s) => ({
            streamId: s.streamId, nodeId: s.status!.nodeId, workerId: s.status!.workerId, capabilities: s.status!.capabilities ?? [], reachedAt: (v: number) => s.reachedAt(v),
          })),
          ...[...this.remote.values()].map((w) => ({ ...w, reachedAt: (v: number) => remoteReachedAt(w.reached, v) })),
        ],
        record: (record) => void this.record(record),
        logger: this.log,
        clusters: this.clusters.map((c) => c.name),
        confirmWaitMs: this.confirmWaitMs,
      },
      restored?.incidents ?? [],
      // A follower mirrors the leader's incidents; the leader opens, confirms and ends them.
      !this.leading,
    );
    this.incidents.published(this.current, undefined);
    if (restored?.decisions === undefined || restored.decisions.version !== this.current.version) {
      this.currentRecorded = this.record({ kind: "decisions", atMs: this.now(), decisions: this.current });
    }
  }

  // ------------------------------------------------------------------ lifecycle

  /** Real-time mode: runs decision rounds every decision.decideIntervalMs (and early, when every
   *  live reporter has reported a window). Not needed on virtual time: call decide() instead. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setInterval(() => void this.decide().catch((err: unknown) => this.log.error({ err }, "decision round failed")), this.config.decision.decideIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer, closes every sidecar stream (UNAVAILABLE) and flushes the audit log. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const session of [...this.sessions.values()]) session.close(GRPC_STATUS.UNAVAILABLE, "control plane stopping");
    await this.chain.catch(() => undefined);
    await this.audit?.flush();
  }

  // ------------------------------------------------------------------ decisions

  /**
   * One decision round: closes due windows, scores them, steps every breaker, computes weights.
   * Resolves to the new decision set when its content changed (the next version, pushed to every
   * stream, 'decisions' emitted), undefined when it did not.
   */
  decide(): Promise<DecisionSet | undefined> {
    return this.serialised(() => this.runRound());
  }

  /** The decision set in force (version 1 with base weights before any round, or the restored one). */
  currentDecisions(): DecisionSet {
    return this.current;
  }

  /** Serialised ControlMessage bytes of the current decision set (what streams receive). */
  currentDecisionBytes(): Uint8Array {
    return this.currentBytes;
  }

  clusterStatuses(): ClusterStatus[] {
    return this.engine.clusterStatuses(this.current, this.now());
  }

  /** Every connected worker, with whether it confirmed the version in force within
   *  halt.confirm_wait_s (core/halt/version-confirmation.ts). */
  sidecarStatuses(): SidecarStatus[] {
    const version = this.current.version;
    const nowMs = this.now();
    return [...this.sessions.values()].flatMap((s) => {
      if (s.status === undefined) return [];
      const view = s.statusView(version);
      const confirmation = versionConfirmation({
        version,
        publishedAtMs: this.currentPublishedAtMs,
        connectedAtMs: view.connectedAtMs,
        reachedAtMs: s.reachedAt(version),
        waitMs: this.confirmWaitMs,
        nowMs,
      });
      return [{ ...view, confirmation }];
    });
  }

  /** Sidecar workers that were connected and are gone (they run on their fallback), the most
   *  recent departure first; bounded in number and age (core/gone-sidecars.ts). */
  goneSidecars(): GoneSidecar[] {
    return this.gone.list(this.now());
  }

  /** Active overrides (expired ones are dropped at the next round). */
  overrides(): Override[] {
    return this.engine.overrides();
  }

  /**
   * Sets (state "open"/"closed") or clears (state "auto") a manual override; it wins over the
   * detectors until untilMs. Throws ControlPlaneError CP_ERR_OVERRIDE on an unknown cluster or a
   * bad field. Runs a decision round and resolves to the resulting decision set once the
   * override's and that set's audit records are durable; rejects with CP_ERR_AUDIT when they
   * cannot be written (see acknowledged()).
   */
  async setOverride(override: Override): Promise<DecisionSet> {
    const atMs = this.now();
    this.engine.validateOverride(override, atMs);
    return this.acknowledged({ kind: "override", atMs, override }, () => {
      this.engine.setOverride(override, atMs);
      this.emitter.emit("override", { override, atMs });
    });
  }

  /** Mesh-wide halt: every sidecar answers 503 to new requests until resume(); "immediate" also
   *  ends the streams in flight on filters that can (capability "halt_immediate"). Opens an
   *  incident (or continues the operator's open one). Resolves to the new set. */
  async halt(reason: string, actor: string, mode: HaltMode = "drain"): Promise<DecisionSet> {
    if (mode !== "drain" && mode !== "immediate") throw new ControlPlaneError("CP_ERR_HALT", `halt: mode must be "drain" or "immediate", got ${JSON.stringify(mode)}`);
    const set = await this.setHalt(true, reason, actor, mode);
    // A follower's halt is committed to the shared store; the leader opens the incident (applyShared).
    if (this.leading) this.incidents.operatorHalted(actor, reason, mode, set);
    return set;
  }

  /** Ends the halt; the operator's open halt incident ends with it. */
  async resume(reason: string, actor: string): Promise<DecisionSet> {
    const set = await this.setHalt(false, reason, actor);
    if (this.leading) this.incidents.operatorResumed(actor, reason);
    return set;
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
    return this.incidents.awaitHalt(waitMs, !this.leading);
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
    return this.engine.triggerStatuses();
  }

  /**
   * A human clears a fired trigger (any clear mode): its action ends with the decision set this
   * resolves to, once the clear's audit record and that set's are durable (as setOverride).
   * Throws ControlPlaneError CP_ERR_TRIGGER for an unknown trigger, one not fired, or an empty
   * reason or actor.
   */
  async clearTrigger(name: string, reason: string, actor: string): Promise<{ event: TriggerEvent; decisions: DecisionSet }> {
    if (typeof reason !== "string" || reason.trim() === "" || typeof actor !== "string" || actor.trim() === "") {
      throw new ControlPlaneError("CP_ERR_TRIGGER", "clear: reason and actor must be non-empty strings");
    }
    const atMs = this.now();
    const status = this.engine.triggerStatuses().find((t) => t.rule.name === name);
    if (status === undefined) {
      throw new ControlPlaneError("CP_ERR_TRIGGER", `trigger "${name}" is not configured; configured: ${this.engine.triggerStatuses().map((t) => t.rule.name).join(", ") || "none"}`);
    }
    if (status.state.kind !== "fired") throw new ControlPlaneError("CP_ERR_TRIGGER", `trigger "${name}" has not fired (it is ${status.state.kind})`);
    const event: TriggerEvent = { kind: "cleared", trigger: name, action: status.rule.action, atMs, values: status.state.fired, clearedBy: actor, clearReason: reason };
    const inForce = this.engine.firedTriggers().filter((f) => f.name !== name);
    const decisions = await this.acknowledged({ kind: "trigger", atMs, event, inForce }, () => {
      this.engine.clearTrigger(name, actor, atMs);
      this.log.warn({ trigger: name, actor, reason }, "trigger cleared by hand");
      // A follower's clear is alerted by the leader when it applies it (applyShared).
      if (this.leading) this.emitter.emit("trigger", event);
    });
    // A follower's clear is committed to the shared store; the leader ends the incident (applyShared).
    if (this.leading) this.incidents.trigger(event, decisions.version);
    return { event, decisions };
  }

  // ------------------------------------------------------------------ who sends the traffic

  /** The top `limit` sources over the closed windows of the last spanMs (GET /v1/sources). */
  sourcesView(spanMs: number, limit: number): SourcesView & { flagged: string[] } {
    return { ...this.sources.view(this.now(), spanMs, limit), flagged: this.sources.flagged() };
  }

  /** The source limits in force, in source order (GET /v1/sources/limits). */
  sourceLimits(): SourceLimitEntry[] {
    return this.sources.limitsInForce();
  }

  /**
   * Sets (or replaces) the limit on a source: deny, or a cap on its rate over the mesh, until
   * untilMs. Throws ControlPlaneError CP_ERR_SOURCE_LIMIT naming a bad field. Audited (kind
   * source_limit, cause set); resolves to the decision set carrying it once both are durable.
   */
  async setSourceLimit(limit: SourceLimitEntry): Promise<DecisionSet> {
    this.sources.validate(limit, this.now());
    return this.acknowledged({ kind: "source_limit", atMs: limit.atMs, limit, cause: "set" }, () => {
      this.sources.setLimit(limit);
      this.emitter.emit("source_limit", { cause: "set", limit, atMs: limit.atMs });
    });
  }

  /** Removes the limit on `source` (throws CP_ERR_SOURCE_LIMIT_UNKNOWN when none); audited. */
  async removeSourceLimit(source: string, actor: string, reason: string): Promise<{ limit: SourceLimitEntry; decisions: DecisionSet }> {
    const limit = this.sources.limitOf(source);
    if (reason.trim() === "" || actor.trim() === "") throw new ControlPlaneError("CP_ERR_SOURCE_LIMIT", "source_limit: removing a limit needs a reason and an actor");
    const atMs = this.now();
    const decisions = await this.acknowledged({ kind: "source_limit", atMs, limit, cause: "removed", actor, reason }, () => {
      this.sources.removeLimit(source);
      this.emitter.emit("source_limit", { cause: "removed", limit, atMs, actor, reason });
    });
    return { limit, decisions };
  }

  /** The rollback pinned, if any (GET /v1/decisions/rollback). */
  rollbackInForce(): Rollback | undefined {
    return this.engine.rollback();
  }

  /**
   * Republishes the decision set of an earlier version (found in the audit log) as a new version
   * and pins it until released or untilMs (core/rollback.ts: the halt, overrides and triggers in
   * force still apply on top). Resolves once the rollback's audit record and the resulting set's
   * are durable (as setOverride). Throws ControlPlaneError: CP_ERR_ROLLBACK (a bad field),
   * CP_ERR_VERSION_UNKNOWN, CP_ERR_VERSION_NOT_RETAINED, CP_ERR_ROLLBACK_CONFLICT (the version in
   * force, or one deciding for other clusters), CP_ERR_ROLLBACK_UNAVAILABLE (no decision history
   * to search: no audit log, no shared store), CP_ERR_AUDIT. On a follower replica the pin is
   * committed to the shared store and the leader publishes it; `decisions` is then the set in
   * force when the commit was answered.
   */
  async rollback(request: RollbackRequest): Promise<{ rollback: Rollback; decisions: DecisionSet }> {
    validateRollbackRequest(request, this.now());
    if (this.decisionHistory === undefined) {
      throw new ControlPlaneError("CP_ERR_ROLLBACK_UNAVAILABLE", "a rollback reads earlier decision sets from the audit log, and none is configured (audit.dir)");
    }
    const current = this.current;
    // The set in force and versions above it need no search; others are looked up once every
    // set published so far is in the files.
    let lookup: RollbackLookup = { kind: "missing" };
    if (request.version < current.version) {
      await this.audit?.flush();
      lookup = await this.decisionHistory(request.version);
    }
    const target = rollbackTarget(request.version, current, lookup);
    const atMs = this.now();
    validateRollbackRequest(request, atMs); // its expiry may have passed during the search
    const pin = rollbackOf(target, request, atMs);
    this.engine.validateRollback(pin);
    const decisions = await this.acknowledged({ kind: "rollback", atMs, rollback: pin }, () => {
      this.engine.setRollback(pin);
      this.log.warn({ from_version: pin.fromVersion, until_ms: pin.untilMs, actor: pin.actor, reason: pin.reason }, "decisions rolled back to an earlier version and pinned");
      this.emitter.emit("rollback", { kind: "set", rollback: pin, atMs });
    });
    return { rollback: pin, decisions };
  }

  /** Ends the rollback in force: the policy decides again from the round this runs. Throws
   *  CP_ERR_ROLLBACK (no reason or actor) or CP_ERR_ROLLBACK_CONFLICT (none in force). */
  async releaseRollback(reason: string, actor: string): Promise<{ rollback: Rollback; decisions: DecisionSet }> {
    if (typeof reason !== "string" || reason.trim() === "" || typeof actor !== "string" || actor.trim() === "") {
      throw new ControlPlaneError("CP_ERR_ROLLBACK", "rollback release: reason and actor must be non-empty strings");
    }
    const pin = this.engine.rollback();
    if (pin === undefined) throw new ControlPlaneError("CP_ERR_ROLLBACK_CONFLICT", "no rollback is in force");
    const atMs = this.now();
    const decisions = await this.acknowledged({ kind: "rollback_end", atMs, rollback: pin, cause: "released", actor, reason }, () => {
      this.engine.releaseRollback();
      this.log.warn({ from_version: pin.fromVersion, actor, reason }, "rollback released: the policy decides again");
      this.emitter.emit("rollback", { kind: "released", rollback: pin, atMs, actor, reason });
    });
    return { rollback: pin, decisions };
  }

  /** Plugs in (or removes) the anomaly model; takes effect at the next round. */
  setModelScorer(scorer: Scorer | undefined): void {
    this.modelScorer = scorer;
  }

  // ------------------------------------------------------------------ replicas

  /** Whether this control plane runs rounds and issues versions (a follower does not). */
  get isLeading(): boolean {
    return this.leading;
  }

  /** The generation this control plane issues (or, following, would issue) versions in. */
  generation(): number {
    return this.engine.generation(this.now());
  }

  /**
   * Becomes the leader of a new term: versions continue in `generation` (claimed from the shared
   * store above every earlier one), the engine restarts from `shared` (the last published set,
   * or the one this replica serves when that is newer) and holds the breakers for `holdWindows`
   * windows; then a round runs. Resolves to the set in force.
   */
  lead(generation: number, shared: PersistedState, holdWindows: number): Promise<DecisionSet> {
    return this.serialised(async () => {
      const atMs = this.now();
      const decisions = shared.decisions === undefined || shared.decisions.version < this.current.version ? this.current : shared.decisions;
      this.leading = true;
      const inForce = this.engine.beginTerm(generation, { ...shared, decisions }, atMs, holdWindows);
      const { resumed, notResumed } = this.engine.takeover;
      this.log.info(
        { generation, version: inForce.version, hold_windows: holdWindows, resumed_clusters: resumed, ...(notResumed.length === 0 ? {} : { not_resumed: notResumed }) },
        "leading: a new term",
      );
      this.assessmentSavedAtMs = Number.NEGATIVE_INFINITY;
      this.savedTriggers = shared.triggerStates;
      // The source limits as etcd holds them (a change committed just before the last leader
      // died is in); those whose TTL passed are dropped. Each keeps its own until_ms.
      this.sources.restore(shared.sourceLimits ?? [], atMs);
      this.engine.setSourceLimits(this.sources.decisions(atMs));
      // The open incidents continue (the same ids, their confirmation watched again).
      this.incidents.lead(shared.incidents ?? []);
      this.onWorkersChanged();
      // The shared store lacks this set (none was ever published, or this replica served a newer one).
      if (shared.decisions?.version !== inForce.version) this.publish(inForce, atMs);
      await this.runRound();
      return this.current;
    });
  }

  /** Stops leading (the lease was lost or the shared store refused a fenced write). */
  stepDown(reason: string): Promise<void> {
    return this.serialised(async () => {
      if (!this.leading) return;
      this.leading = false;
      this.incidents.follow();
      this.onWorkersChanged();
      this.log.warn({ reason, version: this.current.version }, "following: no longer the leader");
    });
  }

  /** A follower takes a set the leader published: pushed to every stream when newer than the
   *  one it serves. Resolves to whether it was taken. */
  adopt(decisions: DecisionSet): Promise<boolean> {
    return this.serialised(async () => {
      if (this.stopped || this.leading || decisions.version <= this.current.version) return false;
      const atMs = this.now();
      this.engine.mirror(decisions, atMs);
      this.publish(decisions, atMs);
      return true;
    });
  }

  /**
   * A control change another replica committed to the shared store: applied as this replica's own
   * would be (the leader then runs a round, and opens or ends the incident a halt, a resume or a
   * clear by hand makes). A change that does not apply here (an override of an unknown cluster,
   * a pin that does not fit the configured clusters, a clear of a firing no longer in force, the
   * end of another pin) is logged and skipped.
   */
  applyShared(record: SharedControlRecord): Promise<void> {
    return this.serialised(async () => {
      if (this.stopped) return;
      const atMs = this.now();
      let cleared: TriggerEvent | undefined;
      switch (record.kind) {
        case "override":
          try {
            this.engine.setOverride(record.override, atMs);
          } catch (error) {
            this.log.warn({ cluster: record.override.cluster, err: error }, "a shared override does not apply here; skipped");
            return;
          }
          this.emitter.emit("override", { override: record.override, atMs });
          break;
        case "halt":
        case "resume": {
          const halted = record.kind === "halt";
          const mode = record.kind === "halt" ? record.mode : undefined;
          this.engine.setHalt(halted, record.reason, record.actor, atMs, mode);
          this.emitter.emit("halt", { halted, reason: record.reason, actor: record.actor, atMs, ...(mode === undefined ? {} : { mode }) });
          break;
        }
        case "rollback":
          try {
            this.engine.setRollback(record.rollback);
          } catch (error) {
            this.log.warn({ from_version: record.rollback.fromVersion, err: error }, "a shared rollback does not apply here; skipped");
            return;
          }
          this.emitter.emit("rollback", { kind: "set", rollback: record.rollback, atMs });
          break;
        case "rollback_end": {
          const pin = this.engine.rollback();
          if (pin === undefined || pin.atMs !== record.rollback.atMs || pin.fromVersion !== record.rollback.fromVersion) return;
          this.engine.releaseRollback();
          this.emitter.emit(
            "rollback",
            record.cause === "released"
              ? { kind: "released", rollback: pin, atMs, actor: record.actor ?? "", reason: record.reason ?? "" }
              : { kind: "expired", rollback: pin, atMs },
          );
          break;
        }
        case "source_limit": {
          const { limit, cause } = record;
          if (cause === "set") {
            if (limit.untilMs <= atMs) return; // its TTL passed on the way
            this.sources.setLimit(limit);
          } else {
            // Only the limit the record names (a newer one on the source stays).
            if (this.sources.limitsInForce().find((l) => l.source === limit.source)?.atMs !== limit.atMs) return;
            this.sources.removeLimit(limit.source);
          }
          this.engine.setSourceLimits(this.sources.decisions(atMs));
          this.emitter.emit("source_limit", { cause, limit, atMs, ...(record.actor === undefined ? {} : { actor: record.actor }), ...(record.reason === undefined ? {} : { reason: record.reason }) });
          break;
        }
        case "trigger": {
          const e = record.event;
          cleared = this.engine.clearTriggerFiring(e.trigger, e.values, e.clearedBy ?? "", atMs);
          if (cleared === undefined) {
            this.log.info({ trigger: e.trigger }, "a shared clear of a trigger whose firing is no longer in force; skipped");
            return;
          }
          cleared = { ...cleared, ...(e.clearReason === undefined ? {} : { clearReason: e.clearReason }) };
          // Alerted once, by the leader (a follower's copy only mirrors it).
          if (this.leading) this.emitter.emit("trigger", cleared);
          break;
        }
      }
      await this.runRound();
      if (!this.leading) return;
      if (record.kind === "halt") this.incidents.operatorHalted(record.actor, record.reason, record.mode ?? "drain", this.current);
      else if (record.kind === "resume") this.incidents.operatorResumed(record.actor, record.reason);
      else if (cleared !== undefined) this.incidents.trigger(cleared, this.current.version);
    });
  }

  /** A follower mirrors the leader's trigger states (GET /v1/triggers, a clear by hand here). */
  mirrorTriggers(states: SharedTriggerStates): Promise<void> {
    return this.serialised(async () => {
      if (!this.leading && !this.stopped) this.engine.adoptTriggers(states);
    });
  }

  /** A follower mirrors an incident as the leader wrote it (GET /v1/incidents). */
  mirrorIncident(incident: Incident): void {
    if (this.leading || this.stopped) return;
    this.incidents.mirror(incident);
    this.onWorkersChanged();
  }

  /** This replica's sidecar workers with their arrivals at the versions it watches (a halt's, an
   *  unconfirmed incident's), and, while one is watched, at the newest version each reached (a
   *  replica that began watching a halt later, e.g. started while it was in force, watches a later
   *  version of it): what the other replicas count in their confirmations. */
  publishedWorkers(): PublishedWorker[] {
    const versions = this.incidents.watchedVersions();
    return this.sidecarSessions().map((s) => {
      const reached = versions.flatMap((version) => {
        const atMs = s.reachedAt(version);
        return atMs === undefined ? [] : [{ version, atMs }];
      });
      const latest = s.latestProgress();
      if (latest !== undefined && versions.length > 0 && latest.version > versions[versions.length - 1]!) reached.push(latest);
      return { streamId: s.streamId, nodeId: s.status!.nodeId, workerId: s.status!.workerId, capabilities: [...(s.status!.capabilities ?? [])], reached };
    });
  }

  /** The other replicas' sidecar workers as this replica last heard of them. */
  remoteWorkers(): RemoteWorker[] {
    return [...this.remote.values()];
  }

  /** The other replicas' sidecar workers as they now are (replicas/sidecar-presence.ts): the halt's
   *  and the incidents' confirmations count them with this replica's own. */
  setRemoteWorkers(workers: readonly RemoteWorker[]): void {
    const next = new Map(workers.map((w) => [w.streamId, w]));
    const departed = [...this.remote.keys()].filter((id) => !next.has(id));
    this.remote = next;
    this.incidents.remoteChanged(departed, workers.flatMap((w) => w.reached.map((a) => ({ streamId: w.streamId, ...a }))));
  }

  /** The leader continues in `generation` when it is above its own (a replica registered a
   *  version there): the set in force is re-issued and pushed there. */
  advanceGeneration(generation: number): Promise<DecisionSet | undefined> {
    return this.serialised(async () => {
      if (this.stopped || !this.leading) return undefined;
      const atMs = this.now();
      const decisions = this.engine.advanceGeneration(generation, atMs);
      if (decisions !== undefined) this.publish(decisions, atMs);
      return decisions;
    });
  }

  // ------------------------------------------------------------------ events

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof ControlPlaneEvents>(event: K, listener: Listener<ControlPlaneEvents[K]>): () => void {
    return this.emitter.on(event, listener);
  }

  off<K extends keyof ControlPlaneEvents>(event: K, listener: Listener<ControlPlaneEvents[K]>): void {
    this.emitter.off(event, listener);
  }

  // ------------------------------------------------------------------ sidecar streams

  /**
   * Opens a transport-neutral sidecar session (the gRPC server calls this per Connect call).
   * The sink sends bytes to the sidecar and closes the stream; the returned session takes the
   * bytes the sidecar sent. Auth is checked here: a missing/wrong token closes the session with
   * UNAUTHENTICATED at once.
   */
  openSession(info: SessionInfo, sink: SessionSink): SidecarSession {
    const streamId = `s${this.nextStreamId++}`;
    const session = new SidecarSession(streamId, info, sink, {
      now: this.now,
      config: this.config.decision,
      knownClusters: new Set(this.clusters.map((c) => c.name)),
      currentBytes: () => this.currentBytes,
      currentVersion: () => this.current.version,
      onHello: (s) => {
        if (s.status !== undefined) this.gone.returned(s.status.nodeId, s.status.workerId);
        this.emitter.emit("sidecar", { kind: "connected", status: s.statusView(this.current.version) });
        this.onWorkersChanged();
        const held = s.status?.enforcedVersion ?? 0;
        if (held <= this.current.version) return "push";
        void this.followSidecar(s, held);
        return "wait";
      },
      onReport: (s, report) => this.ingest(s, report),
      onProgress: (s, version, atMs) => {
        this.incidents.progress(s.streamId, version, atMs);
        this.onWorkersChanged();
      },
      onNack: (event) => {
        this.audit?.append({ kind: "nack", atMs: event.atMs, nack: event });
        this.emitter.emit("nack", event);
      },
      onClosed: (s, reason) => {
        this.sessions.delete(s.streamId);
        this.engine.forgetReporter(s.streamId);
        this.incidents.departed(s.streamId);
        this.followerTelemetry?.forget(s.streamId);
        this.onWorkersChanged();
        if (s.status !== undefined) {
          const status = s.statusView(this.current.version);
          // Gone: not when this control plane stops, nor when the same worker is connected on
          // another stream (it reconnected before the old stream ended).
          const { nodeId, workerId } = status;
          const stillConnected = [...this.sessions.values()].some((o) => o.status?.nodeId === nodeId && o.status.workerId === workerId);
          if (!this.stopped && !stillConnected) this.gone.departed(status, reason, this.now());
          this.emitter.emit("sidecar", { kind: "disconnected", status, reason });
        }
      },
      logger: this.log,
    });
    if (this.stopped) {
      session.close(GRPC_STATUS.UNAVAILABLE, "control plane stopped");
      return session;
    }
    if (this.sidecarToken !== undefined && this.sidecarToken !== "") {
      const auth = info.metadata["authorization"] ?? "";
      if (!bearerMatches(auth, secretDigest(this.sidecarToken))) {
        session.close(GRPC_STATUS.UNAUTHENTICATED, auth === "" ? "missing bearer token" : "invalid bearer token");
        return session;
      }
    }
    this.sessions.set(streamId, session);
    return session;
  }

  /** In-process acceptor (no sockets), for the proxy-wasm host in tests and the scenario runner. */
  openInProcessStream(metadata: Record<string, string>, toSidecar: InProcessSidecarSink): InProcessStream {
    let closed = false;
    const session = this.openSession(
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

  // ------------------------------------------------------------------ internals

  /** Connected sidecar workers (hello received, not a follower replica's forwarding stream). */
  private sidecarSessions(): SidecarSession[] {
    return [...this.sessions.values()].filter((s) => s.status !== undefined && !s.isClosed && !isReplicaStream(s.status.nodeId));
  }

  private ingest(session: SidecarSession, report: WorkerReport): void {
    // A follower hands its sidecars' windows on, to be merged and forwarded to the leader; what
    // the worker says it enforces counts here (a filter that does not acknowledge confirms a
    // halt so; the leader counts it through this replica's presence, replicas/sidecar-presence.ts).
    if (!this.leading) {
      this.followerTelemetry?.report(session.streamId, report);
      session.noteProgress(report.enforcedVersion, this.now());
      return;
    }
    const atMs = this.now();
    const { outcome, refusal } = this.engine.ingest(session.streamId, report, atMs);
    session.countOutcome(outcome);
    if (refusal !== undefined) session.reportRefused(report.sequence, refusal);
    // A sidecar of an older filter build says what it enforces only in its reports: follow it
    // too (a refused report is not trusted for that).
    else if (report.enforcedVersion > this.current.version) void this.followSidecar(session, report.enforcedVersion);
    if (refusal === undefined) session.noteProgress(report.enforcedVersion, atMs);
    if (outcome === "accepted" || outcome === "late_folded") {
      this.incidents.rejects(report.clusters);
      if (report.sources !== undefined) this.sources.ingest(session.streamId, report.windowStartMs, report.windowLengthMs, report.sources);
    }
    this.emitter.emit("report", {
      streamId: session.streamId,
      nodeId: session.status?.nodeId ?? "",
      windowStartMs: report.windowStartMs,
      outcome,
      ...(refusal === undefined ? {} : { refusal: refusal.reason }),
      atMs,
    });
    // Real-time mode: decide as soon as every live reporter has reported a window.
    if (this.timer !== undefined && !this.earlyRoundPending && this.engine.hasCompleteWindow(atMs)) {
      this.earlyRoundPending = true;
      setImmediate(() => {
        this.earlyRoundPending = false;
        void this.decide().catch((err: unknown) => this.log.error({ err }, "decision round failed"));
      });
    }
  }

  /**
   * A sidecar enforces a version newer than the current set (this control plane restarted
   * without its state or lost its last writes, or its clock is behind): re-issues the current
   * content in a generation above it and pushes it to every stream, so no sidecar refuses it.
   * A version outside the scheme, or implausibly far ahead, is not followed; that sidecar then
   * refuses the current set and shows as refusing in /v1/sidecars.
   */
  private followSidecar(session: SidecarSession, held: number): Promise<void> {
    return this.serialised(async () => {
      if (this.stopped) return;
      if (!this.leading) {
        // Only the leader issues versions: the shared store learns of the sidecar's version, and
        // the leader continues above it.
        this.onSidecarAhead?.(held);
        session.push(this.currentBytes, this.current.version);
        return;
      }
      const atMs = this.now();
      const { outcome, decisions } = this.engine.followSidecar(held, atMs);
      if (decisions !== undefined) {
        this.log.warn(
          { stream: session.streamId, node: session.status?.nodeId, sidecar_version: held, previous_version: this.current.version, version: decisions.version },
          "a sidecar enforces a newer decision version than this control plane: continuing in a new generation above it",
        );
        this.publish(decisions, atMs);
        return;
      }
      if (outcome === "implausible" && !session.followRefused) {
        session.followRefused = true;
        this.log.error(
          { stream: session.streamId, node: session.status?.nodeId, sidecar_version: held, version: this.current.version },
          "a sidecar reports a decision version outside the version scheme or implausibly far ahead; not followed (it will refuse the current set)",
        );
      }
      session.push(this.currentBytes, this.current.version);
    });
  }

  /** Makes `decisions` the set in force: audit record, every stream, the 'decisions' event. */
  private publish(decisions: DecisionSet, atMs: number): void {
    const previous = this.current;
    this.current = decisions;
    this.currentBytes = encodeDecisions(decisions);
    this.currentPublishedAtMs = atMs;
    this.currentRecorded = this.record({ kind: "decisions", atMs, decisions });
    for (const session of this.sessions.values()) session.push(this.currentBytes, decisions.version);
    this.incidents.published(decisions, previous);
    // A halt that began (or changed mode) changes the versions watched.
    if (decisions.halted !== previous.halted || decisions.haltMode !== previous.haltMode) this.onWorkersChanged();
    this.emitter.emit("decisions", decisions);
  }

  private async setHalt(halted: boolean, reason: string, actor: string, mode?: HaltMode): Promise<DecisionSet> {
    if (typeof reason !== "string" || reason.trim() === "" || typeof actor !== "string" || actor.trim() === "") {
      throw new ControlPlaneError("CP_ERR_HALT", `${halted ? "halt" : "resume"}: reason and actor must be non-empty strings`);
    }
    const atMs = this.now();
    const record: AuditRecord = halted ? { kind: "halt", atMs, reason, actor, ...(mode === undefined ? {} : { mode }) } : { kind: "resume", atMs, reason, actor };
    return this.acknowledged(record, () => {
      this.engine.setHalt(halted, reason, actor, atMs, mode);
      this.emitter.emit("halt", { halted, reason, actor, atMs, ...(halted && mode !== undefined ? { mode } : {}) });
    });
  }

  /**
   * An operator's change, write-ahead: its audit record is appended at once (group-committed
   * with concurrent calls), the change is applied (in call order, serialised with rounds) only
   * once that record is durable, then a round runs; resolves once the resulting decision set's
   * record is durable too. A failed write of the change's record rejects with CP_ERR_AUDIT and
   * nothing changed in memory; a failed write of the decision set's record rejects with
   * CP_ERR_AUDIT although the change (durable) is in effect.
   */
  private async acknowledged(record: AuditRecord, apply: () => void): Promise<DecisionSet> {
    const what = record.kind;
    const recorded = this.record(record);
    const { set, setRecorded } = await this.serialised(async () => {
      try {
        await recorded;
      } catch (error) {
        throw new ControlPlaneError("CP_ERR_AUDIT", `${(error as Error).message}; the ${what} was not applied`);
      }
      apply();
      // A follower's change is committed to the shared store; the leader applies it and publishes.
      if (this.leading) await this.runRound();
      return { set: this.current, setRecorded: this.currentRecorded };
    });
    try {
      await setRecorded;
    } catch (error) {
      throw new ControlPlaneError("CP_ERR_AUDIT", `${(error as Error).message}; the ${what} is recorded and in effect, but decision set version ${set.version} is not recorded`);
    }
    return set;
  }

  /** Appends to the audit log (if any); resolves when durable. Callers that do not wait may
   *  drop the promise: AuditLog marks it handled and logs failures. */
  private record(record: AuditRecord): Promise<void> {
    return this.audit?.append(record) ?? Promise.resolve();
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Who sends the traffic, once per round: flags (audited, logged, emitted), expired limits,
   *  and the limits the round's decision set carries. */
  private sourceRound(atMs: number): void {
    const round = this.sources.round(atMs);
    for (const flag of round.flags) {
      this.audit?.append({ kind: "source_flag", atMs, flag });
      if (flag.kind === "flagged") this.log.warn({ source: flag.source, metric: flag.metric, value: flag.value, threshold: flag.threshold }, describeFlag(flag));
      else this.log.info({ source: flag.source }, `source ${JSON.stringify(flag.source)} is back within its thresholds`);
      this.emitter.emit("source_flag", flag);
    }
    for (const limit of round.expired) {
      this.audit?.append({ kind: "source_limit", atMs, limit, cause: "expired" });
      this.log.info({ source: limit.source, action: limit.action }, "source limit expired");
      this.emitter.emit("source_limit", { cause: "expired", limit, atMs });
    }
    this.engine.setSourceLimits(round.decisions);
  }

  /**
   * A rule with a limit_source action fired: its limit is set as an operator's is (validated,
   * audited source_limit "set" with actor "trigger <name>", emitted), and carried from the next
   * round's decision set. None is set (a warning) when the rule names no source and none is
   * flagged, or when the limit does not validate (e.g. 64 limits in force already).
   */
  private limitFromTrigger(event: TriggerEvent, atMs: number): void {
    const a = event.action;
    if (event.kind !== "fired" || a.kind !== "limit_source") return;
    const limit = triggerSourceLimit(a, event.trigger, event.values.reason, this.sources.topFlagged(), atMs);
    if (typeof limit === "string") {
      this.log.warn({ trigger: event.trigger }, limit);
      return;
    }
    try {
      this.sources.validate(limit, atMs);
    } catch (error) {
      this.log.warn({ trigger: event.trigger, source: limit.source, err: error }, `trigger ${event.trigger} fired but its source limit is refused`);
      return;
    }
    this.sources.setLimit(limit);
    this.audit?.append({ kind: "source_limit", atMs, limit, cause: "set" });
    this.log.warn({ trigger: event.trigger, source: limit.source, action: limit.action, cap_per_s: limit.capPerS, until_ms: limit.untilMs }, `trigger ${event.trigger} limits source ${JSON.stringify(limit.source)}`);
    this.emitter.emit("source_limit", { cause: "set", limit, atMs });
    this.engine.setSourceLimits(this.sources.decisions(atMs));
  }

  private async runRound(): Promise<DecisionSet | undefined> {
    if (!this.leading) return undefined;
    const started = performance.now();
    const atMs = this.now();
    this.sourceRound(atMs);
    const result = await this.engine.round(atMs, this.modelScorer);
    const computedAtHrMs = performance.timeOrigin + performance.now();
    for (const transition of result.transitions) {
      this.audit?.append({ kind: "transition", atMs: transition.atMs, transition });
      this.emitter.emit("transition", transition);
    }
    if (result.triggerEvents.length > 0) {
      const inForce = this.engine.firedTriggers();
      for (const event of result.triggerEvents) {
        this.audit?.append({ kind: "trigger", atMs: event.atMs, event, inForce });
        const fields = { trigger: event.trigger, action: event.action, value: event.values.value, threshold: event.values.threshold, held_ms: event.values.heldMs };
        if (event.kind === "fired") this.log.warn(fields, event.values.reason);
        else this.log.info(fields, `trigger ${event.trigger} cleared: its condition no longer holds`);
        this.emitter.emit("trigger", event);
        this.limitFromTrigger(event, atMs);
      }
    }
    if (result.rollbackExpired !== undefined) {
      const pin = result.rollbackExpired;
      this.audit?.append({ kind: "rollback_end", atMs, rollback: pin, cause: "expired" });
      this.log.info({ from_version: pin.fromVersion, until_ms: pin.untilMs }, "rollback expired: the policy decides again");
      this.emitter.emit("rollback", { kind: "expired", rollback: pin, atMs });
    }
    if (result.closedWindows.length > 0) this.emitter.emit("windows", result.closedWindows);
    // For a successor (replicas): when a breaker moved, and every few seconds of windows.
    if (this.audit?.saveAssessment !== undefined && (result.transitions.length > 0 || (result.windowsClosed > 0 && atMs - this.assessmentSavedAtMs >= ASSESSMENT_EVERY_MS))) {
      this.assessmentSavedAtMs = atMs;
      this.audit.saveAssessment(this.engine.assessment(atMs, result.decisions.version));
    }
    // Replicas: the rules' states when they changed, before the set that may carry their actions.
    if (this.audit?.saveTriggers !== undefined) {
      const states = this.engine.sharedTriggers(atMs);
      if (!sameTriggerStates(this.savedTriggers, states)) {
        this.savedTriggers = states;
        this.audit.saveTriggers(states);
      }
    }
    const changed = result.decisions.version !== this.current.version;
    if (changed) {
      this.publish(result.decisions, atMs);
    } else {
      for (const session of this.sessions.values()) session.resendIfLagging(atMs);
    }
    for (const event of result.triggerEvents) this.incidents.trigger(event, this.current.version);
    this.emitter.emit("round", {
      atMs,
      durationMs: performance.now() - started,
      windowsClosed: result.windowsClosed,
      version: this.current.version,
      changed,
      computedAtHrMs,
    });
    return changed ? this.current : undefined;
  }
}

/** A flag as a log line: "source \"10.0.0.7\": share 41.0 % above its threshold 12.5 %". */
function describeFlag(flag: { metric: "share" | "qps"; value: number; threshold: number; source: string }): string {
  const fmt = (x: number): string => (flag.metric === "share" ? `${(x * 100).toFixed(1)} %` : `${x.toFixed(1)} req/s`);
  return `source ${JSON.stringify(flag.source)}: ${flag.metric} ${fmt(flag.value)} above its threshold ${fmt(flag.threshold)}`;
}

function encodeDecisions(set: DecisionSet): Uint8Array {
  return toBinary(ControlMessageSchema, create(ControlMessageSchema, { kind: { case: "decisions", value: decisionSetToProto(set) } }));
}
