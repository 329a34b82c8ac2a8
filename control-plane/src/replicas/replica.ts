// One of several control-plane replicas on etcd: opens the shared state, campaigns for
// leadership with a lease (election.ts, after etcd's Go client `concurrency/election.go`),
// and keeps the control plane (service.ts) in its role:
//   - leader: claims a generation above every earlier one (etcd-state.ts bumpGeneration), restarts
//     the engine from the shared state (holding breakers for a few windows), decides, and writes
//     each decision set fenced by its election key (a leader whose lease expired cannot write);
//   - follower: adopts every set the leader publishes and pushes it to its own sidecars, and
//     tells its telemetry forwarder where the leader is (the peer address in its election key).
// Every replica applies the operators' changes any replica commits (overrides, the halt, a rollback,
// a trigger cleared by hand: watched, in revision order); a follower mirrors the leader's trigger
// states, incidents and error-budget counts for its views, and continues them when it leads.
// Every replica publishes its sidecar workers for the others' halt confirmations, under its own
// lease, and counts theirs (sidecar-presence.ts).
// A leader that dies stops renewing its lease: etcd deletes its election key after etcd.lease_ttl_s,
// and the next candidate is elected.
import { Etcd3, type Watcher } from "etcd3";
import type { Logger } from "../../../lib/log.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { EtcdConfig } from "../config/etcd.js";
import { generationOf, startingGeneration } from "../core/decision-version.js";
import type { PersistedState } from "../core/types.js";
import type { ControlPlane } from "../service.js";
import { Candidacy } from "./election.js";
import { etcdClientOptions } from "./etcd-client.js";
import type { PersistedBudget } from "../core/error-budget/types.js";
import { EtcdDecisionHistory } from "./etcd-decision-history.js";
import { EtcdState, newerDecisions, type SharedChange } from "./etcd-state.js";
import { AppliedRevisions, controlKey, ReplicaStore } from "./replica-store.js";
import { SidecarPresence } from "./sidecar-presence.js";

/** Seconds between a lost or failed campaign and the next one. */
const RECAMPAIGN_DELAY_MS = 1000;

export type ReplicaRole = "starting" | "follower" | "leader" | "stopped";

export class Replica {
  private cp: ControlPlane | undefined;
  private watcher: Watcher | undefined;
  private leaderWatcher: Watcher | undefined;
  /** This replica's gRPC address as other replicas reach it (in its election key). */
  private peer = "";
  private onLeaderPeer: ((peer: string | undefined) => void) | undefined;
  private onBudget: ((budget: PersistedBudget) => void) | undefined;
  private leaderPeer: string | undefined;
  private campaign: Candidacy | undefined;
  /** This replica's sidecar workers in etcd, and the other replicas' (sidecar-presence.ts). */
  private presence: SidecarPresence | undefined;
  /** The generation this replica last claimed (the counter's value its own claim wrote). */
  private claimedGeneration = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** Watched control changes, judged one after another in revision order. */
  private controls: Promise<void> = Promise.resolve();
  private state: ReplicaRole = "starting";
  /** Terms this replica has led since it started. */
  terms = 0;

