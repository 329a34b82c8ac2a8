// Starts the demo's control plane on loopback (free ports) with control-plane/src/server.ts, the
// same code `autoglm control-plane` runs: the gRPC server the sidecars stream to and the admin API
// with the dashboard at its root.
import { join } from "node:path";
import type { Logger } from "../lib/log.js";
import type { ControlPlaneConfig } from "../control-plane/src/config/types.js";
import { validateConfig } from "../control-plane/src/config/validate.js";
import { startControlPlane, type RunningControlPlane } from "../control-plane/src/server.js";
import { projectRoot, type Scenario } from "../sim/scenario.js";

export type DemoControlPlane = RunningControlPlane;

/** The anomaly model the demo scores with: the one `autoglm train` writes and the repository ships. */
export function defaultModelPath(): string {
  return join(projectRoot(), "models", "anomaly.onnx");
}

/**
 * The control plane's configuration for a scenario: loopback, free ports, the scenario's clusters,
 * SLO and trigger rules (sim/triggers.ts), the alerts section (the demo: e-mail to its mailbox), and the ONNX model (a file that does not load means rules-only, as in production: the
 * control plane logs why and the dashboard's badge says so).
 */
export function controlPlaneConfigFor(scenario: Scenario, auditDir?: string, modelPath = defaultModelPath(), alerts?: Record<string, unknown>): ControlPlaneConfig {
  const config = validateConfig({
    grpc: { host: "127.0.0.1", port: 0 },
    admin: { host: "127.0.0.1", port: 0 },
    clusters: scenario.clusters.map((c) => ({ name: c.name, base_weight: Math.max(1, Math.round(c.weight)) })),
    slo: {
      latency_ms: scenario.slo.latency_ms,
      success_rate: scenario.slo.success_rate,
      // The stream objectives of a scenario whose clusters stream (README, "LLM streams").
      ...(scenario.slo.ttft_ms !== undefined ? { ttft_ms: scenario.slo.ttft_ms } : {}),
      ...(scenario.slo.tpot_ms !== undefined ? { tpot_ms: scenario.slo.tpot_ms } : {}),
    },
    model: { path: modelPath },
    ...(auditDir === undefined ? {} : { audit: { dir: auditDir } }),
    // The demo's alerts go to its local mailbox (mailbox.ts mailboxAlerts).
    ...(alerts === undefined ? {} : { alerts }),
  });
  // The scenario's rules were checked against its clusters when it was read.
  return scenario.triggers === undefined ? config : { ...config, triggers: scenario.triggers };
}

export function startDemoControlPlane(config: ControlPlaneConfig, logger: Logger): Promise<DemoControlPlane> {
  return startControlPlane(config, { logger });
}
