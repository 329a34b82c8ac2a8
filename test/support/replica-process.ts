// A control-plane replica as a child process: `autoglm control-plane --config <file>` (the real
// command, as a Deployment's pod runs it) with an `etcd` section, on free loopback ports. For
// tests that kill a replica the way a crash does (SIGKILL: no resignation, no flush, the lease
// runs out), which an in-process replica cannot show.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePorts } from "./etcd-cluster.js";

const AUTOGLM = fileURLToPath(new URL("../../bin/autoglm.mjs", import.meta.url));

export interface ReplicaProcess {
  id: string;
  /** host:port of its sidecar gRPC endpoint. */
  grpcAddress: string;
  /** http://127.0.0.1:<port> of its admin API. */
  adminUrl: string;
  process: ChildProcess;
  /** Set once the process has exited. */
  exited: boolean;
  /** Its log lines (JSON, stderr), parsed; lines that are not JSON are kept as { raw }. */
  readonly logs: Record<string, unknown>[];
  /** SIGKILLs it (a crash) and waits for the exit. */
  kill(): Promise<void>;
  /** An admin call with the admin token; resolves to status and parsed body. */
  admin(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

export interface ReplicaProcessOptions {
  id: string;
  /** Directory for its configuration file. */
  dir: string;
  /** The whole configuration but grpc, admin and etcd.replica_id (filled in here). */
  config: Record<string, unknown> & { etcd: Record<string, unknown> };
  grpcToken: string;
  adminToken: string;
  /** How long start-up may take (tsx compiles the control plane first), ms. */
  startTimeoutMs?: number;
}

/** Starts a replica and resolves once it logged "control plane started" (it then campaigns). */
export async function startReplicaProcess(options: ReplicaProcessOptions): Promise<ReplicaProcess> {
  const [grpcPort, adminPort] = await freePorts(2);
  const config = {
    ...options.config,
    grpc: { host: "127.0.0.1", port: grpcPort, token: options.grpcToken },
    admin: { host: "127.0.0.1", port: adminPort, token: options.adminToken },
    etcd: { ...options.config.etcd, replica_id: options.id },
  };
  const file = join(options.dir, `${options.id}.json`);
  await writeFile(file, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, [AUTOGLM, "control-plane", "--config", file], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, AUTOGLM_LOG_LEVEL: "info" },
  });
  const logs: Record<string, unknown>[] = [];
  let pending = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim() === "") continue;
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const replica: ReplicaProcess = {
    id: options.id,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    adminUrl,
    process: child,
    exited: false,
    logs,
    async kill() {
      if (replica.exited) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGKILL");
      await gone;
    },
    async admin(method, path, body) {
      const response = await fetch(`${adminUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.adminToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // kept as text
      }
      return { status: response.status, body: parsed };
    },
  };
  child.once("exit", () => {
    replica.exited = true;
  });
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  while (!logs.some((l) => l.msg === "control plane started")) {
    if (replica.exited) throw new Error(`replica ${options.id} exited during start-up: ${JSON.stringify(logs.slice(-5))}`);
    if (Date.now() > deadline) {
      await replica.kill();
      throw new Error(`replica ${options.id} did not start within ${timeoutMs} ms: ${JSON.stringify(logs.slice(-5))}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return replica;
}
