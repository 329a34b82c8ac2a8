// Harm under other seeds (`bench generalization --reseed K`): a scenario's seed drives every draw
// of its run (arrivals, each request's luck, the policies' own draws), so a harm that one seed
// shows may be luck. Each scenario where a subject (autoglm, autoglm-rules) does harm is run again
// with `none` and that subject under K more seeds (the scenario's seed plus k × RESEED_STRIDE,
// k = 1…K), and the harm rule (generalization-score.ts isHarm) is applied seed by seed. A harm in
// more than half of the 1 + K seeds is counted as systematic. The harm figure stays the
// one-seed count; this is extra information beside it. Pure: runs in, verdicts and Markdown out.
import type { Scenario } from "./scenario.js";
import { isHarm, type Measures } from "./generalization-score.js";

/** Added to a scenario's seed once per reseeding: a large prime, so the k-th reseed of every
 *  scenario lands outside the generators' seed ranges (each 1,000,000 wide from 1,000,000 on). */
export const RESEED_STRIDE = 10_000_019;
/** Most extra seeds per harmed scenario. */
export const MAX_RESEEDS = 20;

/** Which scenarios run again: those a subject harmed at their own seed, or all of them (a harm
 *  can hide behind a lucky first seed: the first seed shows no harm, most others do). */
export type ReseedScope = "harmed" | "all";

/** The scenario under its k-th other seed (k ≥ 1); everything else unchanged. */
export function reseeded(scenario: Scenario, k: number): Scenario {
  return { ...scenario, seed: scenario.seed + k * RESEED_STRIDE };
}

/** One seed's runs of `none` and the subject. */
export interface SeedRuns {
  seed: number;
  none: Measures;
  subject: Measures;
}

export interface ReseedVerdict {
  scenario: string;
  subject: string;
  /** The scenario's own seed first, then the other seeds. */
  runs: Array<SeedRuns & { harm: boolean }>;
  /** Seeds in which the subject does harm, of runs.length. */
  harmedIn: number;
  /** Harm in more than half of the seeds. */
  systematic: boolean;
  /** Sums over the seeds, failed requests and SLO-violation seconds. */
  sums: { subject: [number, number]; none: [number, number] };
}

/** The verdict on one harmed scenario from its runs under every seed (its own first). */
export function reseedVerdict(scenario: string, subject: string, runs: readonly SeedRuns[]): ReseedVerdict {
  const judged = runs.map((r) => ({ ...r, harm: isHarm(r.subject, r.none) }));
  const harmedIn = judged.filter((r) => r.harm).length;
  const sum = (pick: (r: SeedRuns) => Measures): [number, number] =>
    [judged.reduce((a, r) => a + pick(r).failed, 0), Math.round(judged.reduce((a, r) => a + pick(r).slo_violation_s, 0) * 1000) / 1000];
  return { scenario, subject, runs: judged, harmedIn, systematic: harmedIn * 2 > judged.length, sums: { subject: sum((r) => r.subject), none: sum((r) => r.none) } };
}

/** The Markdown section for the verdicts (empty when there are none). With scope "all" the
 *  verdicts cover every scenario, and the table lists those harmed in at least one seed. */
export function reseedMarkdown(verdicts: readonly ReseedVerdict[], extraSeeds: number, scope: ReseedScope = "harmed"): string[] {
  if (verdicts.length === 0) return [];
  const all = scope === "all";
  const out = [
    "", "## Harm under other seeds", "",
    `${all ? "Every scenario" : "Each harmed scenario"} again with \`none\` and the subject under ${extraSeeds} more seed(s) (seed + k × ${RESEED_STRIDE}). ` +
      "Systematic: harm in more than half of the seeds. Sums over the seeds: failed requests / SLO-violation seconds.",
    "",
  ];
  for (const subject of [...new Set(verdicts.map((v) => v.subject))]) {
    const mine = verdicts.filter((v) => v.subject === subject);
    const systematic = mine.filter((v) => v.systematic).length;
    // With every scenario run again, the rows are those harmed in some seed, most harmed first.
    const rows = all ? mine.filter((v) => v.harmedIn > 0).sort((a, b) => b.harmedIn - a.harmedIn || a.scenario.localeCompare(b.scenario)) : mine;
    if (all) {
      const first = mine.filter((v) => v.runs[0]?.harm === true).length;
      out.push(`**${subject}**: systematic harm in ${systematic} of ${mine.length} scenario(s); harm in at least one of the ${extraSeeds + 1} seeds in ${rows.length}; at the scenarios' own seeds in ${first}.`, "");
      if (rows.length === 0) continue;
    } else {
      out.push(`**${subject}**: systematic harm in ${systematic} of the ${mine.length} harmed scenario(s).`, "");
    }
    out.push("| scenario | harm in | subject, all seeds | none, all seeds | systematic |", "|---|---:|---:|---:|---|");
    for (const v of rows) {
      out.push(`| ${v.scenario} | ${v.harmedIn} of ${v.runs.length} | ${v.sums.subject[0]} / ${v.sums.subject[1]} | ${v.sums.none[0]} / ${v.sums.none[1]} | ${v.systematic ? "yes" : "no"} |`);
    }
    out.push("");
  }
  return out;
}
