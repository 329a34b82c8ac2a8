// A three-member etcd cluster on loopback, for the replica tests and `autoglm bench control-plane
// --replicas`: Debian's `etcd-server` binary (.ci/run installs it when missing), free ports,
// temporary data directories, stopped and removed again. A missing etcd is an error, never a
// skip: the replica tests exist to run against a real quorum.
//
// Raft timing (etcd's --heartbeat-interval / --election-timeout, milliseconds). etcd's tuning
// guide (etcd.io/docs/v3.4/tuning) sets the heartbeat near the members' round trip and the
// election timeout at least 5 heartbeats (etcd refuses less) and about 10 round trips. Here all
// members share one loaded 2-core machine whose processes may stall for about a second, so:
//   heartbeat 250 ms: a leader that runs at all re-asserts itself 4 times a second;
//   election  2500 ms: a follower campaigns only after 2.5 s without a heartbeat (raft randomises
//     it in [2.5 s, 5 s)), so a 1 s stall of any member, or of the whole machine, causes no
//     election; the price is that a dead etcd leader is replaced after 2.5–5 s rather than 1–2 s.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Etcd3 } from "etcd3";

export const HEARTBEAT_INTERVAL_MS = 250;
export const ELECTION_TIMEOUT_MS = 2500;

export interface EtcdMember {
  name: string;
  /** http://127.0.0.1:<port> (https:// with TLS), the member's client URL. */
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process: ChildProcess;
  /** Set once the process has exited. */
  exited: boolean;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** Every member's client URL (the endpoints a client is given). */
  endpoints: string[];
  /** SIGKILLs one member (a crash); the others keep the quorum. */
  kill(index: number): Promise<void>;
  /** Kills every member, waits for them to exit and removes the data directories. Idempotent. */
  stop(): Promise<void>;
}

/** `count` distinct free TCP ports on 127.0.0.1 (held open together, so no two are the same). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<import("node:net").Server>((resolve, reject) => {
        const server = createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === "string") throw new Error("freePorts: no TCP address");
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

function exited(member: EtcdMember): Promise<void> {
  if (member.exited) return Promise.resolve();
  return new Promise((resolve) => member.process.once("exit", () => resolve()));
}

/**
 * Starts `size` members (default 3), with client TLS when `tls` is given, and resolves once the cluster commits a write (quorum up),
 * waiting at most `readyTimeoutMs`. Throws naming the cause when etcd is not installed or a
 * member exits during start-up (its last stderr lines are included).
 */
export interface EtcdTls {
  /** The CA that signed the members' and the clients' certificates. */
  caFile: string;
  /** The members' certificate and key (for 127.0.0.1). */
  serverCertFile: string;
  serverKeyFile: string;
  /** A client certificate the readiness probe presents (--client-cert-auth is on). */
  clientCertFile: string;
  clientKeyFile: string;
}

export async function startEtcdCluster(options: { size?: number; readyTimeoutMs?: number; tls?: EtcdTls } = {}): Promise<EtcdCluster> {
  const size = options.size ?? 3;
  const tls = options.tls;
  const scheme = tls === undefined ? "http" : "https";
  const ports = await freePorts(2 * size);
  const token = `autoglm-test-${randomUUID()}`;
  const names = Array.from({ length: size }, (_, i) => `m${i}`);
  const peerUrls = names.map((_, i) => `http://127.0.0.1:${ports[2 * i + 1]}`);
  const initialCluster = names.map((n, i) => `${n}=${peerUrls[i]}`).join(",");
  const members: EtcdMember[] = [];
  const stderr = new Map<string, string>();
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // SIGKILL: the data is thrown away, and members told to stop together (SIGTERM) try to hand
    // leadership over to peers that are stopping too, which took ~10 s here.
    for (const m of members) if (!m.exited) m.process.kill("SIGKILL");
    await Promise.all(members.map((m) => exited(m)));
    await Promise.all(members.map((m) => rm(m.dataDir, { recursive: true, force: true })));
  };

  try {
    for (let i = 0; i < size; i++) {
      const name = names[i]!;
      const clientUrl = `${scheme}://127.0.0.1:${ports[2 * i]}`;
      const dataDir = await mkdtemp(join(tmpdir(), `autoglm-etcd-${name}-`));
      const args = [
        `--name=${name}`,
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrls[i]}`,
        `--initial-advertise-peer-urls=${peerUrls[i]}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-token=${token}`,
        "--initial-cluster-state=new",
        `--heartbeat-interval=${HEARTBEAT_INTERVAL_MS}`,
        `--election-timeout=${ELECTION_TIMEOUT_MS}`,
        "--logger=zap",
        "--log-level=error",
        // Client TLS (etcd.io/docs/v3.4/op-guide/security): clients must present a certificate
        // the CA signed. Peers stay plaintext (loopback).
        ...(tls === undefined ? [] : [`--cert-file=${tls.serverCertFile}`, `--key-file=${tls.serverKeyFile}`, `--trusted-ca-file=${tls.caFile}`, "--client-cert-auth"]),
      ];
      const child = spawn("etcd", args, { stdio: ["ignore", "ignore", "pipe"] });
      const member: EtcdMember = { name, clientUrl, peerUrl: peerUrls[i]!, dataDir, process: child, exited: false };
      members.push(member);
      child.stderr!.setEncoding("utf8");
      child.stderr!.on("data", (chunk: string) => stderr.set(name, ((stderr.get(name) ?? "") + chunk).slice(-2000)));
      child.once("exit", () => {
        member.exited = true;
      });
      await new Promise<void>((resolve, reject) => {
        child.once("spawn", () => resolve());
        child.once("error", (error: NodeJS.ErrnoException) =>
          reject(
            error.code === "ENOENT"
              ? new Error("etcd is not installed: install Debian's `etcd-server` package (apt-get install etcd-server), as .ci/run does")
              : new Error(`etcd ${name}: ${error.message}`),
          ),
        );
      });
    }

    const endpoints = members.map((m) => m.clientUrl);
    const credentials =
      tls === undefined
        ? undefined
        : { rootCertificate: await readFile(tls.caFile), certChain: await readFile(tls.clientCertFile), privateKey: await readFile(tls.clientKeyFile) };
    const client = new Etcd3({ hosts: endpoints, dialTimeout: 2000, ...(credentials === undefined ? {} : { credentials }) });
    try {
      const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
      for (;;) {
        const dead = members.find((m) => m.exited);
        if (dead !== undefined) throw new Error(`etcd ${dead.name} exited during start-up: ${stderr.get(dead.name) ?? "(no output)"}`);
        try {
          await client.put("autoglm-test/ready").value("1");
          break;
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`etcd cluster not ready: ${(error as Error).message}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    } finally {
      client.close();
    }

    return {
      members,
      endpoints,
      async kill(index: number): Promise<void> {
        const m = members[index]!;
        m.process.kill("SIGKILL");
        await exited(m);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
