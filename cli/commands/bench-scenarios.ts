// `autoglm bench scenarios`: replays fault scenarios through every policy and compares what
// clients saw (sim/). Writes the JSON results, a Markdown table and one SVG chart per scenario.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Command } from "../command.js";
import { tryWriteFile } from "../output-file.js";
import { defaultScenarioFolder, loadScenarios, ScenarioError, type LoadedScenario } from "../../sim/scenario.js";
import { ALL_POLICY_NAMES, KNOWN_POLICY_NAMES, OPTIONAL_AUTOGLM_POLICY_NAMES, REFERENCE_POLICY_NAMES } from "../../sim/policies/registry.js";
import type { JobInput, JobOutput } from "../../sim/job.js";
import type { BenchScenarioResult } from "../../sim/markdown.js";

const help = `Usage: autoglm bench scenarios [files or folders...] [options]

Replays fault scenarios on a virtual clock through each policy and reports what clients saw:
requests, failed, success rate, SLO-violation seconds, p99, detection and recovery times per
fault, false cuts. Scenario format: sim/scenarios/README.md.

Arguments:
  files or folders     scenario .json files, or folders of them (default: sim/scenarios, the public ones)

Options:
  --policies <list>    comma-separated, from: ${KNOWN_POLICY_NAMES.join(", ")} (default: all but ${[...OPTIONAL_AUTOGLM_POLICY_NAMES, ...REFERENCE_POLICY_NAMES].join(", ")}, the
                       references that read the scenario's truth)
  --json <file>        write the results as JSON
  --out <folder>       write results.md and one <scenario>.svg chart per scenario
  --workers <n>        worker threads (default: min(2, CPUs)); 1 runs in this thread
  -h, --help           this help

The Markdown table is also printed on stdout; progress goes to stderr.`;

function fail(message: string): number {
  process.stderr.write(`autoglm bench scenarios: ${message}\n\nRun \`autoglm bench scenarios --help\` for usage.\n`);
  return 2;
}

