// Starts the demo's control plane on loopback (free ports) with control-plane/src/server.ts, the
// same code `autoglm control-plane` runs: the gRPC server the sidecars stream to and the admin API
// with the dashboard at its root.
import type { Logger } from "../lib/log.js";
import type { ControlPlaneConfig } from "../control-plane/src/config/types.js";
import { validateConfig } from "../control-plane/src/config/validate.js";
import { startControlPlane, type RunningControlPlane } from "../control-plane/src/server.js";
import type { Scenario } from "../sim/scenario.js";

export type DemoControlPlane = RunningControlPlane;

/** The control plane's configuration for a scenario: loopback, free ports, the scenario's clusters and SLO. */
export function controlPlaneConfigFor(scenario: Scenario, auditDir?: string): ControlPlaneConfig {
  return validateConfig({
    grpc: { host: "127.0.0.1", port: 0 },
    admin: { host: "127.0.0.1", port: 0 },
    clusters: scenario.clusters.map((c) => ({ name: c.name, base_weight: Math.max(1, Math.round(c.weight)) })),
    slo: { latency_ms: scenario.slo.latency_ms, success_rate: scenario.slo.success_rate },
    ...(auditDir === undefined ? {} : { audit: { dir: auditDir } }),
  });
}

export function startDemoControlPlane(config: ControlPlaneConfig, logger: Logger): Promise<DemoControlPlane> {
  return startControlPlane(config, { logger });
}
