// `mkdir -p` that always ends. Node's own `mkdir(dir, { recursive: true })` (Node 20's
// MKDirpSync/MKDirpAsync in src/node_file.cc) reads ENOENT as "the parent is missing", creates the
// parent, and tries the child again; when the parent exists but the child still cannot be created
// with ENOENT (procfs answers so for any new name: `/proc/forbidden`), it loops for ever, the sync
// form at 100 % CPU and the promise never settling, with no output. Here each level is tried once
// after its parent exists, so every failure comes back as an error naming the path.
import { mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/** Creates `dir` and its missing parents; resolves when `dir` is a directory, else rejects with
 *  the file system's error (ENOENT, ENOTDIR, EACCES, EROFS, ...) for the level that failed. */
export async function makeDirectory(dir: string): Promise<void> {
  const path = resolve(dir);
  try {
    await mkdir(path);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return ensureDirectory(path, error as Error);
    if (code !== "ENOENT" || dirname(path) === path) throw error;
  }
  await makeDirectory(dirname(path));
  // The parent exists now: this second attempt is the last one.
  try {
    await mkdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return ensureDirectory(path, error as Error);
    throw error;
  }
}

async function ensureDirectory(path: string, existsError: Error): Promise<void> {
  const info = await stat(path);
  if (!info.isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: "ENOTDIR", path, cause: existsError });
  }
}
