// The values of the presence keys (sidecar-presence.ts): which sidecar workers a replica serves and
// what each reached of the versions it watches (core/halt/remote-workers.ts), one key per shard of
// its workers, so a worker that connects or leaves rewrites one shard, not the whole list.
//
//   {"replica":"r1","instance":"7587...","workers":[{"s":"s12","n":"node-a","w":0,"c":["shed"],"r":[[2026..., 1764...]]}]}
//
// s: the stream id on that replica; n, w: node id and worker id; c: capabilities; r: [version,
// epoch ms] arrivals. Short names: at 10,000 sidecars a replica of three publishes ~6,700 workers.
// A value is checked when read: a damaged one is reported naming the field, and skipped. Pure.
import type { PublishedWorker } from "../core/halt/remote-workers.js";

/** Shards a replica's workers are spread over (by node id). */
export const PRESENCE_SHARDS = 64;

/** What one presence key holds. */
export interface PresenceValue {
  /** The replica's id (etcd.replica_id). */
  replica: string;
  /** The replica's incarnation (its presence lease id): stream ids restart with a process. */
  instance: string;
  workers: PublishedWorker[];
}

/** The shard of a worker: FNV-1a of its node id (every worker of a node in one shard). */
export function presenceShard(nodeId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < nodeId.length; i++) {
    h ^= nodeId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // FNV's low bits depend on the low bits of the characters only: fold the high bits in.
  return ((h ^ (h >>> 16) ^ (h >>> 24)) >>> 0) % PRESENCE_SHARDS;
}

export function encodePresence(value: PresenceValue): string {
  return JSON.stringify({
    replica: value.replica,
    instance: value.instance,
    workers: value.workers.map((w) => ({ s: w.streamId, n: w.nodeId, w: w.workerId, c: w.capabilities, r: w.reached.map((a) => [a.version, a.atMs]) })),
  });
}

const isText = (v: unknown, max: number): v is string => typeof v === "string" && v !== "" && v.length <= max;

/** A presence key's value, or what is wrong with it (naming the field). */
export function parsePresence(text: string): { ok: true; value: PresenceValue } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { ok: false, error: "expected an object {replica, instance, workers}" };
  const { replica, instance, workers } = raw as Record<string, unknown>;
  if (!isText(replica, 63)) return { ok: false, error: "replica: expected a replica id (1 to 63 characters)" };
  if (!isText(instance, 32)) return { ok: false, error: "instance: expected a lease id (1 to 32 characters)" };
  if (!Array.isArray(workers)) return { ok: false, error: "workers: expected an array" };
  const out: PublishedWorker[] = [];
  for (const [i, w] of workers.entries()) {
    const at = `workers[${i}]`;
    if (typeof w !== "object" || w === null) return { ok: false, error: `${at}: expected an object {s, n, w, c, r}` };
    const { s, n, w: workerId, c, r } = w as Record<string, unknown>;
    if (!isText(s, 32)) return { ok: false, error: `${at}.s: expected a stream id (1 to 32 characters)` };
    if (!isText(n, 256)) return { ok: false, error: `${at}.n: expected a node id (1 to 256 characters)` };
    if (!Number.isSafeInteger(workerId) || (workerId as number) < 0) return { ok: false, error: `${at}.w: expected a worker id (a non-negative integer)` };
    if (!Array.isArray(c) || !c.every((x) => isText(x, 64))) return { ok: false, error: `${at}.c: expected an array of capability names` };
    if (!Array.isArray(r)) return { ok: false, error: `${at}.r: expected an array of [version, at_ms]` };
    const reached = [];
    for (const [j, a] of r.entries()) {
      if (!Array.isArray(a) || a.length !== 2 || !Number.isSafeInteger(a[0]) || a[0] <= 0 || !Number.isFinite(a[1])) {
        return { ok: false, error: `${at}.r[${j}]: expected [version (a positive integer), at_ms (epoch ms)]` };
      }
      reached.push({ version: a[0] as number, atMs: a[1] as number });
    }
    out.push({ streamId: s, nodeId: n, workerId: workerId as number, capabilities: c as string[], reached });
  }
  return { ok: true, value: { replica, instance, workers: out } };
}
