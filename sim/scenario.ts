// Fault scenarios: loading and validation of the JSON format described in
// sim/scenarios/README.md (the project's copy of the public scenarios and their format). A scenario describes a small
// mesh, the traffic it gets and the faults it suffers, on a virtual clock.
//
// `parseScenario` accepts any valid file of the format and rejects an invalid one with a
// `ScenarioError` listing every problem as "<field path>: <problem>", e.g.
// `clusters[1].latency_ms.p99: must be > p50 (180)`. Unknown fields are errors too, so a typo
// never silently falls back to a default.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Checker, checkP50P99, isObject, type Json } from "./scenario-checker.js";
import {
  STREAM_FAULT_FIELDS, parseLlm, parseStreamFault, parseStreamSlo, type CutAs, type ScenarioLlm,
} from "./scenario-llm.js";

export type { CutAs, ScenarioLlm } from "./scenario-llm.js";
import type { TriggerRule } from "../control-plane/src/core/triggers/types.js";
import { scenarioTriggers } from "./triggers.js";

/** Service-level objective of a scenario. */
export interface ScenarioSlo {
  /** A request slower than this misses the latency objective, milliseconds. */
  latency_ms: number;
  /** Fraction of requests per window that must succeed, (0, 1]. */
  success_rate: number;
  /** The client gives up after this and counts the request as failed (504), milliseconds. For a
   *  streamed answer it applies to the first token: a stream that has started runs to its end. */
  client_timeout_ms: number;
  /** p99 time to first token per window of streams, milliseconds; absent: not judged. */
  ttft_ms?: number;
  /** p99 time per output token per window of streams, milliseconds; absent: not judged. */
  tpot_ms?: number;
}

/** One upstream cluster. */
export interface ScenarioCluster {
  name: string;
  /** Operator's base weight, relative to the other clusters (> 0). */
  weight: number;
  /** Number of hosts (integer >= 1). */
  endpoints: number;
  /** Requests per second the whole cluster serves before it saturates, shared evenly by its hosts. */
  capacity_rps: number;
  /** Log-normal latency fitted to these quantiles, milliseconds. */
  latency_ms: { p50: number; p99: number };
  /** Baseline chance that a request answers 5xx, [0, 1]; 0 when absent. */
  error_rate: number;
  /** Streamed LLM answers (sim/scenario-llm.ts); absent: no request of this cluster streams. */
  llm?: ScenarioLlm;
  /** Its hosts send an ORCA load report on every answer (the `endpoint-load-metrics` response
   *  header: sim/upstream.ts loadReport); absent or false: none. */
  load_report?: boolean;
}

/** A wave on the offered rate: rate × (1 + amplitude × sin(2π t / period_s)), t in scenario seconds. */
export interface TrafficWave {
  period_s: number;
  amplitude: number;
}

/** Offered requests per second from at_s on, reached linearly over ramp_s. */
export interface TrafficStep {
  at_s: number;
  rps: number;
  /** Seconds to reach `rps` from the rate at at_s; 0: at once. */
  ramp_s: number;
  wave?: TrafficWave;
}

/** Repetition of a fault: it starts again every `every_s`, `times` occurrences in all. */
export interface FaultRepeat {
  every_s: number;
  times: number;
}

/** What goes wrong on a cluster, from at_s for for_s seconds. */
export interface ScenarioFault {
  at_s: number;
  cluster: string;
  /** The first N hosts of the cluster; absent in the file: all of them. */
  endpoints: number;
  for_s: number;
  /** Latency multiplier at full effect (> 0); 1 when absent. */
  latency_x: number;
  /** Added chance of a 5xx answer at full effect, [0, 1]; 0 when absent. */
  error_rate: number;
  /** Multiplier on capacity at full effect (>= 0); 1 when absent. */
  capacity_x: number;
  /** The hosts refuse at once (503). */
  down: boolean;
  /** Multiplier on streams' time to first token at full effect (prefill queueing); absent: 1. */
  ttft_x?: number;
  /** Multiplier on streams' time per output token at full effect (decode slowdown); absent: 1. */
  tpot_x?: number;
  /** Chance at full effect that a stream is cut before its end, [0, 1]; absent: 0. */
  cut_rate?: number;
  /** How cut streams end; absent: "error_event". */
  cut_as?: CutAs;
  /** The effect grows linearly from nothing to full over this many seconds (within for_s). */
  ramp_s: number;
  /** The effect fades out linearly over this many seconds after for_s ends. */
  recover_ramp_s: number;
  repeat?: FaultRepeat;
}

