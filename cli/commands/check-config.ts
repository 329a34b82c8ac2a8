// `autoglm check-config`: validates a control plane's configuration and the sidecars' that stream
// to it, each on its own and against each other, and lists every problem before anything starts.
import { parseArgs } from "node:util";
import type { Command } from "../command.js";

const help = `Usage: autoglm check-config [--control-plane <file>] [--sidecar <file>]...

Checks configuration files without starting anything: each file against its schema (every problem
at once, by its snake_case path; docs/configuration.md), then each sidecar against the control
plane: the filter's clusters are the control plane's, with the same base shares; every filter
cluster has endpoints in the sidecar; the sidecar's control_plane.address port is grpc.port; the
filter sends grpc.token when one is set. AUTOGLM_* environment variables apply to the control
plane's file as \`autoglm control-plane\` applies them.

Options:
  --control-plane <file>   the control plane's configuration (YAML or JSON)
  --sidecar <file>         a sidecar's configuration (YAML or JSON); repeatable
  -h, --help               this help

Exit codes: 0 no problem, 2 problems (listed on stderr, each under its file).
`;

export const command: Command = {
  name: "check-config",
  summary: "check configuration files, and sidecars against their control plane, without starting anything",
  help,
  async run(args: string[]): Promise<number> {
    let cpPath: string | undefined;
    let sidecarPaths: string[];
    try {
      const { values } = parseArgs({
        args,
        options: { "control-plane": { type: "string" }, sidecar: { type: "string", multiple: true } },
        strict: true,
        allowPositionals: false,
      });
      cpPath = values["control-plane"];
      sidecarPaths = values.sidecar ?? [];
    } catch (e) {
      process.stderr.write(`autoglm check-config: ${(e as Error).message}\n\n${help}`);
      return 2;
    }
    if (cpPath === undefined && sidecarPaths.length === 0) {
      process.stderr.write(`autoglm check-config: give --control-plane <file>, --sidecar <file>, or both\n\n${help}`);
      return 2;
    }
    const { loadConfig, ConfigError } = await import("../../control-plane/src/config/index.js");
    const { loadSidecarConfig, SidecarConfigError } = await import("../../sidecar/index.js");
    const { configAgreementProblems } = await import("../config-agreement.js");

    const report = new Map<string, readonly string[]>();
    let cp: Awaited<ReturnType<typeof loadConfig>> | undefined;
    if (cpPath !== undefined) {
      try {
        cp = await loadConfig(cpPath, process.env);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        report.set(cpPath, e.problems);
      }
    }
    for (const path of sidecarPaths) {
      try {
        const sidecar = await loadSidecarConfig(path);
        if (cp !== undefined) {
          const problems = configAgreementProblems(cp, sidecar).map((p) => `${p} (control plane: ${cpPath})`);
          if (problems.length > 0) report.set(path, problems);
        }
      } catch (e) {
        if (!(e instanceof SidecarConfigError)) throw e;
        report.set(path, e.problems);
      }
    }
    if (report.size === 0) {
      process.stdout.write(`autoglm check-config: ${[cpPath, ...sidecarPaths].filter((p) => p !== undefined).join(", ")}: no problem\n`);
      return 0;
    }
    for (const [file, problems] of report) {
      process.stderr.write(`autoglm check-config: bad configuration (${file}): ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n`);
      for (const problem of problems) process.stderr.write(`  ${problem}\n`);
    }
    return 2;
  },
};
