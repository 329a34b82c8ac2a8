// `autoglm bench control-plane`: the control plane with N simulated sidecar streams over real
// gRPC on loopback (the fleet runs in a child process), each reporting once a second for four
// clusters; one cluster fails periodically so that decision sets change and get pushed.
// Measures: reports/s received, decision latency (last report of a window in -> decision
// computed), push latency (decision computed -> received by every stream), RSS of the control
// plane process, errors (stream errors, missing reports, undelivered versions, nacks).
import { fork, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Command } from "../command.js";
import { tryWriteFile } from "../output-file.js";
import { createLogger } from "../../lib/log.js";
import type { FleetConfig, FleetMessage, FleetStats } from "../../control-plane/src/grpc/simulated-sidecars.js";
import { quantileSorted } from "../../sim/quantile.js";
import { isForwarder, startBenchPlanes } from "./bench-planes.js";
import { controlPlaneBenchChart, type ControlPlaneBenchSeries, type TimedMs } from "./bench-control-plane-chart.js";
import { type StallFigures, trackTimerLateness } from "./stall-probe.js";

const help = `Usage: autoglm bench control-plane [--sidecars N] [--seconds S] [--replicas R] [--json <file>] [--chart <file.svg>]

Starts the control plane and N simulated sidecar streams over real gRPC on loopback, each
reporting once a second for four clusters, and measures for S seconds:
  reports_per_s     telemetry reports received per second (accepted or folded in late)
  decision_p99_ms   last report of a window in (at any replica) -> decision computed, p99
  push_p99_ms       decision computed -> received by every stream, p99
  rss_mb            resident memory of the control plane process (peak)
  errors            stream errors, missing reports, undelivered decision sets, nacks, reports
                    dropped as late, duplicate or invalid (a report folded in late, after
                    its window closed, is not lost: shown as "late folded", not an error);
                    missing reports are those of the measured windows never received
  control_plane_loop_delay_p99_ms   the control plane process's event-loop delay, p99
  idle_process_loop_delay_p99_ms    the same for an idle reference process running meanwhile:
                    what the machine alone does to timing (no latency above can beat it)
  streams_per_replica   sidecar streams each replica serves (with --replicas; the leader's
                    index in leader_replica)

Options:
  --sidecars N      simulated sidecar streams (default 2000)
  --seconds S       measuring time after all streams connected (default 30)
  --replicas R      R control-plane replicas on a three-member etcd cluster started on loopback
                    (Debian's etcd-server), the streams spread over them; the followers
                    forward merged windows to the leader (default 1: one embedded process;
                    the replicas run in this process and share its cores)
  --json <file>     also write the figures as JSON
  --chart <file>    also draw the run as SVG: decision and push latencies against how late the
                    control plane's and the idle reference process's timers ran, per second
  -h, --help        this text`;

/** The issue's targets for 2,000 sidecars (drawn on the chart). */
const DECISION_TARGET_MS = 50;
const PUSH_TARGET_MS = 200;

/** The figures of a run and the time series behind them (for the chart). */
export interface ControlPlaneBenchRun {
  figures: ControlPlaneBenchResult;
  series: ControlPlaneBenchSeries;
}

export interface ControlPlaneBenchResult {
  sidecars: number;
  reports_per_s: number;
  decision_p99_ms: number;
  push_p99_ms: number;
  rss_mb: number;
  errors: number;
  /** Event-loop delay p99 of the control plane's process while measuring, ms. */
  control_plane_loop_delay_p99_ms: number;
  /** Event-loop delay p99 of an idle reference process meanwhile: the machine's own stalls, ms
   *  (null when the probe process failed). */
  idle_process_loop_delay_p99_ms: number | null;
  /** With --replicas: how many replicas, the sidecar streams each serves, and which leads. */
  replicas?: number;
  streams_per_replica?: number[];
  leader_replica?: number;
}

/** The nearest-rank q-quantile (0 < q <= 1) of unsorted values; NaN when empty. */
const percentile = (values: readonly number[], q: number): number => quantileSorted([...values].sort((a, b) => a - b), q);

const p99 = (values: readonly number[]): number => percentile(values, 0.99);

/**
 * A reference for what the machine itself does to timing: an idle Node.js process that only
 * measures how late its timers run while the bench runs (stall-probe.ts). On a virtual machine
 * whose cores are taken away for hundreds of milliseconds this shows it, and no latency figure of
 * the bench can be better than it.
 */
function startStallProbe(): { stop(): Promise<StallFigures | undefined> } {
  const probePath = fileURLToPath(new URL("./stall-probe.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", probePath], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
  child.stdin.on("error", () => undefined); // a probe that died: stop() resolves to undefined
  return {
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve(undefined);
          return;
        }
        const timer = setTimeout(() => {
          child.kill();
          resolve(undefined);
        }, 5000);
        child.once("exit", () => {
          clearTimeout(timer);
          try {
            resolve(JSON.parse(out) as StallFigures);
          } catch {
            resolve(undefined);
          }
        });
        child.stdin.end();
      }),
  };
}

