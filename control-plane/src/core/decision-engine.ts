// The decision core: telemetry and time in, a versioned decision set out. No I/O.
//
// A round (round(nowMs)):
//   1. close due windows in the aggregator; append them to each cluster's history (late reports
//      replace the windows they changed); feed the capacity estimators;
//   2. when a window closed: run every scorer (hard rules, dynamic baseline, trend, and the
//      model if any, awaited) on the history, combine per cluster (max of scores, hard if any),
//      record the newest window's verdict in the N-of-M alarm filter;
//   3. step each breaker (breaker.ts): overrides win; otherwise it opens when the last plan
//      would cut the cluster below the probe floor, or at once on a severe failure rate, in both
//      cases only if the others serve its share better (planner/round-plan.ts worthOpening);
//   4. the planner's shares of the round (planner/round-plan.ts, planner/planner.ts), then the
//      decision set; its version goes up only when its content changed (decision-version.ts).
// The scores of step 2 publish each cluster's risk (anomaly_score) and judge half-open probes;
// traffic moves on the planner's predicted outcome.
import type { CoreConfig } from "./config.js";
import { AlarmFilter, type TripDecision } from "./alarm-filter.js";
import { WindowAggregator, type IngestResult } from "./aggregator.js";
import { openBreaker, stepBreaker } from "./breaker.js";
import { CapacityEstimator } from "./capacity.js";
import { ControlPlaneError } from "./errors.js";
import { isValidVersion, startingGeneration, VersionClock } from "./decision-version.js";
import { DynamicBaselineScorer } from "./scorers/dynamic-baseline.js";
import { HardRuleScorer } from "./scorers/hard-rules.js";
import { TrendScorer } from "./scorers/trend.js";
import type {
  BreakerState,
  ClusterDecision,
  ClusterSpec,
  ClusterStatus,
  ClusterWindowStats,
  DecisionSet,
  HaltState,
  Override,
  PersistedState,
  Scorer,
  ScoreResult,
  Slo,
  Transition,
  WorkerReport,
} from "./types.js";
import { sharesToWeights } from "./weights.js";
import type { PlanConfig } from "./planner/planner.js";
import { planRound, worthOpening, type LastMove, type RoundCluster } from "./planner/round-plan.js";

export interface RoundResult {
  decisions: DecisionSet;
  transitions: Transition[];
  windowsClosed: number;
}

interface ClusterRuntime {
  spec: ClusterSpec;
  history: ClusterWindowStats[];
  breaker: BreakerState;
  capacity: CapacityEstimator;
  combined: ScoreResult;
  /** Combined scores of the last M windows with evidence, oldest first. */
  recentScores: number[];
  scorers: Record<string, ScoreResult>;
  trip: TripDecision;
  /** Half-open probe evidence gathered over windows too thin to judge alone. */
  probe: { requests: number; failures: number; slow: number };
  /** For each of the last M windows with evidence: did a robust signal back the scores up? */
  corroborations: boolean[];
  /** Planner policy: direction of the last share change and rounds since. */
  lastMove: LastMove;
  /** Planner policy: the last plan would cut this cluster below the floor (open it). */
  drainable: boolean;
  /** Planner policy: why the plan moved this cluster's share ("" when at base). */
  planReason: string;
}


const NO_SCORE: ScoreResult = { score: 0, hard: false, reasons: [] };
const NO_TRIP: TripDecision = { trip: false, hard: false, severe: false, anomalous: 0, hardWindows: 0, cooling: false };
/** Retry-after for an open state without end (override without TTL), seconds. */
const RETRY_AFTER_UNBOUNDED_S = 60;
/**
 * A cluster whose newest load is at least this multiple of the load it was last seen safe at
 * carries load we put on it: its latency rise is judged as queueing (capacity), not as a fault.
 */
const LOAD_DRIVEN_FACTOR = 1.1;

