// The simulated upstream hosts: what one request to one host answers, and after how long.
//
// Model (scenarios README): per-request latency is log-normal, fitted to the cluster's p50 and
// p99 (mu = ln p50, sigma = (ln p99 - ln p50) / 2.3263). Each host serves capacity_rps /
// endpoints (times any fault's capacity_x). With the host's utilisation u = offered / capacity
// over the last completed window, latency is multiplied by 1 / (1 - min(u, 0.95)^4); offered load
// above capacity is rejected with 503 (each request with chance 1 - capacity / offered rate, the
// offered rate measured over the trailing window). A request fails with 5xx with the cluster's
// error_rate plus any fault's added error rate. A host that is down refuses at once (503).
// A cluster with an `llm` block streams a share of its requests (sim/stream.ts): refusals and
// overload 503s as above; a 5xx comes at the stream's time to first token (prefill failed); else
// 200 with the stream's plan, its latency the time to the stream's end (or cut). The queueing
// multiplier acts on TTFT.
//
// A cluster with `load_report` sends its host's load with each answer's headers (loadReportAt:
// utilisation, offered rate and 5xx rate of the host's last completed window when the headers
// are written), as servers that report ORCA load do.
//
// The host is pure given its inputs: the caller passes the time and the request's own uniform
// draws, so the same request meets the same luck whichever policy routed it (common random
// numbers make the policies' comparison sharper).
import type { ScenarioCluster } from "./scenario.js";
import { fitLogNormal, normalQuantile } from "./random.js";
import type { HostEffect } from "./faults.js";
import { StreamModel, streamEndMs, type StreamDraws, type StreamPlan } from "./stream.js";

/** Latency of a refused connection (host down), milliseconds. */
export const REFUSED_LATENCY_MS = 1;
/** Latency of a 503 for load above capacity, milliseconds (the host sheds quickly). */
export const OVERLOAD_REJECT_LATENCY_MS = 2;
/** Utilisation is clamped to this in the queueing multiplier. */
export const MAX_UTILISATION = 0.95;

/** The request's own uniform draws in [0, 1), made at arrival. */
export interface RequestDraws {
  /** Picks the latency quantile. */
  latency: number;
  /** Decides a 5xx answer. */
  error: number;
  /** Decides an overload 503. */
  overload: number;
  /** Decides a refusal while a host is going down. */
  down: number;
}

/**
 * The ORCA load report a host sends with an answer (xds.data.orca.v3.OrcaLoadReport, carried in
 * the `endpoint-load-metrics` response header: sim/policies/autoglm.ts orcaHeader), from the
 * host's last completed window: what a server that reports its own load would say.
 */
export interface HostLoad {
  /** application_utilization: requests offered over the host's effective capacity, [0, inf)
   *  (above 1 when offered more than it serves; a fault's capacity_x lowers the capacity). */
  utilization: number;
  /** rps_fractional: requests per second offered to the host. */
  rpsFractional: number;
  /** eps: 5xx answers per second (errors and overload 503s). */
  eps: number;
}

/** What a host answered. */
export interface HostAnswer {
  /** HTTP status: 200, 500 (error), 503 (down or overloaded). */
  status: number;
  /** Time to the answer, milliseconds (before the client's timeout is applied). */
  latencyMs: number;
  /** Why it failed, for breakdowns: "", "error", "overload", "down". */
  cause: "" | "error" | "overload" | "down";
  /** A streamed 200: how its events play out (latencyMs is then the time to its end or cut). */
  stream?: StreamPlan;
}

/** Queueing multiplier on latency for utilisation u: 1 / (1 - min(u, 0.95)^4). */
export function queueingMultiplier(u: number): number {
  const c = Math.min(Math.max(u, 0), MAX_UTILISATION);
  return 1 / (1 - c ** 4);
}

/** One upstream host: its offered-load counters per window and the answer model. */
export class UpstreamHost {
  private readonly mu: number;
  private readonly sigma: number;
  /** Capacity without faults, requests per second. */
  readonly baseCapacityRps: number;
  private readonly errorRate: number;
  private readonly windowS: number;
  /** The cluster's streams, when it has an llm block. */
  private readonly streams: StreamModel | null;
  /** Index of the window `current` counts. */
  private windowIndex = 0;
  /** Requests offered in the current and the previous window. */
  private current = 0;
  private previous = 0;
  /** 5xx answers in the current and the previous window. */
  private currentErrors = 0;
  private previousErrors = 0;
  /** Whether answers carry a load report (the cluster's `load_report`). */
  readonly reportsLoad: boolean;
  /** Effective capacity (requests per second) seen in the previous window, for its utilisation. */
  private previousCapacity: number;

