// A real proxyless gRPC client (@grpc/grpc-js-xds) as a child program, so that the xDS
// bootstrap (read from GRPC_XDS_BOOTSTRAP_CONFIG when register() runs and channels are made)
// is private to it. Usage:
//
//   GRPC_XDS_BOOTSTRAP_CONFIG='<bootstrap json>' node --import tsx proxyless-client.ts <service>
//
// It says {"op":"ready"} on stdout once the client exists, then reads commands as JSON lines on
// stdin and answers with JSON lines on stdout:
//   {"op":"warmup","timeoutMs":N}          -> {"op":"warmup","ok":true,"backend":"a"} once a call succeeds
//   {"op":"burst","calls":N,"concurrency":C} -> {"op":"burst","counts":{"a":800,"b":200},"errors":0,"codes":{},"errorSamples":[]}
//   {"op":"start","concurrency":C}          -> {"op":"started"}; calls without pause until "stop"
//   {"op":"stop"}                           -> {"op":"stopped","calls":[[sentAtMs,"a"|""],...],"errors":N}
//     (a failed call is recorded with backend "" and counted in errors; "codes" counts gRPC status codes of failures)
//   {"op":"exit"}                           -> exits
import * as grpc from "@grpc/grpc-js";
import { register } from "@grpc/grpc-js-xds";
import { createInterface } from "node:readline";
import { callProbe } from "./echo-service.js";

type Command =
  | { op: "warmup"; timeoutMs: number }
  | { op: "burst"; calls: number; concurrency: number }
  | { op: "start"; concurrency: number }
  | { op: "stop" }
  | { op: "exit" };

const CALL_TIMEOUT_MS = 10_000;

function reply(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const service = process.argv[2];
if (service === undefined || service === "") {
  process.stderr.write("proxyless-client: missing argument <service> (the client dials xds:///<service>)\n");
  process.exit(2);
}
if (process.env.GRPC_XDS_BOOTSTRAP_CONFIG === undefined && process.env.GRPC_XDS_BOOTSTRAP === undefined) {
  process.stderr.write("proxyless-client: set GRPC_XDS_BOOTSTRAP_CONFIG (bootstrap JSON) or GRPC_XDS_BOOTSTRAP (its path)\n");
  process.exit(2);
}
register();
const client = new grpc.Client(`xds:///${service}`, grpc.credentials.createInsecure());
reply({ op: "ready" });

let running: { stop: boolean; calls: Array<[number, string]>; errors: number; workers: Promise<void>[] } | undefined;

async function warmup(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    try {
      const backend = await callProbe(client, Math.max(1, Math.min(CALL_TIMEOUT_MS, deadline - Date.now())));
      reply({ op: "warmup", ok: true, backend });
      return;
    } catch (error) {
      lastError = (error as Error).message;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  reply({ op: "warmup", ok: false, error: lastError });
}

async function burst(calls: number, concurrency: number): Promise<void> {
  const counts: Record<string, number> = {};
  const codes: Record<string, number> = {};
  const errorSamples: string[] = [];
  let errors = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      next += 1;
      try {
        const backend = await callProbe(client, CALL_TIMEOUT_MS);
        counts[backend] = (counts[backend] ?? 0) + 1;
      } catch (error) {
        errors += 1;
        const code = String((error as { code?: number }).code ?? "none");
        codes[code] = (codes[code] ?? 0) + 1;
        if (errorSamples.length < 5) errorSamples.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  reply({ op: "burst", counts, errors, codes, errorSamples });
}

function start(concurrency: number): void {
  const state = { stop: false, calls: [] as Array<[number, string]>, errors: 0, workers: [] as Promise<void>[] };
  const worker = async (): Promise<void> => {
    while (!state.stop) {
      const sentAt = Date.now();
      try {
        state.calls.push([sentAt, await callProbe(client, CALL_TIMEOUT_MS)]);
      } catch {
        state.errors += 1;
        state.calls.push([sentAt, ""]);
      }
    }
  };
  state.workers = Array.from({ length: Math.max(1, concurrency) }, worker);
  running = state;
  reply({ op: "started" });
}

async function stop(): Promise<void> {
  const state = running;
  running = undefined;
  if (state === undefined) {
    reply({ op: "stopped", calls: [], errors: 0 });
    return;
  }
  state.stop = true;
  await Promise.all(state.workers);
  reply({ op: "stopped", calls: state.calls, errors: state.errors });
}

const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  queue = queue.then(async () => {
    let command: Command;
    try {
      command = JSON.parse(line) as Command;
    } catch {
      reply({ op: "error", error: `not JSON: ${line.slice(0, 80)}` });
      return;
    }
    switch (command.op) {
      case "warmup":
        return warmup(command.timeoutMs);
      case "burst":
        return burst(command.calls, command.concurrency);
      case "start":
        return start(command.concurrency);
      case "stop":
        return stop();
      case "exit":
        client.close();
        process.exit(0);
      default:
        reply({ op: "error", error: `unknown op in ${line.slice(0, 80)}` });
    }
  });
});
lines.on("close", () => process.exit(0));
