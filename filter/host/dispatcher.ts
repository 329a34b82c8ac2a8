// Delivery of asynchronous events (gRPC messages, queue notifications, deferred embedder hooks) to
// VMs without re-entering a module while it runs a callback — Envoy posts such events to the
// worker's event loop. While any VM of the store is inside a callback (depth > 0) events wait in
// a FIFO; they run as soon as the outermost callback returns. Posted outside any callback, an
// event runs at once, so in-process transports and virtual time stay synchronous and deterministic.

export class Dispatcher {
  /** How many module callbacks are running (nested across VMs). */
  depth = 0;
  private readonly pending: Array<() => void> = [];
  private draining = false;

  post(event: () => void): void {
    this.pending.push(event);
    if (this.depth === 0) this.drain();
  }

  /** Marks the start of a module callback. */
  enter(): void {
    this.depth++;
  }

  /** Marks the end of a module callback; runs waiting events when it was the outermost one. */
  exit(): void {
    if (--this.depth === 0 && this.pending.length > 0) this.drain();
  }

  /** Runs waiting events in order (events posted meanwhile run too). */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      let event: (() => void) | undefined;
      while (this.depth === 0 && (event = this.pending.shift()) !== undefined) event();
    } finally {
      this.draining = false;
    }
  }

  get pendingCount(): number {
    return this.pending.length;
  }
}
