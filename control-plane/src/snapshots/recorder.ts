// Takes fault snapshots as things happen: a breaker opening (a 'transition' to open), a trigger
// firing, a halt starting, or an operator asking (capture()). Each is captured at once, from the
// state the control plane holds at that moment (./builder.ts), and saved twice under the same id:
// at once, incomplete (so a crash, a stop or a cluster whose windows stop coming still leaves the
// evidence), and again once `windowsAfter` windows of its cluster have closed since (complete,
// with those windows and the state then). One snapshot per cluster per moment: a trigger that
// opens a cluster in the round its breaker opens links to the breaker's snapshot.
//
// Never in the decision loop's way: the listeners only capture plain data (the control plane's
// status views, O(clusters × windows + sidecars)); serialising and writing run later, one at a
// time, from a bounded queue (a snapshot that does not fit is dropped and counted). A write that
// fails is logged and counted; nothing is thrown into the control plane.
import type { Logger } from "../../../lib/log.js";
import type { ControlPlaneEvents, HaltEvent, Transition } from "../core/types.js";
import type { TriggerEvent } from "../core/triggers/index.js";
import { captureSnapshot, completeSnapshot, windowsSinceCapture, type SnapshotFacts } from "./builder.js";
import { scrubSnapshotText } from "./redact.js";
import type { SnapshotStore } from "./store.js";
import { snapshotId, type Snapshot, type SnapshotCause, type SnapshotSummary } from "./types.js";

/** The events the recorder follows (ControlPlane satisfies it). */
export interface SnapshotEvents {
  on<K extends keyof ControlPlaneEvents>(event: K, listener: (event: ControlPlaneEvents[K]) => void): () => void;
}

/** Outcomes the recorder reports (metrics; ./metrics.ts). */
export interface SnapshotHooks {
  written?(): void;
  failed?(reason: "write" | "queue_full"): void;
}

export interface SnapshotRecorderOptions {
  store: SnapshotStore;
  /** The control plane's state now (time included). */
  facts(): SnapshotFacts;
  /** The configuration, secrets redacted (./redact.ts redactedConfig). */
  config: Record<string, unknown>;
  /** Secret values scrubbed from every file as a last guard (./redact.ts secretValues). */
  secrets: readonly string[];
  windowsBefore: number;
  windowsAfter: number;
  logger: Logger;
  hooks?: SnapshotHooks;
  /** Snapshots waiting to be written at most (default 32). */
  queueLimit?: number;
  /** Snapshots waiting for their windows after at most (default 16); beyond, the oldest is saved incomplete. */
  pendingLimit?: number;
}

interface QueuedWrite {
  snapshot: Snapshot;
  waiters: { resolve(): void; reject(error: Error): void }[];
}

/** Transitions remembered for the dashboard's links to their snapshots. */
const LINKS_KEPT = 200;

export class SnapshotRecorder {
  private seq = 0;
  /** Captured, waiting for their windows after (by id). */
  private readonly pending = new Map<string, Snapshot>();
  /** Waiting to be written (by id; a newer version of a snapshot replaces a waiting one). */
  private readonly queue = new Map<string, QueuedWrite>();
  private writing: Promise<void> | undefined;
  /** "cluster@atMs" -> snapshot id, for the snapshot of a moment (dedup and the dashboard's links). */
  private readonly byMoment = new Map<string, string>();
  /** Causes given an id, captured at the end of their round. */
  private due: { id: string; cause: SnapshotCause }[] = [];
  private closed = false;

  constructor(private readonly options: SnapshotRecorderOptions) {
    // Numbers go on from the snapshots kept, so a restart within the same millisecond cannot reuse an id.
    this.seq = Math.max(0, ...options.store.list().map((s) => Number(s.id.split("-").at(-1))));
  }

