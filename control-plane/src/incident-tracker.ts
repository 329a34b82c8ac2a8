// The control plane's incidents and the confirmation of its halts: glue between the pure cores
// (core/incidents/, core/halt/) and the control plane (service.ts), which tells it what happens
// (a set published, a halt, a resume, a trigger firing or clearing, a worker reaching a version,
// a report's local rejects) and gives it the connected workers and the audit log. Every change
// of an incident is appended to the audit log as a whole (kind "incident"). Times are epoch ms
// of the injected clock; only awaitHalt() waits on a real timer (an HTTP request's wait_s).
import type { Logger } from "../../lib/log.js";
import { keepIncident, type AuditRecord } from "./audit/records.js";
import type { Capability } from "./core/capabilities.js";
import { ConfirmationWatch, confirmationSettled, confirmationStatus, type Arrival, type ConfirmationStatus, type WorkerProgress } from "./core/halt/index.js";
import { IncidentBook, type Incident } from "./core/incidents/index.js";
import type { TriggerEvent } from "./core/triggers/types.js";
import type { DecisionSet, HaltMode, WorkerClusterWindow } from "./core/types.js";

/** A connected worker as the tracker needs it. */
export interface TrackedWorker extends Omit<WorkerProgress, "confirmedAtMs"> {
  /** When it first reached `version` or above (acknowledged or enforced), if it has. */
  reachedAt(version: number): number | undefined;
}

export interface IncidentTrackerDeps {
  now(): number;
  workers(): TrackedWorker[];
  record(record: AuditRecord): void;
  logger: Logger;
  /** Every configured cluster. */
  clusters: readonly string[];
  /** Default wait for confirmation of a halt, ms (halt.confirm_wait_s). */
  confirmWaitMs: number;
}

/** GET /v1/halt: the halt in force and which workers confirmed it. */
export type HaltStatus =
  | { halted: false }
  | { halted: true; mode: HaltMode; reason: string; version: number; confirmation: ConfirmationStatus };

