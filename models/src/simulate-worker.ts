// Worker thread of the simulation pool: simulates one scenario at a time (sim/windows.ts) and
// answers with its labelled rows. Messages: in { id, scenario }, out { id, rows } or { id, error }.
import { parentPort } from "node:worker_threads";
import type { Scenario } from "../../sim/scenario.js";
import { simulateWindows } from "../../sim/windows.js";
import { rowsOf } from "./dataset.js";

if (parentPort === null) throw new Error("simulate-worker.ts runs only as a worker thread");
const port = parentPort;
port.on("message", (message: { id: number; scenario: Scenario }) => {
  void (async () => {
    try {
      const windows = await simulateWindows(message.scenario);
      const rows = rowsOf(message.scenario, windows);
      port.postMessage({ id: message.id, rows });
    } catch (err) {
      port.postMessage({ id: message.id, error: (err as Error).stack ?? String(err) });
    }
  })();
});
