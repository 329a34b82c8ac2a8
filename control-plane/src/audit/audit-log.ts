// The append-only audit log (records and their spelling: ./records.ts, ./record-codec.ts): NDJSON files audit-000001.ndjson, audit-000002.ndjson, ... in one
// directory. A file is rotated when it would pass maxBytes, and every file starts with a
// snapshot of the state so far, so a restart reads only the newest files.
//
// Durability: append() resolves only once its record is written and fdatasynced (and, for a new
// file, the directory fsynced). Writes are group-committed: every record appended while the
// previous write+sync runs goes out in the next single write+sync, so a burst costs one sync per
// batch, not one per record. A failed write or sync rejects every record of its batch, and the
// next batch starts a fresh file (so a half-written line never merges with the next record);
// currentState and snapshots hold only records that were made durable.
//
// Restore never fails on damage: a line that is not JSON, or JSON of the wrong shape
// (./record-schema.ts), is skipped, counted by reason and reported (health()).
import { basename, join } from "node:path";
import type { Logger } from "../../../lib/log.js";
import { createLogger } from "../../../lib/log.js";
import { ControlPlaneError } from "../core/errors.js";
import { nodeAuditFileSystem, type AuditFileHandle, type AuditFileSystem } from "./file-system.js";
import { auditFileName, listAuditFiles, type AuditCorruption } from "./files.js";
import { readAuditFile } from "./reader.js";
import type { SkipReason } from "./record-schema.js";
import { encodeRecord } from "./record-codec.js";
import { applyRecord, type AuditRecord, type RestoredState } from "./records.js";

export type { AuditCorruption };
export type { AuditFileHandle, AuditFileSystem };

export interface AuditLogOptions {
  /** Directory of the log files (created if missing). */
  dir: string;
  /** Rotate when a file would grow past this many bytes. Default 16 MiB. */
  maxBytes?: number;
  /** fdatasync after every batch. Default true. */
  fsync?: boolean;
  /** File operations used to write; default node:fs. Tests inject slow or failing ones. */
  fs?: AuditFileSystem;
  /** Clock of snapshot records, epoch ms. Default Date.now. */
  now?: () => number;
  logger?: Logger;
}

/** What restore skipped and how writing goes, for /readyz and the metrics. */
export interface AuditHealth {
  /** Damaged lines skipped while restoring. */
  skippedRecords: number;
  skippedByReason: Partial<Record<SkipReason, number>>;
  /** The first skipped line, "file:line: problem". */
  firstProblem?: string;
  /** Batches whose write or sync failed since opening. */
  writeFailures: number;
  lastWriteError?: string;
}

interface Pending {
  record: AuditRecord;
  text: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class AuditLog {
  /** State restored when the log was opened; undefined for an empty log. */
  readonly restored: RestoredState | undefined;
  /** Damaged lines skipped while restoring. */
  readonly corruptions: readonly AuditCorruption[];
  /** State as of the last durable record (what a snapshot holds). */
  private state: RestoredState;
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private handle: AuditFileHandle | undefined;
  /** Bytes in the current file. */
  private size = 0;
  private fileIndex: number;
  private writeFailures = 0;
  private lastWriteError: string | undefined;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly fsync: boolean,
    private readonly fs: AuditFileSystem,
    private readonly now: () => number,
    private readonly log: Logger,
    lastIndex: number,
    restored: RestoredState | undefined,
    corruptions: AuditCorruption[],
  ) {
    this.fileIndex = lastIndex;
    this.restored = restored;
    this.corruptions = corruptions;
    this.state = restored ?? { overrides: [] };
  }