const hrNow = (): number => performance.timeOrigin + performance.now();
const round1 = (v: number) => Math.round(v * 10) / 10;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: expected a positive integer, got "${raw}"`);
  return n;
}

/** The failing cluster's cycle: it fails (100% errors) for faultOnS seconds of every faultEveryS,
 *  so that decision sets change and get pushed. */
export interface FaultCycle {
  faultEveryS: number;
  faultOnS: number;
}

export async function runControlPlaneBench(
  sidecars: number,
  seconds: number,
  progress: (line: string) => void,
  faults: FaultCycle = { faultEveryS: 20, faultOnS: 6 },
  replicas = 1,
): Promise<ControlPlaneBenchRun> {
  const clusters = ["llm-a", "llm-b", "llm-c", "llm-d"];
  const deployment = await startBenchPlanes(
    replicas,
    {
      clusters: clusters.map((name) => ({ name, baseWeight: 25 })),
      slo: { latencyMs: 2000, successRate: 0.99 },
      logger: createLogger("bench-cp", "warn"),
      config: { detector: { warmupWindows: 5 }, breaker: { openBaseMs: 3000, openMaxMs: 6000 } },
    },
    progress,
  );
  const { planes } = deployment;
  /** The leader (the one plane without --replicas): rounds, decision sets, versions. */
  const cp = deployment.leader();
  /** Sidecar streams (followers' forwarding streams aside) per replica. */
  const streamsPerReplica = (): number[] => planes.map((p) => p.sidecarStatuses().filter((s) => !isForwarder(s.nodeId)).length);
  const connectedStreams = (): number => streamsPerReplica().reduce((a, b) => a + b, 0);

  let measuring = false;
  let reportsAccepted = 0;
  let badReports = 0;
  let lateFolded = 0;
  let nacks = 0;
  /** Per window start: reports that count in it (accepted or folded in late; `count`), reports that
   *  arrived for it at all, duplicates aside (`arrived`: a dropped one is an error already, not
   *  also a missing one), whenever they came. */
  const receivedPerWindow = new Map<number, { count: number; arrived: number; lastHrMs: number; decided: boolean }>();
  /** Windows a round closed before every stream's report was in (decided on partial data). */
  let windowsDecidedIncomplete = 0;
  /** Report arrival after its window's end, ms (the fleet sends 20..220 ms after it). */
  const arrivalMs: number[] = [];
  /** [decision computed at (epoch ms), latency ms] per window and per decision set, for the chart. */
  const decisionPoints: TimedMs[] = [];
  const pushPoints: TimedMs[] = [];
  const latencies = (points: readonly TimedMs[]): number[] => points.map(([, ms]) => ms);
  const computedAt = new Map<number, number>();
  let peakRss = 0;

  const onReport = (r: { windowStartMs: number; outcome: string }): void => {
    const w = receivedPerWindow.get(r.windowStartMs) ?? { count: 0, arrived: 0, lastHrMs: 0, decided: false };
    receivedPerWindow.set(r.windowStartMs, w);
    if (r.outcome !== "duplicate") w.arrived++;
    if (r.outcome === "accepted" || r.outcome === "late_folded") {
      w.count++;
      w.lastHrMs = hrNow();
    }
    if (!measuring) return;
    if (r.outcome === "accepted") reportsAccepted++;
    else if (r.outcome === "late_folded") lateFolded++; // still counted in its window
    else badReports++; // duplicate, invalid or too late to fold in: lost
    arrivalMs.push(hrNow() - (r.windowStartMs + 1000));
  };
  // The leader judges its own sidecars' reports (a follower's merged windows are not sidecars');
  // a follower hands its sidecars' reports to its forwarder unjudged: counted as accepted.
  for (const plane of planes) plane.on("report", (r) => (isForwarder(r.nodeId) ? undefined : onReport(r)));
  deployment.onFollowerReport((windowStartMs) => onReport({ windowStartMs, outcome: "accepted" }));
  for (const plane of planes) {
    plane.on("nack", () => {
      if (measuring) nacks++;
    });
  }
  /** Decision computed -> written to every stream's transport (the control plane's own share of a push), ms. */
  const fanOutMs: number[] = [];
  let decisionsEmittedAtHrMs = 0;
  cp.on("decisions", () => (decisionsEmittedAtHrMs = hrNow()));
  cp.on("round", (round) => {
    if (round.changed && measuring) {
      computedAt.set(round.version, round.computedAtHrMs);
      fanOutMs.push(decisionsEmittedAtHrMs - round.computedAtHrMs);
    }
    if (round.windowsClosed === 0 || !measuring) return;
    // The windows this round closed: every one that ended at least closeDelayMs ago, or is complete.
    for (const [start, w] of receivedPerWindow) {
      if (w.decided) continue;
      if (w.count >= sidecars) {
        decisionPoints.push([round.computedAtHrMs, round.computedAtHrMs - w.lastHrMs]);
        w.decided = true;
      } else if (round.atMs >= start + 1000 + cp.config.aggregation.closeDelayMs) {
        windowsDecidedIncomplete++;
        w.decided = true;
      }
    }
  });

  const fleetConfig: FleetConfig = {
    target: deployment.targets[0]!,
    targets: deployment.targets,
    sidecars,
    clusters,
    requestsPerWindow: 50,
    faultCluster: "llm-d",
    faultEveryS: faults.faultEveryS,
    faultOnS: faults.faultOnS,
    // Connections go to the replicas in turn: enough of them that every replica gets its share.
    streamsPerChannel: Math.max(1, Math.min(100, Math.ceil(sidecars / (replicas * 4)))),
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
        pushPoints.push([at, m.lastAtMs - at]);
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
    await deployment.close();
  }

  async function measure(): Promise<ControlPlaneBenchRun> {
  const connectStart = Date.now();
  const connectTimeout = setInterval(() => progress(`connecting: ${connectedStreams()}/${sidecars} streams`), 2000);
  let connectTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    connected,
    new Promise((_, reject) => (connectTimer = setTimeout(() => reject(new Error(`only ${connectedStreams()} of ${sidecars} streams connected within 300 s`)), 300_000))),
  ]).finally(() => {
    clearInterval(connectTimeout);
    clearTimeout(connectTimer);
  });
  progress(`${sidecars} streams connected in ${((Date.now() - connectStart) / 1000).toFixed(1)} s; warming up 3 s`);
  // The idle reference starts now: its own start-up (seconds of CPU) is over before measuring.
  const probe = startStallProbe();
  await new Promise((r) => setTimeout(r, 3000));
  measuring = true;
  const cpStallTracking = trackTimerLateness();
  const started = Date.now();
  const startedHrMs = hrNow(); // the chart's time axis: the clock the latency points carry
  // Windows whose every report is due inside the measured time (sent 20..220 ms after the end).
  const firstWindow = Math.ceil(started / 1000) * 1000;
  for (const [start, w] of receivedPerWindow) if (start < firstWindow) w.decided = true;
  for (let s = 1; s <= seconds; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (s % 5 === 0 || s === seconds) {
      progress(
        `${s}/${seconds} s: ${Math.round(reportsAccepted / ((Date.now() - started) / 1000))} reports/s, decision p99 ${round1(p99(latencies(decisionPoints)))} ms, push p99 ${round1(p99(latencies(pushPoints)))} ms, ` +
          `report arrival p50/p99 ${round1(percentile(arrivalMs, 0.5))}/${round1(p99(arrivalMs))} ms after window end, ` +
          `version ${cp.currentDecisions().version}`,
      );
    }
  }
  const stoppedAt = Date.now();
  const stoppedHrMs = hrNow();
  measuring = false;
  const cpStalls = cpStallTracking.stop();
  const idle = await probe.stop();
  const elapsedS = (stoppedAt - started) / 1000;
  const perReplica = streamsPerReplica();
  // Let in-flight pushes land and late reports be folded in (within the aggregator's grace).
  await new Promise((r) => setTimeout(r, Math.min(3000, cp.config.aggregation.lateGraceMs)));
  let missingReports = 0;
  for (let start = firstWindow; start + 1000 + 300 <= stoppedAt; start += 1000) {
    missingReports += Math.max(0, sidecars - (receivedPerWindow.get(start)?.arrived ?? 0));
  }
  const undelivered = computedAt.size;
  const { forwarded, dropped: forwardDropped } = deployment.forwarded();
  if (replicas > 1) progress(`replicas: ${perReplica.map((n, i) => `${i}${planes[i] === cp ? " (leader)" : ""} ${n} streams`).join(", ")}; merged windows forwarded to the leader ${forwarded}, dropped ${forwardDropped}`);
  child.send({ type: "stop" });
  await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
  const errors = (fleetStats?.streamErrors ?? 1) + missingReports + undelivered + nacks + badReports + forwardDropped;
  if (errors > 0) progress(`errors: stream ${fleetStats?.streamErrors ?? "fleet did not report"} ${fleetStats?.errorSamples.join("; ") ?? ""}, missing reports ${missingReports}, undelivered versions ${undelivered}, nacks ${nacks}, bad reports ${badReports}, merged windows dropped ${forwardDropped}`);
  progress(
    `event-loop delay p99/max: control plane ${round1(cpStalls.p99Ms)}/${round1(cpStalls.maxMs)} ms, ` +
      `idle reference process ${idle === undefined ? "?" : `${round1(idle.p99Ms)}/${round1(idle.maxMs)}`} ms, ` +
      `fleet ${fleetStats === undefined ? "?" : `${round1(fleetStats.loopDelayP99Ms)}/${round1(fleetStats.loopDelayMaxMs)}`} ms; ` +
      `push p50/p99 ${round1(percentile(latencies(pushPoints), 0.5))}/${round1(p99(latencies(pushPoints)))} ms over ${pushPoints.length} decision sets, decision p50 ${round1(percentile(latencies(decisionPoints), 0.5))} ms over ${decisionPoints.length} windows; ` +
      `push fan-out (computed -> written to all ${sidecars} streams) p50/max ${round1(percentile(fanOutMs, 0.5))}/${round1(percentile(fanOutMs, 1))} ms; ` +
      `report arrival after window end p50/p99/max ${round1(percentile(arrivalMs, 0.5))}/${round1(p99(arrivalMs))}/${round1(percentile(arrivalMs, 1))} ms`,
  );
  if (lateFolded > 0) progress(`late folded reports (not errors): ${lateFolded}; windows decided before every report was in: ${windowsDecidedIncomplete}`);
  const figures: ControlPlaneBenchResult = {
    sidecars,
    reports_per_s: Math.round((reportsAccepted + lateFolded) / elapsedS),
    decision_p99_ms: round1(p99(latencies(decisionPoints))),
    push_p99_ms: round1(p99(latencies(pushPoints))),
    rss_mb: Math.round(peakRss / (1024 * 1024)),
    errors,
    control_plane_loop_delay_p99_ms: round1(cpStalls.p99Ms),
    idle_process_loop_delay_p99_ms: idle === undefined ? null : round1(idle.p99Ms),
    ...(replicas === 1 ? {} : { replicas, streams_per_replica: perReplica, leader_replica: planes.indexOf(cp) }),
  };
  const series: ControlPlaneBenchSeries = {
    sidecars,
    startMs: startedHrMs,
    endMs: stoppedHrMs,
    decisions: decisionPoints,
    pushes: pushPoints,
    controlPlaneStalls: cpStalls.perSecond,
    idleStalls: idle?.perSecond ?? [],
    decisionTargetMs: DECISION_TARGET_MS,
    pushTargetMs: PUSH_TARGET_MS,
  };
  return { figures, series };
  }
}

export const command: Command = {
  name: "control-plane",
  summary: "benchmark the control plane with N simulated sidecars over gRPC",
  help,
  async run(args: string[]): Promise<number> {
    let values: { sidecars?: string; seconds?: string; replicas?: string; json?: string; chart?: string };
    try {
      ({ values } = parseArgs({ args, options: { sidecars: { type: "string" }, seconds: { type: "string" }, replicas: { type: "string" }, json: { type: "string" }, chart: { type: "string" } }, strict: true, allowPositionals: false }));
    } catch (err) {
      process.stderr.write(`autoglm bench control-plane: ${(err as Error).message}\n\n${help}\n`);
      return 2;
    }
    let sidecars: number;
    let seconds: number;
    let replicas: number;
    try {
      sidecars = positiveInt("sidecars", values.sidecars, 2000);
      seconds = positiveInt("seconds", values.seconds, 30);
      replicas = positiveInt("replicas", values.replicas, 1);
      if (replicas > 9) throw new Error(`--replicas: at most 9, got ${replicas}`);
    } catch (err) {
      process.stderr.write(`autoglm bench control-plane: ${(err as Error).message}\n`);
      return 2;
    }
    const { figures, series } = await runControlPlaneBench(sidecars, seconds, (line) => process.stderr.write(`bench control-plane: ${line}\n`), undefined, replicas);
    process.stdout.write(JSON.stringify(figures) + "\n");
    // The figures are on stdout already: a file that cannot be written loses nothing.
    let saved = true;
    const save = (file: string, text: string, what: string): boolean => {
      const failed = tryWriteFile(file, text);
      if (failed !== null) process.stderr.write(`autoglm bench control-plane: cannot write the ${what} to ${file}: ${failed}\n`);
      saved &&= failed === null;
      return failed === null;
    };
    if (values.json !== undefined) save(values.json, JSON.stringify(figures, null, 2) + "\n", "figures");
    if (values.chart !== undefined && save(values.chart, controlPlaneBenchChart(series) + "\n", "chart")) {
      process.stderr.write(`bench control-plane: wrote ${values.chart}\n`);
    }
    if (!saved) return 2;
    return figures.errors === 0 ? 0 : 1;
  },
};
