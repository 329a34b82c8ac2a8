// Decision versions: one number that only grows, across restarts, crashes and replicas.
//
//   version = generation * 2^20 + sequence,   1 <= sequence < 2^20,   0 <= generation < 2^33
//
// (proto/autoglm/v1/traffic_guard.proto, DecisionSet.version, is the contract.) The number stays
// below 2^53, so it is exact in a JavaScript number and in JSON, and a sidecar compares versions
// as plain integers: it refuses only a version lower than the one it enforces.
//
// A generation is one control-plane lifetime. A new one starts above
//   - the generation of the restored state (the audit log),
//   - the current Unix time in seconds (a control plane restarted without any state still
//     exceeds every earlier generation whose clock was not ahead of this one's),
//   - the generation of any version a sidecar says it enforces (Hello.enforced_version): a
//     control plane whose state or clock is behind continues above the sidecars instead of being
//     refused by them.
// A sequence that would reach 2^20 starts the next generation. Pure: time comes in as an argument.

export const SEQUENCE_BITS = 20;
/** Versions per generation (the sequence is in [1, SEQUENCE_SPAN)). */
export const SEQUENCE_SPAN = 2 ** SEQUENCE_BITS;
/** The largest generation: 2^33 − 1 seconds is the year 2242. */
export const MAX_GENERATION = 2 ** 33 - 1;
/** How far (seconds) above both the current generation and the clock a version a sidecar
 *  reports may lie and still be followed. A sidecar cannot push the control plane's versions to
 *  the end of the range; a control plane whose clock is up to this much behind still follows. */
export const MAX_FOLLOW_AHEAD_S = 86_400;

export function composeVersion(generation: number, sequence: number): number {
  return generation * SEQUENCE_SPAN + sequence;
}

export function generationOf(version: number): number {
  return Math.floor(version / SEQUENCE_SPAN);
}

export function sequenceOf(version: number): number {
  return version % SEQUENCE_SPAN;
}

/** A version number of this scheme: a non-negative safe integer whose generation is in range. */
export function isValidVersion(version: number): boolean {
  return Number.isSafeInteger(version) && version >= 0 && generationOf(version) <= MAX_GENERATION;
}

/**
 * How many decision sets a worker that holds `held` is behind `current`: the sequence difference
 * within one generation; every set of the current generation when it holds an older one; 0 when
 * it holds the current version or a newer one.
 */
export function versionsBehind(current: number, held: number): number {
  if (held >= current) return 0;
  if (generationOf(held) === generationOf(current)) return current - held;
  return sequenceOf(current);
}

/** The generation a control plane starts at: above its restored state and the clock. */
export function startingGeneration(restoredVersion: number, nowMs: number): number {
  const restored = isValidVersion(restoredVersion) ? generationOf(restoredVersion) : 0;
  const clock = Number.isFinite(nowMs) && nowMs > 0 ? Math.floor(nowMs / 1000) : 0;
  return Math.min(MAX_GENERATION, Math.max(1, restored + 1, clock));
}

/** Issues the versions of one control-plane lifetime. */
export class VersionClock {
  private current: number;

  /** @param generation the lifetime's generation (startingGeneration()). */
  constructor(generation: number) {
    this.current = generation;
  }

  /** The generation new versions are issued in. */
  get generation(): number {
    return this.current;
  }

  /** The version that follows `previous`: the next sequence in this generation, or the first
   *  version of this generation when `previous` is older (restored, or before a follow). */
  next(previous: number): number {
    const previousGeneration = generationOf(previous);
    if (previousGeneration < this.current) return composeVersion(this.current, 1);
    const sequence = sequenceOf(previous) + 1;
    if (previousGeneration === this.current && sequence < SEQUENCE_SPAN) return previous + 1;
    // The sequence is exhausted (or `previous` lies above, which follow() prevents): a new generation.
    this.current = Math.min(MAX_GENERATION, previousGeneration + 1);
    return composeVersion(this.current, 1);
  }

  /**
   * A sidecar enforces `held` while `latest` is the newest version issued. When `held` is newer,
   * moves to the generation above it and says so ("followed"); a version outside the scheme, or
   * more than MAX_FOLLOW_AHEAD_S above both this generation and the clock, is not followed
   * ("implausible"); an older or equal one changes nothing ("below").
   */
  follow(held: number, latest: number, nowMs: number): "below" | "followed" | "implausible" {
    if (!isValidVersion(held)) return "implausible";
    const heldGeneration = generationOf(held);
    if (held <= latest || heldGeneration < this.current) return "below";
    const clockS = Math.floor(Math.max(0, nowMs) / 1000);
    if (heldGeneration > Math.max(this.current, clockS) + MAX_FOLLOW_AHEAD_S || heldGeneration >= MAX_GENERATION) return "implausible";
    this.current = heldGeneration + 1;
    return "followed";
  }
}
