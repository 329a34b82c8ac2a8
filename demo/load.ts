// The demo's load generator: bounded requests per second (Poisson arrivals drawn on a 50 ms tick),
// a mix of streaming and non-streaming chat completions, spread round robin over the sidecars,
// with at most maxInFlight requests outstanding (arrivals beyond that are counted as shed).
// Every answer is tallied: success, failure, which cluster served it, and whether the filter's
// headers (x-request-id, x-autoglm-cluster) reached the upstream and came back in its echo.
// Each request comes from one of `clients`, drawn by weight, and names it in x-forwarded-for
// (the client's address, as a gateway in front of the sidecar would add it): the sidecars count
// who sends the traffic by that header's first hop.

/** Tallies since the start (totals) or since the last take (the current second). */
export interface LoadTally {
  requests: number;
  ok: number;
  failed: number;
  /** Arrivals dropped because maxInFlight requests were outstanding. */
  shed: number;
  /** Answers carrying the filter's x-request-id and x-autoglm-cluster (echoed by the upstream). */
  filtered: number;
  /** Answers per upstream cluster (from the echoed x-autoglm-cluster). */
  byCluster: Record<string, number>;
  /** Answers that were the filter's local reply (x-autoglm-local-reply), by reason. */
  localReplies: Record<string, number>;
}

export function emptyTally(): LoadTally {
  return { requests: 0, ok: 0, failed: 0, shed: 0, filtered: 0, byCluster: {}, localReplies: {} };
}

export interface LoadOptions {
  /** Base URLs of the sidecars. */
  targets: string[];
  /** Offered requests per second. */
  rps: number;
  /** Fraction of requests with "stream": true. */
  streamFraction: number;
  /** The client gives up after this, milliseconds (counted as failed). */
  timeoutMs: number;
  maxInFlight: number;
  /** Who sends the requests: each request is drawn by weight and carries the client's address in
   *  x-forwarded-for (default: no such header). */
  clients?: readonly DemoClient[];
  random?: () => number;
}

/** One client of the demo's load: its address and its relative share of the requests (> 0). */
export interface DemoClient {
  address: string;
  weight: number;
}

/**
 * The demo's clients: six addresses of the documentation range (RFC 5737, 203.0.113.0/24) with
 * shares falling by half from one to the next (about 51 %, 25 %, 13 %, 6 %, 3 %, 2 %), so the top
 * sources have a clear order.
 */
export const DEMO_CLIENTS: readonly DemoClient[] = [10, 11, 12, 13, 14, 15].map((last, i) => ({ address: `203.0.113.${last}`, weight: 2 ** (5 - i) }));

/** The client of draw `u` in [0, 1) by weight (the last one when rounding leaves u past the sum). */
export function pickClient(clients: readonly DemoClient[], u: number): DemoClient {
  const total = clients.reduce((a, c) => a + c.weight, 0);
  let x = u * total;
  for (const c of clients) {
    if (x < c.weight) return c;
    x -= c.weight;
  }
  return clients[clients.length - 1]!;
}

const TICK_MS = 50;

/** Knuth's Poisson draw for small means; a rounded normal approximation for large ones. */
function poisson(mean: number, random: () => number): number {
  if (mean > 30) {
    const z = Math.sqrt(-2 * Math.log(Math.max(Number.EPSILON, random()))) * Math.cos(2 * Math.PI * random());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

export class LoadGenerator {
  readonly total = emptyTally();
  private current = emptyTally();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly random: () => number;
  private timer: NodeJS.Timeout | undefined;
  private next = 0;
  /** Epoch ms up to which arrivals have been drawn (timer ticks can come late on a busy machine). */
  private drawnUntilMs = 0;

  constructor(private readonly options: LoadOptions) {
    this.random = options.random ?? Math.random;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.drawnUntilMs = Date.now();
    this.timer = setInterval(() => {
      // Arrivals for the whole time since the last tick, at most 2 s of them (no huge burst after a stall).
      const now = Date.now();
      const elapsedMs = Math.min(2000, now - this.drawnUntilMs);
      this.drawnUntilMs = now;
      const n = poisson((this.options.rps * elapsedMs) / 1000, this.random);
      for (let i = 0; i < n; i++) this.fire();
    }, TICK_MS);
  }

  /** Stops new arrivals and resolves when every in-flight request has settled. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  get outstanding(): number {
    return this.inFlight.size;
  }

  /** The tally since the previous call. */
  takeSecond(): LoadTally {
    const t = this.current;
    this.current = emptyTally();
    return t;
  }

  private count(f: (t: LoadTally) => void): void {
    f(this.total);
    f(this.current);
  }

  private fire(): void {
    if (this.inFlight.size >= this.options.maxInFlight) {
      this.count((t) => t.shed++);
      return;
    }
    const target = this.options.targets[this.next++ % this.options.targets.length]!;
    const stream = this.random() < this.options.streamFraction;
    const clients = this.options.clients ?? [];
    const client = clients.length === 0 ? undefined : pickClient(clients, this.random());
    const p = this.one(target, stream, client).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async one(target: string, stream: boolean, client: DemoClient | undefined): Promise<void> {
    this.count((t) => t.requests++);
    let ok = false;
    try {
      const res = await fetch(`${target}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(client === undefined ? {} : { "x-forwarded-for": client.address }) },
        body: JSON.stringify({ model: "demo-model", stream, messages: [{ role: "user", content: "Say something about breakers." }] }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const text = await res.text();
      const cluster = res.headers.get("x-autoglm-cluster");
      const requestId = res.headers.get("x-request-id");
      const local = res.headers.get("x-autoglm-local-reply");
      this.count((t) => {
        if (cluster !== null && requestId !== null && res.headers.get("x-demo-upstream") !== null) t.filtered++;
        if (cluster !== null && res.headers.get("x-demo-upstream") !== null) t.byCluster[cluster] = (t.byCluster[cluster] ?? 0) + 1;
        if (local !== null) t.localReplies[local] = (t.localReplies[local] ?? 0) + 1;
      });
      ok = res.status === 200 && (!stream || text.trimEnd().endsWith("data: [DONE]"));
    } catch {
      ok = false; // timeout, refused connection, reset: a failure for the client
    }
    this.count((t) => (ok ? t.ok++ : t.failed++));
  }
}
