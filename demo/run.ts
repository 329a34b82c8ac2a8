// `autoglm demo` as a function: starts on loopback the control plane (with its dashboard), one
// stand-in LLM server per host of each scenario cluster, two sidecars running build/filter.wasm
// that stream to the control plane over gRPC, and a load generator; prints a one-line summary
// every second; on the end of the duration or an abort it stops the load, drains in-flight
// requests, closes the sidecars, the servers and the control plane (which flushes its audit log).
// The control plane's alerts are e-mailed to a local SMTP server the demo starts (mailbox.ts):
// each mail's subject is printed as it arrives, with the file it was saved to.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createLogger, type Logger } from "../lib/log.js";
import { FaultTimeline } from "../sim/faults.js";
import { loadScenarioFile, projectRoot, type Scenario } from "../sim/scenario.js";
import { startSidecar, type RunningSidecar } from "../sidecar/index.js";
import type { BreakerKind, Transition } from "../control-plane/src/core/types.js";
import type { ModelStatus } from "../control-plane/src/admin/deps.js";
import { controlPlaneConfigFor, startDemoControlPlane, type DemoControlPlane } from "./control-plane-host.js";
import type { SourceStat } from "../control-plane/src/core/sources/index.js";
import { DEMO_CLIENTS, LoadGenerator, type LoadTally } from "./load.js";
import { breakerStories, summaryLine, topSourcesLine, type BreakerStory } from "./summary.js";
import { startLlmServer, type RunningLlmServer } from "./llm-server.js";
import { DEMO_MAIL_TO, mailboxAlerts, startMailbox, type Mailbox } from "./mailbox.js";
import { runUntil } from "./run-for.js";

export const CONTROL_PLANE_CLUSTER = "autoglm-control-plane";

export interface DemoOptions {
  /** A scenario file (shared scenario format); default demo/scenarios/default.json. */
  scenarioPath?: string;
  /** An already parsed scenario (wins over scenarioPath). */
  scenario?: Scenario;
  /** Seconds to run; default the scenario's duration_s. */
  durationS?: number;
  /** Offered requests per second; default 30. */
  rps?: number;
  /** Path of the filter; default build/filter.wasm under the project root. */
  wasmPath?: string;
  /** Number of sidecars; default 2. */
  sidecars?: number;
  /** Stand-in hosts per cluster (at most the scenario's endpoints); default 2. */
  hostsPerCluster?: number;
  /** Multiplier on the scenario's latencies; default 0.1. */
  latencyScale?: number;
  /** Fraction of streaming requests; default 0.5. */
  streamFraction?: number;
  /** Directory for the control plane's audit log; default none. */
  auditDir?: string;
  /** The anomaly model file; default models/anomaly.onnx under the project root. */
  modelPath?: string;
  /** Where the alert e-mails are saved (NNN.eml); default: kept in memory only. */
  mailDir?: string;
  /** Aborting stops the demo early (Ctrl-C). */
  signal?: AbortSignal;
  /** Receives the dashboard line and each second's summary line (without a newline). */
  print?: (line: string) => void;
  logger?: Logger;
}

export interface ClusterSummary {
  name: string;
  /** Answers served by this cluster over the whole run. */
  served: number;
  /** Breaker state at the end. */
  state: BreakerKind;
  /** Weight in the control plane's decision set at the end. */
  weight: number;
}

export interface DemoSummary {
  dashboardUrl: string;
  /** Seconds the load ran. */
  ranS: number;
  totals: LoadTally;
  successRate: number;
  clusters: ClusterSummary[];
  /** Breaker transitions the control plane made during the run. */
  transitions: Transition[];
  /** Each cluster whose breaker opened: when, and whether it closed again before the end. */
  breakers: BreakerStory[];
  /** The scenario's triggers that fired and cleared (scenario seconds, and why). */
  triggers: { trigger: string; kind: "fired" | "cleared"; atS: number; reason: string }[];
  /** The model at the end: "model" when the ONNX model scored the clusters. */
  model: ModelStatus;
  /** Requests the sidecars' filters saw, per sidecar, from their metrics. */
  sidecarRequests: number[];
  /** The alert e-mails the local mailbox received (scenario seconds, subject, saved file). */
  mails: { atS: number; subject: string; file?: string }[];
  /** The mesh's top sources over the last minute at the end (GET /v1/sources), most requests first. */
  topSources: SourceStat[];
  aborted: boolean;
}

/** The top sources the demo prints at the end: the last minute's, at most five. */
const TOP_SOURCES_SPAN_MS = 60_000;
const TOP_SOURCES_SHOWN = 5;

/** Thrown when the filter has not been built. */
export class MissingFilterError extends Error {
  override name = "MissingFilterError";
}

