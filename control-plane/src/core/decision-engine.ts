// The decision core: telemetry and time in, a versioned decision set out. No I/O. The engine holds
// each cluster's runtime record and coordinates the steps, which live in their own files.
//
// A round (round(nowMs)):
//   1. close due windows in the aggregator; append them to each cluster's history (late reports
//      replace the windows they changed); feed the capacity estimators (round-windows.ts);
//   2. when a window closed: run every scorer (hard rules, dynamic baseline, trend, the stream
//      objectives when the SLO has slo.ttftMs or slo.tpotMs, and the model if any, awaited) on
//      the history, combine per cluster (max of scores, hard if any),
//      record the newest window's verdict in the N-of-M alarm filter (score-round.ts,
//      score-combination.ts);
//   3. step each breaker in turn (breaker-round.ts; the rules: breaker-rules.ts, on breaker.ts):
//      overrides win (overrides.ts); otherwise it opens when the last plan would cut the cluster
//      below the probe floor, or at once on a severe failure rate (or as large a share of
//      requests failed or slower than the latency objective),
//      or when its streams decode too slowly (TPOT, streams/stream-slo-scorer.ts decodeTrip), in
//      every case only if the others serve its share better (planner/round-plan.ts
//      worthOpening); half-open probes are judged by probe-verdict.ts;
//   4. the planner's shares of the round (round-shares.ts on planner/round-plan.ts and
//      planner/planner.ts), then the decision set (decision-set-assembly.ts); its version goes up
//      only when its content changed (issued-decisions.ts, decision-version.ts).
// Triggers (triggers/): the windows closed in step 1 step every rule; the fired rules' actions
// combine with the decisions as overrides and the halt do (triggers/actions.ts): a cluster a
// trigger opens is held open in step 3 unless an operator override names it, and the halt and
// shed fractions are applied to the set of step 4.
// A rollback (rollback.ts) pins an earlier set's cluster decisions over those of step 4 until it
// is released or expires (checked in step 3); the breakers keep stepping underneath.
// Restarts (restore) and replicas (`engine.replica`: beginTerm, mirror, engine-replica.ts) take
// over breaker states from persisted state, a last leader's assessment or a leader's published
// set (engine-takeover.ts).
// The scores of step 2 publish each cluster's risk (anomaly_score, cluster-signals.ts
// sustainedRisk) and judge half-open probes; traffic moves on the planner's predicted outcome.
import type { CoreConfig } from "./config.js";
import { AlarmFilter } from "./alarm-filter.js";
import { WindowAggregator, type IngestResult } from "./aggregator.js";
import { stepBreakers } from "./breaker-round.js";
import { validateClusters, validateSlo } from "./cluster-spec.js";
import { clusterStatus, newClusterRuntime, type ClusterRuntime } from "./cluster-runtime.js";
import { takeWindows } from "./round-windows.js";
import { previousShare, restoredShares } from "./decision-set-builder.js";
import { assembleDecisionSet } from "./decision-set-assembly.js";
import type { SourceLimitDecision } from "./sources/types.js";
import { IssuedDecisions } from "./issued-decisions.js";
import { OperatorControls, releaseForcedOpen, type OperatorApi } from "./overrides.js";
import { builtinScorers, scoreClusters } from "./score-round.js";
import { pinnedClusters, restoreBreakers } from "./engine-takeover.js";
import { EngineReplica, type ReplicaApi } from "./engine-replica.js";
import type { DynamicBaselineScorer } from "./scorers/dynamic-baseline.js";
import { streamObjectives, type StreamSloScorer } from "./streams/stream-slo-scorer.js";
import type { ClusterSpec, ClusterStatus, ClusterWindowStats, DecisionSet, Override, PersistedState, Rollback, Scorer, Slo, Transition, WorkerReport } from "./types.js";
import { logShare } from "./planner/gathered-share.js";
import { planConfigOf } from "./planner/round-plan.js";
import { planRoundShares, roundClusters, type RoundSharesInput } from "./round-shares.js";
import { TriggerEngine, type TriggerEvent, type TriggerRule } from "./triggers/index.js";

