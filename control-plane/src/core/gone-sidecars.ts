// Sidecar workers that were connected and are gone: their stream ended after a hello, and no
// stream of the same worker (node id and worker id) is connected. Such a worker keeps serving
// traffic on its own: it enforces the last decision set until its TTL, then its local breakers
// and base weights (its fallback; README "The control plane dies"). The control plane cannot
// see what it does any more, so the admin API and the dashboard list it, with why its stream
// ended and when it was last seen.
//
// Bounded memory: at most `maxEntries` workers (the oldest departure is forgotten first) and
// each for at most `retainMs` after it left (a worker scaled away for good drops off the list
// then). A worker that says hello again leaves the list at once. Times are epoch ms; the
// caller passes the time (no clock here).
import type { SidecarStatus } from "./types.js";

/** What the control plane last knew of a worker whose stream ended. */
export interface GoneSidecar {
  nodeId: string;
  zone: string;
  workerId: number;
  instanceId: string;
  filterVersion: string;
  transport: SidecarStatus["transport"];
  peer: string;
  /** The id of the stream that ended. */
  streamId: string;
  /** When that stream's hello arrived, epoch ms. */
  connectedAtMs: number;
  /** When the stream ended (the last time the worker was seen), epoch ms. */
  disconnectedAtMs: number;
  /** Its last report, epoch ms (undefined: it never reported on that stream). */
  lastReportAtMs?: number;
  /** Why the stream ended (the transport's or the control plane's words). */
  reason: string;
  /** The version it enforced when it left (its hello or last report). */
  enforcedVersion: number;
  /** It was refusing the current decision set when it left (rejectReason says why). */
  refusing: boolean;
  rejectReason: string;
}

export interface GoneSidecarLimits {
  /** Most workers remembered; the oldest departure is forgotten first. */
  maxEntries: number;
  /** How long a departure is remembered, ms. */
  retainMs: number;
}

/** 256 workers, 30 minutes: a few KiB, and long enough for an operator to notice. */
export const DEFAULT_GONE_SIDECAR_LIMITS: GoneSidecarLimits = { maxEntries: 256, retainMs: 30 * 60_000 };

function keyOf(nodeId: string, workerId: number): string {
  return `${nodeId}\u0000${workerId}`;
}

export class GoneSidecars {
  /** By worker, in order of departure (oldest first: a Map keeps insertion order). */
  private readonly entries = new Map<string, GoneSidecar>();

  constructor(private readonly limits: GoneSidecarLimits = DEFAULT_GONE_SIDECAR_LIMITS) {
    if (!Number.isInteger(limits.maxEntries) || limits.maxEntries < 0) throw new RangeError(`GoneSidecarLimits.maxEntries: expected an integer >= 0, got ${limits.maxEntries}`);
    if (!Number.isFinite(limits.retainMs) || limits.retainMs < 0) throw new RangeError(`GoneSidecarLimits.retainMs: expected a finite number of ms >= 0, got ${limits.retainMs}`);
  }

  /** A worker's stream ended at atMs, for `reason`; `status` is its last status view. */
  departed(status: SidecarStatus, reason: string, atMs: number): void {
    const key = keyOf(status.nodeId, status.workerId);
    this.entries.delete(key); // re-inserted last: the newest departure
    this.entries.set(key, {
      nodeId: status.nodeId,
      zone: status.zone,
      workerId: status.workerId,
      instanceId: status.instanceId,
      filterVersion: status.filterVersion,
      transport: status.transport,
      peer: status.peer,
      streamId: status.streamId,
      connectedAtMs: status.connectedAtMs,
      disconnectedAtMs: atMs,
      ...(status.lastReportAtMs === undefined ? {} : { lastReportAtMs: status.lastReportAtMs }),
      reason,
      enforcedVersion: status.enforcedVersion,
      refusing: status.refusing,
      rejectReason: status.rejectReason,
    });
    this.expire(atMs);
  }

  /** The worker said hello again: it is no longer gone. */
  returned(nodeId: string, workerId: number): void {
    this.entries.delete(keyOf(nodeId, workerId));
  }

  /** The workers still gone at nowMs, the most recent departure first. */
  list(nowMs: number): GoneSidecar[] {
    this.expire(nowMs);
    return [...this.entries.values()].reverse().map((e) => ({ ...e }));
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops departures older than retainMs, then the oldest beyond maxEntries. */
  private expire(nowMs: number): void {
    for (const [key, entry] of this.entries) {
      if (nowMs - entry.disconnectedAtMs > this.limits.retainMs) this.entries.delete(key);
    }
    while (this.entries.size > this.limits.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
