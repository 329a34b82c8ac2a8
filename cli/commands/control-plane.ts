// `autoglm control-plane [--config <file>]`: runs the control plane (sidecar gRPC, admin API and
// dashboard, metrics, alerts, audit log, optional xDS) until SIGINT/SIGTERM.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import type { Command } from "../command.js";

const help = `Usage: autoglm control-plane [--config <file>] [--xds-services <file>]

Runs the control plane: the gRPC server sidecars stream telemetry to and receive decisions from
(autoglm.v1.TrafficGuard/Connect), the admin API with the dashboard and /metrics, alerts (e-mail,
webhooks, SMS), the audit log, the ONNX anomaly model (rules-only when it cannot be loaded) and,
when enabled, an xDS (ADS) server for plain Envoys and proxyless gRPC clients. Stops gracefully
on SIGINT/SIGTERM: stops accepting, closes every sidecar stream, delivers queued alerts and
flushes the audit log.

Options:
  --config <file>        configuration, YAML or JSON (.json), snake_case keys; every key in
                         docs/configuration.md, an example in demo/control-plane.example.yaml:
                           grpc:  { host, port, token, tls: { cert_file, key_file, ca_file },
                                    allow_unauthenticated_non_loopback }
                           admin: { host, port, token, read_token, tls: { cert_file, key_file },
                                    allow_unauthenticated_non_loopback }
                           xds:   { enabled, host, port }
                           clusters: [ { name, base_weight } ]        (required)
                           slo: { latency_ms, success_rate, ttft_ms, tpot_ms }
                           detector: { n, m, min_requests, ... }  breaker: { open_base_ms, ... }
                           model: { path }   audit: { dir, rotate_bytes }
                           alerts: { channels: { <name>: { type: email | webhook | sms, ... } },
                                     routes: [ { severities, kinds, channels } ], cooldown_s,
                                     retries, ... }   (README, "Alerts"; webhooks: [url] still read)
                           etcd: { endpoints, prefix, lease_ttl_s, replica_id, tls: { ca_file,
                                   cert_file, key_file }, ... }
                                  (several replicas sharing their state; README "Running several replicas")
  --xds-services <file>  xDS services with their endpoints, JSON or YAML (needed when xds.enabled;
                           format in control-plane/src/xds/README.md)
  -h, --help             this help

Access: a gRPC or admin listener on a non-loopback address without a token is refused unless
that section sets allow_unauthenticated_non_loopback: true. The admin token may do everything;
the read token only GET routes. /healthz, /readyz, /metrics and the dashboard page (/) are open;
open the dashboard as /#token=<read token> when tokens are set. The admin API listens on
127.0.0.1:18081 by default and describes every route in an OpenAPI 3 document, GET
/v1/openapi.json (a read, like the state routes).

Environment variables override single fields: AUTOGLM_GRPC_HOST, AUTOGLM_GRPC_PORT,
AUTOGLM_GRPC_TOKEN, AUTOGLM_GRPC_TLS_CERT_FILE, AUTOGLM_GRPC_TLS_KEY_FILE, AUTOGLM_GRPC_TLS_CA_FILE,
AUTOGLM_GRPC_ALLOW_UNAUTHENTICATED_NON_LOOPBACK, AUTOGLM_ADMIN_HOST, AUTOGLM_ADMIN_PORT,
AUTOGLM_ADMIN_TOKEN, AUTOGLM_ADMIN_READ_TOKEN, AUTOGLM_ADMIN_TLS_CERT_FILE, AUTOGLM_ADMIN_TLS_KEY_FILE,
AUTOGLM_ADMIN_ALLOW_UNAUTHENTICATED_NON_LOOPBACK, AUTOGLM_XDS_ENABLED, AUTOGLM_XDS_HOST,
AUTOGLM_XDS_PORT, AUTOGLM_SLO_LATENCY_MS, AUTOGLM_SLO_SUCCESS_RATE, AUTOGLM_MODEL_PATH,
AUTOGLM_AUDIT_DIR, AUTOGLM_AUDIT_ROTATE_BYTES, AUTOGLM_ALERTS_WEBHOOKS (comma-separated),
AUTOGLM_ALERTS_COOLDOWN_S, AUTOGLM_ALERTS_RETRIES, AUTOGLM_ETCD_ENDPOINTS (comma-separated),
AUTOGLM_ETCD_REPLICA_ID, AUTOGLM_ETCD_ADVERTISE_ADDRESS, AUTOGLM_ETCD_TLS_CA_FILE,
AUTOGLM_ETCD_TLS_CERT_FILE, AUTOGLM_ETCD_TLS_KEY_FILE. Alert channels read their secrets from the
variables their configuration names (smtp.password_env, token_env). Logs: JSON lines on stderr,
AUTOGLM_LOG_LEVEL.

Exit codes: 0 stopped by a signal, 2 bad options or configuration (every problem is listed, also
an audit.dir that cannot be created or written), 1 failed to start (e.g. a port in use).
`;

