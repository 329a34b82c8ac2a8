// Per-window, per-cluster telemetry of a simulated run: the training data of the anomaly model.
//
//   const windows = await simulateWindows(scenario, { seed: 1234 });            // policy "none"
//   windows[w].clusters[c] -> { cluster, requests, errors, timeouts, errorRate, p50Ms, p95Ms,
//                               p99Ms, rps, share, faultActive, faultStrength, sloBroken }
//
// Pure: the same scenario, seed and policy give the same numbers. The default policy is "none"
// (base weights, nothing cut), so every fault shows fully in the data.
import type { Scenario } from "./scenario.js";
import { runScenario, type RunResult } from "./runner.js";
import { FaultTimeline, intensityAt } from "./faults.js";
import { createNonePolicy } from "./policies/none.js";
import type { Policy } from "./policy.js";

/** One cluster in one window. Latencies in milliseconds; NaN when the cluster got no requests. */
export interface SimClusterWindow {
  cluster: string;
  /** Requests sent to the cluster that arrived in this window. */
  requests: number;
  /** Of those, answered 5xx by a host (errors, overload 503s, refusals). */
  errors: number;
  /** Of those, timed out at the client (client_timeout_ms). */
  timeouts: number;
  /** (errors + timeouts) / requests; 0 without requests. */
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** requests / window length, requests per second. */
  rps: number;
  /** requests / all requests offered in the window; NaN when none were offered. */
  share: number;
  /** Some fault (any occurrence) has an effect on the cluster during the window. */
  faultActive: boolean;
  /** Largest strength in [0, 1] of a fault on the cluster during the window (sampled at start, middle, end). */
  faultStrength: number;
  /** The cluster's own window breaks the SLO: success rate < slo.success_rate or p99 > slo.latency_ms. */
  sloBroken: boolean;
}

/** One window of a run. Times in scenario seconds. */
export interface SimWindow {
  index: number;
  startS: number;
  endS: number;
  /** Requests offered by clients in the window. */
  offered: number;
  /** Client-side success rate of the window (1 without requests). */
  successRate: number;
  clusters: SimClusterWindow[];
}

export interface SimulateWindowsOptions {
  /** Seed of every random draw (default: the scenario's). */
  seed?: number;
  /** The routing policy (default: none). */
  policy?: Policy;
}

/** Turns a run into per-window, per-cluster telemetry. */
export function windowsOf(result: RunResult): SimWindow[] {
  const scenario = result.scenario;
  const timeline = new FaultTimeline(scenario);
  return result.windows.map((win, index) => {
    const length = win.endS - win.startS;
    return {
      index,
      startS: win.startS,
      endS: win.endS,
      offered: win.offered,
      successRate: win.offered > 0 ? 1 - win.failed / win.offered : 1,
      clusters: scenario.clusters.map((spec, c) => {
        const cw = win.clusters[c]!;
        const failed = cw.errors + cw.timeouts;
        const errorRate = cw.sent > 0 ? failed / cw.sent : 0;
        let strength = 0;
        for (const o of timeline.onCluster(c)) {
          for (const t of [win.startS, (win.startS + win.endS) / 2, win.endS - 1e-9]) strength = Math.max(strength, intensityAt(o, t));
        }
        const faultActive = timeline.onCluster(c).some((o) => win.endS > o.startS && win.startS < o.effectEndS);
        return {
          cluster: spec.name,
          requests: cw.sent,
          errors: cw.errors,
          timeouts: cw.timeouts,
          errorRate,
          p50Ms: cw.p50Ms,
          p95Ms: cw.p95Ms,
          p99Ms: cw.p99Ms,
          rps: length > 0 ? cw.sent / length : 0,
          share: win.offered > 0 ? cw.sent / win.offered : NaN,
          faultActive,
          faultStrength: strength,
          sloBroken: cw.sent > 0 && (1 - errorRate < scenario.slo.success_rate || cw.p99Ms > scenario.slo.latency_ms),
        };
      }),
    };
  });
}

/** Simulates a scenario and returns its telemetry per window and cluster. */
export async function simulateWindows(scenario: Scenario, options: SimulateWindowsOptions = {}): Promise<SimWindow[]> {
  const policy = options.policy ?? createNonePolicy(scenario);
  const result = await runScenario(scenario, policy, options.seed === undefined ? {} : { seed: options.seed });
  return windowsOf(result);
}
