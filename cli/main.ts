// `autoglm`: the project's command line. Each subcommand lives in cli/commands/<name>.ts and is
// loaded only when used, so `autoglm --help` stays fast.
import type { Command } from "./command.js";

/** Subcommands in the order --help lists them, each loaded lazily. */
const commands: Record<string, () => Promise<Command>> = {
  demo: async () => (await import("./commands/demo.js")).command,
  "control-plane": async () => (await import("./commands/control-plane.js")).command,
  sidecar: async () => (await import("./commands/sidecar.js")).command,
  "check-config": async () => (await import("./commands/check-config.js")).command,
  bench: async () => (await import("./commands/bench.js")).command,
  train: async () => (await import("./commands/train.js")).command,
};

const summaries: Record<string, string> = {
  demo: "run the local demo mesh: control plane, dashboard, LLM stand-ins, sidecars, load, a fault",
  "control-plane": "run the control plane (gRPC for sidecars, xDS, admin API, dashboard)",
  sidecar: "run a local HTTP/1.1 sidecar proxy that runs the filter on every request",
  "check-config": "check configuration files, and sidecars against their control plane, without starting anything",
  bench: "benchmarks: `bench filter`, `bench control-plane`, `bench scenarios`, `bench generalization`, `bench forecast`",
  train: "train the anomaly model and write models/anomaly.onnx",
};

export function usage(): string {
  const width = Math.max(...Object.keys(summaries).map((name) => name.length));
  const lines = Object.entries(summaries).map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`);
  return [
    "Usage: autoglm <command> [options]",
    "",
    "Open-AutoGLM: a predictive circuit breaker for service meshes.",
    "",
    "Commands:",
    ...lines,
    "",
    "Run `autoglm <command> --help` for a command's options.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage() + "\n");
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (load === undefined) {
    process.stderr.write(`autoglm: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const command = await load();
  if (command.dispatches !== true && (rest.includes("--help") || rest.includes("-h"))) {
    process.stdout.write(command.help.trimEnd() + "\n");
    return 0;
  }
  return command.run(rest);
}