export function validateClusters(clusters: readonly ClusterSpec[]): void {
  if (!Array.isArray(clusters) || clusters.length === 0) throw new ControlPlaneError("CP_ERR_CLUSTERS", "clusters: expected at least one cluster");
  const seen = new Set<string>();
  clusters.forEach((c, i) => {
    if (typeof c?.name !== "string" || c.name === "") throw new ControlPlaneError("CP_ERR_CLUSTERS", `clusters[${i}].name: expected a non-empty string`);
    if (seen.has(c.name)) throw new ControlPlaneError("CP_ERR_CLUSTERS", `clusters[${i}].name: "${c.name}" appears twice`);
    seen.add(c.name);
    if (typeof c.baseWeight !== "number" || !(c.baseWeight > 0) || !Number.isFinite(c.baseWeight)) {
      throw new ControlPlaneError("CP_ERR_CLUSTERS", `clusters[${i}].baseWeight: expected a number > 0, got ${JSON.stringify(c.baseWeight)}`);
    }
  });
}

export function validateSlo(slo: Slo): void {
  if (typeof slo?.latencyMs !== "number" || !(slo.latencyMs > 0)) throw new ControlPlaneError("CP_ERR_SLO", `slo.latencyMs: expected a number > 0, got ${JSON.stringify(slo?.latencyMs)}`);
  if (typeof slo.successRate !== "number" || !(slo.successRate > 0 && slo.successRate <= 1)) {
    throw new ControlPlaneError("CP_ERR_SLO", `slo.successRate: expected a number in (0, 1], got ${JSON.stringify(slo.successRate)}`);
  }
}

/** Content of a decision set without version and issue time (to tell whether it changed). */
function contentKey(set: Omit<DecisionSet, "version" | "issuedAtMs">): string {
  return JSON.stringify([set.ttlMs, set.halted, set.haltReason, set.clusters]);
}

export class DecisionEngine {
  readonly clusters: readonly ClusterSpec[];
  readonly slo: Slo;
  private readonly runtime = new Map<string, ClusterRuntime>();
  private readonly aggregator: WindowAggregator;
  private readonly builtins: Scorer[];
  readonly dynamicBaseline: DynamicBaselineScorer;
  private readonly alarms: AlarmFilter;
  private readonly overridesByCluster = new Map<string, Override>();
  private halt: HaltState = { halted: false, reason: "", actor: "", atMs: 0 };
  private current: DecisionSet | undefined;
  private restoredFrom: DecisionSet | undefined;
  /** Planner policy: the shares of the current round (undefined before the first). */
  private plannedShares: Map<string, number> | undefined;
  /** Issues this lifetime's versions; made with the first decision set (it needs the clock). */
  private versions: VersionClock | undefined;

  constructor(
    clusters: readonly ClusterSpec[],
    slo: Slo,
    private readonly config: CoreConfig,
  ) {
    validateClusters(clusters);
    validateSlo(slo);
    this.clusters = clusters.map((c) => ({ name: c.name, baseWeight: c.baseWeight }));
    this.slo = { latencyMs: slo.latencyMs, successRate: slo.successRate };
    const d = config.detector;
    this.aggregator = new WindowAggregator(this.clusters.map((c) => c.name), slo.latencyMs, config.aggregation);
    this.dynamicBaseline = new DynamicBaselineScorer(d);
    this.builtins = [new HardRuleScorer(this.slo, d), this.dynamicBaseline, new TrendScorer(this.slo, d)];
    this.alarms = new AlarmFilter(d);
    for (const spec of this.clusters) {
      this.runtime.set(spec.name, {
        spec,
        history: [],
        breaker: { kind: "closed", since: 0 },
        capacity: new CapacityEstimator(config.weights),
        combined: NO_SCORE,
        recentScores: [],
        corroborations: [],
        scorers: {},
        trip: NO_TRIP,
        probe: { requests: 0, failures: 0, slow: 0 },
        lastMove: { direction: 0, roundsAgo: 0 },
        drainable: false,
        planReason: "",
      });
    }
  }

  // ---------------------------------------------------------------- inputs

  /** Hands a report to the aggregation; a refused one comes back with why (report-admission.ts). */
  ingest(reporterId: string, report: WorkerReport, nowMs: number): IngestResult {
    return this.aggregator.ingest(reporterId, report, nowMs);
  }

  /** A reporter's stream ended: stop expecting its reports. */
  forgetReporter(reporterId: string): void {
    this.aggregator.forget(reporterId);
  }