  /** Opens (or creates) the log in `dir` and restores the state it holds; writing continues in
   *  a fresh file that starts with a snapshot. Rejects only for I/O errors, never for damage. */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    if (!Number.isInteger(maxBytes) || maxBytes < 1024) {
      throw new ControlPlaneError("CP_ERR_AUDIT", `audit.maxBytes: expected an integer >= 1024, got ${maxBytes}`);
    }
    const log = options.logger ?? createLogger("audit");
    const fs = options.fs ?? nodeAuditFileSystem;
    try {
      await fs.mkdir(options.dir);
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
          corruptions.push({ file: file.path, line: item.line, reason: item.reason, error: item.error });
          continue;
        }
        state = applyRecord(state ?? { overrides: [] }, item.record);
      }
    }
    for (const c of corruptions) log.warn(c, "audit log: skipped a damaged line");
    const audit = new AuditLog(options.dir, maxBytes, options.fsync ?? true, fs, options.now ?? Date.now, log, files.at(-1)?.index ?? 0, state, corruptions);
    try {
      await audit.startFile("");
    } catch (err) {
      throw new ControlPlaneError("CP_ERR_AUDIT", `audit.dir: cannot write in ${options.dir}: ${(err as Error).message}`);
    }
    return audit;
  }

  /** State as of the last durable record (what a snapshot would hold). */
  get currentState(): RestoredState {
    return this.state;
  }

  health(): AuditHealth {
    const skippedByReason: Partial<Record<SkipReason, number>> = {};
    for (const c of this.corruptions) skippedByReason[c.reason] = (skippedByReason[c.reason] ?? 0) + 1;
    const first = this.corruptions[0];
    return {
      skippedRecords: this.corruptions.length,
      skippedByReason,
      ...(first === undefined ? {} : { firstProblem: `${basename(first.file)}:${first.line}: ${first.error}` }),
      writeFailures: this.writeFailures,
      ...(this.lastWriteError === undefined ? {} : { lastWriteError: this.lastWriteError }),
    };
  }

  /**
   * Appends one record. Resolves once it is written and synced; rejects (ControlPlaneError
   * CP_ERR_AUDIT) when its batch could not be written or the log is closed. The returned promise
   * is marked handled, so callers that do not wait for durability may ignore it (the failure is
   * logged here).
   */
  append(record: AuditRecord): Promise<void> {
    if (this.closed) {
      this.log.warn({ kind: record.kind }, "audit log closed: record dropped");
      const closed = Promise.reject(new ControlPlaneError("CP_ERR_AUDIT", "audit log write failed: the log is closed"));
      closed.catch(() => undefined);
      return closed;
    }
    const done = new Promise<void>((resolve, reject) => {
      this.queue.push({ record, text: encodeRecord(record) + "\n", resolve, reject });
    });
    done.catch(() => undefined);
    this.writing ??= this.drain();
    return done;
  }

  /** Resolves when everything appended so far has been written (or has failed). */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  /** Opens the next file and writes a snapshot of the durable state followed by `text` (one
   *  write, one sync, then the directory's sync: the new name is durable too). */
  private async startFile(text: string): Promise<void> {
    const old = this.handle;
    this.handle = undefined;
    if (old !== undefined) await old.close().catch((err: unknown) => this.log.warn({ err }, "audit log: closing a file failed"));
    const index = this.fileIndex + 1;
    const path = join(this.dir, auditFileName(index));
    let handle: AuditFileHandle;
    try {
      handle = await this.fs.openAppend(path);
    } catch (err) {
      throw new ControlPlaneError("CP_ERR_AUDIT", `audit log: cannot open ${path}: ${(err as Error).message}`);
    }
    this.fileIndex = index;
    try {
      this.size = await handle.size();
      const snapshot = encodeRecord({ kind: "snapshot", atMs: this.now(), state: this.state }) + "\n";
      await this.writeSynced(handle, snapshot + text);
      await this.fs.syncDir(this.dir);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    this.handle = handle;
  }

  private async writeSynced(handle: AuditFileHandle, text: string): Promise<void> {
    await handle.write(text);
    if (this.fsync) await handle.datasync();
    this.size += Buffer.byteLength(text);
  }

  /** Group commit: writes everything queued in one write+sync, until the queue is empty. */
  private async drain(): Promise<void> {
    // Records appended in the same synchronous step (a round's transitions and its decision
    // set) join the first batch.
    await Promise.resolve();
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        const text = batch.map((p) => p.text).join("");
        try {
          // No open file: the last write failed (or closing it did); continue in a fresh one.
          if (this.handle === undefined || (this.size > 0 && this.size + Buffer.byteLength(text) > this.maxBytes)) await this.startFile(text);
          else await this.writeSynced(this.handle, text);
        } catch (err) {
          const message = (err as Error).message;
          this.writeFailures++;
          this.lastWriteError = message;
          this.log.error({ err, records: batch.length }, "audit log write failed; the next write starts a fresh file");
          // The file may end in a partial line: never append to it again.
          const broken = this.handle;
          this.handle = undefined;
          await broken?.close().catch(() => undefined);
          const failure = new ControlPlaneError("CP_ERR_AUDIT", `audit log write failed: ${message}`);
          for (const p of batch) p.reject(failure);
          continue;
        }
        for (const p of batch) {
          this.state = applyRecord(this.state, p.record);
          p.resolve();
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}

async function startsWithSnapshot(path: string): Promise<boolean> {
  for await (const item of readAuditFile(path)) return item.ok && item.record.kind === "snapshot";
  return false;
}
