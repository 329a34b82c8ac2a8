// `autoglm bench <what>`: dispatches to the benchmark commands, each in its own file.
import type { Command } from "../command.js";

const benches: Record<string, () => Promise<Command>> = {
  filter: async () => (await import("./bench-filter.js")).command,
  "control-plane": async () => (await import("./bench-control-plane.js")).command,
  scenarios: async () => (await import("./bench-scenarios.js")).command,
  generalization: async () => (await import("./bench-generalization.js")).command,
  forecast: async () => (await import("./bench-forecast.js")).command,
};

const help = `Usage: autoglm bench <filter|control-plane|scenarios|generalization|forecast> [options]

Benchmarks that print figures (and write them as JSON with --json <file>):
  filter          one million requests through a pass-through module and through the filter
                  in the project's proxy-wasm host: ns per request, overhead, wasm size, memory
  control-plane   the control plane with N simulated sidecar streams over real gRPC on loopback:
                  reports/s, decision and push latency p99, RSS
  scenarios       replays fault scenarios through every policy (none, envoy-outlier,
                  resilience4j, linkerd-ewma, autoglm, autoglm-rules, autoglm-host-ejection) and compares what
                  clients saw
  generalization  every policy on N generated scenarios never seen in training: autoglm
                  against the best baseline and none (win / tie / loss), harm, false cuts
  forecast        how well the planner's load-response model predicts each cluster's bad
                  fraction a few windows ahead at the load it then got (tuning scenarios)

Run \`autoglm bench <what> --help\` for its options.`;

export const command: Command = {
  name: "bench",
  summary: "benchmarks: filter, control-plane, scenarios, generalization, forecast",
  help,
  dispatches: true,
  async run(args: string[]): Promise<number> {
    const [what, ...rest] = args;
    if (what === "--help" || what === "-h") {
      process.stdout.write(help + "\n");
      return 0;
    }
    const load = what === undefined ? undefined : benches[what];
    if (load === undefined) {
      process.stderr.write(
        (what === undefined ? "autoglm bench: which benchmark?" : `autoglm bench: unknown benchmark "${what}"`) +
          `\n\n${help}\n`,
      );
      return 2;
    }
    const bench = await load();
    if (rest.includes("--help") || rest.includes("-h")) {
      process.stdout.write(bench.help.trimEnd() + "\n");
      return 0;
    }
    return bench.run(rest);
  },
};