/** A validated scenario with defaults filled in. */
export interface Scenario {
  name: string;
  description: string;
  seed: number;
  duration_s: number;
  window_s: number;
  sidecars: number;
  slo: ScenarioSlo;
  clusters: ScenarioCluster[];
  traffic: TrafficStep[];
  faults: ScenarioFault[];
  /** The control plane's trigger rules (sim/triggers.ts); absent: none. */
  triggers?: TriggerRule[];
}

/** A scenario file that is not valid: every problem found, each as "<path>: <problem>". */
export class ScenarioError extends Error {
  readonly code = "SIM_ERR_SCENARIO";
  constructor(
    /** Where the scenario came from (file path or "<inline>"). */
    readonly source: string,
    /** Each problem as "<field path>: <problem>". */
    readonly problems: string[],
  ) {
    super(`${source}: invalid scenario:\n  ${problems.join("\n  ")}`);
    this.name = "ScenarioError";
  }
}

/** Upper bound on windows per run, so a typo (window_s 0.0001) fails fast instead of hanging. */
const MAX_WINDOWS = 1_000_000;

const TOP_FIELDS = ["name", "description", "seed", "duration_s", "window_s", "sidecars", "slo", "clusters", "traffic", "faults", "triggers"];
const TOP_REQUIRED = ["name", "seed", "duration_s", "window_s", "sidecars", "slo", "clusters", "traffic"];
const SLO_REQUIRED = ["latency_ms", "success_rate", "client_timeout_ms"];
const SLO_FIELDS = [...SLO_REQUIRED, "ttft_ms", "tpot_ms"];
const CLUSTER_FIELDS = ["name", "weight", "endpoints", "capacity_rps", "latency_ms", "error_rate", "llm", "load_report"];
const CLUSTER_REQUIRED = ["name", "weight", "endpoints", "capacity_rps", "latency_ms"];
const TRAFFIC_FIELDS = ["at_s", "rps", "ramp_s", "wave"];
const FAULT_FIELDS = [
  "at_s", "cluster", "endpoints", "for_s", "latency_x", "error_rate", "capacity_x", "down", "ramp_s", "recover_ramp_s", "repeat",
  ...STREAM_FAULT_FIELDS,
];
const FAULT_EFFECTS = ["latency_x", "error_rate", "capacity_x", "down", "ttft_x", "tpot_x", "cut_rate"];

/**
 * Validates a parsed JSON value as a scenario and fills in defaults.
 * Throws ScenarioError naming every problem with its field path.
 */
