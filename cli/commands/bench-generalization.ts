// `autoglm bench generalization`: runs every policy on N generated scenarios from the evaluation
// seed range (models/src/scenario-generator.ts, disjoint from training) and scores autoglm and
// autoglm-rules against the best baseline and against `none` (sim/generalization-score.ts).
// Writes JSON, a Markdown summary and an SVG chart; the summary also goes to stdout.
import { availableParallelism } from "node:os";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import type { Command } from "../command.js";
import { share, wholeNumber } from "../option-values.js";
import { tryWriteFile } from "../output-file.js";
import { ALL_POLICY_NAMES, AUTOGLM_POLICY_NAMES, BASELINE_POLICY_NAMES, KNOWN_SUBJECT_NAMES, OPTIONAL_AUTOGLM_POLICY_NAMES, REFERENCE_POLICY_NAMES } from "../../sim/policies/registry.js";
import type { JobInput } from "../../sim/job.js";
import type { Scenario } from "../../sim/scenario.js";
import { MAX_RESEEDS, reseedMarkdown, RESEED_STRIDE, type ReseedScope, type ReseedVerdict } from "../../sim/generalization-reseed.js";
import { runReseeds } from "./bench-generalization-reseed.js";
import { readStoredRuns, type BaselinesRead, type StoredRun } from "../../sim/generalization-baselines.js";
import { compareSubjects, comparisonMarkdown, type ScenarioRuns } from "../../sim/generalization-compare.js";

const DEFAULT_COUNT = 200;
const DEFAULT_SEED = 0;
/** Share of the generated scenarios whose clusters stream LLM answers (the traffic this mesh
 *  exists for; issue 21): one in ten by default, so every run judges the stream policy too. */
const DEFAULT_LLM_SHARE = 0.1;
/** Partial results are rewritten at most this often while the run goes on, seconds. */
const PARTIAL_WRITE_EVERY_S = 30;

const help = `Usage: autoglm bench generalization [options]

Generates N scenarios from the generalization seed range (simulator seeds 3000000 + S ... +
S + N - 1; training uses 1000000-1999999, so no scenario was seen in training), runs every
policy on each (${ALL_POLICY_NAMES.join(", ")}) and scores ${AUTOGLM_POLICY_NAMES.join(", ")} per
scenario against the best baseline and against none on failed requests and SLO-violation
seconds (win / tie / loss), counts harm (worse than none) and false cuts per fault-free hour.

Options:
  --count <n>          scenarios (default ${DEFAULT_COUNT})
  --seed <s>           offset into the generalization seed range (default ${DEFAULT_SEED}); s + n <= 1000000
  --tuning <t>         draw the scenarios from the tuning range instead: the generator's eval
                       purpose (simulator seeds 2000000-2999999, never in the generalization run)
                       seeded with t, for trying a policy change before the generalization run
                       (figures from it are tuning figures, not generalization ones); not with --seed
  --family <f>         main (default): the generator the policy was tuned on (its tuning range
                       only); shifted: a second family with ranges and structure of its own
                       (weights not near capacity, traffic steps, cascades, wider faults:
                       models/src/scenario-generator-shifted.ts), its own seed range from
                       4000000 + S, a check of how far the tuning carries
  --llm-share <f>      share of scenarios, 0 to 1, whose clusters stream LLM answers (llm blocks, TTFT
                       and TPOT objectives, stream faults); default ${DEFAULT_LLM_SHARE}; 0 gives the
                       scenarios without streams
  --load-report-share <f>
                       share of scenarios, 0 to 1, whose upstreams report their load on every
                       answer (ORCA endpoint-load-metrics: utilisation, rate, errors); default 0
  --subjects <list>    the autoglm policies to run and score, comma-separated (default:
                       ${AUTOGLM_POLICY_NAMES.join(",")}; also ${OPTIONAL_AUTOGLM_POLICY_NAMES.join(",")}, autoglm
                       whose filters do not read the load reports, and the references
                       ${REFERENCE_POLICY_NAMES.join(",")}: shares set from the scenario's
                       truth of the next or the last window, bounds on what a forecast or a
                       flawless estimate could add; sim/policies/oracle.ts)
  --baselines-from <file>
                       take the baselines' runs from the --json file of an earlier run of the same
                       scenarios instead of running them again (same --family, --seed or --tuning,
                       --count, --llm-share and --load-report-share; every scenario must be in it). The simulator is
                       deterministic, so they are the runs a full run would make, as long as the
                       simulator and the baselines' code did not change since: for trying a change
                       of autoglm on a tuning batch in a fraction of the time
  --compare <file>     compare each subject with its runs in the --json file of an earlier run of the
                       same scenarios (totals before and after, harm, false cuts, the scenarios that
                       changed most), in the summary and generalization.md
  --reseed <k>         run each scenario where one of the autoglm policies does harm again, with none
                       and that policy, under k more seeds (0 to ${MAX_RESEEDS}, default 0), and report how many
                       of the harms hold in more than half of the seeds (systematic) and which
                       are luck; the harm figure itself stays the one-seed count
  --reseed-all         with --reseed k: run every scenario again that way, not only the harmed
                       ones (a harm can hide behind a lucky first seed); the section then counts
                       the scenarios harmed in more than half of the seeds out of all of them
  --json <file>        write every run's report, the scores and the summary as JSON
  --out <folder>       write generalization.md (summary and one row per scenario) and generalization.svg
  --scenarios <folder> also write every generated scenario there as <name>.json, in the scenario
                       format: \`autoglm bench scenarios <folder>/<name>.json --out DIR\` replays one
                       alone and charts its shares (AUTOGLM_SIM_TRACE=<file> logs autoglm's decisions)
  --workers <n>        worker threads (default: min(2, CPUs)); 1 runs in this thread
  -h, --help           this help

The summary is printed on stdout; a progress bar goes to stderr.`;

