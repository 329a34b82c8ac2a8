// Snapshot files: <dir>/<id>.json, one JSON document each (./types.ts), beside the audit log
// (the control plane uses <audit.dir>/snapshots). Written atomically: to a temporary file in the
// same directory, then renamed over the final name (rename(2) replaces it in one step, so a
// reader sees the old file or the new one, never part of one). After each write, the oldest files
// are removed while there are more than maxFiles or they hold more than maxBytes together (the
// newest always stays). An in-memory index (id, size, summary) is built when opening, from the
// files there, and kept up to date; saves are serialised.
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../../lib/log.js";
import { isSnapshotId, SNAPSHOT_CAUSES, type Snapshot, type SnapshotCauseKind, type SnapshotSummary } from "./types.js";

export interface SnapshotStoreOptions {
  dir: string;
  /** Most bytes all snapshot files may hold together. */
  maxBytes: number;
  /** Most snapshot files kept. */
  maxFiles: number;
  logger: Logger;
}

const TEMP_PREFIX = ".tmp-";

function summaryOf(snapshot: Snapshot, bytes: number): SnapshotSummary {
  return {
    id: snapshot.id,
    taken_at_ms: snapshot.taken_at_ms,
    cause: snapshot.cause.kind,
    cluster: snapshot.cause.cluster,
    reason: snapshot.cause.reason,
    complete: snapshot.complete,
    bytes,
  };
}

/** A summary from a file's text, or why it is not a snapshot of this format. */
function parseSummary(id: string, text: string, bytes: number): SnapshotSummary | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `not JSON: ${(error as Error).message}` };
  }
  const s = value as Partial<Snapshot>;
  const cause = s.cause;
  if (typeof s !== "object" || s === null || s.id !== id || typeof s.taken_at_ms !== "number" || typeof cause !== "object" || cause === null) {
    return { error: "missing id, taken_at_ms or cause" };
  }
  if (!(SNAPSHOT_CAUSES as readonly string[]).includes(cause.kind)) return { error: `unknown cause ${JSON.stringify(cause.kind)}` };
  return {
    id,
    taken_at_ms: s.taken_at_ms,
    cause: cause.kind as SnapshotCauseKind,
    cluster: String(cause.cluster ?? ""),
    reason: String(cause.reason ?? ""),
    complete: s.complete === true,
    bytes,
  };
}

export class SnapshotStore {
  private readonly index = new Map<string, SnapshotSummary>();
  private chain: Promise<unknown> = Promise.resolve();
  private tempSeq = 0;

  private constructor(private readonly options: SnapshotStoreOptions) {}

  /**
   * Opens the directory (created by the first save): removes temporary files a crash left behind,
   * indexes the snapshots there (a file that does not parse is left alone and logged). Never
   * rejects: when the directory cannot be read, that is logged and every save tries again.
   */
  static async open(options: SnapshotStoreOptions): Promise<SnapshotStore> {
    const store = new SnapshotStore(options);
    const { dir, logger } = options;
    try {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        // Created by the first save: no empty directory beside the audit log until a snapshot exists.
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return store;
        throw error;
      }
      for (const name of names) {
        const path = join(dir, name);
        if (name.startsWith(TEMP_PREFIX)) {
          await rm(path, { force: true });
          continue;
        }
        const id = name.endsWith(".json") ? name.slice(0, -".json".length) : "";
        if (!isSnapshotId(id)) continue;
        const text = await readFile(path, "utf8");
        const summary = parseSummary(id, text, Buffer.byteLength(text));
        if ("error" in summary) logger.warn({ file: path, problem: summary.error }, "snapshot file skipped");
        else store.index.set(id, summary);
      }
    } catch (error) {
      logger.error({ dir, err: (error as Error).message }, "snapshot directory cannot be opened; snapshots will be retried at each write");
    }
    return store;
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Every snapshot kept, the newest first. */
  list(): SnapshotSummary[] {
    return [...this.index.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  /** The file's bytes; undefined for an id that is not kept (or not an id: nothing outside the directory is read). */
  async read(id: string): Promise<Buffer | undefined> {
    if (!isSnapshotId(id) || !this.index.has(id)) return undefined;
    try {
      return await readFile(this.pathOf(id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        this.index.delete(id);
        return undefined;
      }
      throw error;
    }
  }

  /**
   * Writes `text` (the serialised `snapshot`) as its file, replacing an earlier version of the same
   * id, then removes the oldest files past the caps. Rejects when it cannot be written (the
   * temporary file is removed); resolves to the ids removed by the caps.
   */
  save(snapshot: Snapshot, text: string): Promise<string[]> {
    const run = async (): Promise<string[]> => {
      if (!isSnapshotId(snapshot.id)) throw new Error(`snapshot id ${JSON.stringify(snapshot.id)} is not an id`);
      const { dir } = this.options;
      const temp = join(dir, `${TEMP_PREFIX}${process.pid}-${++this.tempSeq}-${snapshot.id}.json`);
      await mkdir(dir, { recursive: true });
      try {
        await writeFile(temp, text, { encoding: "utf8", flag: "wx" });
        await rename(temp, this.pathOf(snapshot.id));
      } catch (error) {
        await rm(temp, { force: true }).catch(() => undefined);
        throw error;
      }
      this.index.set(snapshot.id, summaryOf(snapshot, Buffer.byteLength(text)));
      return this.rotate(snapshot.id);
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async rotate(keep: string): Promise<string[]> {
    const { maxBytes, maxFiles, logger } = this.options;
    const oldestFirst = this.list().reverse();
    let total = oldestFirst.reduce((sum, s) => sum + s.bytes, 0);
    let count = oldestFirst.length;
    const removed: string[] = [];
    for (const s of oldestFirst) {
      if (count <= maxFiles && total <= maxBytes) break;
      if (s.id === keep) continue;
      try {
        await rm(this.pathOf(s.id), { force: true });
      } catch (error) {
        logger.warn({ id: s.id, err: (error as Error).message }, "old snapshot could not be removed");
        continue;
      }
      this.index.delete(s.id);
      removed.push(s.id);
      total -= s.bytes;
      count -= 1;
    }
    return removed;
  }

  private pathOf(id: string): string {
    return join(this.options.dir, `${id}.json`);
  }
}
