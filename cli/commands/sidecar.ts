// `autoglm sidecar --config <file>`: runs the local HTTP/1.1 sidecar proxy with the filter.
import { parseArgs } from "node:util";
import type { Command } from "../command.js";

const help = `Usage: autoglm sidecar --config <file>

Runs a local HTTP/1.1 reverse proxy that runs the proxy-wasm filter on every request (in the
project's own proxy-wasm host), routes each request to the upstream cluster the filter chose (the
x-autoglm-cluster header), round-robin over the cluster's endpoints, streams bodies both ways
(server-sent events pass through unbuffered) and serves metrics as Prometheus text.

Options:
  --config <file>   sidecar configuration, JSON (.json) or YAML, snake_case keys; every key in
                    docs/configuration.md, an example in demo/sidecar.example.yaml:
                      listen: "127.0.0.1:10000"
                      workers: 2
                      filter: { wasm: build/filter.wasm, fail_open: false, configuration: {...} }
                      clusters: [ { name: llm-a, endpoints: ["127.0.0.1:9001"],
                                    circuit_breakers: { max_connections: 1024, max_pending_requests: 1024 } } ]
                      default_cluster: llm-a
                      upstream_timeout_ms: 30000     # from the request fully sent upstream to its response headers
                      request_idle_timeout_ms: 300000 # a client silent this long mid-request gets a local 408
                      control_plane: { cluster: autoglm-control-plane, address: "127.0.0.1:50051" }
                      metrics: { listen: "127.0.0.1:9901" }
  -h, --help        this help
`;

export const command: Command = {
  name: "sidecar",
  summary: "run a local HTTP/1.1 sidecar proxy that runs the filter on every request",
  help,
  async run(args: string[]): Promise<number> {
    let configPath: string | undefined;
    try {
      const { values } = parseArgs({ args, options: { config: { type: "string" } }, strict: true, allowPositionals: false });
      configPath = values.config;
    } catch (e) {
      process.stderr.write(`autoglm sidecar: ${(e as Error).message}\n\n${help}`);
      return 2;
    }
    if (configPath === undefined) {
      process.stderr.write(`autoglm sidecar: --config <file> is required\n\n${help}`);
      return 2;
    }
    const { loadSidecarConfig, startSidecar, SidecarConfigError } = await import("../../sidecar/index.js");
    let sidecar: Awaited<ReturnType<typeof startSidecar>>;
    try {
      sidecar = await startSidecar(await loadSidecarConfig(configPath));
    } catch (e) {
      const prefix = e instanceof SidecarConfigError ? "bad configuration: " : "";
      process.stderr.write(`autoglm sidecar: ${prefix}${(e as Error).message}\n`);
      return e instanceof SidecarConfigError ? 2 : 1;
    }
    process.stdout.write(`sidecar listening on ${sidecar.url}${sidecar.metricsUrl !== null ? `, metrics on ${sidecar.metricsUrl}/metrics` : ""}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await sidecar.close();
    return 0;
  },
};
