// Which sidecar workers confirm that they enforce a decision version (a halt, or a trigger's
// action): a worker confirms version V when it acknowledges (DecisionAck), or says it enforces
// (Hello.enforced_version, TelemetryReport.enforced_version), a version >= V. Versions only grow
// while a halt lasts, and every set issued while halted is halted, so a later version confirms
// the halt too. A field a worker's filter does not enforce (its hello does not name the
// capability, core/capabilities.ts) can never be confirmed by it: an older filter skips an unknown
// field silently and still acknowledges the version. Pure: times are epoch ms passed in.
import type { Capability } from "../capabilities.js";

/** One connected worker as the confirmation sees it. */
export interface WorkerProgress {
  streamId: string;
  nodeId: string;
  workerId: number;
  capabilities: readonly string[];
  /** When it first acknowledged or enforced a version >= the watched one (undefined: not yet). */
  confirmedAtMs?: number;
}

/** A version being watched: from `sinceMs`, each worker's first arrival at or above `version`. */
export class ConfirmationWatch {
  private readonly arrivals = new Map<string, number>();

  constructor(
    readonly version: number,
    readonly sinceMs: number,
    /** The capability a worker needs to enforce what the version carries (none: every filter). */
    readonly requires?: Capability,
  ) {}

  /** A worker acknowledged or enforces `version` at atMs; true when this is its first arrival
   *  at or above the watched version. */
  observe(streamId: string, version: number, atMs: number): boolean {
    if (version < this.version || this.arrivals.has(streamId)) return false;
    this.arrivals.set(streamId, atMs);
    return true;
  }

  arrivedAt(streamId: string): number | undefined {
    return this.arrivals.get(streamId);
  }

  /** A worker that disconnected is no longer counted (its stream id is never reused). */
  forget(streamId: string): void {
    this.arrivals.delete(streamId);
  }
}

export interface WorkerRef {
  stream_id: string;
  node_id: string;
  worker_id: number;
}

/**
 * - waiting: some workers have not confirmed and the wait has not ended;
 * - unconfirmed: the wait ended and some workers have not confirmed;
 * - confirmed: every connected worker confirmed (and each can enforce what the version carries);
 * - confirmed_partly: every worker confirmed the version, but some cannot enforce what it carries
 *   (e.g. an immediate halt on a filter without "halt_immediate": it drains instead);
 * - no_sidecars: no worker is connected, nothing to confirm.
 */
export type ConfirmationState = "waiting" | "unconfirmed" | "confirmed" | "confirmed_partly" | "no_sidecars";

export interface ConfirmationStatus {
  version: number;
  since_ms: number;
  /** How long workers are given to confirm, ms; deadline_ms = since_ms + wait_ms. */
  wait_ms: number;
  deadline_ms: number;
  state: ConfirmationState;
  /** When the last connected worker confirmed (set in the confirmed states). */
  confirmed_at_ms: number | null;
  confirmed: (WorkerRef & { at_ms: number })[];
  /** Not confirmed yet, within the wait. */
  waiting: WorkerRef[];
  /** Not confirmed within the wait. */
  unconfirmed: WorkerRef[];
  /** Cannot enforce what the version carries (no capability); `at_ms`: when it acknowledged the
   *  version anyway (it enforces the rest, e.g. a halt as a drain), null if not yet. */
  cannot: (WorkerRef & { missing_capability: string; at_ms: number | null })[];
}

export interface ConfirmationInput {
  watch: ConfirmationWatch;
  workers: readonly WorkerProgress[];
  nowMs: number;
  waitMs: number;
  /** The caller's wait ended (POST /v1/halt's wait_s ran out): whoever has not confirmed is
   *  unconfirmed even if the control-plane clock has not reached the deadline. */
  waitEnded?: boolean;
}

export function confirmationStatus({ watch, workers, nowMs, waitMs, waitEnded = false }: ConfirmationInput): ConfirmationStatus {
  const deadline = watch.sinceMs + waitMs;
  const over = waitEnded || nowMs >= deadline;
  const out: ConfirmationStatus = {
    version: watch.version,
    since_ms: watch.sinceMs,
    wait_ms: waitMs,
    deadline_ms: deadline,
    state: "no_sidecars",
    confirmed_at_ms: null,
    confirmed: [],
    waiting: [],
    unconfirmed: [],
    cannot: [],
  };
  const sorted = [...workers].sort((a, b) => a.nodeId.localeCompare(b.nodeId) || a.workerId - b.workerId || a.streamId.localeCompare(b.streamId));
  for (const w of sorted) {
    const ref: WorkerRef = { stream_id: w.streamId, node_id: w.nodeId, worker_id: w.workerId };
    const at = watch.arrivedAt(w.streamId);
    if (watch.requires !== undefined && !w.capabilities.includes(watch.requires)) out.cannot.push({ ...ref, missing_capability: watch.requires, at_ms: at ?? null });
    else if (at !== undefined) out.confirmed.push({ ...ref, at_ms: at });
    else (over ? out.unconfirmed : out.waiting).push(ref);
  }
  if (workers.length === 0) return out;
  const pending = out.waiting.length + out.unconfirmed.length + out.cannot.filter((c) => c.at_ms === null).length;
  if (pending > 0) {
    out.state = over ? "unconfirmed" : "waiting";
    return out;
  }
  out.state = out.cannot.length > 0 ? "confirmed_partly" : "confirmed";
  out.confirmed_at_ms = Math.max(...out.confirmed.map((c) => c.at_ms), ...out.cannot.map((c) => c.at_ms ?? 0));
  return out;
}

/** Whether a status no longer changes by waiting (every worker confirmed, or none is connected). */
export function confirmationSettled(status: ConfirmationStatus): boolean {
  return status.state === "confirmed" || status.state === "confirmed_partly" || status.state === "no_sidecars";
}
