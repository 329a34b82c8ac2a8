// Sends an export's chunks at the pace its lease allows: before each chunk, the lease says how
// long to wait (token bucket per client, ./export-limiter.ts) and the generator sleeps that long.
// The clock and the sleep are injected, so tests run on virtual time. `onChunk` and `onEnd`
// feed the export metrics; onEnd runs once however the export ends (done, failed, or the client
// went away and the stream was destroyed), and the lease is released then.
import type { ExportLease } from "./export-limiter.js";

export interface ThrottleOptions {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  onChunk?: (bytes: number) => void;
  onEnd?: (outcome: "done" | "failed" | "aborted", durationMs: number, bytes: number) => void;
}

export async function* throttledChunks(chunks: AsyncIterable<string>, lease: ExportLease, options: ThrottleOptions): AsyncGenerator<string> {
  const started = options.now();
  let bytes = 0;
  let outcome: "done" | "failed" | "aborted" = "aborted";
  try {
    for await (const chunk of chunks) {
      const size = Buffer.byteLength(chunk);
      const waitMs = lease.take(size, options.now());
      if (waitMs > 0) await options.sleep(waitMs);
      bytes += size;
      options.onChunk?.(size);
      yield chunk;
    }
    outcome = "done";
  } catch (error) {
    outcome = "failed";
    throw error;
  } finally {
    lease.release();
    options.onEnd?.(outcome, options.now() - started, bytes);
  }
}
