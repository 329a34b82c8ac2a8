// Polling for the tests that run real processes (etcd, replicas): waits until a condition holds,
// checking every 50 ms, and fails naming what was awaited after `timeoutMs` (generous: a loaded
// machine stalls for hundreds of ms).
import assert from "node:assert/strict";

export async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
