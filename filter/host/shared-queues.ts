// Shared queues (proxy_register_shared_queue & co.), as in proxy-wasm-cpp-host's SharedData:
// a queue is named by (vm id, name) and gets a non-zero token; registering again returns the same
// token and makes the registering root context the one notified (proxy_on_queue_ready) when an
// item is enqueued. Notifications are delivered asynchronously through the dispatcher.
import { Status } from "./abi.js";
import type { Dispatcher } from "./dispatcher.js";

/** Whoever registered a queue: called (later, via the dispatcher) when an item arrives. */
export interface QueueOwner {
  onQueueReady(rootContextId: number, token: number): void;
}

interface Queue {
  items: Uint8Array[];
  owner: QueueOwner | null;
  ownerContextId: number;
}

export class SharedQueues {
  private readonly tokens = new Map<string, number>();
  private readonly queues = new Map<number, Queue>();
  private nextToken = 1;

  constructor(private readonly dispatcher: Dispatcher) {}

  register(vmId: string, name: string, owner: QueueOwner, rootContextId: number): number {
    const key = `${vmId}\0${name}`;
    let token = this.tokens.get(key);
    if (token === undefined) {
      token = this.nextToken++;
      this.tokens.set(key, token);
      this.queues.set(token, { items: [], owner, ownerContextId: rootContextId });
    } else {
      const q = this.queues.get(token)!;
      q.owner = owner;
      q.ownerContextId = rootContextId;
    }
    return token;
  }

  /** The token of an existing queue, or 0 when there is none. */
  resolve(vmId: string, name: string): number {
    return this.tokens.get(`${vmId}\0${name}`) ?? 0;
  }

  enqueue(token: number, value: Uint8Array): Status {
    const q = this.queues.get(token);
    if (q === undefined) return Status.NotFound;
    q.items.push(value);
    const owner = q.owner;
    const contextId = q.ownerContextId;
    if (owner !== null) this.dispatcher.post(() => owner.onQueueReady(contextId, token));
    return Status.Ok;
  }

  /** The front item, or a Status (NotFound for an unknown token, Empty for an empty queue). */
  dequeue(token: number): Uint8Array | Status {
    const q = this.queues.get(token);
    if (q === undefined) return Status.NotFound;
    const item = q.items.shift();
    return item === undefined ? Status.Empty : item;
  }

  /** Forgets `owner` everywhere (its VM stopped); items stay queued. */
  dropOwner(owner: QueueOwner): void {
    for (const q of this.queues.values()) if (q.owner === owner) q.owner = null;
  }
}
