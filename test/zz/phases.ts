// throwaway analysis: failed requests and SLO seconds by fault phase, autoglm-rules vs oracle-last-window
import { tuningScenarios } from "../../models/src/scenario-generator.js";
import { shiftedTuningScenarios } from "../../models/src/scenario-generator-shifted.js";
import { createPolicy } from "../../sim/job.js";
import { runScenario } from "../../sim/runner.js";
import { FaultTimeline } from "../../sim/faults.js";
const [family, seedArg, countArg, from, to] = process.argv.slice(2);
const all = family === "shifted" ? shiftedTuningScenarios(Number(seedArg), Number(countArg), { llmShare: 0 }) : tuningScenarios(Number(seedArg), Number(countArg), { llmShare: 0 });
const scenarios = all.slice(Number(from ?? 0), Number(to ?? all.length));
const policies = ["autoglm-rules", "oracle-last-window"];
const phaseOf = (tl: FaultTimeline, s: number, e: number, w: number): string => {
  let phase = "quiet";
  for (const o of tl.occurrences) {
    if (e > o.startS && s < o.startS + 3 * w) return "onset(3w)";
    if (e > o.startS && s < o.endS) phase = "fault";
    else if (phase === "quiet" && e > o.endS && s < o.effectEndS + 60) phase = "after(+60s)";
  }
  return phase;
};
for (const sc of scenarios) {
  const tl = new FaultTimeline(sc);
  const row: Record<string, Record<string, [number, number]>> = {};
  for (const p of policies) {
    const policy = await createPolicy(p, sc);
    const r = await runScenario(sc, policy);
    await policy.close?.();
    const acc: Record<string, [number, number]> = {};
    for (const win of r.windows) {
      const ph = phaseOf(tl, win.startS, win.endS, sc.window_s);
      const a = (acc[ph] ??= [0, 0]);
      a[0] += win.failed;
      const success = win.offered > 0 ? 1 - win.failed / win.offered : 1;
      if (win.offered > 0 && (success < sc.slo.success_rate || win.p99Ms > sc.slo.latency_ms)) a[1] += win.endS - win.startS;
    }
    row[p] = acc;
  }
  console.log(JSON.stringify({ name: sc.name, description: sc.description, row }));
}
process.exit(0);
