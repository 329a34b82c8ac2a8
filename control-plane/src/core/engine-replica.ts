// The decision engine's replica side (control-plane/src/replicas/, service/replica-role.ts): a
// takeover's term, the assessment a successor continues from, a follower's mirror of its
// leader's breakers, and moving the versions to a new generation. Split out of
// decision-engine.ts as the operator's controls were (overrides.ts OperatorApi): the engine owns
// the cluster records and builds the sets; this object holds what a term adds to them (the
// takeover's hold, what it resumed) and reaches the engine's records through ReplicaHost.
// Pure, but for mutating those records (engine-takeover.ts does the taking over).
import type { AlarmFilter } from "./alarm-filter.js";
import { takeClusterAssessment, type Assessment } from "./assessment.js";
import { newClusterRuntime, type ClusterRuntime } from "./cluster-runtime.js";
import type { CoreConfig } from "./config.js";
import { mirrorBreakers, pinnedClusters, resumeFromAssessment } from "./engine-takeover.js";
import type { IssuedDecisions } from "./issued-decisions.js";
import type { OperatorControls } from "./overrides.js";
import type { ClusterSpec, DecisionSet, PersistedState } from "./types.js";

/** What the engine lends its replica side: its records and the steps it owns. */
export interface ReplicaHost {
  readonly clusters: readonly ClusterSpec[];
  /** Each cluster's record, by name (replaced afresh by a term). */
  readonly runtime: Map<string, ClusterRuntime>;
  readonly alarms: AlarmFilter;
  readonly controls: OperatorControls;
  readonly config: CoreConfig;
  readonly issued: IssuedDecisions;
  /** Restores persisted state: overrides, halt, triggers, breaker states (DecisionEngine.restore). */
  restore(state: PersistedState, nowMs: number): void;
  /** Forgets the shares planned so far: the next set starts from the restored split, or base. */
  forgetPlan(): void;
  /** The decision set `version` from the records as they are. */
  build(nowMs: number, version: number): DecisionSet;
  /** The set in force before any round (DecisionEngine.initialDecisions). */
  initialDecisions(nowMs: number): DecisionSet;
}

/** What the replicas ask of the engine (`engine.replica`). */
export interface ReplicaApi {
  /**
   * This engine leads from now on (a takeover). Its record of every cluster starts afresh from
   * `state` (the shared store's last published set, overrides and halt; what an earlier term of
   * this engine held is stale), versions continue in `generation` (claimed above every earlier
   * one), and for the next `holdWindows` windows no breaker steps unless an override acts: with
   * no history of its own the engine must not reverse the last leader's states. Returns the set
   * in force.
   */
  beginTerm(generation: number, state: PersistedState, nowMs: number, holdWindows: number): DecisionSet;
  /** After beginTerm: the clusters continued from the last leader's assessment, and why others
   *  were not (each "cluster: reason", or the whole assessment's). */
  readonly takeover: { resumed: readonly string[]; notResumed: readonly string[] };
  /** The compact assessment a successor would continue from (core/assessment.ts). */
  assessment(nowMs: number, version: number): Assessment;
  /** Versions continue in `generation` when it is above the one in use; returns the set in force
   *  re-issued there (issued-decisions.ts advance), undefined when not above. */
  advanceGeneration(generation: number, nowMs: number): DecisionSet | undefined;
  /** A follower mirrors the breaker states of the set the leader published
   *  (engine-takeover.ts mirrorBreakers). */
  mirror(decisions: DecisionSet, nowMs: number): void;
  /** Windows a takeover still holds the breakers for (0: they step as usual). */
  readonly heldWindows: number;
}

export class EngineReplica implements ReplicaApi {
  /** Windows the breakers are still held for after beginTerm. */
  private hold = 0;
  private resumed: string[] = [];
  private notResumed: string[] = [];

  constructor(private readonly host: ReplicaHost) {}

  beginTerm(generation: number, state: PersistedState, nowMs: number, holdWindows: number): DecisionSet {
    const { host } = this;
    for (const spec of host.clusters) {
      host.runtime.set(spec.name, newClusterRuntime(spec, host.config));
      host.alarms.reset(spec.name);
    }
    host.forgetPlan();
    host.restore(state, nowMs);
    const taken = state.assessment === undefined
      ? { resumed: [], notResumed: [] }
      : resumeFromAssessment(host.runtime, state.assessment, state.decisions, pinnedClusters(host.controls), host.alarms, nowMs, host.config);
    this.resumed = taken.resumed;
    this.notResumed = taken.notResumed;
    this.hold = holdWindows;
    return host.issued.beginTerm(generation, state.decisions, (version) => host.build(nowMs, version));
  }

  get takeover(): { resumed: readonly string[]; notResumed: readonly string[] } {
    return { resumed: this.resumed, notResumed: this.notResumed };
  }

  assessment(nowMs: number, version: number): Assessment {
    return { atMs: nowMs, version, clusters: [...this.host.runtime.values()].map((rt) => takeClusterAssessment(rt, this.host.alarms)) };
  }

  advanceGeneration(generation: number, nowMs: number): DecisionSet | undefined {
    this.host.initialDecisions(nowMs);
    return this.host.issued.advance(generation, nowMs);
  }

  mirror(decisions: DecisionSet, nowMs: number): void {
    mirrorBreakers(this.host.runtime, decisions, nowMs, this.host.config);
  }

  get heldWindows(): number {
    return this.hold;
  }

  /**
   * For the engine's round: whether the breakers are held in it (a takeover's hold not yet
   * over), counting the round's closed windows off the hold.
   */
  takeHold(windowsClosed: number): boolean {
    const held = this.hold > 0;
    this.hold = Math.max(0, this.hold - windowsClosed);
    return held;
  }
}
