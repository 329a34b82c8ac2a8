// `autoglm bench control-plane`: the control plane with N simulated sidecar streams over real
// gRPC on loopback (the fleet runs in a child process), each reporting once a second for four
// clusters; one cluster fails periodically so that decision sets change and get pushed.
// Measures: reports/s accepted, decision latency (last report of a window in -> decision
// computed), push latency (decision computed -> received by every stream), RSS of the control
// plane process, errors (stream errors, missing reports, undelivered versions, nacks).
import { fork } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Command } from "../command.js";
import { createLogger } from "../../lib/log.js";
import { startGrpcServer } from "../../control-plane/src/grpc/server.js";
import type { FleetConfig, FleetMessage, FleetStats } from "../../control-plane/src/grpc/simulated-sidecars.js";
import { ControlPlane } from "../../control-plane/src/service.js";

const help = `Usage: autoglm bench control-plane [--sidecars N] [--seconds S] [--json <file>]

Starts the control plane and N simulated sidecar streams over real gRPC on loopback, each
reporting once a second for four clusters, and measures for S seconds:
  reports_per_s     telemetry reports accepted per second
  decision_p99_ms   last report of a window in -> decision computed, p99
  push_p99_ms       decision computed -> received by every stream, p99
  rss_mb            resident memory of the control plane process (peak)
  errors            stream errors, missing reports, undelivered decision sets, nacks, reports
                    dropped as late, duplicate or invalid (a report folded in late, after
                    its window closed, is not lost: shown as "late folded", not an error)

Options:
  --sidecars N      simulated sidecar streams (default 2000)
  --seconds S       measuring time after all streams connected (default 30)
  --json <file>     also write the figures as JSON
  -h, --help        this text`;

export interface ControlPlaneBenchResult {
  sidecars: number;
  reports_per_s: number;
  decision_p99_ms: number;
  push_p99_ms: number;
  rss_mb: number;
  errors: number;
}

function p99(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!;
}