export function parseScenario(value: Json, source = "<inline>"): Scenario {
  const c = new Checker();
  const top = c.object(value, "", TOP_FIELDS, TOP_REQUIRED);
  if (top === undefined) throw new ScenarioError(source, c.problems);

  const name = "name" in top ? c.string(top.name, "name", true) : undefined;
  const description = "description" in top ? c.string(top.description, "description", false) : "";
  const seed = "seed" in top ? c.number(top.seed, "seed", { integer: true, min: 0 }) : undefined;
  const duration = "duration_s" in top ? c.number(top.duration_s, "duration_s", { min: 0, minExclusive: true }) : undefined;
  let window = "window_s" in top ? c.number(top.window_s, "window_s", { min: 0, minExclusive: true }) : undefined;
  if (window !== undefined && duration !== undefined) {
    if (window > duration) {
      c.problem("window_s", `must be <= duration_s (${duration}), got ${window}`);
      window = undefined;
    } else if (duration / window > MAX_WINDOWS) {
      c.problem("window_s", `gives ${Math.ceil(duration / window)} windows over duration_s; at most ${MAX_WINDOWS}`);
      window = undefined;
    }
  }
  const sidecars = "sidecars" in top ? c.number(top.sidecars, "sidecars", { integer: true, min: 1, max: 10_000 }) : undefined;

  let slo: ScenarioSlo | undefined;
  if ("slo" in top) {
    const o = c.object(top.slo, "slo", SLO_FIELDS, SLO_REQUIRED);
    if (o !== undefined) {
      const anyLlm = Array.isArray(top.clusters) && top.clusters.some((entry) => isObject(entry) && "llm" in entry);
      const streams = parseStreamSlo(c, o, anyLlm);
      const latency = "latency_ms" in o ? c.number(o.latency_ms, "slo.latency_ms", { min: 0, minExclusive: true }) : undefined;
      const success = "success_rate" in o
        ? c.number(o.success_rate, "slo.success_rate", { min: 0, minExclusive: true, max: 1 })
        : undefined;
      const timeout = "client_timeout_ms" in o
        ? c.number(o.client_timeout_ms, "slo.client_timeout_ms", { min: 0, minExclusive: true })
        : undefined;
      if (latency !== undefined && success !== undefined && timeout !== undefined && streams !== undefined) {
        slo = { latency_ms: latency, success_rate: success, client_timeout_ms: timeout, ...streams };
      }
    }
  }

  const clusters: ScenarioCluster[] = [];
  const clusterNames = new Map<string, number>();
  let clustersOk = false;
  /** Every name written in clusters[], valid entry or not, so faults are checked against them all. */
  const writtenNames = new Set<string>();
  if (Array.isArray(top.clusters)) {
    for (const entry of top.clusters) if (isObject(entry) && typeof entry.name === "string") writtenNames.add(entry.name);
  }
  if ("clusters" in top) {
    const list = c.array(top.clusters, "clusters", true);
    if (list !== undefined) {
      clustersOk = true;
      list.forEach((entry, i) => {
        const path = `clusters[${i}]`;
        const cluster = parseCluster(c, entry, path);
        if (cluster === undefined) {
          clustersOk = false;
          return;
        }
        const earlier = clusterNames.get(cluster.name);
        if (earlier !== undefined) {
          c.problem(`${path}.name`, `duplicates clusters[${earlier}].name ${JSON.stringify(cluster.name)}`);
          clustersOk = false;
          return;
        }
        clusterNames.set(cluster.name, i);
        clusters.push(cluster);
      });
    }
  }

  const traffic: TrafficStep[] = [];
  let trafficOk = false;
  if ("traffic" in top) {
    const list = c.array(top.traffic, "traffic", true);
    if (list !== undefined) {
      trafficOk = true;
      list.forEach((entry, i) => {
        const step = parseTraffic(c, entry, `traffic[${i}]`, duration);
        if (step === undefined) {
          trafficOk = false;
          return;
        }
        const previous = traffic[traffic.length - 1];
        if (previous !== undefined && step.at_s < previous.at_s) {
          c.problem(`traffic[${i}].at_s`, `must be >= traffic[${i - 1}].at_s (${previous.at_s}): steps are in time order`);
          trafficOk = false;
        }
        traffic.push(step);
      });
    }
  }

  const faults: ScenarioFault[] = [];
  let faultsOk = true;
  if ("faults" in top) {
    const list = c.array(top.faults, "faults", false);
    if (list === undefined) faultsOk = false;
    else {
      list.forEach((entry, i) => {
        const fault = parseFault(c, entry, `faults[${i}]`, clusters, clusterNames, writtenNames, duration);
        if (fault === undefined) faultsOk = false;
        else faults.push(fault);
      });
    }
  }

  let triggers: TriggerRule[] | undefined;
  if ("triggers" in top && clustersOk) {
    const read = scenarioTriggers(top.triggers, clusters);
    for (const problem of read.problems) c.problems.push(problem);
    triggers = read.rules;
  }

  if (
    c.problems.length > 0 || name === undefined || description === undefined || seed === undefined ||
    duration === undefined || window === undefined || sidecars === undefined || slo === undefined ||
    !clustersOk || !trafficOk || !faultsOk
  ) {
    throw new ScenarioError(source, c.problems.length > 0 ? c.problems : ["is not a valid scenario"]);
  }
  return { name, description, seed, duration_s: duration, window_s: window, sidecars, slo, clusters, traffic, faults, ...(triggers === undefined ? {} : { triggers }) };
}

function parseCluster(c: Checker, value: Json, path: string): ScenarioCluster | undefined {
  const o = c.object(value, path, CLUSTER_FIELDS, CLUSTER_REQUIRED);
  if (o === undefined) return undefined;
  const before = c.problems.length;
  const name = "name" in o ? c.string(o.name, `${path}.name`, true) : undefined;
  const weight = "weight" in o ? c.number(o.weight, `${path}.weight`, { min: 0, minExclusive: true }) : undefined;
  const endpoints = "endpoints" in o ? c.number(o.endpoints, `${path}.endpoints`, { integer: true, min: 1, max: 10_000 }) : undefined;
  const capacity = "capacity_rps" in o ? c.number(o.capacity_rps, `${path}.capacity_rps`, { min: 0, minExclusive: true }) : undefined;
  const errorRate = "error_rate" in o ? c.number(o.error_rate, `${path}.error_rate`, { min: 0, max: 1 }) : 0;
  const latency = "latency_ms" in o ? checkP50P99(c, o.latency_ms, `${path}.latency_ms`) : undefined;
  const llm = "llm" in o ? parseLlm(c, o.llm, `${path}.llm`) : undefined;
  const loadReport = "load_report" in o ? c.boolean(o.load_report, `${path}.load_report`) : false;
  if (
    c.problems.length > before || name === undefined || weight === undefined || endpoints === undefined ||
    capacity === undefined || errorRate === undefined || latency === undefined || loadReport === undefined
  ) {
    return undefined;
  }
  const cluster: ScenarioCluster = { name, weight, endpoints, capacity_rps: capacity, latency_ms: latency, error_rate: errorRate };
  if (llm !== undefined) cluster.llm = llm;
  if (loadReport) cluster.load_report = true;
  return cluster;
}