export class IncidentTracker {
  private readonly book: IncidentBook;
  /** The halt in force: the first version that halted (in this mode) and who reached it. */
  private halt: { watch: ConfirmationWatch; mode: HaltMode; reason: string } | undefined;
  /** Open incidents not confirmed yet, by id. */
  private readonly watches = new Map<string, ConfirmationWatch>();
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly deps: IncidentTrackerDeps,
    restored: readonly Incident[] = [],
    /** One of several replicas that follows: the incidents are the leader's, mirrored (mirror()),
     *  never changed or recorded here until lead(). */
    private following = false,
  ) {
    this.book = new IncidentBook(deps.clusters);
    this.book.restore(restored);
    if (!following) this.watchOpen();
  }

  /** Replicas: this control plane leads; the incidents continue from `incidents` (the shared
   *  store's), the open ones' confirmation watched again. */
  lead(incidents: readonly Incident[]): void {
    this.following = false;
    this.book.restore(incidents);
    this.watches.clear();
    this.watchOpen();
    this.settle();
  }

  /** Replicas: no longer the leader; the incidents are mirrored from now on. */
  follow(): void {
    this.following = true;
    this.watches.clear();
  }

  /** Replicas (following): an incident as the leader wrote it replaces this one's copy. */
  mirror(incident: Incident): void {
    if (!this.following) return;
    this.book.restore(keepIncident(this.book.list(), incident));
  }

  private watchOpen(): void {
    for (const i of this.book.open()) if (i.confirmedAtMs === undefined) this.watches.set(i.id, new ConfirmationWatch(i.version, this.deps.now(), requiredCapability(i)));
  }

  list(): Incident[] {
    return this.book.list();
  }

  get(id: string): Incident | undefined {
    return this.book.get(id);
  }

  /** A decision set became the one in force (`previous` was): a halt starts or changes mode. */
  published(set: DecisionSet, previous: DecisionSet | undefined): void {
    const mode = set.haltMode ?? "drain";
    if (!set.halted) this.halt = undefined;
    else if (this.halt === undefined || previous === undefined || !previous.halted || (previous.haltMode ?? "drain") !== mode) {
      this.halt = { watch: this.watch(set.version, mode === "immediate" ? "halt_immediate" : undefined), mode, reason: set.haltReason };
    } else this.halt.reason = set.haltReason;
    this.settle();
  }

  /** An operator halted the mesh; `set` is the resulting decision set. */
  operatorHalted(actor: string, reason: string, mode: HaltMode, set: DecisionSet): void {
    const { incident, opened } = this.book.openHalt(actor, reason, mode, set.version, this.deps.now());
    if (opened || incident.confirmedAtMs === undefined) this.watches.set(incident.id, this.watch(incident.version, requiredCapability(incident)));
    this.store(incident);
    this.settle(); // the workers may have acknowledged the version already
  }

  operatorResumed(actor: string, reason: string): void {
    const ended = this.book.endHalt(actor, reason, this.deps.now());
    if (ended === undefined) return;
    this.watches.delete(ended.id);
    this.store(ended);
  }

  /** A trigger fired (`version`: the set carrying its action) or cleared. */
  trigger(event: TriggerEvent, version: number): void {
    // A source limit refuses one client, not a cluster: its record is the source_limit audit record.
    if (event.action.kind === "limit_source") return;
    if (event.kind === "fired") {
      const incident = this.book.openTrigger(event, version);
      this.watches.set(incident.id, this.watch(version, requiredCapability(incident)));
      this.store(incident);
      this.settle();
      return;
    }
    const ended = this.book.endTrigger(event);
    if (ended === undefined) return;
    this.watches.delete(ended.id);
    this.store(ended);
  }

  /** A worker acknowledged or enforces `version`. */
  progress(streamId: string, version: number, atMs: number): void {
    let changed = this.halt?.watch.observe(streamId, version, atMs) ?? false;
    for (const w of this.watches.values()) changed = w.observe(streamId, version, atMs) || changed;
    if (changed) this.settle();
  }

  /** A worker's stream ended: it no longer counts (for or against). */
  departed(streamId: string): void {
    this.halt?.watch.forget(streamId);
    for (const w of this.watches.values()) w.forget(streamId);
    this.settle();
  }

  /** Replicas: other replicas' workers changed (deps.workers() lists them now): `departed` left,
   *  `arrivals` are what each reached of the watched versions. Settles once. */
  remoteChanged(departed: readonly string[], arrivals: readonly (Arrival & { streamId: string })[]): void {
    const watches = [...(this.halt === undefined ? [] : [this.halt.watch]), ...this.watches.values()];
    for (const w of watches) {
      for (const id of departed) w.forget(id);
      for (const a of arrivals) w.observe(a.streamId, a.version, a.atMs);
    }
    this.settle();
  }

  /** The versions whose arrivals this replica's workers must publish for the other replicas
   *  (replicas/sidecar-presence.ts): the halt in force, the incidents being confirmed here, and,
   *  following, the open incidents the leader has not confirmed yet. Ascending. */
  watchedVersions(): number[] {
    const versions = new Set<number>();
    if (this.halt !== undefined) versions.add(this.halt.watch.version);
    for (const w of this.watches.values()) versions.add(w.version);
    for (const i of this.book.open()) if (i.confirmedAtMs === undefined) versions.add(i.version);
    return [...versions].sort((a, b) => a - b);
  }

  /** An admitted report's windows: their local rejects count for the open incidents. */
  rejects(clusters: readonly WorkerClusterWindow[]): void {
    this.book.countRejects(clusters);
  }

  haltStatus(waitMs = this.deps.confirmWaitMs, waitEnded = false): HaltStatus {
    const h = this.halt;
    if (h === undefined) return { halted: false };
    return { halted: true, mode: h.mode, reason: h.reason, version: h.watch.version, confirmation: this.status(h.watch, waitMs, waitEnded) };
  }

  /** Resolves when every connected worker confirmed the halt in force (or none is halted), or
   *  after waitMs of real time: then whoever has not confirmed is listed as unconfirmed.
   *  `untilHalted`: not halted yet is not settled (a follower replica answering a halt it
   *  committed waits, within waitMs, for the leader's halting set to reach it). */
  awaitHalt(waitMs: number, untilHalted = false): Promise<HaltStatus> {
    const settled = (): boolean => {
      const s = this.haltStatus(waitMs);
      return s.halted ? confirmationSettled(s.confirmation) : !untilHalted;
    };
    if (settled() || waitMs <= 0) return Promise.resolve(this.haltStatus(waitMs));
    return new Promise((resolve) => {
      const done = (ended: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.haltStatus(waitMs, ended));
      };
      const check = (): void => {
        if (settled()) done(false);
      };
      const timer = setTimeout(() => done(true), waitMs);
      this.waiters.add(check);
    });
  }

  private status(watch: ConfirmationWatch, waitMs: number, waitEnded: boolean): ConfirmationStatus {
    const workers: WorkerProgress[] = this.deps.workers().map((w) => {
      const at = watch.arrivedAt(w.streamId);
      return { streamId: w.streamId, nodeId: w.nodeId, workerId: w.workerId, capabilities: w.capabilities, ...(at === undefined ? {} : { confirmedAtMs: at }) };
    });
    return confirmationStatus({ watch, workers, nowMs: this.deps.now(), waitMs, waitEnded });
  }

  /** A watch of `version` from now, seeded with the workers that already reached it. */
  private watch(version: number, requires: Capability | undefined): ConfirmationWatch {
    const watch = new ConfirmationWatch(version, this.deps.now(), requires);
    for (const w of this.deps.workers()) {
      const at = w.reachedAt(version);
      if (at !== undefined) watch.observe(w.streamId, version, at);
    }
    return watch;
  }

  /** Confirms the incidents every connected worker confirmed, and wakes the waiters. */
  private settle(): void {
    for (const [id, watch] of [...this.watches]) {
      const s = this.status(watch, Infinity, false);
      if (s.state !== "confirmed" && s.state !== "confirmed_partly") continue;
      const confirmations = [...s.confirmed, ...s.cannot.filter((c) => c.at_ms !== null)].map((c) => ({ nodeId: c.node_id, workerId: c.worker_id, atMs: c.at_ms! }));
      const incident = this.book.confirm(id, s.confirmed_at_ms!, confirmations, s.cannot.map((c) => `${c.node_id}/${c.worker_id}`));
      this.watches.delete(id);
      if (incident === undefined) continue;
      this.deps.logger.info({ incident: id, confirmed_at_ms: incident.confirmedAtMs, workers: confirmations.length, cannot: incident.cannotEnforce.length }, "every connected sidecar confirmed the incident's decisions");
      this.store(incident);
    }
    for (const check of [...this.waiters]) check();
  }

  private store(incident: Incident): void {
    if (this.following) return;
    this.deps.record({ kind: "incident", atMs: this.deps.now(), incident });
  }
}

/** What a worker must enforce for the incident's decision version to count as confirmed. */
function requiredCapability(i: Incident): Capability | undefined {
  if (i.mode === "immediate") return "halt_immediate";
  return i.action?.kind === "shed" ? "shed" : undefined;
}
