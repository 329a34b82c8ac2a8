// Limits of the audit export (GET /v1/audit): how many exports run at once (all clients, and per
// client address), and how many bytes per second each client address gets (one token bucket per
// client, shared by its exports: ./token-bucket.ts). Pure: the clock is passed in; the route
// sleeps for the waits it is told (./throttled-export.ts).
import type { ExportLimits } from "../config/export-limits.js";
import { fullBucket, refill, take, type BucketRate, type TokenBucket } from "./token-bucket.js";

/** The limit that refused an export: its configuration key under admin.export. */
export type ExportLimitName = "max_concurrent" | "max_concurrent_per_client";

export type Admission = { ok: true; lease: ExportLease } | { ok: false; limit: ExportLimitName; retryAfterS: number; detail: string };

/** One admitted export: takes bytes from its client's bucket, and is released once (idempotent). */
export interface ExportLease {
  readonly client: string;
  /** Accounts `bytes` about to be sent at `nowMs`; returns how long to wait first, ms. */
  take(bytes: number, nowMs: number): number;
  release(): void;
}

interface ClientState {
  active: number;
  bucket: TokenBucket;
}

export class ExportLimiter {
  private readonly clients = new Map<string, ClientState>();
  private activeCount = 0;
  private readonly rate: BucketRate;

  constructor(readonly limits: ExportLimits) {
    this.rate = { ratePerS: limits.bytesPerSecond, capacity: limits.burstBytes };
  }

  /** Exports running now. */
  get active(): number {
    return this.activeCount;
  }

  /** Clients with state held (running exports, or a bucket not yet full again). */
  get clientsHeld(): number {
    return this.clients.size;
  }

  /** Admits an export of `client` (its address) at `nowMs`, or names the limit that refuses it. */
  admit(client: string, nowMs: number): Admission {
    this.prune(nowMs);
    const l = this.limits;
    if (this.activeCount >= l.maxConcurrent) {
      return { ok: false, limit: "max_concurrent", retryAfterS: l.retryAfterS, detail: `${this.activeCount} audit exports running, the most admin.export.max_concurrent allows (${l.maxConcurrent})` };
    }
    const state = this.clients.get(client) ?? { active: 0, bucket: fullBucket(this.rate, nowMs) };
    if (state.active >= l.maxConcurrentPerClient) {
      return {
        ok: false,
        limit: "max_concurrent_per_client",
        retryAfterS: l.retryAfterS,
        detail: `${state.active} audit exports running for ${client}, the most admin.export.max_concurrent_per_client allows (${l.maxConcurrentPerClient})`,
      };
    }
    state.active++;
    this.activeCount++;
    this.clients.set(client, state);
    let released = false;
    return {
      ok: true,
      lease: {
        client,
        take: (bytes, atMs) => {
          const step = take(state.bucket, this.rate, bytes, atMs);
          state.bucket = step.bucket;
          return step.waitMs;
        },
        release: () => {
          if (released) return;
          released = true;
          state.active--;
          this.activeCount--;
        },
      },
    };
  }

  /** Forgets clients with no export running whose bucket is full again (bounded memory). */
  private prune(nowMs: number): void {
    for (const [client, state] of this.clients) {
      if (state.active === 0 && refill(state.bucket, this.rate, nowMs).tokens >= this.rate.capacity) this.clients.delete(client);
    }
  }
}
