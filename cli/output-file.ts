// Writing a command's output files. The figures or results are always printed on stdout first,
// so a file that cannot be written loses nothing: the caller reports it by name with the reason
// this returns and exits 2, instead of ending in an unhandled exception.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Writes `text` to `file` (creating its folder when `makeFolder`); null, or why it could not
 *  (the system's message). */
export function tryWriteFile(file: string, text: string, makeFolder = false): string | null {
  try {
    if (makeFolder) mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
