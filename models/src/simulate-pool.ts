// Simulates many scenarios on worker threads (one per core by default) and returns their rows in
// the scenarios' order, whatever order the workers finish in, so the data set, and the model
// trained on it, do not depend on scheduling.
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import type { Scenario } from "../../sim/scenario.js";
import type { ScenarioRows } from "./dataset.js";

/** The worker's TypeScript entry, loaded through tsx's loader registered inside the worker. */
const WORKER_ENTRY = new URL("./simulate-worker.ts", import.meta.url).href;
const WORKER_BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
import("tsx/esm/api").then(({ register }) => { register(); return import(workerData.entry); });
`;

type Reply = { id: number; rows: ScenarioRows } | { id: number; error: string };

export interface SimulateOptions {
  /** Worker threads; default: the machine's available parallelism. */
  workers?: number;
  /** Called after each scenario is done, with how many are done. */
  onProgress?: (done: number, total: number) => void;
  /**
   * A directory that keeps each scenario's rows, keyed by the scenario's content: a scenario
   * already there is not simulated again (to re-run an evaluation or a training quickly).
   * The rows are the same either way, so the model is too.
   */
  cacheDir?: string;
}

function cachePath(dir: string, scenario: Scenario): string {
  return join(dir, `${createHash("sha256").update(JSON.stringify(scenario)).digest("hex")}.rows`);
}

export async function simulateScenarios(scenarios: readonly Scenario[], options: SimulateOptions = {}): Promise<ScenarioRows[]> {
  const results: ScenarioRows[] = new Array(scenarios.length);
  if (scenarios.length === 0) return results;
  const cacheDir = options.cacheDir;
  if (cacheDir !== undefined) mkdirSync(cacheDir, { recursive: true });
  const pending: number[] = [];
  let done = 0;
  scenarios.forEach((scenario, id) => {
    const path = cacheDir === undefined ? undefined : cachePath(cacheDir, scenario);
    if (path !== undefined && existsSync(path)) {
      results[id] = deserialize(readFileSync(path)) as ScenarioRows;
      done += 1;
      options.onProgress?.(done, scenarios.length);
    } else {
      pending.push(id);
    }
  });
  if (pending.length === 0) return results;
  const count = Math.max(1, Math.min(options.workers ?? availableParallelism(), pending.length));
  let next = 0;
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (worker: Worker): void => {
        if (next >= pending.length) return;
        const id = pending[next++]!;
        worker.postMessage({ id, scenario: scenarios[id] });
      };
      for (let i = 0; i < count; i++) {
        const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { entry: WORKER_ENTRY } });
        workers.push(worker);
        worker.on("message", (reply: Reply) => {
          if ("error" in reply) {
            reject(new Error(`simulating scenario ${scenarios[reply.id]?.name ?? reply.id} failed: ${reply.error}`));
            return;
          }
          results[reply.id] = reply.rows;
          if (cacheDir !== undefined) writeFileSync(cachePath(cacheDir, scenarios[reply.id]!), serialize(reply.rows));
          done += 1;
          options.onProgress?.(done, scenarios.length);
          if (done === scenarios.length) resolve();
          else feed(worker);
        });
        worker.on("error", reject);
        feed(worker);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