export { validateClusters, validateSlo } from "./cluster-spec.js";

export interface RoundResult {
  decisions: DecisionSet;
  transitions: Transition[];
  windowsClosed: number;
  /** The windows closed in this round (per-cluster stats of each), oldest first. */
  closedWindows: ClusterWindowStats[][];
  /** Triggers that fired or cleared in this round, in order. */
  triggerEvents: TriggerEvent[];
  /** The rollback whose expiry came in this round (the set of this round is automatic again). */
  rollbackExpired?: Rollback;
}

export class DecisionEngine {
  readonly clusters: readonly ClusterSpec[];
  readonly slo: Slo;
  private readonly runtime = new Map<string, ClusterRuntime>();
  private readonly aggregator: WindowAggregator;
  private readonly builtins: Scorer[];
  readonly dynamicBaseline: DynamicBaselineScorer;
  /** The stream objectives' scorer, when the SLO has one (streams/stream-slo-scorer.ts). */
  private readonly streamSlo: StreamSloScorer | undefined;
  private readonly alarms: AlarmFilter;
  /** Overrides in force, the halt and the rollback pin (overrides.ts). */
  private readonly controls: OperatorControls;
  /**
   * What operators set by hand, for the admin side and the replicas: overrides, the halt, the
   * rollback pin (overrides.ts OperatorApi). Setting an override also acts on the engine's record
   * of the cluster (overrideSet); expiry and restore stay the engine's.
   */
  readonly operator: OperatorApi;
  /** The set in force and the version clock (issued-decisions.ts). */
  private readonly issued = new IssuedDecisions();
  private restoredFrom: DecisionSet | undefined;
  /** Planner policy: the shares of the current round (undefined before the first). */
  private plannedShares: Map<string, number> | undefined;
  /** The trigger rules' states and what the fired ones ask (triggers/trigger-engine.ts): the
   *  admin API reads and clears them, replicas share and adopt them through it. */
  readonly triggers: TriggerEngine;
  /** The source limits the next sets carry (core/sources/; the control plane sets them each round). */
  private sourceLimits: SourceLimitDecision[] = [];
  /** The replica side's state and steps, the takeover's hold among them (engine-replica.ts);
   *  `replica` is the same object as the replicas see it. */
  private readonly replicaSide: EngineReplica;
  /** What the replicas ask of the engine: a takeover's term, the assessment, a follower's mirror,
   *  a new generation (engine-replica.ts). */
  readonly replica: ReplicaApi;

  constructor(
    clusters: readonly ClusterSpec[],
    slo: Slo,
    private readonly config: CoreConfig,
    triggerRules: readonly TriggerRule[] = [],
  ) {
    validateClusters(clusters);
    validateSlo(slo);
    this.clusters = clusters.map((c) => ({ name: c.name, baseWeight: c.baseWeight }));
    this.slo = { latencyMs: slo.latencyMs, successRate: slo.successRate, ...streamObjectives(slo) };
    this.aggregator = new WindowAggregator(this.clusters.map((c) => c.name), slo.latencyMs, config.aggregation, streamObjectives(slo));
    ({ all: this.builtins, dynamicBaseline: this.dynamicBaseline, streamSlo: this.streamSlo } = builtinScorers(this.slo, config.detector));
    this.alarms = new AlarmFilter(config.detector);
    this.controls = new OperatorControls(this.clusters.map((c) => c.name), (o, had, nowMs) => this.overrideSet(o, had, nowMs));
    this.operator = this.controls;
    for (const spec of this.clusters) this.runtime.set(spec.name, newClusterRuntime(spec, config));
    this.triggers = new TriggerEngine(triggerRules);
    this.replicaSide = new EngineReplica({
      clusters: this.clusters,
      runtime: this.runtime,
      alarms: this.alarms,
      controls: this.controls,
      config,
      issued: this.issued,
      restore: (state, nowMs) => this.restore(state, nowMs),
      forgetPlan: () => {
        this.plannedShares = undefined;
      },
      build: (nowMs, version) => this.build(nowMs, version),
      initialDecisions: (nowMs) => this.initialDecisions(nowMs),
    });
    this.replica = this.replicaSide;
  }

