// `autoglm demo`: the whole system on loopback with a fault scenario played in real time
// (demo/run.ts does the work; this file parses the options and handles Ctrl-C).
import { parseArgs } from "node:util";
import { join } from "node:path";
import type { Command } from "../command.js";
import { MissingFilterError, runDemo } from "../../demo/run.js";
import { sendLogsTo } from "../../lib/log.js";
import { projectRoot, ScenarioError } from "../../sim/scenario.js";

export { runDemo, type DemoOptions, type DemoSummary } from "../../demo/run.js";

const help = `Usage: autoglm demo [options]

Runs the whole system on loopback: the control plane with its dashboard, stand-in
OpenAI-compatible LLM servers (one per host of each scenario cluster, latency and errors
following the scenario's faults in real time), two sidecars running build/filter.wasm, and a
load generator (streaming and non-streaming chat completions), with the ONNX anomaly model
(models/anomaly.onnx). Prints the dashboard URL, a one-line summary every second and, at the
end, whether the failed cluster's breaker closed again. The parts' JSON logs go to a file, not
the terminal. The control plane's alerts are e-mailed to a local SMTP server the demo starts:
a line per mail (its subject) is printed, and each mail is saved as an .eml file. Ctrl-C or the
end of --duration shuts everything down cleanly.

Options:
  --scenario <file>   fault scenario (shared scenario format); default demo/scenarios/default.json
  --duration <s>      seconds to run; default the scenario's duration_s
  --rps <n>           offered requests per second (1-2000); default 30
  --audit-dir <dir>   where the control plane writes its audit log; default out/demo-audit/<start time>
  --log-file <file>   where the JSON logs go; default out/demo-logs/<start time>.ndjson
  --mail-dir <dir>    where the alert e-mails are saved (NNN.eml); default out/demo-mail/<start time>
  -h, --help          show this help

\`npm start\` runs this command with its defaults, after building build/filter.wasm when it is
missing or older than its sources.`;

function positive(name: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new UsageError(`--${name}: expected a number from 0 (exclusive) to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

class UsageError extends Error {}

export const command: Command = {
  name: "demo",
  summary: "run the whole system on loopback with a fault scenario and a live summary",
  help,
  async run(args: string[]): Promise<number> {
    let scenarioPath: string | undefined;
    let durationS: number | undefined;
    let rps: number | undefined;
    let auditDir: string;
    let logFile: string;
    let mailDir: string;
    try {
      const { values } = parseArgs({
        args,
        options: {
          scenario: { type: "string" },
          duration: { type: "string" },
          rps: { type: "string" },
          "audit-dir": { type: "string" },
          "log-file": { type: "string" },
          "mail-dir": { type: "string" },
          help: { type: "boolean", short: "h" },
        },
        allowPositionals: false,
        strict: true,
      });
      if (values.help === true) {
        process.stdout.write(`${help}\n`);
        return 0;
      }
      scenarioPath = values.scenario;
      durationS = positive("duration", values.duration, 86_400);
      rps = positive("rps", values.rps, 2000);
      if (values["audit-dir"] === "") throw new UsageError("--audit-dir: expected a directory, got an empty string");
      if (values["log-file"] === "") throw new UsageError("--log-file: expected a file name, got an empty string");
      if (values["mail-dir"] === "") throw new UsageError("--mail-dir: expected a directory, got an empty string");
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      // A folder per run by default: a control plane restores its state from its audit log, and
      // each demo run starts its scenario afresh.
      auditDir = values["audit-dir"] ?? join(projectRoot(), "out", "demo-audit", stamp);
      logFile = values["log-file"] ?? join(projectRoot(), "out", "demo-logs", `${stamp}.ndjson`);
      mailDir = values["mail-dir"] ?? join(projectRoot(), "out", "demo-mail", stamp);
    } catch (e) {
      process.stderr.write(`autoglm demo: ${(e as Error).message}\nTry 'autoglm demo --help'.\n`);
      return 2;
    }
    try {
      // Every part logs through lib/log.ts: in a file, its lines cannot cut into the summary lines.
      sendLogsTo(logFile);
    } catch (e) {
      process.stderr.write(`autoglm demo: --log-file: cannot write ${JSON.stringify(logFile)}: ${(e as Error).message}\n`);
      return 1;
    }
    process.stdout.write(`logs: ${logFile}\n`);
    const abort = new AbortController();
    const onSigint = (): void => {
      if (abort.signal.aborted) return;
      process.stdout.write("\nCtrl-C: shutting down\n");
      abort.abort();
    };
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigint);
    try {
      await runDemo({
        ...(scenarioPath !== undefined ? { scenarioPath } : {}),
        ...(durationS !== undefined ? { durationS } : {}),
        ...(rps !== undefined ? { rps } : {}),
        auditDir,
        mailDir,
        signal: abort.signal,
        print: (line) => process.stdout.write(`${line}\n`),
      });
      return 0;
    } catch (e) {
      if (e instanceof MissingFilterError || e instanceof ScenarioError) {
        process.stderr.write(`autoglm demo: ${e.message}\n`);
        return 1;
      }
      process.stderr.write(`autoglm demo: ${(e as Error).message}\n`);
      return 1;
    } finally {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigint);
    }
  },
};
