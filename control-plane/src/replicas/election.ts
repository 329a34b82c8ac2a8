// Leader election on etcd with a lease, as etcd's Go client does it (client/v3/concurrency/
// election.go, also etcd3's Election): every candidate puts a key under `<prefix>election/leader/`
// bound to its own lease; the candidate whose key has the lowest create revision leads; each
// other waits for the deletion of the next older key. A candidate that stops renewing its lease
// (a crash, a partition) loses its key after the TTL and the next one leads.
//
// Written here rather than taken from etcd3's Campaign because the control plane needs what that
// hides: its key (decision sets are written only while it exists: a fence), its lease (released
// without revoking in tests, as a kill -9 would), and a bound on how long it trusts a lease it
// could not renew (etcd3 reports a lost lease only after twice the TTL).
import type { Etcd3, Lease } from "etcd3";

export interface CandidacyEvents {
  /** This candidate leads (every older key is gone). */
  onElected(): void;
  /** The lease is lost or could not be renewed for a TTL: not (or no longer) the leader. */
  onLost(error: Error): void;
}

export class Candidacy {
  private lease: Lease | undefined;
  private key_: string | undefined;
  private ended = false;
  private lastRenewedMs = 0;
  private guard: NodeJS.Timeout | undefined;

  /**
   * @param prefix the configured etcd.prefix
   * @param value written in the key: JSON {id, peer}, the replica id and its gRPC address
   * @param ttlS the lease TTL, seconds
   */
  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly value: string,
    private readonly ttlS: number,
    private readonly events: CandidacyEvents,
  ) {}

  /** The candidate's key once put (the fence of the leader's writes). */
  get key(): string | undefined {
    return this.key_;
  }

  /** Puts the key and waits to lead; events report the outcome. Rejects only if the key
   *  cannot be put (then nothing is left behind but a lease that expires). */
  async run(): Promise<void> {
    const lease = this.client.lease(this.ttlS);
    this.lease = lease;
    lease.on("lost", (error: Error) => this.lose(error));
    lease.on("keepaliveSucceeded", () => {
      this.lastRenewedMs = Date.now();
    });
    const id = await lease.grant();
    this.lastRenewedMs = Date.now();
    // Trust the lease only while it was renewed within its TTL (etcd3 says "lost" after 2 × TTL).
    this.guard = setInterval(() => {
      if (Date.now() - this.lastRenewedMs > this.ttlS * 1000) this.lose(new Error(`the lease was not renewed for ${this.ttlS} s`));
    }, (this.ttlS * 1000) / 3);
    this.guard.unref();
    const electionPrefix = `${this.prefix}election/leader/`;
    const key = `${electionPrefix}${id}`;
    const put = await this.client.if(key, "Create", "==", 0).then(this.client.put(key).value(this.value).lease(id)).commit();
    this.key_ = key;
    const revision = Number(put.header.revision);
    while (!this.ended) {
      const older = await this.client
        .getAll()
        .prefix(electionPrefix)
        .maxCreateRevision(String(revision - 1))
        .sort("Create", "Descend")
        .limit(1)
        .exec();
      const next = older.kvs[0];
      if (next === undefined) break;
      await this.waitForDelete(next.key.toString("utf8"), older.header.revision);
    }
    if (!this.ended) this.events.onElected();
  }

  /** Leaves the election: the lease is revoked, so the next candidate leads at once. */
  async resign(): Promise<void> {
    this.end();
    await this.lease?.revoke().catch(() => undefined);
  }

  /** Stops renewing the lease without revoking it (tests: a crash); the key goes after the TTL. */
  release(): void {
    this.end();
    this.lease?.release();
  }

  private lose(error: Error): void {
    if (this.ended) return;
    this.end();
    this.events.onLost(error);
  }

  private end(): void {
    this.ended = true;
    if (this.guard !== undefined) clearInterval(this.guard);
  }

  private async waitForDelete(key: string, atRevision: string): Promise<void> {
    const watcher = await this.client.watch().key(key).startRevision(atRevision).only("delete").create();
    let poll: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        watcher.once("delete", () => resolve());
        watcher.once("error", reject);
        // A resignation or a lost lease ends the wait too (the loop then stops).
        poll = setInterval(() => {
          if (this.ended) resolve();
        }, 250);
      });
    } finally {
      clearInterval(poll);
      await watcher.cancel().catch(() => undefined);
    }
  }
}
