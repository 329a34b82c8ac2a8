// The control plane as one of several replicas (replicas/replica.ts drives it). A leader runs
// rounds and issues versions; a follower serves its sidecars the sets the leader publishes
// (adopt), applies the control changes other replicas committed (applyShared, shared-records.ts),
// mirrors the leader's trigger states and incidents, and publishes its own sidecar workers'
// progress for the others' halt and incident confirmations. lead() begins a term, stepDown()
// ends one. Every change of state is serialised with rounds (serial-queue.ts). Times are epoch
// ms of the injected clock.
import type { Logger } from "../../../lib/log.js";
import type { DecisionEngine } from "../core/decision-engine.js";
import type { ReplicaApi } from "../core/engine-replica.js";
import { remoteReachedAt, type PublishedWorker, type RemoteWorker } from "../core/halt/index.js";
import type { Incident } from "../core/incidents/index.js";
import type { SourceMonitor } from "../core/sources/index.js";
import type { SharedTriggerStates, TriggerEngine } from "../core/triggers/index.js";
import type { DecisionSet, PersistedState } from "../core/types.js";
import type { SidecarSession } from "../grpc/sidecar-session.js";
import type { IncidentTracker, TrackedWorker } from "../incident-tracker.js";
import type { DecisionRound } from "./decision-round.js";
import type { SharedControlRecord } from "./options.js";
import type { PublishedSet } from "./published-set.js";
import type { RunState } from "./run-state.js";
import type { SerialQueue } from "./serial-queue.js";
import { applySharedRecord, type SharedRecordDeps } from "./shared-records.js";

export interface ReplicaRoleDeps extends SharedRecordDeps {
  now(): number;
  /** The one writer of `leading`. */
  state: RunState;
  queue: Pick<SerialQueue, "run">;
  engine: SharedRecordDeps["engine"] & Pick<DecisionEngine, "generation"> & { replica: Pick<ReplicaApi, "beginTerm" | "takeover" | "mirror" | "advanceGeneration">; triggers: Pick<TriggerEngine, "adopt"> };
  sources: SharedRecordDeps["sources"] & Pick<SourceMonitor, "restore">;
  published: Pick<PublishedSet, "current" | "publish">;
  round: Pick<DecisionRound, "run" | "beginTerm">;
  incidents: Pick<IncidentTracker, "lead" | "follow" | "mirror" | "watchedVersions" | "remoteChanged" | "operatorHalted" | "operatorResumed" | "trigger">;
  /** This replica's connected sidecar workers (sidecar-streams.ts). */
  sidecarSessions(): SidecarSession[];
  /** publishedWorkers() is worth publishing again (ControlPlaneOptions.onWorkersChanged). */
  workersChanged(): void;
  log: Logger;
}

export class ReplicaRole {
  /** The sidecar workers of the other replicas, by their mesh-unique stream id. */
  private remote = new Map<string, RemoteWorker>();

  constructor(private readonly deps: ReplicaRoleDeps) {}

  /** The generation this control plane issues (or, following, would issue) versions in. */
  generation(): number {
    return this.deps.engine.generation(this.deps.now());
  }

  /**
   * Becomes the leader of a new term: versions continue in `generation` (claimed from the shared
   * store above every earlier one), the engine restarts from `shared` (the last published set,
   * or the one this replica serves when that is newer) and holds the breakers for `holdWindows`
   * windows; then a round runs. Resolves to the set in force.
   */
  lead(generation: number, shared: PersistedState, holdWindows: number): Promise<DecisionSet> {
    return this.deps.queue.run(async () => {
      const { engine, sources, published, log } = this.deps;
      const atMs = this.deps.now();
      const current = published.current;
      const decisions = shared.decisions === undefined || shared.decisions.version < current.version ? current : shared.decisions;
      this.deps.state.leading = true;
      const inForce = engine.replica.beginTerm(generation, { ...shared, decisions }, atMs, holdWindows);
      const { resumed, notResumed } = engine.replica.takeover;
      log.info(
        { generation, version: inForce.version, hold_windows: holdWindows, resumed_clusters: resumed, ...(notResumed.length === 0 ? {} : { not_resumed: notResumed }) },
        "leading: a new term",
      );
      this.deps.round.beginTerm(shared.triggerStates);
      // The source limits as etcd holds them (a change committed just before the last leader
      // died is in); those whose TTL passed are dropped. Each keeps its own until_ms.
      sources.restore(shared.sourceLimits ?? [], atMs);
      engine.setSourceLimits(sources.decisions(atMs));
      // The open incidents continue (the same ids, their confirmation watched again).
      this.deps.incidents.lead(shared.incidents ?? []);
      this.deps.workersChanged();
      // The shared store lacks this set (none was ever published, or this replica served a newer one).
      if (shared.decisions?.version !== inForce.version) published.publish(inForce, atMs);
      await this.deps.round.run();
      return published.current;
    });
  }