  private constructor(
    private readonly client: Etcd3,
    private readonly config: EtcdConfig,
    readonly shared: EtcdState,
    readonly store: ReplicaStore,
    /** The decision sets published, for a rollback on any replica (etcd-decision-history.ts). */
    readonly history: EtcdDecisionHistory,
    private readonly applied: AppliedRevisions,
    private readonly snapshotRevision: number,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /**
   * Connects to etcd and reads the shared state. The control plane is then built on `store`,
   * restored from `restored` (the shared state; the local audit log's decision set when that is
   * newer, e.g. a single-process past), and handed to start(). Rejects naming the endpoints when
   * etcd cannot be read within etcd.dial_timeout_ms, and with ConfigError when an etcd.tls file
   * cannot be read or used.
   */
  static async open(config: EtcdConfig, options: { local?: AuditLog; logger: Logger; now: () => number }): Promise<{ replica: Replica; restored: PersistedState }> {
    const client = new Etcd3(await etcdClientOptions(config));
    const shared = new EtcdState(client, config.prefix, config.replicaId);
    let snapshot;
    try {
      snapshot = await withTimeout(shared.load(), config.dialTimeoutMs, `etcd: cannot read the shared state from ${config.endpoints.join(", ")} within ${config.dialTimeoutMs} ms`);
    } catch (error) {
      client.close();
      throw error;
    }
    for (const problem of snapshot.problems) options.logger.warn({ problem }, "etcd: a damaged shared value was skipped");
    const decisions = newerDecisions(snapshot.state.decisions, options.local?.restored?.decisions);
    const restored: PersistedState = { ...snapshot.state, ...(decisions === undefined ? {} : { decisions }) };
    const applied = new AppliedRevisions();
    const history = new EtcdDecisionHistory(client, config.prefix);
    let replica: Replica | undefined;
    const store = new ReplicaStore({
      shared,
      history,
      restored,
      ...(options.local === undefined ? {} : { local: options.local }),
      applied,
      commitTimeoutMs: config.commitTimeoutMs,
      onFenced: () => replica?.lose(new Error("a fenced write was refused: the election key is gone")),
      logger: options.logger.child({ part: "etcd" }),
    });
    replica = new Replica(client, config, shared, store, history, applied, snapshot.revision, options.logger.child({ part: "replica", replica: config.replicaId }), options.now);
    return { replica, restored };
  }

  get role(): ReplicaRole {
    return this.state;
  }

  /**
   * Registers the generation of the set `cp` serves (so every later leader term starts above it),
   * watches the shared state and campaigns. `cp` must be built on this.store with follower: true.
   * `onBudget`: error-budget buckets the leader committed (a follower's monitor mirrors them).
   */
  async start(
    cp: ControlPlane,
    options: { peer?: string; onLeaderPeer?: (peer: string | undefined) => void; onBudget?: (budget: PersistedBudget) => void } = {},
  ): Promise<void> {
    this.cp = cp;
    this.peer = options.peer ?? "";
    this.onLeaderPeer = options.onLeaderPeer;
    this.onBudget = options.onBudget;
    await this.shared.bumpGeneration(generationOf(cp.currentDecisions().version));
    this.watcher = await this.shared.watch(
      this.snapshotRevision + 1,
      (change) => this.onChange(change),
      (problem) => this.log.warn({ problem }, "etcd: shared state problem"),
    );
    this.state = "follower";
    const presence = new SidecarPresence({
      client: this.client,
      prefix: this.config.prefix,
      replicaId: this.config.replicaId,
      ttlS: this.config.leaseTtlS,
      workers: () => cp.publishedWorkers(),
      onRemote: (workers) => cp.setRemoteWorkers(workers),
      logger: this.log,
    });
    this.presence = presence;
    await presence.start();
    this.leaderWatcher = await this.client.watch().prefix(this.electionPrefix()).create();
    this.leaderWatcher.on("put", () => void this.observeLeader());
    this.leaderWatcher.on("delete", () => void this.observeLeader());
    await this.observeLeader();
    this.runCampaign();
  }

  private electionPrefix(): string {
    return `${this.config.prefix}election/leader/`;
  }

  /** Reads who leads (the oldest election key) and hands a follower the leader's peer address. */
  private async observeLeader(): Promise<void> {
    if (this.state === "stopped") return;
    try {
      const response = await this.client.getAll().prefix(this.electionPrefix()).sort("Create", "Ascend").limit(1).exec();
      const kv = response.kvs[0];
      let peer: string | undefined;
      if (kv !== undefined) {
        try {
          const value = JSON.parse(kv.value.toString("utf8")) as { peer?: unknown };
          if (typeof value.peer === "string" && value.peer !== "") peer = value.peer;
        } catch {
          this.log.warn({ key: kv.key.toString("utf8") }, "etcd: an election key's value is not JSON; its peer address is unknown");
        }
      }
      const target = peer === this.peer ? undefined : peer;
      if (target === this.leaderPeer) return;
      this.leaderPeer = target;
      this.onLeaderPeer?.(target);
    } catch (err) {
      this.log.warn({ err }, "etcd: could not read who leads");
    }
  }

  /** The control plane's sidecar workers changed (service.ts onWorkersChanged): published shortly. */
  workersChanged(): void {
    this.presence?.changed();
  }

  /** A follower's sidecar enforces `held`: register its generation, so the leader continues above it. */
  registerVersion(held: number): void {
    void this.shared.bumpGeneration(generationOf(held)).catch((err: unknown) => this.log.warn({ err }, "etcd: could not register a sidecar's version"));
  }

  /** Leaves the election (the lease is revoked: another replica takes over at once) and closes
   *  the etcd client. Stop the control plane first, so its last writes are flushed. */
  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    const campaign = this.campaign;
    this.campaign = undefined;
    this.store.fenceKey = undefined;
    await this.watcher?.cancel().catch(() => undefined);
    await this.leaderWatcher?.cancel().catch(() => undefined);
    await this.presence?.stop();
    await campaign?.resign().catch(() => undefined);
    this.client.close();
  }

  /** Tests: a crash. The etcd client is closed without leaving the election, so the lease
   *  expires only after its TTL, as when the process is killed. */
  abandon(): void {
    this.state = "stopped";
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.campaign?.release();
    this.campaign = undefined;
    this.store.fenceKey = undefined;
    this.presence?.abandon();
    void this.watcher?.cancel().catch(() => undefined);
    void this.leaderWatcher?.cancel().catch(() => undefined);
    this.client.close();
  }

