// The control plane with the real filter (build/filter.wasm) in the project's proxy-wasm host,
// over the in-process transport and over real gRPC on loopback: a cluster's telemetry turns bad,
// the breaker opens, weights move, the filter acknowledges the new version and routes
// accordingly; the control plane dies and the filter keeps routing; it restarts from its audit
// log and the version continues.
import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { GrpcJsTransport, ManualClock, PluginTester, type GrpcRequest, type InProcessPeer } from "../filter/host/index.js";
import { AuditLog } from "../control-plane/src/audit/audit-log.js";
import { startGrpcServer } from "../control-plane/src/grpc/server.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";
import { traffic } from "./filter-support.js";

const WASM = "build/filter.wasm";
const logger = createLogger("test", "silent");
const CLUSTERS = [
  { name: "llm-a", baseWeight: 50 },
  { name: "llm-b", baseWeight: 50 },
];
const FILTER_CONFIG = {
  node_id: "sidecar-it",
  zone: "zone-a",
  window_ms: 1000,
  control_plane: { cluster: "autoglm-control-plane", timeout_ms: 5000, token: "it-token", reconnect_base_ms: 500, reconnect_max_ms: 2000 },
  clusters: [
    { name: "llm-a", weight: 50 },
    { name: "llm-b", weight: 50 },
  ],
};

function newControlPlane(clock: ManualClock, audit: AuditLog): ControlPlane {
  return new ControlPlane({
    clusters: CLUSTERS,
    slo: { latencyMs: 2000, successRate: 0.99 },
    now: () => clock.now(),
    random: () => 0.5,
    audit,
    logger,
    sidecarToken: "it-token",
    config: { detector: { warmupWindows: 5 } },
  });
}

async function until(cond: () => boolean, what: string, step: () => Promise<unknown>, limit = 200): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (cond()) return;
    await step();
  }
  assert.fail(`never happened: ${what}`);
}

const stateOf = (cp: ControlPlane, cluster: string) => cp.currentDecisions().clusters.find((c) => c.cluster === cluster)!;

describe("control plane with the real filter", () => {
  for (const transport of ["in-process", "grpc"] as const) {
    it(`over ${transport}: a failing cluster is cut, the filter follows, survives a control-plane restart, and the version continues`, async () => {
      const dir = await mkdtemp(join(tmpdir(), "autoglm-it-"));
      const clock = new ManualClock(Date.UTC(2026, 0, 1));
      let audit = await AuditLog.open({ dir, logger });
      let cp: ControlPlane | undefined = newControlPlane(clock, audit);
      let server = transport === "grpc" ? await startGrpcServer(cp, { address: "127.0.0.1:0", logger }) : undefined;
      let port = server?.port ?? 0;
      const acceptor = (req: GrpcRequest, toSidecar: InProcessPeer) =>
        cp === undefined || req.cluster !== "autoglm-control-plane" ? null : cp.openInProcessStream(Object.fromEntries(req.metadata), toSidecar);
      // Over gRPC the transport resolves the cluster at each (re)connect to the current port.
      const grpcClusters: Record<string, string> = {};
      const t = await PluginTester.start({
        wasm: WASM,
        configuration: FILTER_CONFIG,
        clock,
        workers: 1,
        logLevel: "warn",
        grpc: transport === "grpc" ? new GrpcJsTransport({ clusters: grpcClusters }) : acceptor,
      });
      grpcClusters["autoglm-control-plane"] = `127.0.0.1:${port}`;
      const failing = new Set<string>();
      const settle = () => (transport === "grpc" ? new Promise<void>((r) => setTimeout(r, 30)) : Promise.resolve());
      /** One window: traffic, the filter's tick (report), a decision round, delivery. */
      const window = async (n = 60) => {
        const counts = traffic(t, n, { status: (c) => (failing.has(c) ? 503 : 200) });
        t.advance(1000);
        await settle();
        if (cp !== undefined) await cp.decide();
        await settle();
        return counts;
      };
      try {
        const firstVersion = cp.currentDecisions().version;
        await until(() => cp!.sidecarStatuses().length === 1 && cp!.sidecarStatuses()[0]!.ackedVersion === firstVersion, "the filter connects and acks the first version", () => window());
        for (let i = 0; i < 10; i++) await window();
        assert.equal(cp.currentDecisions().version, firstVersion, "healthy traffic changes nothing");

        // llm-a turns bad: every answer a 503.
        failing.add("llm-a");
        await until(() => stateOf(cp!, "llm-a").state === "open", "llm-a's breaker opens", () => window(), 10);
        const openVersion = cp.currentDecisions().version;
        assert.ok(stateOf(cp, "llm-b").weight > 0);
        // Wait for the ack without decision rounds, so no newer version can replace the open one
        // before the filter reports it enforces it (a stalled machine delays gRPC delivery).
        const reportOnly = async () => {
          traffic(t, 20, { status: (c) => (failing.has(c) ? 503 : 200) });
          t.advance(1000);
          await settle();
          await settle();
        };
        await until(() => cp!.sidecarStatuses()[0]?.ackedVersion === openVersion, "the filter acks the open version", reportOnly, 60);
        assert.equal(cp.currentDecisions().version, openVersion, "no decision round ran while waiting");
        const routed = traffic(t, 100, { status: (c) => (failing.has(c) ? 503 : 200) });
        assert.deepEqual(routed, { "llm-b": 100 }, "all traffic goes to llm-b");

        // Kill the control plane: the filter keeps routing by the last decisions.
        await cp.stop();
        cp = undefined;
        await server?.forceClose();
        await audit.close();
        for (let i = 0; i < 5; i++) assert.deepEqual(await window(50), { "llm-b": 50 }, "fail-static routing without a control plane");

        // Restart from the audit log: the version continues.
        audit = await AuditLog.open({ dir, logger });
        cp = newControlPlane(clock, audit);
        assert.equal(cp.currentDecisions().version, openVersion, "restored set, same version");
        if (transport === "grpc") {
          server = await startGrpcServer(cp, { address: "127.0.0.1:0", logger });
          port = server.port;
          grpcClusters["autoglm-control-plane"] = `127.0.0.1:${port}`;
        }
        await until(() => cp!.sidecarStatuses().length >= 1, "the filter reconnects", () => window(50), 60);
        // llm-a recovers; the breaker probes and closes; versions go on from the restored one.
        failing.clear();
        await until(() => stateOf(cp!, "llm-a").state === "closed" && stateOf(cp!, "llm-a").weight >= 300, "llm-a comes back", () => window(), 200);
        const finalVersion = cp.currentDecisions().version;
        assert.ok(finalVersion > openVersion, `version ${finalVersion} continues after ${openVersion}`);
        // The weights may still be ramping back (new versions while we wait): an ack of this
        // version or a later one is what counts.
        await until(() => cp!.sidecarStatuses().some((s) => s.ackedVersion >= finalVersion), `the filter acks version ${finalVersion} or later`, () => window(), 60);
        const back = traffic(t, 200, { status: (c) => (failing.has(c) ? 503 : 200) });
        assert.ok((back["llm-a"] ?? 0) > 40, `llm-a gets traffic again: ${JSON.stringify(back)}`);
      } finally {
        t.close();
        await cp?.stop();
        await server?.close();
        await audit.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