  hasCompleteWindow(nowMs: number): boolean {
    return this.aggregator.hasCompleteWindow(nowMs);
  }

  validateOverride(o: Override, nowMs: number): void {
    const fail = (msg: string) => {
      throw new ControlPlaneError("CP_ERR_OVERRIDE", msg);
    };
    if (typeof o !== "object" || o === null) fail("override: expected an object");
    if (!this.runtime.has(o.cluster)) fail(`override.cluster: unknown cluster "${o.cluster}"; known: ${this.clusters.map((c) => c.name).join(", ")}`);
    if (o.state !== "open" && o.state !== "closed" && o.state !== "auto") fail(`override.state: expected "open", "closed" or "auto", got ${JSON.stringify(o.state)}`);
    if (o.untilMs !== undefined && (typeof o.untilMs !== "number" || !Number.isFinite(o.untilMs) || o.untilMs <= nowMs)) {
      fail("override.untilMs: expected a time in the future (epoch ms)");
    }
    if (typeof o.reason !== "string" || o.reason.trim() === "") fail("override.reason: expected a non-empty string");
    if (typeof o.actor !== "string" || o.actor.trim() === "") fail("override.actor: expected a non-empty string");
  }

  setOverride(o: Override, nowMs: number): void {
    this.validateOverride(o, nowMs);
    if (o.state === "auto") {
      const had = this.overridesByCluster.get(o.cluster);
      this.overridesByCluster.delete(o.cluster);
      // A forced-open breaker goes back to the detectors through half-open (probing) at once.
      const rt = this.runtime.get(o.cluster)!;
      if (had?.state === "open" && rt.breaker.kind === "open") rt.breaker = { ...rt.breaker, until: Math.min(rt.breaker.until, nowMs) };
    } else this.overridesByCluster.set(o.cluster, { ...o });
    this.alarms.reset(o.cluster);
  }

  overrides(): Override[] {
    return [...this.overridesByCluster.values()].map((o) => ({ ...o }));
  }

  setHalt(halted: boolean, reason: string, actor: string, nowMs: number): void {
    this.halt = { halted, reason, actor, atMs: nowMs };
  }

  haltState(): HaltState {
    return { ...this.halt };
  }

  /** Restores persisted state (before the first round): version, overrides, halt, breaker states. */
  restore(state: PersistedState, nowMs: number): void {
    for (const o of state.overrides) {
      if (!this.runtime.has(o.cluster) || (o.untilMs !== undefined && o.untilMs <= nowMs)) continue;
      if (o.state !== "auto") this.overridesByCluster.set(o.cluster, { ...o });
    }
    if (state.halt !== undefined) this.halt = { ...state.halt };
    const d = state.decisions;
    if (d === undefined) return;
    this.restoredFrom = d;
    // The restored set's split is the one in force until the first round plans anew.
    const total = d.clusters.reduce((sum, c) => sum + (this.runtime.has(c.cluster) ? c.weight : 0), 0);
    if (total > 0) this.plannedShares = new Map(this.clusters.map((c) => [c.name, (d.clusters.find((x) => x.cluster === c.name)?.weight ?? 0) / total]));
    for (const c of d.clusters) {
      const rt = this.runtime.get(c.cluster);
      if (rt === undefined) continue;
      // The published risk carries over until new windows replace it.
      if (c.anomalyScore > 0) {
        rt.recentScores = new Array<number>(this.config.detector.n).fill(c.anomalyScore);
        rt.corroborations = new Array<boolean>(this.config.detector.n).fill(true);
      }
      if (c.state === "open") {
        const waitMs = Math.max(1000, c.retryAfterS * 1000);
        rt.breaker = { kind: "open", since: nowMs, until: nowMs + waitMs, reason: c.reason || "restored", openings: 1 };
      } else if (c.state === "half_open") {
        rt.breaker = { kind: "half_open", since: nowMs, probeFraction: 0.1, healthyWindows: 0, openings: 1 };
      }
    }
  }

