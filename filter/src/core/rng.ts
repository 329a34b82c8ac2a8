// A small deterministic pseudo-random source (splitmix64). The ABI offers no randomness without
// WASI, so seeds are mixed from the host clock, the worker id and counters (see ../filter/ids.ts).

/** splitmix64's finalizer: a bijection on u64 that scatters bits. */
export function mix64(x: u64): u64 {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9;
  x ^= x >> 27;
  x *= 0x94d049bb133111eb;
  x ^= x >> 31;
  return x;
}

export class Rng {
  private state: u64;

  constructor(seed: u64) {
    this.state = seed;
  }

  /** Next 64 random bits. */
  next(): u64 {
    this.state += 0x9e3779b97f4a7c15;
    return mix64(this.state);
  }

  /** Uniform in [0, bound); 0 when bound is 0. */
  below(bound: u64): u64 {
    if (bound == 0) return 0;
    return this.next() % bound;
  }

  /** Uniform in [0, 1). */
  unit(): f64 {
    return <f64>(this.next() >> 11) * (1.0 / 9007199254740992.0);
  }
}