  /**
   * Follows breaker openings, fired triggers, halts and rounds; returns the function that stops.
   * A cause is given its id when it happens (the dashboard links the transition to it at once) and
   * captured at the end of its decision round ('round'), so the snapshot holds the decision set
   * that round published (a breaker opening's own).
   */
  bind(events: SnapshotEvents): () => void {
    const offs = [
      events.on("transition", (t: Transition) => {
        if (t.to === "open") this.reserve({ kind: "breaker_open", cluster: t.cluster, reason: t.reason, actor: "", trigger: "" }, t.atMs);
      }),
      events.on("trigger", (e: TriggerEvent) => {
        if (e.kind !== "fired") return;
        const cluster = e.action.kind === "open" ? e.action.cluster : e.action.kind === "shed" ? (e.action.cluster ?? "") : "";
        this.reserve({ kind: "trigger_fired", cluster, reason: e.values.reason, actor: "", trigger: e.trigger }, e.atMs);
      }),
      events.on("halt", (h: HaltEvent) => {
        if (h.halted) this.reserve({ kind: "halt", cluster: "", reason: h.reason, actor: h.actor, trigger: "" }, h.atMs);
      }),
      events.on("round", (r) => {
        if (this.due.length > 0) this.captureDue();
        if (r.windowsClosed > 0 && this.pending.size > 0) this.completeDue();
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  /**
   * Captures a snapshot now and queues its first write; resolves to its summary once written,
   * rejects when it cannot be (the admin API's POST /v1/snapshots waits for it).
   */
  capture(cause: SnapshotCause): Promise<SnapshotSummary> {
    if (this.closed) return Promise.reject(new Error("the snapshot recorder is closed"));
    const facts = this.options.facts();
    const snapshot = this.take(snapshotId(facts.atMs, cause.kind, ++this.seq), cause, facts);
    return this.enqueue(snapshot, true).then(() => this.options.store.list().find((s) => s.id === snapshot.id) ?? summaryOf(snapshot));
  }

  /** The id of the snapshot taken for the transition of `cluster` at `atMs` (the dashboard's link). */
  forTransition(cluster: string, atMs: number): string | undefined {
    return this.byMoment.get(`${cluster}@${atMs}`);
  }

  /** Saves every snapshot not yet saved or not complete as it stands and waits for every write. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.due.length > 0) this.captureDue();
    this.closed = true;
    if (this.pending.size > 0) {
      const facts = this.options.facts();
      for (const snapshot of this.pending.values()) void this.enqueue(completeSnapshot(snapshot, facts, this.options.windowsAfter), false);
      this.pending.clear();
    }
    while (this.writing !== undefined) await this.writing;
  }

  /** Gives a cause its id at `atMs` (one per cluster and moment), to be captured at the round's end. */
  private reserve(cause: SnapshotCause, atMs: number): void {
    if (this.closed) return;
    const moment = `${cause.cluster}@${atMs}`;
    if (this.byMoment.has(moment)) return;
    const id = snapshotId(atMs, cause.kind, ++this.seq);
    this.byMoment.set(moment, id);
    if (this.byMoment.size > LINKS_KEPT) this.byMoment.delete(this.byMoment.keys().next().value!);
    this.due.push({ id, cause });
  }

  private captureDue(): void {
    const due = this.due.splice(0);
    let facts: SnapshotFacts;
    try {
      facts = this.options.facts();
    } catch (error) {
      this.options.logger.error({ err: (error as Error).message, lost: due.map((d) => d.id) }, "snapshot capture failed");
      for (const _ of due) this.options.hooks?.failed?.("write");
      return;
    }
    for (const { id, cause } of due) void this.enqueue(this.take(id, cause, facts), false);
  }

  private take(id: string, cause: SnapshotCause, facts: SnapshotFacts): Snapshot {
    const snapshot = captureSnapshot(id, cause, facts, { windowsBefore: this.options.windowsBefore, config: this.options.config });
    this.pending.set(id, snapshot);
    const limit = this.options.pendingLimit ?? 16;
    if (this.pending.size > limit) {
      const [oldestId, oldest] = this.pending.entries().next().value!;
      this.pending.delete(oldestId);
      void this.enqueue(completeSnapshot(oldest, facts, this.options.windowsAfter), false);
    }
    this.options.logger.info({ id, cause: cause.kind, cluster: cause.cluster, reason: cause.reason }, "fault snapshot taken");
    return snapshot;
  }

  /** After a round that closed windows: completes the snapshots whose windows after are in. */
  private completeDue(): void {
    const facts = this.options.facts();
    for (const [id, snapshot] of this.pending) {
      if (windowsSinceCapture(snapshot, facts.clusters) < this.options.windowsAfter) continue;
      this.pending.delete(id);
      void this.enqueue(completeSnapshot(snapshot, facts, this.options.windowsAfter), false);
    }
  }

  /**
   * Queues a write; `wait`: `done` rejects when it fails (else failures are only logged and
   * counted). Not `accepted`: the queue was full, the snapshot is dropped (counted) and no longer
   * awaited for completion.
   */
  private enqueue(snapshot: Snapshot, wait: boolean): Promise<void> {
    let accepted = true;
    const done = new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject: wait ? reject : () => resolve() };
      const queued = this.queue.get(snapshot.id);
      if (queued !== undefined) {
        queued.snapshot = snapshot;
        queued.waiters.push(waiter);
        return;
      }
      if (this.queue.size >= (this.options.queueLimit ?? 32)) {
        accepted = false;
        this.options.logger.error({ id: snapshot.id, queued: this.queue.size }, "snapshot dropped: too many waiting to be written");
        this.options.hooks?.failed?.("queue_full");
        waiter.reject(new Error("too many snapshots waiting to be written"));
        return;
      }
      this.queue.set(snapshot.id, { snapshot, waiters: [waiter] });
    });
    if (!accepted) {
      this.pending.delete(snapshot.id);
      return done;
    }
    this.writing ??= this.drain().finally(() => {
      this.writing = undefined;
    });
    return done;
  }

  private async drain(): Promise<void> {
    // Let the listener that queued return first: the write never runs inside the decision round.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (let next = this.queue.entries().next(); !next.done; next = this.queue.entries().next()) {
      const [id, item] = next.value;
      this.queue.delete(id);
      try {
        const text = scrubSnapshotText(JSON.stringify(item.snapshot, null, 1), this.options.secrets);
        const removed = await this.options.store.save(item.snapshot, text);
        if (removed.length > 0) this.options.logger.info({ removed }, "old snapshots removed (snapshot cap)");
        this.options.hooks?.written?.();
        for (const w of item.waiters) w.resolve();
      } catch (error) {
        const message = (error as Error).message;
        this.options.logger.error({ id, dir: this.options.store.dir, err: message }, "snapshot could not be written");
        this.options.hooks?.failed?.("write");
        for (const w of item.waiters) w.reject(new Error(`snapshot ${id} could not be written: ${message}`));
      }
    }
  }
}

function summaryOf(s: Snapshot): SnapshotSummary {
  return { id: s.id, taken_at_ms: s.taken_at_ms, cause: s.cause.kind, cluster: s.cause.cluster, reason: s.cause.reason, complete: s.complete, bytes: 0 };
}