  /** The decision set before any round: the restored one, or the first version of this
   *  lifetime's generation with base weights (decision-version.ts). */
  initialDecisions(nowMs: number): DecisionSet {
    if (this.current !== undefined) return this.current;
    const restored = this.restoredFrom;
    this.versions = new VersionClock(startingGeneration(restored?.version ?? 0, nowMs));
    if (restored !== undefined) {
      // Same content, same version: sidecars see no flap. Cluster list changed (or a version
      // outside the scheme was restored): a new version of this lifetime's generation.
      const fresh = this.build(nowMs, restored.version);
      const same = isValidVersion(restored.version) && contentKey(fresh) === contentKey(restored);
      this.current = same ? restored : { ...fresh, version: this.versions.next(restored.version) };
      return this.current;
    }
    this.current = this.build(nowMs, this.versions.next(0));
    return this.current;
  }

  /** The generation this lifetime issues versions in. */
  generation(nowMs: number): number {
    this.initialDecisions(nowMs);
    return this.versions!.generation;
  }

  /**
   * A sidecar enforces version `held`. When it is newer than the current set (this control plane
   * restarted without its state, lost its last writes, or its clock is behind), the same content
   * is re-issued in a new generation above it, so no sidecar refuses what comes next.
   */
  followSidecar(held: number, nowMs: number): { outcome: "below" | "followed" | "implausible"; decisions?: DecisionSet } {
    const previous = this.initialDecisions(nowMs);
    const outcome = this.versions!.follow(held, previous.version, nowMs);
    if (outcome !== "followed") return { outcome };
    this.current = { ...previous, issuedAtMs: nowMs, version: this.versions!.next(previous.version) };
    return { outcome, decisions: this.current };
  }

  // ---------------------------------------------------------------- the round

  async round(nowMs: number, model?: Scorer): Promise<RoundResult> {
    const previous = this.initialDecisions(nowMs);
    const transitions: Transition[] = [];

    // 1. Windows.
    for (const updated of this.aggregator.takeLateUpdates()) this.replaceInHistory(updated);
    const closed = this.aggregator.close(nowMs);
    for (const window of closed) {
      for (const stats of window) {
        const rt = this.runtime.get(stats.cluster)!;
        rt.history.push(stats);
        if (rt.history.length > this.config.aggregation.historyWindows) rt.history.shift();
        const failing = stats.errorRate > this.config.detector.errorRateThreshold;
        rt.capacity.update(stats, this.config.detector.minRequests, failing);
      }
    }

    // 2. Scores.
    if (closed.length > 0) await this.score(model);

    // 3. Breakers.
    this.expireOverrides(nowMs, transitions);
    const newWindow = closed.length > 0;
    // Closed clusters whose extra load already shows: hard evidence, or a load above the one
    // they were seen safe at.
    const strained = [...this.runtime.values()].filter((rt) => rt.breaker.kind === "closed" && (rt.combined.hard || this.overloaded(rt)));
    for (const rt of this.runtime.values()) {
      const override = this.overridesByCluster.get(rt.spec.name);
      if (override !== undefined) {
        this.applyOverride(rt, override, nowMs, transitions);
        continue;
      }
      if (rt.breaker.kind === "open" && strained.some((o) => o !== rt)) {
        // Keeping this cluster open costs the others more than a probe would cost: the wait
        // does not grow with repeated openings while they strain (probes are a small share).
        rt.breaker = { ...rt.breaker, until: Math.min(rt.breaker.until, rt.breaker.since + this.config.breaker.openBaseMs * this.config.breaker.openBackoff) };
      }
      const trip = this.plannerTrip(rt);
      const latest = rt.history.at(-1);
      let probe: { probe: "healthy" | "unhealthy" | "none"; reason: string } = { probe: "none", reason: "" };
      if (newWindow && rt.breaker.kind === "half_open" && latest !== undefined && latest.windowStartMs >= rt.breaker.since - latest.windowLengthMs) {
        probe = this.probeVerdict(rt, latest);
      }
      const step = stepBreaker(
        rt.spec.name,
        rt.breaker,
        { nowMs, trip, tripReason: rt.trip.severe ? this.tripReason(rt) : rt.planReason || this.tripReason(rt), probe: probe.probe, probeReason: probe.reason },
        this.config.breaker,
      );
      if (step.transition !== undefined) {
        transitions.push(step.transition);
        if (step.state.kind === "half_open") rt.probe = { requests: 0, failures: 0, slow: 0 };
        if (step.state.kind === "closed") this.alarms.noteClosed(rt.spec.name, nowMs);
      }
      rt.breaker = step.state;
    }

    // 4. Weights and the set.
    this.plannedShares = this.plan();
    const next = this.build(nowMs, previous.version);
    const changed = contentKey(next) !== contentKey(previous);
    const decisions = changed ? { ...next, version: this.versions!.next(previous.version) } : previous;
    this.current = decisions;
    return { decisions, transitions, windowsClosed: closed.length };
  }