export const command: Command = {
  name: "scenarios",
  summary: "replay fault scenarios through the baselines and the autoglm policies",
  help,
  async run(args: string[]): Promise<number> {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        strict: true,
        options: {
          policies: { type: "string" },
          json: { type: "string" },
          out: { type: "string" },
          workers: { type: "string" },
          help: { type: "boolean", short: "h" },
        },
      });
    } catch (error) {
      return fail((error as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help === true) {
      process.stdout.write(help + "\n");
      return 0;
    }
    const policies = (values.policies ?? ALL_POLICY_NAMES.join(",")).split(",").map((p) => p.trim()).filter((p) => p !== "");
    if (policies.length === 0) return fail("--policies: give at least one policy");
    for (const p of policies) {
      if (!(KNOWN_POLICY_NAMES as readonly string[]).includes(p)) {
        return fail(`--policies: unknown policy "${p}" (known: ${KNOWN_POLICY_NAMES.join(", ")})`);
      }
    }
    let workers = Math.min(2, availableParallelism());
    if (values.workers !== undefined) {
      const n = Number(values.workers);
      if (!Number.isInteger(n) || n < 1 || n > 64) return fail(`--workers: expected a whole number from 1 to 64, got "${values.workers}"`);
      workers = n;
    }
    if (values.json !== undefined && values.json === "") return fail("--json: give a file name");
    if (values.out !== undefined && values.out === "") return fail("--out: give a folder");

    let loaded: LoadedScenario[];
    try {
      loaded = loadScenarios(positionals.length > 0 ? positionals : [defaultScenarioFolder()]);
    } catch (error) {
      if (error instanceof ScenarioError) {
        process.stderr.write(`autoglm bench scenarios: ${error.message}\n`);
        return 2;
      }
      throw error;
    }
    const names = new Set<string>();
    for (const { scenario, path } of loaded) {
      if (names.has(scenario.name)) return fail(`${path}: scenario name "${scenario.name}" is used by another file too`);
      names.add(scenario.name);
    }

    // Longest jobs first (autoglm runs the wasm filter per request; then by expected requests).
    const expected = (l: LoadedScenario): number =>
      l.scenario.duration_s * Math.max(...l.scenario.traffic.map((t) => t.rps));
    const inputs: JobInput[] = [];
    for (const l of loaded) for (const policy of policies) inputs.push({ scenario: l.scenario, policy });
    const isAutoglm = (p: string): number => Number(p.startsWith("autoglm"));
    inputs.sort((a, b) => isAutoglm(b.policy) - isAutoglm(a.policy) ||
      expected({ path: "", scenario: b.scenario }) - expected({ path: "", scenario: a.scenario }));

    const { runJobs } = await import("../../sim/pool.js");
    const { resultsMarkdown } = await import("../../sim/markdown.js");
    const { scenarioChart } = await import("../../sim/chart.js");
    const commandLine = ["autoglm bench scenarios", ...args].join(" ");
    const finished = new Map<string, JobOutput>();
    /** The first output file that could not be written, and why (reported once; exit 2 at the end). */
    let writeError: string | null = null;
    /** Writes the JSON, results.md and charts for the jobs finished so far (all of them at the end). */
    const writeOutputs = (runSeconds: number, complete: boolean): string => {
      const results: BenchScenarioResult[] = loaded.map(({ scenario }) => ({
        name: scenario.name,
        policies: Object.fromEntries(
          policies.flatMap((p) => {
            const o = finished.get(`${scenario.name}\u0000${p}`);
            if (o === undefined) return [];
            return [[p, o.ok ? o.report : { unavailable: o.unavailable }]];
          }),
        ),
      }));
      const markdown = resultsMarkdown(results, commandLine, runSeconds) +
        (complete ? "" : `\n(partial: ${finished.size} of ${inputs.length} runs finished so far)\n`);
      // A file that cannot be written is reported once, by name; the runs go on and the results
      // still reach stdout at the end (the command then exits 2).
      const files: Array<[string, () => string]> = [];
      if (values.json !== undefined) files.push([values.json, () => JSON.stringify({ scenarios: results }, null, 2) + "\n"]);
      if (values.out !== undefined) {
        const out = values.out;
        files.push([join(out, "results.md"), () => markdown]);
        for (const { scenario } of loaded) {
          const panels = policies.map((p) => {
            const o = finished.get(`${scenario.name}\u0000${p}`);
            if (o === undefined) return { policy: p, note: "not finished" };
            return o.ok ? { policy: p, series: o.series } : { policy: p, note: `unavailable: ${o.unavailable}` };
          });
          files.push([join(out, `${scenario.name.replace(/[^A-Za-z0-9._-]/g, "_")}.svg`), () => scenarioChart(scenario, panels)]);
        }
      }
      for (const [file, text] of files) {
        const failed = tryWriteFile(file, text(), true);
        if (failed === null) continue;
        if (writeError === null) {
          writeError = `cannot write ${file}: ${failed}`;
          process.stderr.write(`autoglm bench scenarios: ${writeError}\n`);
        }
        break;
      }
      return markdown;
    };
    const started = performance.now();
    let done = 0;
    const stamp = (): string => `${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s`;
    process.stderr.write(`${stamp()} running ${loaded.length} scenario(s) × ${policies.length} polic${policies.length === 1 ? "y" : "ies"} on ${workers} worker(s)\n`);
    await runJobs(inputs, workers, {
      onStart: (_i, input) => process.stderr.write(`${stamp()} start ${input.scenario.name} × ${input.policy}\n`),
      onProgress: (_i, input, f) => process.stderr.write(`${stamp()}   ${input.scenario.name} × ${input.policy} ${(f * 100).toFixed(0)}%\n`),
      onDone: (_i, input, output) => {
        done++;
        finished.set(`${output.scenario}\u0000${output.policy}`, output);
        if (done < inputs.length) writeOutputs((performance.now() - started) / 1000, false);
        const what = output.ok
          ? `failed ${output.report.failed}/${output.report.requests}, SLO violation ${output.report.slo_violation_s} s`
          : `unavailable: ${output.unavailable}`;
        process.stderr.write(`${stamp()} [${done}/${inputs.length}] ${input.scenario.name} × ${input.policy}: ${what} (${(output.wallMs / 1000).toFixed(1)} s)\n`);
      },
    });
    const runSeconds = (performance.now() - started) / 1000;

    const markdown = writeOutputs(runSeconds, true);
    process.stdout.write(markdown);
    if (writeError !== null) {
      process.stderr.write(`${stamp()} done in ${runSeconds.toFixed(1)} s; results not written: ${writeError}\n`);
      return 2;
    }
    if (values.json !== undefined) process.stderr.write(`${stamp()} wrote ${values.json}\n`);
    if (values.out !== undefined) process.stderr.write(`${stamp()} wrote results.md and ${loaded.length} chart(s) to ${values.out}\n`);
    process.stderr.write(`${stamp()} done in ${runSeconds.toFixed(1)} s\n`);
    return 0;
  },
};