  constructor(cluster: ScenarioCluster, windowS: number) {
    const fit = fitLogNormal(cluster.latency_ms.p50, cluster.latency_ms.p99);
    this.mu = fit.mu;
    this.sigma = fit.sigma;
    this.baseCapacityRps = cluster.capacity_rps / cluster.endpoints;
    this.errorRate = cluster.error_rate;
    this.windowS = windowS;
    this.previousCapacity = this.baseCapacityRps;
    this.streams = cluster.llm === undefined ? null : new StreamModel(cluster.llm);
    this.reportsLoad = cluster.load_report === true;
  }

  /** The last completed window at time t (requests offered, 5xx answers, effective capacity), as
   *  roll(t) makes it: `capacityRps` is the capacity now, kept for a window that completes at t. */
  private completedWindowAt(t: number, capacityRps: number): { offered: number; errors: number; capacityRps: number } {
    const index = Math.floor(t / this.windowS);
    if (index === this.windowIndex) return { offered: this.previous, errors: this.previousErrors, capacityRps: this.previousCapacity };
    const next = index === this.windowIndex + 1;
    return { offered: next ? this.current : 0, errors: next ? this.currentErrors : 0, capacityRps };
  }

  private roll(t: number, capacityRps: number): void {
    const index = Math.floor(t / this.windowS);
    if (index === this.windowIndex) return;
    const completed = this.completedWindowAt(t, capacityRps);
    this.previous = completed.offered;
    this.previousErrors = completed.errors;
    this.previousCapacity = completed.capacityRps;
    this.current = 0;
    this.currentErrors = 0;
    this.windowIndex = index;
  }

  /** Utilisation over the last completed window: offered / capacity. */
  utilisation(): number {
    return this.previousCapacity > 0 ? this.previous / (this.previousCapacity * this.windowS) : Infinity;
  }

  /**
   * The load report the host sends with response headers written at time t (seconds; not before
   * its last answer), under the fault effect then: its last completed window (HostLoad). A server
   * writes it when it writes the headers: at the end of an answer, at the start of a stream. It
   * reads the window without rolling it, so answers are the same whether or not the host reports.
   * A host with no capacity left (capacity_x 0) sends none: no utilisation describes it, and 0
   * would read as idle.
   */
  loadReportAt(t: number, effect: Readonly<HostEffect>): HostLoad | undefined {
    const { offered, errors, capacityRps } = this.completedWindowAt(t, this.baseCapacityRps * effect.capacityX);
    if (!(capacityRps > 0)) return undefined;
    return { utilization: offered / (capacityRps * this.windowS), rpsFractional: offered / this.windowS, eps: errors / this.windowS };
  }

  /** Offered rate over the trailing window_s ending at t, requests per second. */
  private offeredRps(t: number): number {
    const into = t / this.windowS - this.windowIndex;
    return (this.previous * (1 - into) + this.current) / this.windowS;
  }

  /**
   * The answer to a request arriving at time t (seconds) under the given fault effect.
   * `streamDraws` (given for every request of a scenario with streams) decide whether it streams.
   */
  answer(t: number, effect: Readonly<HostEffect>, draws: RequestDraws, streamDraws?: StreamDraws): HostAnswer {
    const capacity = this.baseCapacityRps * effect.capacityX;
    this.roll(t, capacity);
    if (effect.downChance > 0 && draws.down < effect.downChance) {
      return { status: 503, latencyMs: REFUSED_LATENCY_MS, cause: "down" };
    }
    const answer = this.served(t, capacity, effect, draws, streamDraws);
    if (answer.status >= 500) this.currentErrors++;
    return answer;
  }

  /** The answer of a host that took the connection. */
  private served(t: number, capacity: number, effect: Readonly<HostEffect>, draws: RequestDraws, streamDraws?: StreamDraws): HostAnswer {
    const u = this.utilisation();
    this.current++;
    const offered = this.offeredRps(t);
    if (capacity <= 0 || (offered > capacity && draws.overload < 1 - capacity / offered)) {
      return { status: 503, latencyMs: OVERLOAD_REJECT_LATENCY_MS, cause: "overload" };
    }
    const errorChance = Math.min(1, this.errorRate + effect.addedErrorRate);
    if (this.streams !== null && streamDraws !== undefined && this.streams.streams(streamDraws)) {
      const plan = this.streams.plan(streamDraws, effect, queueingMultiplier(u));
      if (draws.error < errorChance) return { status: 500, latencyMs: plan.ttftMs, cause: "error" };
      return { status: 200, latencyMs: streamEndMs(plan), cause: "", stream: plan };
    }
    const latencyMs = Math.exp(this.mu + this.sigma * normalQuantile(draws.latency)) * effect.latencyX * queueingMultiplier(u);
    if (draws.error < errorChance) return { status: 500, latencyMs, cause: "error" };
    return { status: 200, latencyMs, cause: "" };
  }
}
