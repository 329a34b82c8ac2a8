// The least-squares line through points (pure), shared by the model's slope features
// (model/features.ts) and a cluster's latency elasticity (latency-elasticity.ts).

/** The means of xs and ys and the sums the fit needs; undefined with fewer than two points. */
export interface LeastSquares {
  /** Points fitted. */
  n: number;
  meanX: number;
  meanY: number;
  /** Σ (x − meanX)², the spread of x. */
  sxx: number;
  /** Σ (x − meanX)(y − meanY). */
  sxy: number;
}

export function leastSquares(xs: readonly number[], ys: readonly number[]): LeastSquares | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return undefined;
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < n; i++) {
    meanX += xs[i]!;
    meanY += ys[i]!;
  }
  meanX /= n;
  meanY /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - meanX;
    sxy += dx * (ys[i]! - meanY);
    sxx += dx * dx;
  }
  return { n, meanX, meanY, sxx, sxy };
}
