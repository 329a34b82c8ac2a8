// Offered traffic of a scenario: the rate in requests per second at any scenario time, and the
// Poisson arrival times drawn from it (by thinning, exact for a time-varying rate).
import type { Scenario, TrafficStep } from "./scenario.js";
import { exponential, type Random } from "./random.js";

/** Piecewise rate of a scenario's traffic[] steps with their ramps and waves. */
export class TrafficRate {
  private readonly steps: readonly TrafficStep[];
  /** Base rate (before the wave) at each step's at_s, requests per second: where its ramp starts. */
  private readonly startLevel: number[] = [];
  /** An upper bound of the rate over the whole run, requests per second. */
  readonly maxRps: number;

  constructor(steps: readonly TrafficStep[]) {
    this.steps = steps;
    let bound = 0;
    steps.forEach((step, i) => {
      const from = i === 0 ? 0 : this.baseAt(step.at_s, i - 1);
      this.startLevel.push(from);
      const peak = Math.max(from, step.rps) * (1 + (step.wave?.amplitude ?? 0));
      bound = Math.max(bound, peak);
    });
    this.maxRps = bound;
  }

  /** Index of the step in force at time t (seconds), or -1 before the first. */
  private stepAt(t: number): number {
    let index = -1;
    for (let i = 0; i < this.steps.length; i++) {
      if (this.steps[i]!.at_s <= t) index = i;
      else break;
    }
    return index;
  }

  /** Base rate of step i at time t (no wave). */
  private baseAt(t: number, i: number): number {
    const step = this.steps[i]!;
    const from = i === 0 ? 0 : this.startLevel[i]!;
    if (step.ramp_s > 0 && t < step.at_s + step.ramp_s) {
      // A first step with a ramp starts from nothing; later ones from where the previous one stood.
      const start = i === 0 && step.at_s > 0 ? 0 : from;
      return start + ((step.rps - start) * (t - step.at_s)) / step.ramp_s;
    }
    return step.rps;
  }

  /** Offered requests per second at scenario time t (seconds). */
  rpsAt(t: number): number {
    const i = this.stepAt(t);
    if (i < 0) return 0;
    const step = this.steps[i]!;
    const base = this.baseAt(t, i);
    const wave = step.wave === undefined ? 1 : 1 + step.wave.amplitude * Math.sin((2 * Math.PI * t) / step.wave.period_s);
    return Math.max(0, base * wave);
  }
}

/**
 * Poisson arrival times (seconds) of a scenario, in order, by thinning: candidates at the bound
 * rate, each kept with probability rate(t) / bound.
 */
export function* arrivals(scenario: Scenario, random: Random): Generator<number> {
  const rate = new TrafficRate(scenario.traffic);
  if (rate.maxRps <= 0) return;
  let t = 0;
  for (;;) {
    t += exponential(random, rate.maxRps);
    if (t >= scenario.duration_s) return;
    if (random.next() * rate.maxRps < rate.rpsAt(t)) yield t;
  }
}
