// Starts the demo's control plane on loopback (free ports): the gRPC server the sidecars stream to
// and the admin API with the dashboard. Prefers control-plane/src/server.ts `startControlPlane`
// (the same code `autoglm control-plane` runs); while that module is absent it assembles the same
// parts itself (ControlPlane + startGrpcServer + buildAdminApp, rules-only detectors, no audit log).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import type { Logger } from "../lib/log.js";
import type { ControlPlaneConfig } from "../control-plane/src/config/types.js";
import { validateConfig } from "../control-plane/src/config/validate.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { startGrpcServer } from "../control-plane/src/grpc/server.js";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import type { Scenario } from "../sim/scenario.js";

export interface DemoControlPlane {
  grpcPort: number;
  /** Base URL of the admin API; the dashboard is at its root. */
  adminUrl: string;
  controlPlane: ControlPlane;
  close(): Promise<void>;
}

type StartControlPlane = (config: ControlPlaneConfig, options: { logger: Logger }) => Promise<DemoControlPlane>;

/** The control plane's configuration for a scenario: loopback, free ports, the scenario's clusters and SLO. */
export function controlPlaneConfigFor(scenario: Scenario, auditDir?: string): ControlPlaneConfig {
  return validateConfig({
    grpc: { host: "127.0.0.1", port: 0 },
    admin: { host: "127.0.0.1", port: 0 },
    clusters: scenario.clusters.map((c) => ({ name: c.name, base_weight: c.weight })),
    slo: { latency_ms: scenario.slo.latency_ms, success_rate: scenario.slo.success_rate },
    ...(auditDir === undefined ? {} : { audit: { dir: auditDir } }),
  });
}

async function loadStartControlPlane(): Promise<StartControlPlane | undefined> {
  const url = new URL("../control-plane/src/server.ts", import.meta.url);
  if (!existsSync(fileURLToPath(url))) return undefined;
  const mod = (await import(new URL("../control-plane/src/server.js", import.meta.url).href)) as { startControlPlane?: StartControlPlane };
  return typeof mod.startControlPlane === "function" ? mod.startControlPlane : undefined;
}

/** Assembles the control plane from its parts (used while server.ts is not there). */
async function assemble(config: ControlPlaneConfig, logger: Logger): Promise<DemoControlPlane> {
  const cp = new ControlPlane({ clusters: config.clusters, slo: config.slo, logger });
  cp.start();
  const grpc = await startGrpcServer(cp, { address: `${config.grpc.host}:${config.grpc.port}`, logger });
  const app = await buildAdminApp({
    controlPlane: cp,
    model: {
      status: () => ({ mode: "rules-only", detail: "the demo runs the built-in detectors" }),
      reload: () => Promise.reject(new Error("the demo has no model to reload")),
    },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    token: "",
    logger,
    now: Date.now,
  });
  const adminUrl = await app.listen({ host: config.admin.host, port: config.admin.port });
  return {
    grpcPort: grpc.port,
    adminUrl,
    controlPlane: cp,
    async close() {
      await app.close();
      await cp.stop();
      await grpc.close();
    },
  };
}

export async function startDemoControlPlane(config: ControlPlaneConfig, logger: Logger): Promise<DemoControlPlane> {
  const start = await loadStartControlPlane().catch((err: unknown) => {
    logger.warn({ err }, "control-plane/src/server.ts did not load; assembling the control plane in the demo");
    return undefined;
  });
  return start !== undefined ? start(config, { logger }) : assemble(config, logger);
}
