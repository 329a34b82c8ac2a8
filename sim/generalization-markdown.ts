// The generalization benchmark's Markdown summary: targets, win/tie/loss of autoglm and
// autoglm-rules, totals per policy and where in the fault timeline they fall, the model against
// the rules, the harmed scenarios, and one row per scenario.
import { BASELINE_POLICY_NAMES } from "./policies/registry.js";
import type { GeneralizationScenario, GeneralizationSummary } from "./generalization-summary.js";
import type { VerdictCounts } from "./generalization-score.js";
import { FAULT_PHASES, ONSET_WINDOWS } from "./fault-phases.js";
import { FALSE_CUT_GRACE_S } from "./report.js";

const wtl = (c: VerdictCounts): string => `${c.win} / ${c.tie} / ${c.loss}`;
const cell = (text: string): string => text.replace(/\|/g, "\\|");

export interface MarkdownHeader {
  command: string;
  wallS: number;
  seedRange: [number, number];
  /** What the seed range is, in parentheses after it (default: the generalization range). */
  rangeNote?: string;
  workers: number;
  /** Shown when the run is not finished yet. */
  partial?: string;
}

/** `extraSections`: Markdown lines put before the per-scenario table (the harm under other seeds). */
export function generalizationMarkdown(
  header: MarkdownHeader, summary: GeneralizationSummary, scenarios: readonly GeneralizationScenario[], policies: readonly string[],
  extraSections: readonly string[] = [],
): string {
  const out: string[] = [];
  out.push(`# Generalization benchmark`, "");
  out.push(
    `Made with \`${header.command}\` in ${header.wallS.toFixed(0)} s on ${header.workers} worker(s): ${summary.scenarios} generated ` +
      `scenarios, simulator seeds ${header.seedRange[0]}–${header.seedRange[1]} (${header.rangeNote ?? "the generalization range, disjoint from training"}), ` +
      `${summary.fault_free_hours.toFixed(2)} fault-free hours.`,
  );
  if (header.partial !== undefined) out.push("", `**${header.partial}**`);
  out.push("", "## Targets (issue 15)", "", "| what | value | target | met |", "|---|---|---|---|");
  for (const t of summary.targets) out.push(`| ${t.what} | ${cell(t.value)} | ${t.target} | ${t.met ? "yes" : "**no**"} |`);

  out.push(
    "", "## Win / tie / loss", "",
    `Per scenario, against the best baseline (lowest of ${BASELINE_POLICY_NAMES.join(", ")}, per measure) and against \`none\`. ` +
      "Tie: within max(5 %, 30) failed requests, within 5 % + 5 SLO seconds. Harm: failed > 1.1 × none + 50, or SLO s > 1.1 × none + 10.",
    "",
    "| policy | scored | failed vs best (W / T / L) | SLO s vs best (W / T / L) | failed vs none (W / T / L) | SLO s vs none (W / T / L) | harm |",
    "|---|---:|---|---|---|---|---:|",
  );
  for (const [name, s] of Object.entries(summary.subjects)) {
    out.push(`| ${name} | ${s.scored} | ${wtl(s.vsBest.failed)} | ${wtl(s.vsBest.slo)} | ${wtl(s.vsNone.failed)} | ${wtl(s.vsNone.slo)} | ${s.harm} |`);
  }

  out.push("", "## Totals per policy", "", "| policy | runs | requests | failed | success rate | SLO violation s | false cuts | false cuts / fault-free h |", "|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const p of policies) {
    const t = summary.totals[p];
    if (t === undefined) continue;
    const rate = t.requests > 0 ? `${(100 * (1 - t.failed / t.requests)).toFixed(3)}%` : "–";
    out.push(`| ${p} | ${t.runs} | ${t.requests} | ${t.failed} | ${rate} | ${t.slo_violation_s} | ${t.false_cuts} | ${t.false_cuts_per_fault_free_hour} |`);
  }

  const phased = policies.filter((p) => summary.totals[p]?.by_phase !== undefined);
  if (phased.length > 0) {
    out.push(
      "", "## Where they fall in the fault timeline", "",
      `Failed requests / SLO-violation seconds by phase (sim/fault-phases.ts): the onset is the window a fault starts in and the next ${ONSET_WINDOWS - 1} (before a policy that needs evidence can act); ` +
        `the fault, the rest of it; after, until ${FALSE_CUT_GRACE_S} s after its effect ends; quiet, the rest.`,
      "", `| policy | ${FAULT_PHASES.join(" | ")} |`, `|---|${FAULT_PHASES.map(() => "---:").join("|")}|`,
    );
    for (const p of phased) {
      const by = summary.totals[p]!.by_phase!;
      out.push(`| ${p} | ${FAULT_PHASES.map((phase) => `${by[phase].failed} / ${by[phase].slo_violation_s}`).join(" | ")} |`);
    }
  }

  for (const p of policies) {
    const reasons = new Set<string>();
    let n = 0;
    for (const s of scenarios) {
      const r = s.runs[p];
      if (r !== undefined && "unavailable" in r) {
        n++;
        reasons.add(r.unavailable);
      }
    }
    if (n > 0) out.push("", `**${p} could not run in ${n} scenario(s):** ${cell([...reasons].slice(0, 3).join("; "))}`);
  }

  const m = summary.modelVsRules;
  if (m !== null) {
    out.push(
      "", "## What the model adds (autoglm against autoglm-rules)", "",
      `Over ${m.scenarios} scenarios: failed requests ${m.failedChangePct >= 0 ? "+" : ""}${m.failedChangePct}% in all, ` +
        `SLO seconds ${m.sloChangePct >= 0 ? "+" : ""}${m.sloChangePct}% (negative: the model helps). Per scenario, with the same tie rules, ` +
        `the model wins / ties / loses on failed requests ${wtl(m.failed)} and on SLO seconds ${wtl(m.slo)}.`,
    );
  }

  for (const [name, s] of Object.entries(summary.subjects)) {
    if (s.harmScenarios.length === 0) continue;
    out.push("", `## Scenarios where ${name} does harm`, "");
    for (const n of s.harmScenarios) {
      const sc = scenarios.find((x) => x.name === n);
      out.push(`- ${n}: ${sc === undefined ? "" : cell(sc.description.replace(/^generated \([^)]*\): /, ""))}`);
    }
  }

  out.push(...extraSections);
  out.push("", "## Per scenario", "", "Each cell: failed requests / SLO-violation seconds. Verdicts of autoglm against the best baseline: failed, SLO s.", "");
  out.push(`| scenario | what | ${policies.join(" | ")} | autoglm vs best |`);
  out.push(`|---|---|${policies.map(() => "---:").join("|")}|---|`);
  for (const s of scenarios) {
    const cells = policies.map((p) => {
      const r = s.runs[p];
      if (r === undefined) return "";
      return "unavailable" in r ? "n/a" : `${r.failed} / ${r.slo_violation_s}`;
    });
    const sc = s.scores["autoglm"];
    const v = sc === undefined ? "" : `${sc.vsBest.failed}, ${sc.vsBest.slo}${sc.harm ? ", **harm**" : ""}`;
    out.push(`| ${s.name} | ${cell(s.description.replace(/^generated \([^)]*\): /, ""))} | ${cells.join(" | ")} | ${v} |`);
  }
  return out.join("\n") + "\n";
}
