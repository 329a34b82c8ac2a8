// Runs benchmark jobs on worker threads (one job per worker at a time), or in this thread when
// asked for one worker. Jobs are started in the order given; results come back by job index.
import { Worker } from "node:worker_threads";
import { runJob, type JobInput, type JobOutput } from "./job.js";

export interface PoolEvents {
  onStart?(index: number, input: JobInput): void;
  onProgress?(index: number, input: JobInput, fraction: number): void;
  onDone?(index: number, input: JobInput, output: JobOutput): void;
}

export async function runJobs(inputs: readonly JobInput[], workers: number, events: PoolEvents = {}): Promise<JobOutput[]> {
  const outputs = new Array<JobOutput>(inputs.length);
  if (workers <= 1) {
    for (let i = 0; i < inputs.length; i++) {
      events.onStart?.(i, inputs[i]!);
      outputs[i] = await runJob(inputs[i]!, (f) => events.onProgress?.(i, inputs[i]!, f));
      events.onDone?.(i, inputs[i]!, outputs[i]!);
    }
    return outputs;
  }
  let next = 0;
  const threads = Array.from({ length: Math.min(workers, inputs.length) }, () =>
    new Worker(new URL("./worker-entry.mjs", import.meta.url), { env: process.env }),
  );
  try {
    await Promise.all(
      threads.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let current = -1;
            const startNext = (): void => {
              if (next >= inputs.length) {
                resolve();
                return;
              }
              current = next++;
              events.onStart?.(current, inputs[current]!);
              worker.postMessage({ id: current, input: inputs[current]! });
            };
            worker.on("message", (m: { id: number; progress?: number; output?: JobOutput; error?: string }) => {
              if (m.progress !== undefined) events.onProgress?.(m.id, inputs[m.id]!, m.progress);
              else if (m.output !== undefined) {
                outputs[m.id] = m.output;
                events.onDone?.(m.id, inputs[m.id]!, m.output);
                startNext();
              } else reject(new Error(`job ${inputs[m.id]!.scenario.name} × ${inputs[m.id]!.policy} failed: ${m.error}`));
            });
            worker.on("error", (error) => reject(error));
            worker.on("exit", (code) => {
              if (current >= 0 && outputs[current] === undefined) reject(new Error(`worker exited (code ${code}) during a job`));
            });
            startNext();
          }),
      ),
    );
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
  return outputs;
}
