// Step 2 of a decision round (decision-engine.ts), on the engine's cluster records: every scorer
// on every cluster's history (the model among them when given, awaited), then each cluster's
// combined verdict, the verdict without the model that judges its probes, its alarm record
// (score-combination.ts recordNewestWindow) and its trip state (alarm-filter.ts).
import type { AlarmFilter } from "./alarm-filter.js";
import type { ClusterRuntime } from "./cluster-runtime.js";
import type { CoreConfig, DetectorConfig } from "./config.js";
import { combineScores, recordNewestWindow, runScorers } from "./score-combination.js";
import { DynamicBaselineScorer } from "./scorers/dynamic-baseline.js";
import { HardRuleScorer } from "./scorers/hard-rules.js";
import { TrendScorer } from "./scorers/trend.js";
import { hasStreamObjective, StreamSloScorer, streamObjectives } from "./streams/stream-slo-scorer.js";
import type { ClusterWindowStats, Scorer, Slo } from "./types.js";

/** The scorers every round runs, and the two the engine also asks directly. */
export interface BuiltinScorers {
  /** Hard rules, the dynamic baseline, the trend and (with a stream objective) the stream scorer. */
  all: Scorer[];
  /** Its baselines judge a re-closed cluster's probes (breaker-round.ts). */
  dynamicBaseline: DynamicBaselineScorer;
  /** The stream objectives' scorer, when the SLO has one (streams/stream-slo-scorer.ts). */
  streamSlo: StreamSloScorer | undefined;
}

/** The built-in scorers for an SLO (the model, optional, is given per round). */
export function builtinScorers(slo: Slo, detector: DetectorConfig): BuiltinScorers {
  const dynamicBaseline = new DynamicBaselineScorer(detector);
  const streamSlo = hasStreamObjective(slo) ? new StreamSloScorer(streamObjectives(slo), detector) : undefined;
  const all: Scorer[] = [new HardRuleScorer(slo, detector), dynamicBaseline, new TrendScorer(slo, detector)];
  if (streamSlo !== undefined) all.push(streamSlo);
  return { all, dynamicBaseline, streamSlo };
}

/** Scores every cluster of `runtime` with `builtins` and the model, if any; mutates the records. */
export async function scoreClusters(
  runtime: ReadonlyMap<string, ClusterRuntime>,
  builtins: readonly Scorer[],
  model: Scorer | undefined,
  alarms: AlarmFilter,
  config: CoreConfig,
): Promise<void> {
  const history = new Map<string, readonly ClusterWindowStats[]>();
  for (const [name, rt] of runtime) history.set(name, rt.history);
  const verdicts = await runScorers(model === undefined ? builtins : [...builtins, model], model, history);
  for (const [name, rt] of runtime) {
    const { combined, perScorer } = combineScores(verdicts.get(name)!, config.detector);
    rt.combined = combined;
    rt.probeCombined = combineScores(verdicts.get(name)!.filter((v) => !v.fromModel), config.detector).combined;
    rt.scorers = perScorer;
    const { recentScores, corroborations } = rt;
    const recorded = recordNewestWindow({ history: rt.history, capacity: rt.capacity.estimate(), combined, perScorer, recentScores, corroborations }, config);
    if (recorded !== undefined) {
      rt.recentScores = recorded.recentScores;
      rt.corroborations = recorded.corroborations;
      alarms.record(name, recorded.verdict);
    }
    rt.trip = alarms.evaluate(name, rt.history.at(-1)?.windowStartMs ?? 0);
  }
}
