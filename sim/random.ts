// A small seeded pseudo-random generator for the simulator: xoshiro128** (Blackman & Vigna,
// https://prng.di.unimi.it/xoshiro128starstar.c) seeded through splitmix32, plus the few
// distributions the scenario model needs. No Math.random anywhere in sim/: every draw of a run
// comes from the scenario's seed, so the same file and seed give the same numbers.

/** A deterministic source of uniform numbers in [0, 1). */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

/** splitmix32 step: spreads a 32-bit seed over the generator's state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128**: 128-bit state, period 2^128 - 1, 32-bit outputs. */
export class Xoshiro128 implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * @param seed  the scenario seed (any safe integer; folded to 32 bits with its high part)
   * @param stream  independent stream number, so arrivals, request draws and policies never share draws
   */
  constructor(seed: number, stream = 0) {
    const low = seed >>> 0;
    const high = Math.floor(seed / 0x1_0000_0000) >>> 0;
    const state = { s: (low ^ Math.imul(high, 0x27d4eb2d) ^ Math.imul(stream + 1, 0x165667b1)) | 0 };
    this.a = splitmix32(state);
    this.b = splitmix32(state);
    this.c = splitmix32(state);
    this.d = splitmix32(state);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next 32-bit unsigned output. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Stream numbers of the simulator, one per concern, so adding draws to one never shifts another. */
export const STREAM = {
  arrivals: 1,
  requests: 2,
  policy: 3,
  controlPlane: 4,
  /** Start indexes of the per-sidecar round-robin host pickers (EnvoyLoadBalancer). */
  hostPicker: 5,
  /** Streams' draws (sim/stream.ts), made for every request of a scenario with an llm block. */
  streams: 6,
  /** Active health checks under the autoglm policy (sim/policies/active-health-check.ts): jitter, phase, partly-down hosts. */
  healthChecks: 7,
} as const;

/** Exponential draw with the given rate (events per unit), from one uniform. */
export function exponential(random: Random, rate: number): number {
  // 1 - u is in (0, 1], so the log is finite.
  return -Math.log(1 - random.next()) / rate;
}

/**
 * Standard normal quantile function (Acklam's rational approximation, relative error < 1.2e-9),
 * so a normal draw costs one uniform and stays paired across policies.
 */
export function normalQuantile(p: number): number {
  const q0 = Math.min(Math.max(p, 1e-300), 1 - 1e-16);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (q0 < low) {
    const q = Math.sqrt(-2 * Math.log(q0));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (q0 > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - q0));
    return -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const q = q0 - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** z-score of the 99th percentile of the standard normal. */
export const Z99 = 2.3263;

/** Log-normal parameters fitted to a median and a 99th percentile: mu = ln p50, sigma = (ln p99 - ln p50) / z99. */
export function fitLogNormal(p50: number, p99: number): { mu: number; sigma: number } {
  return { mu: Math.log(p50), sigma: (Math.log(p99) - Math.log(p50)) / Z99 };
}
