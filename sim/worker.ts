// Worker thread body: runs benchmark jobs the pool (sim/pool.ts) sends, one at a time.
// Messages in: { id, input: JobInput }. Out: { id, progress } while running, then { id, output }
// or { id, error }.
import { parentPort } from "node:worker_threads";
import { runJob, type JobInput } from "./job.js";

if (parentPort === null) throw new Error("sim/worker.ts must run in a worker thread");
const port = parentPort;
port.on("message", (message: { id: number; input: JobInput }) => {
  runJob(message.input, (fraction) => port.postMessage({ id: message.id, progress: fraction }))
    .then((output) => port.postMessage({ id: message.id, output }))
    .catch((error: unknown) => port.postMessage({ id: message.id, error: (error as Error).stack ?? String(error) }));
});