function parseTraffic(c: Checker, value: Json, path: string, duration: number | undefined): TrafficStep | undefined {
  const o = c.object(value, path, TRAFFIC_FIELDS, ["at_s", "rps"]);
  if (o === undefined) return undefined;
  const before = c.problems.length;
  const at = "at_s" in o
    ? c.number(o.at_s, `${path}.at_s`, duration === undefined ? { min: 0 } : { min: 0, max: duration })
    : undefined;
  const rps = "rps" in o ? c.number(o.rps, `${path}.rps`, { min: 0, max: 10_000_000 }) : undefined;
  const ramp = "ramp_s" in o ? c.number(o.ramp_s, `${path}.ramp_s`, { min: 0 }) : 0;
  let wave: TrafficWave | undefined;
  if ("wave" in o) {
    const w = c.object(o.wave, `${path}.wave`, ["period_s", "amplitude"], ["period_s", "amplitude"]);
    if (w !== undefined) {
      const period = "period_s" in w ? c.number(w.period_s, `${path}.wave.period_s`, { min: 0, minExclusive: true }) : undefined;
      const amplitude = "amplitude" in w ? c.number(w.amplitude, `${path}.wave.amplitude`, { min: 0, max: 1 }) : undefined;
      if (period !== undefined && amplitude !== undefined) wave = { period_s: period, amplitude };
    }
  }
  if (c.problems.length > before || at === undefined || rps === undefined || ramp === undefined) return undefined;
  return wave === undefined ? { at_s: at, rps, ramp_s: ramp } : { at_s: at, rps, ramp_s: ramp, wave };
}

