// The results table in Markdown: one row per scenario and policy.
import type { PolicyReport } from "./report.js";
import { triggerLines } from "./triggers.js";

export interface BenchScenarioResult {
  name: string;
  policies: Record<string, PolicyReport | { unavailable: string }>;
}

function list(values: (number | null)[]): string {
  if (values.length === 0) return "–";
  return values.map((v) => (v === null ? "never" : String(v))).join(", ");
}

/** A stream figure: "–" for a scenario without streams (or none in the run). */
function figure(value: number | null | undefined): string {
  return value === undefined || value === null ? "–" : String(value);
}

export function resultsMarkdown(results: readonly BenchScenarioResult[], command: string, runSeconds: number): string {
  const lines: string[] = [];
  lines.push(`Made with \`${command}\` in ${runSeconds.toFixed(0)} s.`, "");
  // TTFT and TPOT columns only when some scenario streams, so tables without streams stay as they were.
  const streams = results.some((s) => Object.values(s.policies).some((r) => "ttft_p99_ms" in r));
  lines.push(`| scenario | policy | requests | failed | success rate | SLO violation s | p99 ms |${streams ? " TTFT p99 ms | TPOT p99 ms |" : ""} detect s | recover s | false cuts |`);
  lines.push(`|---|---|---:|---:|---:|---:|---:|${streams ? "---:|---:|" : ""}---|---|---:|`);
  for (const scenario of results) {
    for (const [policy, r] of Object.entries(scenario.policies)) {
      if ("unavailable" in r) {
        lines.push(`| ${scenario.name} | ${policy} | unavailable: ${r.unavailable.replace(/\|/g, "\\|")} | | | | |${streams ? " | |" : ""} | | |`);
        continue;
      }
      lines.push(
        `| ${scenario.name} | ${policy} | ${r.requests} | ${r.failed} | ${(r.success_rate * 100).toFixed(3)}% | ${r.slo_violation_s} | ${r.p99_ms} |${streams ? ` ${figure(r.ttft_p99_ms)} | ${figure(r.tpot_p99_ms)} |` : ""} ${list(r.detect_s)} | ${list(r.recover_s)} | ${r.false_cuts} |`,
      );
    }
  }
  // The scenarios' triggers that fired, per run (only runs whose policy ran them).
  const fired = results.flatMap((scenario) =>
    Object.entries(scenario.policies).flatMap(([policy, r]) =>
      "unavailable" in r || r.triggers === undefined ? [] : triggerLines(r.triggers).map((line) => `- ${scenario.name} × ${policy}: ${line}`),
    ),
  );
  if (fired.length > 0) lines.push("", "Triggers:", "", ...fired);
  return lines.join("\n") + "\n";
}
