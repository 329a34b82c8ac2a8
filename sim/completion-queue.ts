// Queues of things due later, ordered by (time, sequence): the runner's (sim/runner.ts), a
// request's completion or a stream's next body chunk, and the health checks due (policies/active-health-check.ts).
import type { SimRequest } from "./policy.js";
import type { StreamPlan } from "./stream.js";
import type { HostLoad } from "./upstream.js";

export interface Completion {
  /** When it is due, scenario seconds. */
  atS: number;
  /** Order among items due at the same time (queue order). */
  seq: number;
  request: SimRequest;
  cluster: number;
  host: number;
  /** The status the policy is told at the end (a mesh's view of a stream). */
  status: number;
  /** Time from arrival to the end (or the client's timeout), milliseconds. */
  latencyMs: number;
  /** Index of the window the request arrived in. */
  window: number;
  /** A streamed answer that started: its plan, and the next body event to hand the policy. */
  stream?: { plan: StreamPlan; next: number };
  /** For the client: failed (5xx, timeout, or a cut stream). */
  clientFailed: boolean;
  /** The host refused the connection (it is down): a local-origin failure in Envoy's terms. */
  connectFailed: boolean;
  /** An answer whose headers the host writes at the end (not a stream, a refusal or the client's
   *  timeout) from a cluster that sends load reports: they carry the host's report then. */
  reportsLoad?: boolean;
  /** A stream's load report, written with its headers, for a policy that reads it at the end. */
  streamLoad?: HostLoad;
}

/** Anything due at a time, with its order among items due at the same time. */
export interface Timed {
  /** When it is due, scenario seconds. */
  atS: number;
  /** Order among items due at the same time (queue order). */
  seq: number;
}

/** A binary min-heap by (time, sequence): the runner's completions, the health checks due. */
export class TimedQueue<T extends Timed> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peekTime(): number {
    return this.items.length > 0 ? this.items[0]!.atS : Infinity;
  }

  private less(a: T, b: T): boolean {
    return a.atS < b.atS || (a.atS === b.atS && a.seq < b.seq);
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): T {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(items[l]!, items[m]!)) m = l;
        if (r < items.length && this.less(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** The runner's queue of completions. */
export class CompletionQueue extends TimedQueue<Completion> {}