  // ---------------------------------------------------------------- inputs

  /** Hands a report to the aggregation; a refused one comes back with why (report-admission.ts). */
  ingest(reporterId: string, report: WorkerReport, nowMs: number): IngestResult {
    return this.aggregator.ingest(reporterId, report, nowMs);
  }

  /** A reporter's stream said hello: expect its reports from now (Aggregator.expect). */
  expectReporter(reporterId: string, nowMs: number): void {
    this.aggregator.expect(reporterId, nowMs);
  }

  /** A reporter's stream ended: stop expecting its reports. */
  forgetReporter(reporterId: string): void {
    this.aggregator.forget(reporterId);
  }

  hasCompleteWindow(nowMs: number): boolean {
    return this.aggregator.hasCompleteWindow(nowMs);
  }

  /** The source limits the sets built from now carry (in source order; empty: none). */
  setSourceLimits(limits: SourceLimitDecision[]): void {
    this.sourceLimits = limits;
  }

  /** An override was set or cleared (operator.set): a forced-open breaker released by it goes
   *  back to the detectors through half-open (probing) at once, and the cluster's alarm filter
   *  and stream scorer start afresh. */
  private overrideSet(o: Override, had: Override | undefined, nowMs: number): void {
    const rt = this.runtime.get(o.cluster)!;
    if (o.state === "auto" && had?.state === "open") rt.breaker = releaseForcedOpen(rt.breaker, nowMs);
    this.alarms.reset(o.cluster);
    this.streamSlo?.reset(o.cluster);
  }

  /** Restores persisted state (before the first round): version, overrides, halt, breaker states. */
  restore(state: PersistedState, nowMs: number): void {
    this.controls.restore(state.overrides, state.halt, nowMs, state.rollback);
    if (state.triggerStates !== undefined) this.triggers.adopt(state.triggerStates);
    else if (state.triggers !== undefined) this.triggers.restore(state.triggers);
    const d = state.decisions;
    if (d === undefined) return;
    this.restoredFrom = d;
    // The restored set's split is the one in force until the first round plans anew.
    const shares = restoredShares(d, this.clusters.map((c) => c.name));
    if (shares !== undefined) this.plannedShares = shares;
    restoreBreakers(this.runtime, d, pinnedClusters(this.controls), nowMs, this.config);
  }

  /** The decision set before any round: the restored one, or the first version of this
   *  lifetime's generation with base weights (issued-decisions.ts, decision-version.ts). */
  initialDecisions(nowMs: number): DecisionSet {
    return this.issued.first(nowMs, this.restoredFrom, (version) => this.build(nowMs, version));
  }

  /** The generation this lifetime issues versions in. */
  generation(nowMs: number): number {
    this.initialDecisions(nowMs);
    return this.issued.generation();
  }

  /**
   * A sidecar enforces version `held`. When it is newer than the current set (this control plane
   * restarted without its state, lost its last writes, or its clock is behind), the same content
   * is re-issued in a new generation above it, so no sidecar refuses what comes next.
   */
  followSidecar(held: number, nowMs: number): { outcome: "below" | "followed" | "implausible"; decisions?: DecisionSet } {
    this.initialDecisions(nowMs);
    return this.issued.follow(held, nowMs);
  }

  // ---------------------------------------------------------------- the round