export function defaultScenarioPath(): string {
  return join(projectRoot(), "demo", "scenarios", "default.json");
}

/** Sums the sidecar's request counter lines (sidecar_requests_total or the filter's own) in Prometheus text. */
export function requestsFromMetrics(text: string): number {
  let total = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([0-9.eE+-]+)$/.exec(line.trim());
    if (m !== null && /^(autoglm_)?sidecar_requests_total$/.test(m[1]!)) total += Number(m[3]);
  }
  return total;
}

function pct(part: number, whole: number): string {
  return whole === 0 ? "  -" : `${Math.round((100 * part) / whole)}%`.padStart(4);
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const log = options.logger ?? createLogger("demo");
  const print = options.print ?? ((line: string) => log.info(line));
  const wasm = options.wasmPath ?? join(projectRoot(), "build", "filter.wasm");
  if (!existsSync(wasm)) {
    throw new MissingFilterError(`the filter is not built (${wasm} is missing): \`npm start\` builds it before the demo, or run \`npm run build:filter\``);
  }
  const scenario = options.scenario ?? loadScenarioFile(options.scenarioPath ?? defaultScenarioPath());
  const durationS = options.durationS ?? scenario.duration_s;
  const rps = options.rps ?? 30;
  const sidecarCount = options.sidecars ?? 2;
  const hostsPerCluster = options.hostsPerCluster ?? 2;
  const latencyScale = options.latencyScale ?? 0.1;

  const servers: RunningLlmServer[] = [];
  const sidecars: RunningSidecar[] = [];
  let cp: DemoControlPlane | undefined;
  let mailbox: Mailbox | undefined;
  let load: LoadGenerator | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const transitions: Transition[] = [];
  const triggers: DemoSummary["triggers"] = [];
  // Scenario second 0 is when the load starts (start-up can take a while on a loaded machine).
  let startedAtMs = Number.POSITIVE_INFINITY;
  const scenarioSeconds = (): number => Math.max(0, (Date.now() - startedAtMs) / 1000);
  const faults = new FaultTimeline(scenario);
  const mails: DemoSummary["mails"] = [];
  try {
    mailbox = await startMailbox(options.mailDir === undefined ? {} : { dir: options.mailDir });
    mailbox.onMail((m) => {
      const atS = Math.round(scenarioSeconds());
      mails.push({ atS, subject: m.subject, ...(m.file === undefined ? {} : { file: m.file }) });
      print(`mail at t=${atS}s to ${m.recipients.join(", ")}: ${m.subject}${m.file === undefined ? "" : ` (${m.file})`}`);
    });
    cp = await startDemoControlPlane(controlPlaneConfigFor(scenario, options.auditDir, options.modelPath, mailboxAlerts(mailbox)), log);
    cp.controlPlane.on("transition", (t) => transitions.push(t));
    // A trigger of the scenario fired or cleared: said at once, between the summary lines.
    cp.controlPlane.on("trigger", (e) => {
      const atS = Math.round(scenarioSeconds());
      const byHand = e.clearedBy !== undefined && e.clearedBy !== "condition";
      const reason = e.kind === "fired" ? e.values.reason : byHand ? `cleared by ${e.clearedBy}: ${e.clearReason ?? ""}` : "its condition no longer holds";
      triggers.push({ trigger: e.trigger, kind: e.kind, atS, reason });
      print(`trigger ${e.trigger} ${e.kind} at t=${atS}s: ${reason}`);
    });
    const dashboardUrl = `${cp.adminUrl}/`;
    const endpoints = new Map<string, string[]>();
    for (let c = 0; c < scenario.clusters.length; c++) {
      const spec = scenario.clusters[c]!;
      const list: string[] = [];
      for (let h = 0; h < Math.min(hostsPerCluster, spec.endpoints); h++) {
        const s = await startLlmServer({ scenario, cluster: c, host: h, faults, scenarioSeconds, latencyScale });
        servers.push(s);
        list.push(s.address);
      }
      endpoints.set(spec.name, list);
    }
    for (let i = 0; i < sidecarCount; i++) {
      const nodeId = `demo-sidecar-${i + 1}`;
      sidecars.push(
        await startSidecar(
          {
            listen: "127.0.0.1:0",
            workers: 1,
            filter: {
              wasm,
              fail_open: true,
              configuration: {
                node_id: nodeId,
                control_plane: { cluster: CONTROL_PLANE_CLUSTER, timeout_ms: 5000 },
                window_ms: Math.round(scenario.window_s * 1000),
                clusters: scenario.clusters.map((c) => ({ name: c.name, weight: c.weight })),
                // Who sends the traffic: by x-forwarded-for's first hop (README, "Who sends the traffic").
                sources: { header: "x-forwarded-for", top_k: 8 },
              },
            },
            clusters: scenario.clusters.map((c) => ({ name: c.name, endpoints: endpoints.get(c.name)! })),
            cluster_header: "x-autoglm-cluster",
            upstream_timeout_ms: scenario.slo.client_timeout_ms,
            control_plane: { cluster: CONTROL_PLANE_CLUSTER, address: `127.0.0.1:${cp.grpcPort}` },
            metrics: { listen: "127.0.0.1:0" },
            node: { id: nodeId },
          },
          { logger: log },
        ),
      );
    }
    print(`autoglm demo: scenario ${scenario.name}, ${durationS} s at ${rps} rps over ${sidecarCount} sidecars`);
    print(`dashboard: ${dashboardUrl}`);
    const model = cp.modelStatus();
    print(`model: ${model.mode}${model.path === undefined ? "" : ` (${model.path})`}${model.detail === undefined ? "" : `: ${model.detail}`}`);
    print(`sidecars: ${sidecars.map((s) => s.url).join(" ")}`);
    if (options.auditDir !== undefined) print(`audit log: ${options.auditDir} (also at ${dashboardUrl}v1/audit)`);
    print(
      `alerts: e-mailed to ${DEMO_MAIL_TO} through a local SMTP server (${mailbox.host}:${mailbox.port})` +
        `${options.mailDir === undefined ? "" : `, each saved in ${options.mailDir}`}; a line per mail below`,
    );

    load = new LoadGenerator({
      targets: sidecars.map((s) => s.url),
      rps,
      streamFraction: options.streamFraction ?? 0.5,
      timeoutMs: scenario.slo.client_timeout_ms,
      maxInFlight: Math.max(50, rps * 5),
      clients: DEMO_CLIENTS,
    });
    const loadStartedMs = Date.now();
    startedAtMs = loadStartedMs;
    load.start();
    const controlPlane = cp.controlPlane;
    const running = load;
    ticker = setInterval(() => {
      const sec = running.takeSecond();
      const statuses = controlPlane.clusterStatuses();
      const routed = Object.values(sec.byCluster).reduce((a, b) => a + b, 0);
      const parts = statuses.map((s) => `${s.cluster} ${pct(sec.byCluster[s.cluster] ?? 0, routed)} ${s.state.kind}`);
      const t = Math.round(scenarioSeconds());
      print(`t=${String(t).padStart(3)}s ${String(sec.requests).padStart(4)} req/s ok ${pct(sec.ok, sec.ok + sec.failed)} | ${parts.join(" | ")} | total ${running.total.requests}`);
    }, 1000);

    const aborted = await runUntil(loadStartedMs + durationS * 1000, options.signal);
    clearInterval(ticker);
    ticker = undefined;
    print(aborted ? "stopping: draining in-flight requests" : "duration reached: draining in-flight requests");
    await load.stop();
    const ranS = (Date.now() - loadStartedMs) / 1000;
    const sidecarRequests = sidecars.map((s) => requestsFromMetrics(s.metricsText()));
    const statuses = cp.controlPlane.clusterStatuses();
    const totals = load.total;
    const breakers = breakerStories(transitions, loadStartedMs, new Map(statuses.map((s) => [s.cluster, s.state.kind])));
    const summary: DemoSummary = {
      dashboardUrl,
      ranS,
      totals,
      successRate: totals.ok + totals.failed === 0 ? 0 : totals.ok / (totals.ok + totals.failed),
      clusters: statuses.map((s) => ({ name: s.cluster, served: totals.byCluster[s.cluster] ?? 0, state: s.state.kind, weight: s.weight })),
      transitions,
      breakers,
      triggers,
      model: cp.modelStatus(),
      sidecarRequests,
      mails,
      topSources: cp.controlPlane.sourcesView(TOP_SOURCES_SPAN_MS, TOP_SOURCES_SHOWN).sources,
      aborted,
    };
    print(topSourcesLine(summary.topSources));
    print(summaryLine(totals.requests, summary.successRate, breakers, transitions.length));
    return summary;
  } finally {
    if (ticker !== undefined) clearInterval(ticker);
    await load?.stop();
    for (const s of sidecars) await s.close().catch((err: unknown) => log.warn({ err }, "sidecar close failed"));
    for (const s of servers) await s.close();
    // The control plane first: closing its alert notifier sends what is still queued.
    await cp?.close().catch((err: unknown) => log.warn({ err }, "control plane close failed"));
    await mailbox?.close().catch((err: unknown) => log.warn({ err }, "mailbox close failed"));
  }
}