export const command: Command = {
  name: "control-plane",
  summary: "run the control plane (sidecar gRPC, admin API, dashboard, metrics, alerts, xDS)",
  help,
  async run(args: string[]): Promise<number> {
    let configPath: string | undefined;
    let xdsPath: string | undefined;
    try {
      const { values } = parseArgs({
        args,
        options: { config: { type: "string" }, "xds-services": { type: "string" } },
        strict: true,
        allowPositionals: false,
      });
      configPath = values.config;
      xdsPath = values["xds-services"];
    } catch (e) {
      process.stderr.write(`autoglm control-plane: ${(e as Error).message}\n\n${help}`);
      return 2;
    }

    const { loadConfig, ConfigError } = await import("../../control-plane/src/config/index.js");
    const { parseXdsServices, XdsConfigError } = await import("../../control-plane/src/xds/index.js");
    const { startControlPlane } = await import("../../control-plane/src/server.js");
    const { createLogger } = await import("../../lib/log.js");

    const badConfig = (e: unknown): number | undefined => {
      if (e instanceof ConfigError) {
        // Problems found at start (an unusable audit.dir, unreadable TLS files) concern the file too.
        const source = e.source === "configuration" ? (configPath ?? "environment") : e.source;
        process.stderr.write(`autoglm control-plane: bad configuration (${source}): ${e.problems.length} problem${e.problems.length === 1 ? "" : "s"}:\n`);
        for (const problem of e.problems) process.stderr.write(`  ${problem}\n`);
        return 2;
      }
      if (e instanceof XdsConfigError) {
        process.stderr.write(`autoglm control-plane: bad xDS services (${xdsPath ?? "?"}): ${e.message}\n`);
        return 2;
      }
      return undefined;
    };

    let running: Awaited<ReturnType<typeof startControlPlane>>;
    try {
      const config = await loadConfig(configPath, process.env);
      let xdsServices: ReturnType<typeof parseXdsServices> | undefined;
      if (xdsPath !== undefined) {
        let text: string;
        try {
          text = await readFile(xdsPath, "utf8");
        } catch (e) {
          throw new ConfigError([`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`], xdsPath);
        }
        let doc: unknown;
        try {
          doc = /\.json$/i.test(xdsPath) ? JSON.parse(text) : parseYaml(text);
        } catch (e) {
          throw new ConfigError([`not valid ${/\.json$/i.test(xdsPath) ? "JSON" : "YAML"}: ${(e as Error).message}`], xdsPath);
        }
        xdsServices = parseXdsServices(doc);
      }
      running = await startControlPlane(config, {
        logger: createLogger("control-plane"),
        ...(xdsServices === undefined ? {} : { xdsServices }),
      });
    } catch (e) {
      const code = badConfig(e);
      if (code !== undefined) return code;
      process.stderr.write(`autoglm control-plane: failed to start: ${(e as Error).message}\n`);
      return 1;
    }

    process.stdout.write(
      `control plane: sidecar gRPC on port ${running.grpcPort}, admin API and dashboard on ${running.adminUrl}` +
        `${running.xdsPort === undefined ? "" : `, xDS on port ${running.xdsPort}`}\n`,
    );
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      const onSignal = (s: NodeJS.Signals) => {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        resolve(s);
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    });
    process.stdout.write(`control plane: ${signal}, stopping\n`);
    await running.close();
    return 0;
  },
};
