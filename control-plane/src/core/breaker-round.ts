// Step 3 of a decision round (decision-engine.ts): every cluster's breaker stepped in turn by the
// automatic rules (breaker-rules.ts), in the order of the clusters' records, each seeing the
// states stepped before it in the round (a breaker opened earlier counts as load the others
// carry). Plain data and callbacks in, the transitions out; the engine applies what follows
// from them to its other records (the alarm filter, the stream scorer).
import { alternativeBadFraction, stepClusterBreaker, type BreakerInputs, type BreakerRound } from "./breaker-rules.js";
import type { ClusterRuntime } from "./cluster-runtime.js";
import { overloaded } from "./cluster-signals.js";
import { noProbeEvidence } from "./probe-verdict.js";
import type { Transition } from "./types.js";

/** What the engine holds for one cluster this round (all of BreakerInputs but `othersBad`,
 *  which is the round's). */
export type ClusterBreakerInputs = Omit<BreakerInputs, "othersBad">;

export interface BreakersRound extends Omit<BreakerRound, "all"> {
  /** Every cluster's record; each one's `breaker` (and `probe`) is stepped in place. */
  runtimes: readonly ClusterRuntime[];
  /** A takeover holds the breakers (decision-engine.ts beginTerm): only an override moves one. */
  held: boolean;
  inputsOf: (rt: ClusterRuntime) => ClusterBreakerInputs;
}

/**
 * Steps every breaker once. A cluster whose closed peers strain (hard evidence, or a load above
 * the one they were seen safe at) learns the others' bad fraction (`othersBad`): its open
 * breaker waits less and its probe is judged against them (breaker-rules.ts). A breaker that
 * goes half-open starts its probe evidence afresh. Returns the transitions in order.
 */
export function stepBreakers(round: BreakersRound): Transition[] {
  const { runtimes, config } = round;
  // Closed clusters whose extra load already shows, judged before any breaker steps this round.
  const strained = runtimes.filter((rt) => rt.breaker.kind === "closed" && (rt.combined.hard || overloaded({ history: rt.history, capacity: rt.capacity.estimate() }, config.detector)));
  const rules: BreakerRound = { ...round, all: runtimes };
  const transitions: Transition[] = [];
  for (const rt of runtimes) {
    const othersBad = strained.some((o) => o !== rt) ? alternativeBadFraction(runtimes.filter((o) => o !== rt && o.breaker.kind === "closed")) : undefined;
    const inputs: BreakerInputs = { ...round.inputsOf(rt), othersBad };
    const step = round.held && inputs.override === undefined ? { state: rt.breaker } : stepClusterBreaker(rt, inputs, rules);
    if (step.transition !== undefined) {
      transitions.push(step.transition);
      if (step.state.kind === "half_open") rt.probe = noProbeEvidence();
    }
    rt.breaker = step.state;
  }
  return transitions;
}