  private runCampaign(): void {
    if (this.state === "stopped") return;
    const value = JSON.stringify({ id: this.config.replicaId, peer: this.peer });
    const campaign: Candidacy = new Candidacy(this.client, this.config.prefix, value, this.config.leaseTtlS, {
      onElected: () => void this.serialised(() => this.takeOver(campaign)).catch((err: unknown) => this.lose(err, campaign)),
      onLost: (err) => this.lose(err, campaign),
    });
    this.campaign = campaign;
    campaign.run().catch((err: unknown) => this.lose(err, campaign));
  }

  /** Elected: claims a generation for the term and makes the control plane lead. */
  private async takeOver(campaign: Candidacy): Promise<void> {
    if (campaign !== this.campaign) return;
    const cp = this.cp!;
    const fenceKey = campaign.key!;
    const snapshot = await this.shared.load();
    const newest = newerDecisions(snapshot.state.decisions, cp.currentDecisions())!;
    const claimed = await this.shared.bumpGeneration(startingGeneration(newest.version, this.now()), fenceKey);
    if (claimed === undefined || campaign !== this.campaign) throw new Error("the election key was gone before the term began");
    this.claimedGeneration = claimed.generation;
    this.store.fenceKey = fenceKey;
    this.state = "leader";
    this.terms++;
    this.log.info({ generation: claimed.generation }, "elected: leading");
    this.store.knowIncidents(snapshot.state.incidents ?? []);
    // The error budgets as etcd holds them (the period's hours and the alert windows' minutes):
    // the last leader's final writes may have been committed after this replica's watch last
    // delivered (a leader's monitor takes no more of them).
    for (const budget of [snapshot.state.errorBudget, snapshot.state.burnWindows]) if (budget !== undefined) this.onBudget?.(budget);
    await cp.lead(claimed.generation, snapshot.state, this.config.takeoverHoldWindows);
    // A clear by hand committed just before the last leader could apply it: applied now when the
    // firing it names is still in force (otherwise skipped).
    for (const clear of snapshot.triggerClears) await cp.applyShared(clear);
  }

  /** Leadership is lost or the campaign failed: follow, and campaign again after a pause. */
  private lose(error: unknown, campaign: Candidacy | undefined = this.campaign): void {
    if (campaign === undefined || campaign !== this.campaign || this.state === "stopped") return;
    this.campaign = undefined;
    this.store.fenceKey = undefined;
    const wasLeader = this.state === "leader";
    this.state = "follower";
    const reason = error instanceof Error ? error.message : String(error);
    this.log.warn({ reason, was_leader: wasLeader }, "campaign ended; campaigning again");
    void this.cp?.stepDown(reason);
    void campaign.resign().catch(() => undefined);
    this.retryTimer = setTimeout(() => this.runCampaign(), RECAMPAIGN_DELAY_MS);
    this.retryTimer.unref();
  }

  private onChange(change: SharedChange): void {
    const cp = this.cp;
    if (cp === undefined) return;
    switch (change.kind) {
      case "decisions":
        if (!cp.isLeading) void cp.adopt(change.record.decisions);
        return;
      case "control": {
        // In revision order, once this replica's own commits in flight are answered: a change
        // older than what a key holds (this replica's own included) is not applied again. The
        // control plane applies them in the order they are handed over, after its own calls.
        const record = change.record;
        this.controls = this.controls
          .then(() => this.store.controlsSettled())
          .then(() => {
            if (this.applied.advance(controlKey(record), change.revision)) void cp.applyShared(record);
          })
          .catch((err: unknown) => this.log.warn({ err }, "could not apply a shared change"));
        return;
      }
      case "assessment":
        // Read by a replica when it takes over (shared.load), not while following.
        return;
      case "triggers":
        // The leader's own writes come back too: a leader keeps its own states.
        void cp.mirrorTriggers(change.states);
        return;
      case "incident":
        cp.mirrorIncident(change.incident);
        return;
      case "budget":
        if (!cp.isLeading) this.onBudget?.(change.budget);
        return;
      case "generation":
        // Another replica raised the counter above the leader's claim (it serves, or a sidecar of
        // it enforces, a version there): continue above it. Judged in the chain, after any claim
        // of this replica's own has completed, so its own write is never taken for another's.
        void this.serialised(async () => {
          if (cp.isLeading && change.generation > this.claimedGeneration) await this.advance();
        }).catch((err: unknown) => this.log.warn({ err }, "could not move to a new generation"));
        return;
    }
  }

  private async advance(): Promise<void> {
    const fenceKey = this.store.fenceKey;
    if (fenceKey === undefined || this.cp === undefined) return;
    const claimed = await this.shared.bumpGeneration(this.cp.generation() + 1, fenceKey);
    if (claimed === undefined) {
      this.lose(new Error("the election key is gone"));
      return;
    }
    this.claimedGeneration = claimed.generation;
    const decisions = await this.cp.advanceGeneration(claimed.generation);
    this.log.info({ generation: claimed.generation, version: decisions?.version }, "continuing in a new generation above a registered version");
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(new Error(`${message}: ${error instanceof Error ? error.message : String(error)}`));
      },
    );
  });
}
