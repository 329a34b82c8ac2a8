// The few file operations the audit log writes with, behind an interface so tests can hold a
// write or a sync pending (or fail it) and see what the callers do meanwhile.
import { open, type FileHandle } from "node:fs/promises";
import { makeDirectory } from "../../../lib/make-directory.js";

/** One log file opened for appending. */
export interface AuditFileHandle {
  /** Current size, bytes. */
  size(): Promise<number>;
  /** Appends the whole text (UTF-8). */
  write(text: string): Promise<void>;
  /** Makes the written data durable (fdatasync). */
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface AuditFileSystem {
  /** Creates the directory and its missing parents; rejects (never hangs) when it cannot. */
  mkdir(dir: string): Promise<void>;
  /** Opens `path` for appending, creating it if missing. */
  openAppend(path: string): Promise<AuditFileHandle>;
  /** Makes a new directory entry durable (fsync of the directory). */
  syncDir(dir: string): Promise<void>;
}

class NodeFileHandle implements AuditFileHandle {
  constructor(private readonly handle: FileHandle) {}

  async size(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  async write(text: string): Promise<void> {
    // FileHandle.write(string) may write part of it; a Buffer loop writes all of it.
    const bytes = Buffer.from(text, "utf8");
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    }
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Platforms where a directory cannot be opened or fsynced (e.g. Windows) answer these. */
const DIR_SYNC_UNSUPPORTED = new Set(["EISDIR", "EPERM", "EINVAL", "EBADF", "EACCES"]);

export const nodeAuditFileSystem: AuditFileSystem = {
  async mkdir(dir) {
    await makeDirectory(dir);
  },
  async openAppend(path) {
    return new NodeFileHandle(await open(path, "a"));
  },
  async syncDir(dir) {
    let handle: FileHandle | undefined;
    try {
      handle = await open(dir, "r");
      await handle.sync();
    } catch (err) {
      if (!DIR_SYNC_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? "")) throw err;
    } finally {
      await handle?.close();
    }
  },
};
