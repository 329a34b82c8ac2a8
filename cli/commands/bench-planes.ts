// The control planes `autoglm bench control-plane` measures: one embedded process, or (--replicas N)
// N replicas on a three-member etcd cluster started on loopback (cli/local-etcd-cluster.ts), each
// with its own gRPC server and telemetry forwarder, wired as server.ts wires them. The replicas
// run in the bench's process (so the bench sees their events directly): on one machine they share
// its cores, as separate processes would.
import { createLogger } from "../../lib/log.js";
import { readEtcdSection } from "../../control-plane/src/config/etcd.js";
import type { WorkerReport } from "../../control-plane/src/core/types.js";
import { startGrpcServer, type GrpcServerHandle } from "../../control-plane/src/grpc/server.js";
import { Replica, TelemetryForwarder } from "../../control-plane/src/replicas/index.js";
import { ControlPlane, type ControlPlaneOptions } from "../../control-plane/src/service.js";
import { startEtcdCluster, type EtcdCluster } from "../local-etcd-cluster.js";

/** What every plane is built with (clusters, SLO, core configuration, logger). */
export type PlaneOptions = Pick<ControlPlaneOptions, "clusters" | "slo" | "config" | "logger">;

export interface BenchPlanes {
  /** Every replica's control plane, in start order (one without --replicas). */
  planes: ControlPlane[];
  /** Their gRPC addresses (host:port), in the same order. */
  targets: string[];
  /** The leading plane (the only one without --replicas). */
  leader(): ControlPlane;
  /** A follower's sidecar report handed to its forwarder (windowStartMs), for arrival counts. */
  onFollowerReport(listener: (windowStartMs: number) => void): void;
  /** Merged windows the followers forwarded and dropped (no leader, stream down). */
  forwarded(): { forwarded: number; dropped: number };
  close(): Promise<void>;
}

/** A node id that is a follower's forwarding stream, not a sidecar. */
export const isForwarder = (nodeId: string): boolean => nodeId.startsWith("replica/");

export async function startBenchPlanes(replicas: number, options: PlaneOptions, progress: (line: string) => void): Promise<BenchPlanes> {
  if (replicas === 1) {
    const cp = new ControlPlane(options);
    const server = await startGrpcServer(cp, { address: "127.0.0.1:0", logger: createLogger("bench-grpc", "warn") });
    cp.start();
    return {
      planes: [cp],
      targets: [`127.0.0.1:${server.port}`],
      leader: () => cp,
      onFollowerReport: () => undefined,
      forwarded: () => ({ forwarded: 0, dropped: 0 }),
      close: async () => {
        await cp.stop();
        await server.close();
      },
    };
  }

  progress(`starting a three-member etcd cluster and ${replicas} replicas`);
  const etcd: EtcdCluster = await startEtcdCluster();
  const started: { cp: ControlPlane; replica: Replica; forwarder: TelemetryForwarder; server: GrpcServerHandle }[] = [];
  const listeners: ((windowStartMs: number) => void)[] = [];
  const close = async (): Promise<void> => {
    // Forwarders first: a follower whose leader stops first would warn of the lost stream.
    for (const s of started) s.forwarder.stop();
    for (const s of started) {
      await s.cp.stop();
      await s.server.close();
      await s.replica.stop();
    }
    await etcd.stop();
  };
  try {
    const clusters = options.clusters.map((c) => c.name);
    const logger = options.logger ?? createLogger("bench-replica", "warn");
    for (let i = 0; i < replicas; i++) {
      const id = `bench-${i}`;
      const { etcd: config, problems } = readEtcdSection({ endpoints: etcd.endpoints, prefix: "/autoglm-bench/", replica_id: id });
      if (config === undefined) throw new Error(`bench: etcd section: ${problems.join("; ")}`);
      const { replica } = await Replica.open(config, { logger, now: Date.now });
      const forwarder = new TelemetryForwarder({ replicaId: id, clusters, token: "", flushDelayMs: 250, now: Date.now, logger });
      const sink = {
        report: (reporter: string, report: WorkerReport): void => {
          for (const listener of listeners) listener(report.windowStartMs);
          forwarder.sink.report(reporter, report);
        },
        forget: (reporter: string): void => forwarder.sink.forget(reporter),
      };
      const cp = new ControlPlane({ ...options, audit: replica.store, follower: true, onSidecarAhead: (held) => replica.registerVersion(held), followerTelemetry: sink });
      const server = await startGrpcServer(cp, { address: "127.0.0.1:0", logger });
      started.push({ cp, replica, forwarder, server });
      cp.start();
      forwarder.start();
      await replica.start(cp, { peer: `127.0.0.1:${server.port}`, onLeaderPeer: (leader) => forwarder.setTarget(leader) });
    }
    const deadline = Date.now() + 60_000;
    while (!started.some((s) => s.cp.isLeading)) {
      if (Date.now() > deadline) throw new Error("bench: no replica led within 60 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    progress(`replica ${started.findIndex((s) => s.cp.isLeading)} leads`);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    planes: started.map((s) => s.cp),
    targets: started.map((s) => `127.0.0.1:${s.server.port}`),
    leader: () => (started.find((s) => s.cp.isLeading) ?? started[0]!).cp,
    onFollowerReport: (listener) => listeners.push(listener),
    forwarded: () => started.reduce((sum, s) => ({ forwarded: sum.forwarded + s.forwarder.counts.forwarded, dropped: sum.dropped + s.forwarder.counts.dropped }), { forwarded: 0, dropped: 0 }),
    close,
  };
}