  // ---------------------------------------------------------------- status

  clusterStatuses(current: DecisionSet, nowMs: number): ClusterStatus[] {
    return [...this.runtime.values()].map((rt) => {
      const d = current.clusters.find((c) => c.cluster === rt.spec.name);
      const override = this.overridesByCluster.get(rt.spec.name);
      const status: ClusterStatus = {
        cluster: rt.spec.name,
        baseWeight: rt.spec.baseWeight,
        state: rt.breaker,
        weight: d?.weight ?? 0,
        score: rt.combined.score,
        hard: rt.combined.hard,
        reasons: [...rt.combined.reasons, ...(rt.planReason === "" ? [] : [rt.planReason])],
        scorers: { ...rt.scorers },
        anomalousWindows: rt.trip.anomalous,
        capacity: rt.capacity.estimate(),
        recent: rt.history.slice(-10),
      };
      if (override !== undefined && (override.untilMs === undefined || override.untilMs > nowMs)) status.override = { ...override };
      return status;
    });
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

  private replaceInHistory(window: ClusterWindowStats[]): void {
    for (const stats of window) {
      const h = this.runtime.get(stats.cluster)!.history;
      const i = h.findIndex((w) => w.windowStartMs === stats.windowStartMs);
      if (i >= 0) h[i] = stats;
    }
  }

  private async score(model: Scorer | undefined): Promise<void> {
    const history = new Map<string, readonly ClusterWindowStats[]>();
    for (const [name, rt] of this.runtime) history.set(name, rt.history);
    const scorers = model === undefined ? this.builtins : [...this.builtins, model];
    const nowMs = Math.max(...[...this.runtime.values()].map((rt) => rt.history.at(-1)?.windowStartMs ?? 0));
    const results = await Promise.all(
      scorers.map(async (s) => {
        try {
          return { scorer: s, result: await s.score(history, nowMs) };
        } catch (err) {
          // A failing scorer (e.g. the model) must not stop decisions: its verdict is "no opinion".
          return { scorer: s, result: new Map<string, ScoreResult>(), error: err as Error };
        }
      }),
    );
    const d = this.config.detector;
    for (const [name, rt] of this.runtime) {
      let score = 0;
      let hard = false;
      const reasons: string[] = [];
      const per: Record<string, ScoreResult> = {};
      for (const { scorer, result } of results) {
        const r = result.get(name);
        if (r === undefined) continue;
        per[scorer.name] = r;
        const s = Math.min(1, Math.max(0, scorer === model ? r.score * d.modelWeight : r.score));
        score = Math.max(score, Number.isFinite(s) ? s : 0);
        hard ||= r.hard;
        if (r.hard || s >= d.scoreThreshold) reasons.push(...r.reasons);
      }
      rt.combined = { score, hard, reasons };
      rt.scorers = per;
      const latest = rt.history.at(-1);
      if (latest !== undefined) {
        // Soft scores judge the newest window, which needs minRequests by itself; the hard rules
        // pool thin windows and say what their verdict rests on.
        const windowEvidence = latest.requests >= Math.max(1, d.minRequests);
        const pooled = per["hard_rules"]?.evidence;
        const hardEvidence = windowEvidence || (pooled !== undefined && pooled.requests >= Math.max(1, d.minRequests));
        // A thin window cannot raise the risk, but a calm one lowers it: otherwise a cluster
        // whose traffic was shifted away (too little to judge) would stay "at risk" for ever.
        if (windowEvidence || score < d.scoreThreshold) {
          rt.recentScores.push(score);
          if (rt.recentScores.length > d.m) rt.recentScores.shift();
        }
        if (windowEvidence) {
          rt.corroborations.push(this.robustSignal(rt));
          if (rt.corroborations.length > d.m) rt.corroborations.shift();
        }
        this.alarms.record(name, {
          windowStartMs: latest.windowStartMs,
          evidence: hardEvidence,
          anomalous: windowEvidence && score >= d.scoreThreshold,
          hard: hardEvidence && hard,
          severe: hardEvidence && hard && (pooled?.errorRate ?? latest.errorRate) >= this.config.breaker.severeErrorRate,
        });
      }
      rt.trip = this.alarms.evaluate(name, latest?.windowStartMs ?? 0);
    }
  }

  /**
   * Verdict on a half-open probe window. Probe traffic is small, below the scorers' minimum, so
   * the window is judged directly: failures above the threshold, p50 well above the (frozen)
   * baseline, or more than 1% of requests over the SLO latency make it unhealthy.
   */
  private probeVerdict(rt: ClusterRuntime, w: ClusterWindowStats): { probe: "healthy" | "unhealthy" | "none"; reason: string } {
    const d = this.config.detector;
    if (rt.combined.hard || (w.requests >= d.minRequests && rt.combined.score >= d.scoreThreshold)) {
      rt.probe = { requests: 0, failures: 0, slow: 0 };
      return { probe: "unhealthy", reason: rt.combined.reasons.join("; ") || "anomalous" };
    }
    // Thin probe windows add up until there is enough evidence to judge.
    const acc = rt.probe;
    acc.requests += w.requests;
    acc.failures += Math.round(w.errorRate * w.requests);
    acc.slow += w.slowRequests ?? 0;
    if (acc.requests < Math.max(1, this.config.breaker.minProbeRequests)) return { probe: "none", reason: "" };
    rt.probe = { requests: 0, failures: 0, slow: 0 };
    if (acc.failures / acc.requests > d.errorRateThreshold && acc.failures >= 2) {
      return { probe: "unhealthy", reason: `probe error rate ${((acc.failures / acc.requests) * 100).toFixed(0)}% (${acc.failures} of ${acc.requests})` };
    }
    const baseP50 = this.dynamicBaseline.baseline(rt.spec.name, "p50Ms");
    if (w.requests >= this.config.breaker.minProbeRequests && Number.isFinite(baseP50) && w.p50Ms > baseP50 * d.minRelativeRise) {
      return { probe: "unhealthy", reason: `probe p50 ${Math.round(w.p50Ms)}ms vs baseline ${Math.round(baseP50)}ms` };
    }
    if (acc.slow >= 1 && acc.slow / acc.requests > 0.01 && acc.slow >= 2) {
      return { probe: "unhealthy", reason: `probe: ${Math.round(acc.slow)} of ${acc.requests} requests over slo ${this.slo.latencyMs}ms` };
    }
    return { probe: "healthy", reason: "" };
  }

  /**
   * The risk the weights act on: the level the combined score held in at least N of the last M
   * windows (the N-th highest), so one noisy window moves no traffic; a hard rule counts at once.
   */
  private sustainedRisk(rt: ClusterRuntime): number {
    if (rt.combined.hard) return rt.combined.score;
    const n = this.config.detector.n;
    if (rt.recentScores.length < n || !this.corroborated(rt)) return 0;
    return [...rt.recentScores].sort((a, b) => b - a)[n - 1]!;
  }

  /**
   * Soft scores (model, dynamic thresholds, trend) read noisy statistics: a window's p99 over a
   * hundred requests is nearly its slowest request. They act only when a robust signal of the
   * cluster itself backs them up in at least N of the last M windows: its median latency well
   * above its low-load baseline without the load explaining it, or failures at half the hard
   * threshold or more. Predictions on a healthy cluster thus move no traffic.
   */
  private corroborated(rt: ClusterRuntime): boolean {
    return rt.corroborations.filter(Boolean).length >= this.config.detector.n;
  }

  /** A robust sign of trouble in the newest window (see corroborated()). */
  private robustSignal(rt: ClusterRuntime): boolean {
    const w = rt.history.at(-1);
    if (w === undefined) return false;
    const d = this.config.detector;
    const failures = Math.round(w.errorRate * w.requests);
    if (w.errorRate >= d.errorRateThreshold / 2 && failures >= d.minErrors) return true;
    const baselineP50Ms = rt.capacity.estimate().baselineP50Ms;
    if (!Number.isFinite(baselineP50Ms) || !Number.isFinite(w.p50Ms)) return false;
    return w.p50Ms >= baselineP50Ms * d.minRelativeRise && !this.overloaded(rt);
  }

  /** The newest window carries more load than the cluster was seen safe at, and no excess of failures. */
  private overloaded(rt: ClusterRuntime): boolean {
    const latest = rt.history.at(-1);
    if (latest === undefined || latest.errorRate > this.config.detector.errorRateThreshold) return false;
    const cap = rt.capacity.estimate();
    return cap.safeRps > 0 && latest.rps >= cap.safeRps * LOAD_DRIVEN_FACTOR;
  }

  private tripReason(rt: ClusterRuntime): string {
    const r = rt.combined.reasons;
    const head = r.length > 0 ? r.slice(0, 2).join("; ") : "anomalous";
    return rt.trip.hard ? head : `predicted: ${head} (${rt.trip.anomalous} of ${this.config.detector.m} windows)`;
  }

  private expireOverrides(nowMs: number, transitions: Transition[]): void {
    for (const [cluster, o] of this.overridesByCluster) {
      if (o.untilMs !== undefined && o.untilMs <= nowMs) {
        this.overridesByCluster.delete(cluster);
        const rt = this.runtime.get(cluster)!;
        if (rt.breaker.kind === "open") rt.breaker = { ...rt.breaker, until: Math.min(rt.breaker.until, nowMs) };
        transitions.push({ cluster, from: rt.breaker.kind, to: rt.breaker.kind, atMs: nowMs, reason: `override by ${o.actor} expired` });
      }
    }
  }

  private applyOverride(rt: ClusterRuntime, o: Override, nowMs: number, transitions: Transition[]): void {
    const reason = `override by ${o.actor}: ${o.reason}`;
    if (o.state === "open") {
      const until = o.untilMs ?? Infinity;
      if (rt.breaker.kind !== "open" || rt.breaker.reason !== reason || rt.breaker.until !== until) {
        const step = openBreaker(rt.spec.name, rt.breaker, nowMs, reason, this.config.breaker);
        if (rt.breaker.kind !== "open") transitions.push(step.transition!);
        rt.breaker = { ...(step.state as Extract<BreakerState, { kind: "open" }>), until };
      }
    } else if (o.state === "closed" && rt.breaker.kind !== "closed") {
      transitions.push({ cluster: rt.spec.name, from: rt.breaker.kind, to: "closed", atMs: nowMs, reason });
      rt.breaker = { kind: "closed", since: nowMs, openings: rt.breaker.openings };
      this.alarms.noteClosed(rt.spec.name, nowMs);
    }
  }

  /** Planner policy: a breaker opens on a severe failure rate, or when the last plan would cut
   *  the cluster below the floor. */
  private plannerTrip(rt: ClusterRuntime): boolean {
    if (rt.drainable) return true;
    return rt.trip.severe && worthOpening(this.roundClusters(), rt.spec.name, this.planConfig());
  }

  private planConfig(): PlanConfig {
    const w = this.config.weights;
    return { step: w.planStep, maxStep: w.planMaxStep, floor: w.probeFloorShare, z: this.config.detector.significanceZ, minGain: w.minGain, reversalRounds: w.reversalRounds, settleRounds: w.settleRounds };
  }

  /** The plain data a planner round needs of every cluster (planner/round-plan.ts). */
  private roundClusters(): RoundCluster[] {
    return [...this.runtime.values()].map((rt) => ({
      name: rt.spec.name,
      baseWeight: rt.spec.baseWeight,
      breaker: rt.breaker.kind,
      probeFraction: rt.breaker.kind === "half_open" ? rt.breaker.probeFraction : 1,
      previousShare: this.previousShare(rt.spec.name),
      history: rt.history,
      capacity: rt.capacity.estimate(),
      lastMove: rt.lastMove,
      forcedClosed: this.overridesByCluster.get(rt.spec.name)?.state === "closed",
    }));
  }

  /** Planner policy: the shares of this round; records each cluster's move, drainability and reason. */
  private plan(): Map<string, number> {
    const shares = new Map<string, number>();
    for (const [name, result] of planRound(this.roundClusters(), this.planConfig())) {
      const rt = this.runtime.get(name)!;
      rt.lastMove = result.lastMove;
      rt.drainable = result.drainable;
      if (result.reason !== undefined) rt.planReason = result.reason;
      shares.set(name, result.share);
    }
    return shares;
  }

  private build(nowMs: number, version: number): DecisionSet {
    const all = [...this.runtime.values()];
    // Every cluster open: route to all at base weights, as Envoy's panic mode routes to every
    // host when too few are healthy (planRound gives base shares then).
    const panic = all.every((rt) => rt.breaker.kind === "open");
    const shares = this.plannedShares ?? new Map(all.map((rt) => [rt.spec.name, rt.spec.baseWeight / this.baseTotal()]));
    const weights = sharesToWeights(shares, this.config.weights.totalWeight);
    const clusters: ClusterDecision[] = [...this.runtime.values()].map((rt) => {
      const b = rt.breaker;
      const weight = weights.get(rt.spec.name) ?? 0;
      // Published in coarse steps, and 0 below the alarm level, so noise does not make new versions.
      const risk = this.sustainedRisk(rt);
      const score = risk >= this.config.detector.scoreThreshold ? Math.round(risk * 4) / 4 : 0;
      if (panic && b.kind === "open" && !this.overridesByCluster.has(rt.spec.name)) {
        return { cluster: rt.spec.name, state: "closed", weight, probeFraction: 1, retryAfterS: 0, reason: "panic: every cluster looks bad, base weights", anomalyScore: score };
      }
      if (b.kind === "open") {
        const retryAfterS = Number.isFinite(b.until) ? Math.max(1, Math.ceil((b.until - b.since) / 1000)) : RETRY_AFTER_UNBOUNDED_S;
        return { cluster: rt.spec.name, state: "open", weight, probeFraction: 1, retryAfterS, reason: b.reason, anomalyScore: score };
      }
      if (b.kind === "half_open") {
        return { cluster: rt.spec.name, state: "half_open", weight, probeFraction: 1, retryAfterS: 0, reason: `probing (${b.healthyWindows} healthy windows)`, anomalyScore: score };
      }
      const override = this.overridesByCluster.get(rt.spec.name);
      const reason = override !== undefined ? `override by ${override.actor}: ${override.reason}` : rt.planReason;
      return { cluster: rt.spec.name, state: "closed", weight, probeFraction: 1, retryAfterS: 0, reason, anomalyScore: score };
    });
    if (clusters.every((c) => c.weight === 0)) {
      // A set must carry some weight: fall back to base weights (open states still refuse).
      for (const c of clusters) c.weight = Math.max(1, Math.round((this.runtime.get(c.cluster)!.spec.baseWeight / this.baseTotal()) * this.config.weights.totalWeight));
    }
    return {
      version,
      issuedAtMs: nowMs,
      ttlMs: this.config.decision.ttlMs,
      halted: this.halt.halted,
      haltReason: this.halt.halted ? `${this.halt.reason} (by ${this.halt.actor})` : "",
      clusters,
    };
  }

  private baseTotal(): number {
    return this.clusters.reduce((a, c) => a + c.baseWeight, 0);
  }

  private previousShare(cluster: string): number | undefined {
    const cur = this.current;
    if (cur === undefined) return undefined;
    const total = cur.clusters.reduce((a, c) => a + (c.state === "open" ? 0 : c.weight), 0);
    const c = cur.clusters.find((x) => x.cluster === cluster);
    if (c === undefined || total <= 0) return undefined;
    return c.state === "open" ? 0 : c.weight / total;
  }
}

