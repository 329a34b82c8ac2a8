// The decision sets several replicas published, in etcd (`<prefix>history/decisions/<version>`,
// written by the leader in the same fenced transaction as `state/decisions`: etcd-state.ts), so
// that a rollback (core/rollback.ts) can be made on any replica, not only the one whose local
// audit log saw the version. The newest HISTORY_KEPT sets are kept; the leader trims older ones.
// Outside `state/`: neither loaded at start nor watched.
import type { Etcd3 } from "etcd3";
import { Range } from "etcd3";
import { parseRecord } from "../audit/records.js";
import type { RollbackLookup } from "../core/rollback.js";
import { keyNumber } from "./etcd-state.js";

/** Decision sets kept in etcd's history (a set of 100 clusters is about 20 KB: 10 MB at most). */
export const HISTORY_KEPT = 500;
/** The leader trims the history every this many published sets. */
export const TRIM_EVERY = 50;

export class EtcdDecisionHistory {
  private sinceTrim = 0;

  constructor(
    private readonly client: Etcd3,
    /** The configured etcd.prefix. */
    private readonly prefix: string,
    private readonly kept = HISTORY_KEPT,
    private readonly trimEvery = TRIM_EVERY,
  ) {}

  private get dir(): string {
    return `${this.prefix}history/decisions/`;
  }

  /** The set of `version`, or the range of versions the history holds. A damaged value counts as
   *  missing (it is not trusted). */
  async find(version: number): Promise<RollbackLookup> {
    const text = await this.client.get(`${this.dir}${keyNumber(version)}`).string();
    if (text !== null) {
      const parsed = parseRecord(text);
      if (parsed.ok && parsed.record.kind === "decisions" && parsed.record.decisions.version === version) return { kind: "found", set: parsed.record.decisions };
    }
    const [oldest, newest] = await Promise.all(["Ascend", "Descend"].map((order) => this.client.getAll().prefix(this.dir).sort("Key", order as "Ascend" | "Descend").limit(1).keys()));
    const versionOf = (keys: string[] | undefined) => (keys?.[0] === undefined ? undefined : Number(keys[0].slice(this.dir.length)));
    const o = versionOf(oldest);
    const n = versionOf(newest);
    return { kind: "missing", ...(o === undefined ? {} : { oldest: o }), ...(n === undefined ? {} : { newest: n }) };
  }

  /** After a published set: every `trimEvery` sets, deletes all but the newest `kept`. Resolves
   *  to how many were deleted. */
  async published(): Promise<number> {
    if (++this.sinceTrim < this.trimEvery) return 0;
    this.sinceTrim = 0;
    const count = await this.client.getAll().prefix(this.dir).count();
    const excess = count - this.kept;
    if (excess <= 0) return 0;
    // The first key kept is the end (exclusive) of the range deleted.
    const keys = await this.client.getAll().prefix(this.dir).sort("Key", "Ascend").limit(excess + 1).keys();
    const firstKept = keys.at(-1);
    if (firstKept === undefined) return 0;
    const deleted = await this.client.delete().range(new Range(this.dir, firstKept)).exec();
    return Number(deleted.deleted);
  }
}
