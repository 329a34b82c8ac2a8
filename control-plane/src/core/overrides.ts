// What operators set by hand: per-cluster overrides of the breaker (open, closed, or back to
// "auto") with an optional expiry, the halt of the whole decision set, and a rollback pinning an
// earlier set (rollback.ts). OperatorControls holds them; the pure functions say whether an override is valid or expired and what it does to a
// cluster's breaker (breaker.ts). Times are epoch milliseconds.
import { openBreaker, type BreakerStep } from "./breaker.js";
import type { BreakerConfig } from "./config.js";
import { ControlPlaneError } from "./errors.js";
import { rollbackExpired, validateRollbackClusters } from "./rollback.js";
import type { BreakerState, HaltMode, HaltState, Override, Rollback, Transition } from "./types.js";

/** Throws CP_ERR_OVERRIDE, naming the field, unless `o` is a valid override of one of `clusters` at nowMs. */
export function validateOverride(o: Override, clusters: readonly string[], nowMs: number): void {
  const fail = (msg: string) => {
    throw new ControlPlaneError("CP_ERR_OVERRIDE", msg);
  };
  if (typeof o !== "object" || o === null) fail("override: expected an object");
  if (!clusters.includes(o.cluster)) fail(`override.cluster: unknown cluster "${o.cluster}"; known: ${clusters.join(", ")}`);
  if (o.state !== "open" && o.state !== "closed" && o.state !== "auto") fail(`override.state: expected "open", "closed" or "auto", got ${JSON.stringify(o.state)}`);
  if (o.untilMs !== undefined && (typeof o.untilMs !== "number" || !Number.isFinite(o.untilMs) || o.untilMs <= nowMs)) {
    fail("override.untilMs: expected a time in the future (epoch ms)");
  }
  if (typeof o.reason !== "string" || o.reason.trim() === "") fail("override.reason: expected a non-empty string");
  if (typeof o.actor !== "string" || o.actor.trim() === "") fail("override.actor: expected a non-empty string");
}

/** The override's expiry has come (at untilMs itself included); one without untilMs never expires. */
export function overrideExpired(o: Override, nowMs: number): boolean {
  return o.untilMs !== undefined && o.untilMs <= nowMs;
}

/** The reason an override gives to the breaker transitions and the decision set. */
export function overrideReason(o: Override): string {
  return `override by ${o.actor}: ${o.reason}`;
}

/** A forced-open breaker goes back to the detectors: its open wait ends at nowMs at the latest
 *  (the next breaker step turns it half-open, probing). Any other state is returned as is. */
export function releaseForcedOpen(breaker: BreakerState, nowMs: number): BreakerState {
  return breaker.kind === "open" ? { ...breaker, until: Math.min(breaker.until, nowMs) } : breaker;
}

/**
 * An override of `cluster` that expired by nowMs: the breaker released (releaseForcedOpen) and a
 * transition that records the expiry (same state before and after). Undefined when not expired.
 */
export function expireOverride(cluster: string, o: Override, breaker: BreakerState, nowMs: number): { breaker: BreakerState; transition: Transition } | undefined {
  if (!overrideExpired(o, nowMs)) return undefined;
  const released = releaseForcedOpen(breaker, nowMs);
  return { breaker: released, transition: { cluster, from: released.kind, to: released.kind, atMs: nowMs, reason: `override by ${o.actor} expired` } };
}

/**
 * The breaker step an override in force makes (it wins over the detectors). "open": the breaker
 * is (re)opened with the override's reason, open until untilMs (without end when none); a
 * transition only when it was not open already. "closed": a breaker not closed closes at once.
 * "auto" (never stored) and an override already in effect leave the breaker as it is.
 */
export function applyOverride(cluster: string, o: Override, breaker: BreakerState, nowMs: number, config: BreakerConfig): BreakerStep {
  const reason = overrideReason(o);
  if (o.state === "open") {
    const until = o.untilMs ?? Infinity;
    if (breaker.kind !== "open" || breaker.reason !== reason || breaker.until !== until) {
      const step = openBreaker(cluster, breaker, nowMs, reason, config);
      const state: BreakerState = { ...(step.state as Extract<BreakerState, { kind: "open" }>), until };
      return breaker.kind !== "open" ? { state, transition: step.transition! } : { state };
    }
  } else if (o.state === "closed" && breaker.kind !== "closed") {
    return { state: { kind: "closed", since: nowMs, openings: breaker.openings }, transition: { cluster, from: breaker.kind, to: "closed", atMs: nowMs, reason } };
  }
  return { state: breaker };
}