const hrNow = (): number => performance.timeOrigin + performance.now();
const round1 = (v: number) => Math.round(v * 10) / 10;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: expected a positive integer, got "${raw}"`);
  return n;
}

export async function runControlPlaneBench(sidecars: number, seconds: number, progress: (line: string) => void): Promise<ControlPlaneBenchResult> {
  const clusters = ["llm-a", "llm-b", "llm-c", "llm-d"];
  const cp = new ControlPlane({
    clusters: clusters.map((name) => ({ name, baseWeight: 25 })),
    slo: { latencyMs: 2000, successRate: 0.99 },
    logger: createLogger("bench-cp", "warn"),
    config: { detector: { warmupWindows: 5 }, breaker: { openBaseMs: 3000, openMaxMs: 6000 } },
  });
  const server = await startGrpcServer(cp, { address: "127.0.0.1:0", logger: createLogger("bench-grpc", "warn") });
  cp.start();

  let measuring = false;
  let reportsAccepted = 0;
  let badReports = 0;
  let lateFolded = 0;
  let nacks = 0;
  const pendingWindows = new Map<number, { count: number; lastHrMs: number }>();
  const decisionMs: number[] = [];
  const computedAt = new Map<number, number>();
  const pushMs: number[] = [];
  let missingReports = 0;
  let peakRss = 0;

  cp.on("report", (r) => {
    if (!measuring) return;
    if (r.outcome === "accepted") reportsAccepted++;
    else if (r.outcome === "late_folded") lateFolded++; // still counted in its window
    else badReports++;
    const w = pendingWindows.get(r.windowStartMs) ?? { count: 0, lastHrMs: 0 };
    w.count++;
    w.lastHrMs = hrNow();
    pendingWindows.set(r.windowStartMs, w);
  });
  cp.on("nack", () => {
    if (measuring) nacks++;
  });
  cp.on("round", (round) => {
    if (round.changed && measuring) computedAt.set(round.version, round.computedAtHrMs);
    if (round.windowsClosed === 0) return;
    for (const [start, w] of pendingWindows) {
      if (w.count >= sidecars) {
        decisionMs.push(round.computedAtHrMs - w.lastHrMs);
        pendingWindows.delete(start);
      } else if (Date.now() > start + 1000 + cp.config.aggregation.closeDelayMs + 200) {
        missingReports += sidecars - w.count;
        pendingWindows.delete(start);
      }
    }
  });

  const fleetConfig: FleetConfig = {
    target: `127.0.0.1:${server.port}`,
    sidecars,
    clusters,
    requestsPerWindow: 50,
    faultCluster: "llm-d",
    faultEveryS: 20,
    faultOnS: 6,
    streamsPerChannel: 100,
  };
  const fleetPath = fileURLToPath(new URL("../../control-plane/src/grpc/simulated-sidecars.ts", import.meta.url));
  // AUTOGLM_FLEET_NODE_ARGS: extra node flags for the fleet process (e.g. "--cpu-prof").
  const child = fork(fleetPath, [], { execArgv: ["--import", "tsx", ...(process.env.AUTOGLM_FLEET_NODE_ARGS ?? "").split(" ").filter(Boolean)], stdio: ["ignore", "inherit", "inherit", "ipc"], env: { ...process.env, AUTOGLM_LOG_LEVEL: "warn" } });
  let fleetStats: FleetStats | undefined;
  let resolveConnected: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (resolveConnected = resolve));
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  child.on("message", (m: FleetMessage) => {
    if (m.type === "connected") resolveConnected();
    else if (m.type === "received") {
      const at = computedAt.get(m.version);
      if (at !== undefined) {
        pushMs.push(m.lastAtMs - at);
        computedAt.delete(m.version);
      }
    } else if (m.type === "done") {
      fleetStats = m.stats;
      resolveDone();
    }
  });
  child.send({ type: "start", config: fleetConfig });

  try {
    return await measure();
  } finally {
    // Let the fleet exit on its own after "stop" (it exits 200 ms later); kill it otherwise.
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (child.exitCode === null && child.signalCode === null) child.kill();
    }
    await cp.stop();
    await server.close();
  }

  async function measure(): Promise<ControlPlaneBenchResult> {
  const connectStart = Date.now();
  const connectTimeout = setInterval(() => progress(`connecting: ${cp.sidecarStatuses().length}/${sidecars} streams`), 2000);
  let connectTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    connected,
    new Promise((_, reject) => (connectTimer = setTimeout(() => reject(new Error(`only ${cp.sidecarStatuses().length} of ${sidecars} streams connected within 300 s`)), 300_000))),
  ]).finally(() => {
    clearInterval(connectTimeout);
    clearTimeout(connectTimer);
  });
  progress(`${sidecars} streams connected in ${((Date.now() - connectStart) / 1000).toFixed(1)} s; warming up 3 s`);
  await new Promise((r) => setTimeout(r, 3000));
  measuring = true;
  const started = Date.now();
  for (let s = 1; s <= seconds; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (s % 5 === 0 || s === seconds) {
      progress(`${s}/${seconds} s: ${Math.round(reportsAccepted / ((Date.now() - started) / 1000))} reports/s, decision p99 ${round1(p99(decisionMs))} ms, push p99 ${round1(p99(pushMs))} ms, version ${cp.currentDecisions().version}`);
    }
  }
  const elapsedS = (Date.now() - started) / 1000;
  measuring = false;
  await new Promise((r) => setTimeout(r, 1500)); // let in-flight pushes land
  const undelivered = computedAt.size;
  child.send({ type: "stop" });
  await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
  const errors = (fleetStats?.streamErrors ?? 1) + missingReports + undelivered + nacks + badReports;
  if (errors > 0) progress(`errors: stream ${fleetStats?.streamErrors ?? "fleet did not report"} ${fleetStats?.errorSamples.join("; ") ?? ""}, missing reports ${missingReports}, undelivered versions ${undelivered}, nacks ${nacks}, bad reports ${badReports}`);
  if (lateFolded > 0) progress(`late folded reports (not errors): ${lateFolded}`);
  return {
    sidecars,
    reports_per_s: Math.round(reportsAccepted / elapsedS),
    decision_p99_ms: round1(p99(decisionMs)),
    push_p99_ms: round1(p99(pushMs)),
    rss_mb: Math.round(peakRss / (1024 * 1024)),
    errors,
  };
  }
}

export const command: Command = {
  name: "control-plane",
  summary: "benchmark the control plane with N simulated sidecars over gRPC",
  help,
  async run(args: string[]): Promise<number> {
    let values: { sidecars?: string; seconds?: string; json?: string };
    try {
      ({ values } = parseArgs({ args, options: { sidecars: { type: "string" }, seconds: { type: "string" }, json: { type: "string" } }, strict: true, allowPositionals: false }));
    } catch (err) {
      process.stderr.write(`autoglm bench control-plane: ${(err as Error).message}\n\n${help}\n`);
      return 2;
    }
    let sidecars: number;
    let seconds: number;
    try {
      sidecars = positiveInt("sidecars", values.sidecars, 2000);
      seconds = positiveInt("seconds", values.seconds, 30);
    } catch (err) {
      process.stderr.write(`autoglm bench control-plane: ${(err as Error).message}\n`);
      return 2;
    }
    const result = await runControlPlaneBench(sidecars, seconds, (line) => process.stderr.write(`bench control-plane: ${line}\n`));
    process.stdout.write(JSON.stringify(result) + "\n");
    if (values.json !== undefined) await writeFile(values.json, JSON.stringify(result, null, 2) + "\n");
    return result.errors === 0 ? 0 : 1;
  },
};
