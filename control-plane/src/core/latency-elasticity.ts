// How a cluster's median latency moves with its own load (pure): the least-squares slope of
// ln(median latency) on ln(load) over its recent latency samples (capacity.ts pools windows into
// samples), with its standard error. A queue's latency is flat far from its capacity and rises
// ever faster toward it (an M/M/1 queue's elasticity is u / (1 - u) at utilisation u: 0.33 at a
// quarter of its capacity, 3 at three quarters), so a cluster whose latency follows its load's
// own swings (Poisson noise, load waves, the planner's moves) runs close to its capacity, whatever
// its latency is against a baseline learnt at that same load.
import { leastSquares } from "./least-squares.js";

/** Samples the slope is fitted on (the newest). */
export const ELASTICITY_SAMPLES = 20;

export interface Elasticity {
  /** d ln(p50) / d ln(load); NaN with fewer than 3 samples or no spread of load. */
  slope: number;
  /** Its standard error (NaN as slope). */
  standardError: number;
  /** Samples it was fitted on. */
  samples: number;
}

/** The newest ELASTICITY_SAMPLES (load, median latency) pairs of a cluster, and their fit. */
export class LatencyElasticity {
  private readonly lnLoad: number[] = [];
  private readonly lnP50: number[] = [];

  /** One latency sample: its load (rps) and median latency (ms); non-positive values are ignored. */
  add(rps: number, p50Ms: number): void {
    if (!(rps > 0) || !(p50Ms > 0) || !Number.isFinite(rps) || !Number.isFinite(p50Ms)) return;
    this.lnLoad.push(Math.log(rps));
    this.lnP50.push(Math.log(p50Ms));
    if (this.lnLoad.length > ELASTICITY_SAMPLES) {
      this.lnLoad.shift();
      this.lnP50.shift();
    }
  }

  estimate(): Elasticity {
    return fitSlope(this.lnLoad, this.lnP50);
  }
}

/** Least-squares slope of ys on xs and its standard error (residual variance over n - 2). */
export function fitSlope(xs: readonly number[], ys: readonly number[]): Elasticity {
  const fit = leastSquares(xs, ys);
  const n = fit?.n ?? Math.min(xs.length, ys.length);
  if (fit === undefined || n < 3 || !(fit.sxx > 1e-12)) return { slope: NaN, standardError: NaN, samples: n };
  const slope = fit.sxy / fit.sxx;
  let rss = 0;
  for (let i = 0; i < n; i++) rss += (ys[i]! - fit.meanY - slope * (xs[i]! - fit.meanX)) ** 2;
  return { slope, standardError: Math.sqrt(rss / (n - 2) / fit.sxx), samples: n };
}
