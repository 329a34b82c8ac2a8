// Every replica's sidecar workers, published in etcd for the others, so that the halt's
// confirmation (GET /v1/halt, POST /v1/halt with wait_s) and the incidents' count every sidecar of
// the mesh on any replica, not only those of the replica asked (docs/design/replicas.md, "Sidecars
// of every replica in the halt's confirmation"). Keys, bound to this replica's own lease (TTL
// etcd.lease_ttl_s), so a replica killed with SIGKILL takes its workers out of every count once
// its lease runs out:
//
//   presence/<replica id>/<shard>   the replica's workers of that shard (presence-values.ts)
//
// A shard is rewritten only when its value changed: a worker connected or left, or reached a
// watched version (a halt's: once per worker and halt). Writes are gathered over FLUSH_DELAY_MS.
// The other replicas' keys are read at start and watched; a damaged value is logged and skipped.
import type { Etcd3, IKeyValue, Lease, Watcher } from "etcd3";
import type { Logger } from "../../../lib/log.js";
import type { PublishedWorker, RemoteWorker } from "../core/halt/remote-workers.js";
import { encodePresence, parsePresence, presenceShard, PRESENCE_SHARDS } from "./presence-values.js";

/** How long changes are gathered before the changed shards are written, ms. */
const FLUSH_DELAY_MS = 100;
/** After a failed write, the next attempt, ms. */
const RETRY_DELAY_MS = 1000;

export interface PresenceOptions {
  client: Etcd3;
  /** The configured etcd.prefix. */
  prefix: string;
  replicaId: string;
  /** The presence lease's TTL, seconds (etcd.lease_ttl_s). */
  ttlS: number;
  /** This replica's workers as they now are (service.ts publishedWorkers). */
  workers(): PublishedWorker[];
  /** The other replicas' workers changed (service.ts setRemoteWorkers). */
  onRemote(workers: RemoteWorker[]): void;
  logger: Logger;
}

export class SidecarPresence {
  private lease: Lease | undefined;
  private instance = "";
  /** What each shard key of this replica holds (absent: no key). */
  private readonly written = new Map<number, string>();
  /** The other replicas' workers, by presence key. */
  private readonly remote = new Map<string, RemoteWorker[]>();
  private watcher: Watcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  private again = false;
  private stopped = false;

  constructor(private readonly options: PresenceOptions) {}

  private get dir(): string {
    return `${this.options.prefix}presence/`;
  }

  private shardKey(shard: number): string {
    return `${this.dir}${this.options.replicaId}/${String(shard).padStart(2, "0")}`;
  }

  /** Drops what an earlier process of this replica id left, reads and watches the other replicas'
   *  keys, and publishes this replica's workers. */
  async start(): Promise<void> {
    const { client, replicaId } = this.options;
    await client.delete().prefix(`${this.dir}${replicaId}/`).exec();
    const response = await client.getAll().prefix(this.dir).exec();
    for (const kv of response.kvs) this.take(kv);
    this.report();
    this.watcher = await client.watch().prefix(this.dir).startRevision(String(Number(response.header.revision) + 1)).create();
    this.watcher.on("put", (kv) => {
      this.take(kv);
      this.report();
    });
    this.watcher.on("delete", (kv) => {
      if (this.remote.delete(kv.key.toString("utf8"))) this.report();
    });
    this.watcher.on("error", (err: Error) => this.options.logger.warn({ err }, "etcd: the watch of the sidecar presence failed"));
    this.changed();
  }

  /** This replica's workers changed: the changed shards are written shortly. */
  changed(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_DELAY_MS);
    this.timer.unref();
  }

  /** A clean stop: the lease is revoked, so this replica's workers leave every count at once. */
  async stop(): Promise<void> {
    this.end();
    await this.watcher?.cancel().catch(() => undefined);
    await this.lease?.revoke().catch(() => undefined);
  }

  /** Tests: a crash. The lease is no longer renewed, not revoked: the keys go after its TTL. */
  abandon(): void {
    this.end();
    void this.watcher?.cancel().catch(() => undefined);
    this.lease?.release();
  }

  private end(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private take(kv: IKeyValue): void {
    const key = kv.key.toString("utf8");
    const owner = key.slice(this.dir.length).split("/")[0];
    if (owner === this.options.replicaId) return;
    const parsed = parsePresence(kv.value.toString("utf8"));
    if (!parsed.ok) {
      this.remote.delete(key);
      this.options.logger.warn({ key, problem: parsed.error }, "etcd: a damaged sidecar presence value was skipped");
      return;
    }
    const { replica, instance, workers } = parsed.value;
    // Stream ids restart with a process: the replica and its incarnation make them unique.
    this.remote.set(key, workers.map((w) => ({ ...w, streamId: `${replica}/${instance}/${w.streamId}` })));
  }

  private report(): void {
    if (!this.stopped) this.options.onRemote([...this.remote.values()].flat());
  }

  private async flush(): Promise<void> {
    if (this.stopped) return;
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = true;
    try {
      do {
        this.again = false;
        const lease = await this.ensureLease();
        const shards = new Map<number, PublishedWorker[]>();
        for (const w of this.options.workers()) {
          const shard = presenceShard(w.nodeId);
          shards.set(shard, [...(shards.get(shard) ?? []), w]);
        }
        for (let shard = 0; shard < PRESENCE_SHARDS && !this.stopped; shard++) {
          const workers = shards.get(shard);
          const value = workers === undefined ? undefined : encodePresence({ replica: this.options.replicaId, instance: this.instance, workers });
          if (value === this.written.get(shard)) continue;
          if (value === undefined) await this.options.client.delete().key(this.shardKey(shard)).exec();
          else await lease.put(this.shardKey(shard)).value(value).exec();
          if (value === undefined) this.written.delete(shard);
          else this.written.set(shard, value);
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      if (!this.stopped) {
        this.options.logger.warn({ err }, "etcd: could not publish this replica's sidecars; retrying");
        setTimeout(() => this.changed(), RETRY_DELAY_MS).unref();
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The presence lease, granted anew (a new incarnation, every shard written again) after a loss. */
  private async ensureLease(): Promise<Lease> {
    if (this.lease !== undefined) return this.lease;
    const lease = this.options.client.lease(this.options.ttlS);
    lease.on("lost", (err: Error) => {
      if (this.lease !== lease || this.stopped) return;
      this.options.logger.warn({ err }, "etcd: the sidecar presence lease was lost; publishing again under a new one");
      this.lease = undefined;
      this.written.clear();
      this.changed();
    });
    this.instance = await lease.grant();
    this.lease = lease;
    this.written.clear();
    return lease;
  }
}