function fail(message: string): number {
  process.stderr.write(`autoglm bench generalization: ${message}\n\nRun \`autoglm bench generalization --help\` for usage.\n`);
  return 2;
}

export const command: Command = {
  name: "generalization",
  summary: "every policy on N generated scenarios never seen in training: win/tie/loss, harm, false cuts",
  help,
  async run(args: string[]): Promise<number> {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: false,
        strict: true,
        options: {
          count: { type: "string" },
          seed: { type: "string" },
          tuning: { type: "string" },
          family: { type: "string" },
          reseed: { type: "string" },
          "reseed-all": { type: "boolean" },
          subjects: { type: "string" },
          "baselines-from": { type: "string" },
          compare: { type: "string" },
          "llm-share": { type: "string" },
          "load-report-share": { type: "string" },
          json: { type: "string" },
          out: { type: "string" },
          scenarios: { type: "string" },
          workers: { type: "string" },
          help: { type: "boolean", short: "h" },
        },
      });
    } catch (error) {
      return fail((error as Error).message);
    }
    const { values } = parsed;
    if (values.help === true) {
      process.stdout.write(help + "\n");
      return 0;
    }
    const { SEED_BASE, SEED_SPAN, generalizationScenarios, tuningScenarios } = await import("../../models/src/scenario-generator.js");
    const { SHIFTED_SEED_BASE, shiftedScenarios, shiftedTuningScenarios } = await import("../../models/src/scenario-generator-shifted.js");
    const family = values.family ?? "main";
    if (family !== "main" && family !== "shifted") return fail(`--family: expected main or shifted, got "${family}"`);
    const count = wholeNumber("count", values.count, DEFAULT_COUNT, 1, 100_000);
    if (typeof count === "string") return fail(count);
    const seed = wholeNumber("seed", values.seed, DEFAULT_SEED, 0, SEED_SPAN - 1);
    if (typeof seed === "string") return fail(seed);
    const tuning = wholeNumber("tuning", values.tuning, -1, 0, 2 ** 32 - 1);
    if (typeof tuning === "string") return fail(tuning);
    if (tuning >= 0 && values.seed !== undefined) return fail("--tuning and --seed choose different seed ranges: give one of them");
    if (tuning < 0 && seed + count > SEED_SPAN) return fail(`--seed ${seed} with --count ${count} leaves the generalization seed range: seed + count must be at most ${SEED_SPAN}`);
    const llmShare = share("llm-share", values["llm-share"], DEFAULT_LLM_SHARE);
    if (typeof llmShare === "string") return fail(llmShare);
    const loadReportShare = share("load-report-share", values["load-report-share"], 0);
    if (typeof loadReportShare === "string") return fail(loadReportShare);
    const reseed = wholeNumber("reseed", values.reseed, 0, 0, MAX_RESEEDS);
    if (typeof reseed === "string") return fail(reseed);
    const reseedScope: ReseedScope = values["reseed-all"] === true ? "all" : "harmed";
    if (reseedScope === "all" && reseed === 0) return fail(`--reseed-all: give --reseed k (1 to ${MAX_RESEEDS}), the number of extra seeds`);
    const workers = wholeNumber("workers", values.workers, Math.min(2, availableParallelism()), 1, 64);
    if (typeof workers === "string") return fail(workers);
    if (values.json !== undefined && values.json === "") return fail("--json: give a file name");
    if (values.out !== undefined && values.out === "") return fail("--out: give a folder");
    if (values.scenarios !== undefined && values.scenarios === "") return fail("--scenarios: give a folder");
    const subjects = values.subjects === undefined ? [...AUTOGLM_POLICY_NAMES] : values.subjects.split(",").map((x) => x.trim());
    const unknownSubject = subjects.find((x) => !(KNOWN_SUBJECT_NAMES as readonly string[]).includes(x));
    if (unknownSubject !== undefined || subjects.length === 0) return fail(`--subjects: expected names among ${KNOWN_SUBJECT_NAMES.join(", ")}, got "${values.subjects}"`);
    if (new Set(subjects).size !== subjects.length) return fail(`--subjects: a name is given twice in "${values.subjects}"`);
    const baselinesFrom = values["baselines-from"];
    if (baselinesFrom !== undefined && baselinesFrom === "") return fail("--baselines-from: give a file name");
    if (values.compare !== undefined && values.compare === "") return fail("--compare: give a file name");

    const generate = { ...(llmShare > 0 ? { llmShare } : {}), ...(loadReportShare > 0 ? { loadReportShare } : {}) };
    const scenarios: Scenario[] = family === "shifted"
      ? (tuning >= 0 ? shiftedTuningScenarios(tuning, count, generate) : shiftedScenarios(seed, count, generate))
      : (tuning >= 0 ? tuningScenarios(tuning, count, generate) : generalizationScenarios(seed, count, generate));
    const rangeBase = family === "shifted" ? SHIFTED_SEED_BASE : SEED_BASE.generalization;
    if (values.scenarios !== undefined) {
      // Written before the runs, so a long run's scenarios can be replayed while it goes on.
      for (const s of scenarios) {
        const failed = tryWriteFile(join(values.scenarios, `${s.name}.json`), JSON.stringify(s, null, 2) + "\n", true);
        if (failed !== null) return fail(`--scenarios: cannot write ${join(values.scenarios, `${s.name}.json`)}: ${failed}`);
      }
    }
    const policies = [...BASELINE_POLICY_NAMES, ...subjects];
    /** The runs of a scenario and policy that are in (`scenario\u0000policy`). */
    const finished = new Map<string, { policy: string } & ({ ok: true; report: Exclude<StoredRun, { unavailable: string }> } | { ok: false; unavailable: string })>();
    /** The runs of an earlier run's --json file named by `option`, or the error naming what is wrong. */
    const readRunsFile = (option: string, file: string, optional: readonly string[] = []): BaselinesRead => {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (error) {
        return { ok: false, error: `--${option}: cannot read ${file}: ${(error as Error).message}` };
      }
      const read = readStoredRuns(text, scenarios, BASELINE_POLICY_NAMES, optional);
      return read.ok ? read : { ok: false, error: `--${option} ${file}: ${read.error}` };
    };
    if (baselinesFrom !== undefined) {
      const read = readRunsFile("baselines-from", baselinesFrom);
      if (!read.ok) return fail(read.error);
      for (const [name, runs] of read.runs) {
        for (const [policy, run] of Object.entries(runs)) finished.set(`${name}\u0000${policy}`, "unavailable" in run ? { policy, ok: false, unavailable: run.unavailable } : { policy, ok: true, report: run });
      }
    }
    // Read before the runs, so that a file that does not fit stops the command at once.
    let earlier: ScenarioRuns | undefined;
    if (values.compare !== undefined) {
      const read = readRunsFile("compare", values.compare, subjects);
      if (!read.ok) return fail(read.error);
      earlier = read.runs;
    }
    // Scenario by scenario (so finished scenarios accumulate), the slow autoglm runs first in each.
    const inputs: JobInput[] = [];
    for (const scenario of scenarios) {
      for (const policy of [...subjects, ...BASELINE_POLICY_NAMES]) if (!finished.has(`${scenario.name}\u0000${policy}`)) inputs.push({ scenario, policy });
    }

    const { runJobs } = await import("../../sim/pool.js");
    const { faultFreeSeconds } = await import("../../sim/generalization-score.js");
    const { scoreRuns, summarize } = await import("../../sim/generalization-summary.js");
    const { generalizationMarkdown } = await import("../../sim/generalization-markdown.js");
    const { generalizationChart } = await import("../../sim/generalization-chart.js");
    type Results = import("../../sim/generalization-summary.js").GeneralizationScenario;

    const commandLine = ["autoglm bench generalization", ...args].join(" ");
    // Tuning scenarios draw their simulator seeds at random from the eval range: their lowest and highest.
    const seedRange: [number, number] = tuning >= 0
      ? [Math.min(...scenarios.map((s) => s.seed)), Math.max(...scenarios.map((s) => s.seed))]
      : [rangeBase + seed, rangeBase + seed + count - 1];
    const rangeNote = tuning >= 0
      ? `the tuning range (eval seeds drawn with --tuning ${tuning}), never in a generalization run${family === "shifted" ? "; shifted family" : ""}`
      : family === "shifted"
        ? "the shifted family's own range, disjoint from training, tuning and the main generalization range"
        : "the generalization range, disjoint from training";
    let verdicts: ReseedVerdict[] = [];
    let writeError: string | null = null;
    const started = performance.now();

    /** Results of the scenarios whose runs are all finished (every scenario at the end). */
    const build = (): { results: Results[]; summary: ReturnType<typeof summarize> } => {
      const results: Results[] = [];
      for (const s of scenarios) {
        const outputs = policies.map((p) => finished.get(`${s.name}\u0000${p}`));
        if (outputs.some((o) => o === undefined)) continue;
        const runs = Object.fromEntries(outputs.map((o) => [o!.policy, o!.ok ? o!.report : { unavailable: o!.unavailable }]));
        results.push({
          name: s.name, seed: s.seed, description: s.description, duration_s: s.duration_s, fault_free_s: faultFreeSeconds(s),
          runs, scores: scoreRuns(runs, subjects, BASELINE_POLICY_NAMES),
        });
      }
      return { results, summary: summarize(results, policies, subjects) };
    };
    const write = (complete: boolean): string => {
      const wallS = (performance.now() - started) / 1000;
      const { results, summary } = build();
      const partial = complete ? undefined : `partial: ${results.length} of ${count} scenarios finished so far`;
      const header = { command: commandLine, wallS, seedRange, rangeNote, workers, ...(partial === undefined ? {} : { partial }) };
      const comparisons = earlier === undefined ? undefined : compareSubjects(earlier, new Map(results.map((r) => [r.name, r.runs])), subjects, BASELINE_POLICY_NAMES);
      const extra = [...reseedMarkdown(verdicts, reseed, reseedScope), ...(comparisons === undefined ? [] : comparisonMarkdown(values.compare!, comparisons))];
      const markdown = generalizationMarkdown(header, summary, results, policies, extra);
      const files: Array<[string, () => string]> = [];
      if (values.json !== undefined) {
        files.push([values.json, () => JSON.stringify({
          command: commandLine, family, seed, ...(tuning >= 0 ? { tuning } : {}), count, seed_range: seedRange, wall_s: Math.round(wallS * 10) / 10, workers, complete, policies,
          ...(baselinesFrom !== undefined ? { baselines_from: baselinesFrom } : {}),
          ...(comparisons !== undefined ? { compare: { file: values.compare, subjects: comparisons } } : {}),
          summary, ...(reseed > 0 ? { reseed: { extra_seeds: reseed, stride: RESEED_STRIDE, scope: reseedScope, verdicts } } : {}), scenarios: results,
        }, null, 2) + "\n"]);
      }
      if (values.out !== undefined) {
        files.push([join(values.out, "generalization.md"), () => markdown]);
        files.push([join(values.out, "generalization.svg"), () =>
          generalizationChart(summary, results, policies, `${tuning >= 0 ? `Tuning (--tuning ${tuning})` : "Generalization"}: ${results.length} generated scenarios${family === "shifted" ? " of the shifted family" : ""} (seeds ${seedRange[0]}–${seedRange[1]})`)]);
      }
      for (const [file, text] of files) {
        const failed = tryWriteFile(file, text(), true);
        if (failed === null || writeError !== null) continue;
        writeError = `cannot write ${file}: ${failed}`;
      }
      return markdown;
    };

    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `runs [{bar}] {percentage}% | {value}/{total} | {scenarios} scenarios done | {duration_formatted} (eta {eta_formatted})`,
        hideCursor: true,
        clearOnComplete: false,
        noTTYOutput: true,
        notTTYSchedule: 10_000,
      },
      cliProgress.Presets.shades_classic,
    );
    process.stderr.write(`running ${count} scenario(s) × ${policies.length} policies on ${workers} worker(s)${baselinesFrom === undefined ? "" : ` (the baselines' runs from ${baselinesFrom}: ${inputs.length} runs)`}\n`);
    bar.start(inputs.length, 0, { scenarios: 0 });
    let done = 0;
    let lastWrite = performance.now();
    const perScenario = new Map<string, number>();
    let scenariosDone = 0;
    await runJobs(inputs, workers, {
      onDone: (_i, input, output) => {
        done++;
        finished.set(`${output.scenario}\u0000${output.policy}`, output);
        const n = (perScenario.get(input.scenario.name) ?? 0) + 1;
        perScenario.set(input.scenario.name, n);
        if (n === policies.length - (baselinesFrom === undefined ? 0 : BASELINE_POLICY_NAMES.length)) scenariosDone++;
        bar.update(done, { scenarios: scenariosDone });
        if (done < inputs.length && (performance.now() - lastWrite) / 1000 >= PARTIAL_WRITE_EVERY_S) {
          lastWrite = performance.now();
          write(false);
        }
      },
    });
    bar.stop();
    if (reseed > 0) verdicts = await runReseeds(build().results, scenarios, subjects, reseed, workers, reseedScope);
    const markdown = write(true);
    // stdout: everything but the per-scenario table (that is in generalization.md).
    process.stdout.write(markdown.split("\n## Per scenario")[0]!.trimEnd() + "\n");
    const wallS = (performance.now() - started) / 1000;
    if (writeError !== null) {
      process.stderr.write(`autoglm bench generalization: ${writeError}\n`);
      return 2;
    }
    if (values.json !== undefined) process.stderr.write(`wrote ${values.json}\n`);
    if (values.out !== undefined) process.stderr.write(`wrote generalization.md and generalization.svg to ${values.out}\n`);
    process.stderr.write(`done in ${wallS.toFixed(1)} s\n`);
    return 0;
  },
};
