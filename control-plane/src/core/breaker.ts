// The per-cluster breaker as a pure state machine over the tagged union BreakerState:
//   closed --trip--> open --wait elapsed--> half_open --healthy probe windows--> closed
//                     ^                        |
//                     +---- unhealthy probe ---+
// The open wait grows with repeated openings (openBaseMs · openBackoff^(openings-1), capped at
// openMaxMs); openings are forgotten after openingsResetMs closed. Every transition carries its
// reason and time.
import type { BreakerConfig } from "./config.js";
import type { BreakerState, Transition } from "./types.js";

export interface BreakerInput {
  nowMs: number;
  /** The alarm filter (and the capacity gate) say: open. */
  trip: boolean;
  /** Why (for the transition and the open state). */
  tripReason: string;
  /** Verdict on a new probe window while half-open; "none" when no new window or too little traffic. */
  probe: "healthy" | "unhealthy" | "none";
  /** Why the probe window was unhealthy; for a healthy one, what else the close rests on (a
   *  failing probe that served better than the alternative, the others straining), if anything. */
  probeReason?: string;
}

export interface BreakerStep {
  state: BreakerState;
  transition?: Transition;
}

/** Initial probe fraction of a half-open breaker; doubles with each healthy probe window. */
export const INITIAL_PROBE_FRACTION = 0.1;

export function openWaitMs(openings: number, config: BreakerConfig): number {
  return Math.min(config.openMaxMs, config.openBaseMs * config.openBackoff ** Math.max(0, openings - 1));
}

export function openingsOf(state: BreakerState, nowMs: number, config: BreakerConfig): number {
  if (state.kind !== "closed") return state.openings;
  const remembered = state.openings ?? 0;
  return nowMs - state.since >= config.openingsResetMs ? 0 : remembered;
}

export function openBreaker(cluster: string, from: BreakerState, nowMs: number, reason: string, config: BreakerConfig): BreakerStep {
  const openings = openingsOf(from, nowMs, config) + 1;
  const state: BreakerState = { kind: "open", since: nowMs, until: nowMs + openWaitMs(openings, config), reason, openings };
  return { state, transition: { cluster, from: from.kind, to: "open", atMs: nowMs, reason } };
}

export function stepBreaker(cluster: string, state: BreakerState, input: BreakerInput, config: BreakerConfig): BreakerStep {
  const { nowMs } = input;
  switch (state.kind) {
    case "closed":
      return input.trip ? openBreaker(cluster, state, nowMs, input.tripReason, config) : { state };
    case "open": {
      if (nowMs < state.until) return { state };
      const next: BreakerState = { kind: "half_open", since: nowMs, probeFraction: INITIAL_PROBE_FRACTION, healthyWindows: 0, openings: state.openings };
      return { state: next, transition: { cluster, from: "open", to: "half_open", atMs: nowMs, reason: `open for ${Math.round((nowMs - state.since) / 1000)}s: probing` } };
    }
    case "half_open": {
      if (input.probe === "unhealthy" || (input.trip && input.probe !== "healthy")) {
        return openBreaker(cluster, state, nowMs, `probe failed: ${input.probeReason ?? input.tripReason}`, config);
      }
      if (input.probe !== "healthy") return { state };
      const healthyWindows = state.healthyWindows + 1;
      if (healthyWindows >= config.healthyProbeWindows) {
        const closed: BreakerState = { kind: "closed", since: nowMs, openings: state.openings };
        const reason = `${healthyWindows} healthy probe window${healthyWindows === 1 ? "" : "s"}${input.probeReason ? `: ${input.probeReason}` : ""}`;
        return { state: closed, transition: { cluster, from: "half_open", to: "closed", atMs: nowMs, reason } };
      }
      return { state: { ...state, healthyWindows, probeFraction: Math.min(1, state.probeFraction * 2) } };
    }
  }
}