  /** Stops leading (the lease was lost or the shared store refused a fenced write). */
  stepDown(reason: string): Promise<void> {
    return this.deps.queue.run(async () => {
      if (!this.deps.state.leading) return;
      this.deps.state.leading = false;
      this.deps.incidents.follow();
      this.deps.workersChanged();
      this.deps.log.warn({ reason, version: this.deps.published.current.version }, "following: no longer the leader");
    });
  }

  /** A follower takes a set the leader published: pushed to every stream when newer than the
   *  one it serves. Resolves to whether it was taken. */
  adopt(decisions: DecisionSet): Promise<boolean> {
    return this.deps.queue.run(async () => {
      const { state, published } = this.deps;
      if (state.stopped || state.leading || decisions.version <= published.current.version) return false;
      const atMs = this.deps.now();
      this.deps.engine.replica.mirror(decisions, atMs);
      published.publish(decisions, atMs);
      return true;
    });
  }

  /**
   * A control change another replica committed to the shared store: applied as this replica's own
   * would be (shared-records.ts); the leader then runs a round, and opens or ends the incident a
   * halt, a resume or a clear by hand makes. A change that does not apply here is skipped.
   */
  applyShared(record: SharedControlRecord): Promise<void> {
    return this.deps.queue.run(async () => {
      if (this.deps.state.stopped) return;
      const outcome = applySharedRecord(record, this.deps.now(), this.deps);
      if (!outcome.applied) return;
      await this.deps.round.run();
      if (!this.deps.state.leading) return;
      const { incidents, published } = this.deps;
      if (record.kind === "halt") incidents.operatorHalted(record.actor, record.reason, record.mode ?? "drain", published.current);
      else if (record.kind === "resume") incidents.operatorResumed(record.actor, record.reason);
      else if (outcome.cleared !== undefined) incidents.trigger(outcome.cleared, published.current.version);
    });
  }

  /** A follower mirrors the leader's trigger states (GET /v1/triggers, a clear by hand here). */
  mirrorTriggers(states: SharedTriggerStates): Promise<void> {
    return this.deps.queue.run(async () => {
      if (!this.deps.state.leading && !this.deps.state.stopped) this.deps.engine.triggers.adopt(states);
    });
  }

  /** A follower mirrors an incident as the leader wrote it (GET /v1/incidents). */
  mirrorIncident(incident: Incident): void {
    if (this.deps.state.leading || this.deps.state.stopped) return;
    this.deps.incidents.mirror(incident);
    this.deps.workersChanged();
  }

  /** This replica's sidecar workers with their arrivals at the versions it watches (a halt's, an
   *  unconfirmed incident's), and, while one is watched, at the newest version each reached (a
   *  replica that began watching a halt later, e.g. started while it was in force, watches a later
   *  version of it): what the other replicas count in their confirmations. */
  publishedWorkers(): PublishedWorker[] {
    const versions = this.deps.incidents.watchedVersions();
    return this.deps.sidecarSessions().map((s) => {
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

  /** The other replicas' sidecar workers as the incident tracker counts them. */
  trackedRemoteWorkers(): TrackedWorker[] {
    return [...this.remote.values()].map((w) => ({ ...w, reachedAt: (v: number) => remoteReachedAt(w.reached, v) }));
  }

  /** The other replicas' sidecar workers as they now are (replicas/sidecar-presence.ts): the halt's
   *  and the incidents' confirmations count them with this replica's own. */
  setRemoteWorkers(workers: readonly RemoteWorker[]): void {
    const next = new Map(workers.map((w) => [w.streamId, w]));
    const departed = [...this.remote.keys()].filter((id) => !next.has(id));
    this.remote = next;
    this.deps.incidents.remoteChanged(departed, workers.flatMap((w) => w.reached.map((a) => ({ streamId: w.streamId, ...a }))));
  }

  /** The leader continues in `generation` when it is above its own (a replica registered a
   *  version there): the set in force is re-issued and pushed there. */
  advanceGeneration(generation: number): Promise<DecisionSet | undefined> {
    return this.deps.queue.run(async () => {
      if (this.deps.state.stopped || !this.deps.state.leading) return undefined;
      const atMs = this.deps.now();
      const decisions = this.deps.engine.replica.advanceGeneration(generation, atMs);
      if (decisions !== undefined) this.deps.published.publish(decisions, atMs);
      return decisions;
    });
  }
}
