// Control-plane replicas started in this process on one etcd (startControlPlane with an etcd
// section), each with the in-process sidecars a test connects to it: what the replica tests on a
// real etcd cluster share (replicas-burn-windows, replicas-halt-confirmation, replicas-shared-state).
import type { ControlPlaneConfig } from "../../control-plane/src/config/types.js";
import { startControlPlane, type RunningControlPlane } from "../../control-plane/src/server.js";
import type { Logger } from "../../lib/log.js";
import type { InProcessSidecar } from "./replica-sidecar.js";

export interface Replica {
  id: string;
  running: RunningControlPlane;
  sidecars: InProcessSidecar[];
  /** Killed by the test (abandoned: its lease runs out, nothing more is written). */
  dead: boolean;
}

/** Starts one replica per id, one after the other, on the test's clock (epoch ms). */
export async function startReplicas(ids: readonly string[], config: (id: string) => ControlPlaneConfig, logger: Logger, now: () => number): Promise<Replica[]> {
  const replicas: Replica[] = [];
  for (const id of ids) replicas.push({ id, running: await startControlPlane(config(id), { logger, now }), sidecars: [], dead: false });
  return replicas;
}

/** Closes every replica's sidecars and the replica (a killed one's close is a no-op). */
export async function closeReplicas(replicas: readonly Replica[]): Promise<void> {
  for (const r of replicas) {
    for (const s of r.sidecars) s.close();
    await r.running.close();
  }
}

/** The replicas not killed, and of those the one(s) leading and the followers. */
export const aliveOf = (replicas: readonly Replica[]): Replica[] => replicas.filter((r) => !r.dead);
export const leadersOf = (replicas: readonly Replica[]): Replica[] => aliveOf(replicas).filter((r) => r.running.controlPlane.isLeading);
export const followersOf = (replicas: readonly Replica[]): Replica[] => aliveOf(replicas).filter((r) => !r.running.controlPlane.isLeading);

/** An admin API call on a replica with the bearer token: its status and JSON body. */
export async function adminCall(r: Replica, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${r.running.adminUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}