function parseFault(
  c: Checker,
  value: Json,
  path: string,
  clusters: readonly ScenarioCluster[],
  clusterNames: ReadonlyMap<string, number>,
  writtenNames: ReadonlySet<string>,
  duration: number | undefined,
): ScenarioFault | undefined {
  const o = c.object(value, path, FAULT_FIELDS, ["at_s", "cluster", "for_s"]);
  if (o === undefined) return undefined;
  const before = c.problems.length;
  const at = "at_s" in o
    ? c.number(o.at_s, `${path}.at_s`, duration === undefined ? { min: 0 } : { min: 0, max: duration })
    : undefined;
  const clusterName = "cluster" in o ? c.string(o.cluster, `${path}.cluster`, true) : undefined;
  let cluster: ScenarioCluster | undefined;
  if (clusterName !== undefined) {
    const index = clusterNames.get(clusterName);
    if (index !== undefined) cluster = clusters[index];
    else if (!writtenNames.has(clusterName)) {
      c.problem(`${path}.cluster`, `cluster ${JSON.stringify(clusterName)} is not defined in clusters (defined: ${[...writtenNames].join(", ") || "none"})`);
    }
  }
  let endpoints: number | undefined;
  if ("endpoints" in o) {
    endpoints = c.number(o.endpoints, `${path}.endpoints`, { integer: true, min: 1 });
    if (endpoints !== undefined && cluster !== undefined && endpoints > cluster.endpoints) {
      c.problem(`${path}.endpoints`, `must be <= the endpoints of cluster ${JSON.stringify(cluster.name)} (${cluster.endpoints}), got ${endpoints}`);
    }
  } else if (cluster !== undefined) endpoints = cluster.endpoints;
  const forS = "for_s" in o ? c.number(o.for_s, `${path}.for_s`, { min: 0, minExclusive: true }) : undefined;
  const latencyX = "latency_x" in o ? c.number(o.latency_x, `${path}.latency_x`, { min: 0, minExclusive: true, max: 10_000 }) : 1;
  const errorRate = "error_rate" in o ? c.number(o.error_rate, `${path}.error_rate`, { min: 0, max: 1 }) : 0;
  const capacityX = "capacity_x" in o ? c.number(o.capacity_x, `${path}.capacity_x`, { min: 0, max: 10_000 }) : 1;
  const down = "down" in o ? c.boolean(o.down, `${path}.down`) : false;
  const ramp = "ramp_s" in o ? c.number(o.ramp_s, `${path}.ramp_s`, { min: 0 }) : 0;
  if (ramp !== undefined && forS !== undefined && ramp > forS) {
    c.problem(`${path}.ramp_s`, `must be <= for_s (${forS}): the effect grows within the fault, got ${ramp}`);
  }
  const recoverRamp = "recover_ramp_s" in o ? c.number(o.recover_ramp_s, `${path}.recover_ramp_s`, { min: 0 }) : 0;
  const streamFields = parseStreamFault(c, o, path, clusterName, cluster === undefined ? undefined : cluster.llm !== undefined);
  if (!FAULT_EFFECTS.some((effect) => effect in o && !(effect === "down" && o.down === false))) {
    c.problem(path, `has no effect: set at least one of ${FAULT_EFFECTS.join(", ")} (down: true)`);
  }
  let repeat: FaultRepeat | undefined;
  if ("repeat" in o) {
    const r = c.object(o.repeat, `${path}.repeat`, ["every_s", "times"], ["every_s", "times"]);
    if (r !== undefined) {
      const every = "every_s" in r ? c.number(r.every_s, `${path}.repeat.every_s`, { min: 0, minExclusive: true }) : undefined;
      const times = "times" in r ? c.number(r.times, `${path}.repeat.times`, { integer: true, min: 1, max: 100_000 }) : undefined;
      if (every !== undefined && forS !== undefined && recoverRamp !== undefined && every < forS + recoverRamp) {
        c.problem(`${path}.repeat.every_s`, `must be >= for_s + recover_ramp_s (${forS + recoverRamp}): occurrences must not overlap, got ${every}`);
      } else if (every !== undefined && times !== undefined) repeat = { every_s: every, times };
    }
  }
  if (
    c.problems.length > before || at === undefined || clusterName === undefined || cluster === undefined ||
    endpoints === undefined || forS === undefined || latencyX === undefined || errorRate === undefined ||
    capacityX === undefined || down === undefined || ramp === undefined || recoverRamp === undefined ||
    streamFields === undefined
  ) {
    return undefined;
  }
  const fault: ScenarioFault = {
    at_s: at, cluster: clusterName, endpoints, for_s: forS, latency_x: latencyX, error_rate: errorRate,
    capacity_x: capacityX, down, ...streamFields, ramp_s: ramp, recover_ramp_s: recoverRamp,
  };
  if (repeat !== undefined) fault.repeat = repeat;
  return fault;
}

/** Parses scenario JSON text; a syntax error becomes a ScenarioError too. */
export function parseScenarioText(text: string, source = "<inline>"): Scenario {
  let value: Json;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(source, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parseScenario(value, source);
}

/** Reads and validates one scenario file. */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ScenarioError(path, [`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  return parseScenarioText(text, path);
}

/** A scenario with the file it came from. */
export interface LoadedScenario {
  path: string;
  scenario: Scenario;
}

/**
 * Loads scenarios from files and folders (a folder: every *.json in it, sorted by name).
 * Throws ScenarioError for the first invalid file, or when a path gives no scenario.
 */
export function loadScenarios(paths: readonly string[]): LoadedScenario[] {
  const files: string[] = [];
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (error) {
      throw new ScenarioError(path, [`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
    }
    if (isDir) {
      const found = readdirSync(path).filter((f) => f.endsWith(".json")).sort().map((f) => join(path, f));
      if (found.length === 0) throw new ScenarioError(path, ["folder holds no *.json scenario files"]);
      files.push(...found);
    } else files.push(path);
  }
  return files.map((path) => ({ path, scenario: loadScenarioFile(path) }));
}

/** The project root (the folder holding sim/). */
export function projectRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..");
}

/** The public scenarios: the project's own copy in sim/scenarios/ (so a clone works alone). */
export function defaultScenarioFolder(root = projectRoot()): string {
  return resolve(root, "sim", "scenarios");
}

/** "hard-outage.json" -> "hard-outage": used when naming output files. */
export function scenarioFileStem(path: string): string {
  return basename(path).replace(/\.json$/i, "");
}
