// When garbage is collected. The module is built with AssemblyScript's minimal runtime
// (asconfig.json: "runtime": "minimal"): a mark-and-sweep collector that never runs by itself and
// does not scan the wasm stack (no shadow stack, which made the incremental build ~40% larger).
// It is therefore only safe to collect when no managed reference lives in a local: when the
// outermost host callback is about to return. Every proxy_on_* export calls enter() first and
// leave() last; a callback the host makes while another one is on the stack (re-entrancy, e.g. a
// local reply running the response callbacks, or a gRPC cancel closing the stream) is nested and
// never collects. proxy_on_memory_allocate (called from inside host calls) neither enters nor
// collects. A trap leaves the depth raised, but a trapped VM instance is never called again.

/** Stream callbacks between collections (a request makes about 6). A request leaves little
 *  garbage: its context is recycled (FilterRoot.recycleContext) and the stream table
 *  (./streamtable.ts) allocates only when it resizes; what remains (a local reply's strings, a
 *  debug log line) is bounded by this interval. `bench filter`'s memory growth stays within one
 *  64 KiB page over a million requests with it. */
const STREAM_CALLS_PER_COLLECTION: i32 = 8192;

/** What a local reply counts for (see noteGarbage). */
export const LOCAL_REPLY_GARBAGE: i32 = 256;
export const SMALL_GARBAGE: i32 = 8;

let depth: i32 = 0;
let streamCalls: i32 = 0;

export function enter(): void {
  depth++;
}

/** Counts garbage a callback made beyond the usual, in units of stream callbacks: a local reply
 *  (its message, JSON body and header block: a few KiB) counts as LOCAL_REPLY_GARBAGE, so that a
 *  flood of them is collected about every 32 replies instead of every ~1,300; a request that read
 *  a property or wrote the latency header (a few hundred bytes) as SMALL_GARBAGE. */
export function noteGarbage(streamCallsWorth: i32): void {
  streamCalls += streamCallsWorth;
}

/** Leaves a callback; collects at the outermost level, always after root-context callbacks
 *  (configuration, ticks, control-plane messages: rare and allocating), else every
 *  STREAM_CALLS_PER_COLLECTION stream callbacks. */
export function leave(root: bool): void {
  if (--depth != 0) return;
  if (!root && ++streamCalls < STREAM_CALLS_PER_COLLECTION) return;
  streamCalls = 0;
  __collect();
}