  async round(nowMs: number, model?: Scorer): Promise<RoundResult> {
    const previous = this.initialDecisions(nowMs);
    const transitions: Transition[] = [];

    // 1. Windows.
    const closed = takeWindows(this.aggregator, this.runtime, nowMs, this.config);

    // Triggers step over the closed windows; a cluster a trigger no longer holds open goes back to
    // the detectors through half-open, as a released override does.
    const heldOpen = this.triggers.actions.open;
    const triggerEvents = this.triggers.observe(closed, nowMs);
    for (const cluster of heldOpen.keys()) {
      const rt = this.runtime.get(cluster);
      if (rt !== undefined && !this.triggers.actions.open.has(cluster) && this.controls.get(cluster) === undefined) rt.breaker = releaseForcedOpen(rt.breaker, nowMs);
    }

    // 2. Scores.
    if (closed.length > 0) await scoreClusters(this.runtime, this.builtins, model, this.alarms, this.config);

    // 3. Breakers.
    for (const expired of this.controls.expire(nowMs, (cluster) => this.runtime.get(cluster)!.breaker)) {
      this.runtime.get(expired.cluster)!.breaker = expired.breaker;
      transitions.push(expired.transition);
    }
    const rollbackExpired = this.controls.expireRollback(nowMs);
    // After a takeover (beginTerm) only overrides move a breaker until the hold's windows closed.
    const held = this.replicaSide.takeHold(closed.length);
    const stepped = stepBreakers({
      nowMs,
      newWindow: closed.length > 0,
      held,
      config: this.config,
      slo: this.slo,
      plan: planConfigOf(this.config),
      runtimes: [...this.runtime.values()],
      roundClusters: () => roundClusters(this.runtime.values(), this.sharesInput()),
      inputsOf: (rt) => ({
        override: this.controls.get(rt.spec.name),
        triggerOpenReason: this.triggers.actions.open.get(rt.spec.name)?.reason,
        slowDecodeReason: rt.breaker.kind === "closed" ? this.streamSlo?.decodeTrip(rt.spec.name) : undefined,
        baselineP50Ms: this.dynamicBaseline.baseline(rt.spec.name, "p50Ms"),
      }),
    });
    const reclosed = new Set<string>();
    for (const t of stepped) {
      transitions.push(t);
      if (t.to !== "closed") continue;
      this.alarms.noteClosed(t.cluster, nowMs);
      this.streamSlo?.reset(t.cluster);
      if (t.from === "half_open") reclosed.add(t.cluster);
    }

    // 4. Weights and the set. A cluster that passed its probes returns at its base share (in
    // doubt, the operator's weights), not at its last probe share: ramping it back while the
    // others carry its load keeps them past what they were sized for. (Closing at the probe share,
    // for every re-closed cluster or only for one that opened twice, was measured and not kept:
    // generalization-notes.md, "2026-12-08, eighteenth round".)
    this.plannedShares = planRoundShares(this.runtime, this.sharesInput(reclosed), this.config);
    const decisions = this.issued.issue(this.build(nowMs, previous.version), previous);
    for (const rt of this.runtime.values()) logShare(rt.shareLog, nowMs, previousShare(decisions, rt.spec.name));
    return { decisions, transitions, windowsClosed: closed.length, closedWindows: closed, triggerEvents, ...(rollbackExpired === undefined ? {} : { rollbackExpired }) };
  }

  // ---------------------------------------------------------------- status

  clusterStatuses(current: DecisionSet, nowMs: number): ClusterStatus[] {
    return [...this.runtime.values()].map((rt) => clusterStatus(rt, current.clusters.find((c) => c.cluster === rt.spec.name), this.controls.get(rt.spec.name), nowMs));
  }

  /** The merged windows of a cluster, oldest first (for the model's training and the dashboard). */
  history(cluster: string): readonly ClusterWindowStats[] {
    return this.runtime.get(cluster)?.history ?? [];
  }

  get aggregationCounters(): Readonly<WindowAggregator["counters"]> {
    return this.aggregator.counters;
  }

  get liveReporters(): number {
    return this.aggregator.liveReporters;
  }

  // ---------------------------------------------------------------- internals

  /** What a planner round reads besides the records: the set in force and the overrides. */
  private sharesInput(atBase?: ReadonlySet<string>): RoundSharesInput {
    return { inForce: this.issued.current, forcedClosed: (cluster) => this.controls.get(cluster)?.state === "closed", atBase };
  }

  /** The decision set `version` from the current runtime (decision-set-assembly.ts). */
  private build(nowMs: number, version: number): DecisionSet {
    const layers = { runtimes: this.runtime.values(), plannedShares: this.plannedShares, controls: this.controls, triggerActions: this.triggers.actions, sourceLimits: this.sourceLimits };
    return assembleDecisionSet(layers, nowMs, version, this.config);
  }
}
