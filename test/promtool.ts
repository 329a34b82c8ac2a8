// Runs Prometheus's promtool (Debian package `prometheus`; .ci/run installs it when missing).
// A missing promtool is an error, never a skip: the checks it makes are the point of the tests.
import { spawnSync } from "node:child_process";

export interface PromtoolResult {
  status: number;
  output: string;
}

/** `promtool <args...>` with `stdin`; throws a clear error when promtool is not installed. */
export function promtool(args: readonly string[], stdin = ""): PromtoolResult {
  const run = spawnSync("promtool", args, { input: stdin, encoding: "utf8", timeout: 60_000 });
  if (run.error !== undefined) {
    const code = (run.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new Error("promtool is not installed: install Debian's `prometheus` package (apt-get install prometheus), as .ci/run does");
    }
    throw new Error(`promtool ${args.join(" ")}: ${run.error.message}`);
  }
  return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
}