/**
 * What an operator may do to the controls from outside the decision engine
 * (decision-engine.ts `operator`): set, clear and read overrides, the halt and the rollback pin.
 * Expiry and restore are the engine's: they go with its breakers.
 */
export type OperatorApi = Pick<OperatorControls, "validate" | "set" | "list" | "setHalt" | "haltState" | "validateRollback" | "setRollback" | "rollback" | "releaseRollback">;

/** The overrides in force (at most one per cluster, never "auto"), the halt and the rollback. */
export class OperatorControls {
  private readonly byCluster = new Map<string, Override>();
  private halt: HaltState = { halted: false, reason: "", actor: "", atMs: 0 };
  private pin: Rollback | undefined;

  /**
   * `clusters`: the names of the clusters an override may name. `onSet`: called after every
   * override set or cleared (set()), with the override it replaced or removed, so that what
   * follows from it happens whoever sets it (the engine releases a forced-open breaker).
   */
  constructor(
    private readonly clusters: readonly string[],
    private readonly onSet?: (o: Override, had: Override | undefined, nowMs: number) => void,
  ) {}

  validate(o: Override, nowMs: number): void {
    validateOverride(o, this.clusters, nowMs);
  }

  /** Validates and records `o` ("auto" removes the cluster's override); returns the override it replaced or removed. */
  set(o: Override, nowMs: number): Override | undefined {
    this.validate(o, nowMs);
    const had = this.byCluster.get(o.cluster);
    if (o.state === "auto") this.byCluster.delete(o.cluster);
    else this.byCluster.set(o.cluster, { ...o });
    this.onSet?.(o, had, nowMs);
    return had;
  }

  /** The override of a cluster, if any (it may have expired since the last expire()). */
  get(cluster: string): Override | undefined {
    return this.byCluster.get(cluster);
  }

  /** Copies of the overrides, in the order they were first set. */
  list(): Override[] {
    return [...this.byCluster.values()].map((o) => ({ ...o }));
  }

  /**
   * Removes the overrides expired by nowMs; returns, in order, each one's cluster with its breaker
   * released and the transition to record (expireOverride). `breakerOf` gives a cluster's breaker.
   */
  expire(nowMs: number, breakerOf: (cluster: string) => BreakerState): { cluster: string; breaker: BreakerState; transition: Transition }[] {
    const expired: { cluster: string; breaker: BreakerState; transition: Transition }[] = [];
    for (const [cluster, o] of this.byCluster) {
      const expiry = expireOverride(cluster, o, breakerOf(cluster), nowMs);
      if (expiry === undefined) continue;
      this.byCluster.delete(cluster);
      expired.push({ cluster, ...expiry });
    }
    return expired;
  }

  setHalt(halted: boolean, reason: string, actor: string, nowMs: number, mode?: HaltMode): void {
    this.halt = { halted, reason, actor, atMs: nowMs, ...(halted && mode !== undefined ? { mode } : {}) };
  }

  haltState(): HaltState {
    return { ...this.halt };
  }

  /** Throws CP_ERR_ROLLBACK_CONFLICT unless `pin` names exactly the configured clusters. */
  validateRollback(pin: Rollback): void {
    validateRollbackClusters(pin, this.clusters);
  }

  /** Pins `pin` (validated), replacing any earlier rollback. */
  setRollback(pin: Rollback): void {
    this.validateRollback(pin);
    this.pin = pin;
  }

  /** The rollback pinned, if any (it may have expired since the last expireRollback()). */
  rollback(): Rollback | undefined {
    return this.pin;
  }

  /** Ends the rollback; returns it (undefined: none was pinned). */
  releaseRollback(): Rollback | undefined {
    const had = this.pin;
    this.pin = undefined;
    return had;
  }

  /** Ends the rollback when it expired by nowMs; returns it then. */
  expireRollback(nowMs: number): Rollback | undefined {
    return this.pin !== undefined && rollbackExpired(this.pin, nowMs) ? this.releaseRollback() : undefined;
  }

  /** Restores persisted controls: overrides of unknown clusters, expired or "auto" ones are
   *  dropped, and so is a rollback that expired or no longer names the configured clusters. */
  restore(overrides: readonly Override[], halt: HaltState | undefined, nowMs: number, rollback?: Rollback): void {
    for (const o of overrides) {
      if (!this.clusters.includes(o.cluster) || overrideExpired(o, nowMs)) continue;
      if (o.state !== "auto") this.byCluster.set(o.cluster, { ...o });
    }
    if (halt !== undefined) this.halt = { ...halt };
    if (rollback !== undefined && !rollbackExpired(rollback, nowMs)) {
      try {
        this.setRollback(rollback);
      } catch {
        // The configured clusters changed since: the pin no longer fits and is dropped.
      }
    }
  }
}
