// Whether a count of bad events among n is significantly above an allowed rate (one-sided
// normal approximation of the binomial): little traffic means little evidence.

/** True when count / n > rate and count > n·rate + z·sqrt(n·rate·(1 − rate)). */
export function significantlyAbove(count: number, n: number, rate: number, z: number): boolean {
  if (n <= 0 || count <= n * rate) return false;
  const expected = n * rate;
  return count > expected + z * Math.sqrt(Math.max(expected * (1 - rate), 0.25));
}
