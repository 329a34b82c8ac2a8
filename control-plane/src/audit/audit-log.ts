// The append-only audit log: NDJSON files audit-000001.ndjson, audit-000002.ndjson, ... in one
// directory. Every change is written and fsynced in order; a file is rotated when it would pass
// maxBytes, and every file starts with a snapshot of the state so far, so a restart reads only
// the newest files. A corrupt line (e.g. a tail truncated by a crash) is reported and skipped,
// never fatal; after opening, writing always continues in a fresh file.
import { mkdir, open, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../../lib/log.js";
import { createLogger } from "../../../lib/log.js";
import { ControlPlaneError } from "../core/errors.js";
import { auditFileName, listAuditFiles, type AuditCorruption } from "./files.js";
import { readAuditFile } from "./reader.js";

export type { AuditCorruption };
import { applyRecord, type AuditRecord, type RestoredState } from "./records.js";

export interface AuditLogOptions {
  /** Directory of the log files (created if missing). */
  dir: string;
  /** Rotate when a file would grow past this many bytes. Default 16 MiB. */
  maxBytes?: number;
  /** fsync after every write. Default true. */
  fsync?: boolean;
  logger?: Logger;
}

export class AuditLog {
  /** State restored when the log was opened; undefined for an empty log. */
  readonly restored: RestoredState | undefined;
  /** Corrupt lines found while restoring. */
  readonly corruptions: readonly AuditCorruption[];
  private state: RestoredState;
  private queue: string[] = [];
  private writing: Promise<void> | undefined;
  private failed: Error | undefined;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly fsync: boolean,
    private readonly log: Logger,
    private fileIndex: number,
    private handle: FileHandle | undefined,
    private size: number,
    restored: RestoredState | undefined,
    corruptions: AuditCorruption[],
  ) {
    this.restored = restored;
    this.corruptions = corruptions;
    this.state = restored ?? { overrides: [] };
  }

  /** Opens (or creates) the log in `dir` and restores the state it holds. */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    if (!Number.isInteger(maxBytes) || maxBytes < 1024) {
      throw new ControlPlaneError("CP_ERR_AUDIT", `audit.maxBytes: expected an integer >= 1024, got ${maxBytes}`);
    }
    const log = options.logger ?? createLogger("audit");
    try {
      await mkdir(options.dir, { recursive: true });
    } catch (err) {
      throw new ControlPlaneError("CP_ERR_AUDIT", `audit.dir: cannot create ${options.dir}: ${(err as Error).message}`);
    }
    const files = await listAuditFiles(options.dir);
    const corruptions: AuditCorruption[] = [];
    // Replay from the newest file that starts with a snapshot (older ones are summarised by it).
    let startAt = 0;
    for (let i = files.length - 1; i >= 0; i--) {
      if (await startsWithSnapshot(files[i]!.path)) {
        startAt = i;
        break;
      }
    }
    let state: RestoredState | undefined;
    for (const file of files.slice(startAt)) {
      for await (const item of readAuditFile(file.path)) {
        if (!item.ok) {
          corruptions.push({ file: file.path, line: item.line, error: item.error });
          continue;
        }
        state = applyRecord(state ?? { overrides: [] }, item.record);
      }
    }
    for (const c of corruptions) log.warn(c, "audit log: skipped a corrupt line");
    const index = (files.at(-1)?.index ?? 0) + 1;
    const audit = new AuditLog(options.dir, maxBytes, options.fsync ?? true, log, index, undefined, 0, state, corruptions);
    await audit.openFile(index);
    return audit;
  }

  /** State as of the last appended record (what a snapshot would hold). */
  get currentState(): RestoredState {
    return this.state;
  }

  /** Appends one record; writes are queued in order and fsynced. Never throws (write errors
   *  are logged; flush() rejects with the first one). */
  append(record: AuditRecord): void {
    if (this.closed) {
      this.log.warn({ type: record.type }, "audit log closed: record dropped");
      return;
    }
    this.state = applyRecord(this.state, record);
    this.queue.push(JSON.stringify(record) + "\n");
    this.writing ??= this.drain();
  }

  /** Resolves when everything appended so far is on disk. */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
    if (this.failed !== undefined) throw new ControlPlaneError("CP_ERR_AUDIT", `audit log write failed: ${this.failed.message}`);
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    this.closed = true;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async openFile(index: number): Promise<void> {
    const path = join(this.dir, auditFileName(index));
    try {
      this.handle = await open(path, "a");
      this.size = (await stat(path)).size;
    } catch (err) {
      throw new ControlPlaneError("CP_ERR_AUDIT", `audit log: cannot open ${path}: ${(err as Error).message}`);
    }
    this.fileIndex = index;
    const snapshot = JSON.stringify({ type: "snapshot", atMs: Date.now(), state: this.state } satisfies AuditRecord) + "\n";
    await this.write(snapshot);
  }

  private async write(text: string): Promise<void> {
    const handle = this.handle!;
    await handle.write(text);
    if (this.fsync) await handle.sync();
    this.size += Buffer.byteLength(text);
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.join("");
        this.queue = [];
        if (this.size > 0 && this.size + Buffer.byteLength(batch) > this.maxBytes) {
          await this.handle?.close();
          await this.openFile(this.fileIndex + 1);
        }
        await this.write(batch);
      }
    } catch (err) {
      this.failed ??= err as Error;
      this.log.error({ err }, "audit log write failed");
      this.queue = [];
    } finally {
      this.writing = undefined;
    }
  }
}

async function startsWithSnapshot(path: string): Promise<boolean> {
  for await (const item of readAuditFile(path)) return item.ok && item.record.type === "snapshot";
  return false;
}
