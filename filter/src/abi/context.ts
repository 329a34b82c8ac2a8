// Root (plugin) and HTTP stream contexts, shaped like the proxy-wasm SDK examples: the host
// creates a root context per plugin, and one HTTP context per request whose parent is the root.
// Subclasses override the callbacks they need; the defaults let traffic through.
import { StreamTable } from "./streamtable";
import { Action } from "./types";

export class HttpContext {
  constructor(public contextId: u32) {}
  onRequestHeaders(numHeaders: u32, endOfStream: bool): i32 { return Action.CONTINUE; }
  onRequestBody(bodySize: u32, endOfStream: bool): i32 { return Action.CONTINUE; }
  onRequestTrailers(numTrailers: u32): i32 { return Action.CONTINUE; }
  onResponseHeaders(numHeaders: u32, endOfStream: bool): i32 { return Action.CONTINUE; }
  onResponseBody(bodySize: u32, endOfStream: bool): i32 { return Action.CONTINUE; }
  onResponseTrailers(numTrailers: u32): i32 { return Action.CONTINUE; }
  /** Called once the stream is finished, before deletion; response properties are readable. */
  onLog(): void {}
  onDone(): bool { return true; }
  onDelete(): void {}
}

export class RootContext {
  constructor(public contextId: u32) {}
  onVmStart(vmConfigurationSize: u32): bool { return true; }
  onConfigure(pluginConfigurationSize: u32): bool { return true; }
  onTick(): void {}
  onGrpcReceiveInitialMetadata(token: u32, numElements: u32): void {}
  onGrpcReceive(token: u32, messageSize: u32): void {}
  onGrpcReceiveTrailingMetadata(token: u32, numElements: u32): void {}
  onGrpcClose(token: u32, statusCode: u32): void {}
  /** Creates the context of one HTTP request. */
  newHttpContext(contextId: u32): HttpContext { return new HttpContext(contextId); }
  onDone(): bool { return true; }
  onDelete(): void {}
}

/** How the filter creates its root context; set once at module start (see ../index.ts). */
let rootFactory: (contextId: u32) => RootContext = (id: u32): RootContext => new RootContext(id);

export function setRootContextFactory(factory: (contextId: u32) => RootContext): void {
  rootFactory = factory;
}

/** The live root contexts (one per plugin: a handful), searched linearly; a Map<u32, ...> costs
 *  ~0.5 KB of the module. */
export class RootTable {
  private list: RootContext[] = [];

  /** The root context of id, or null. */
  get(id: u32): RootContext | null {
    const list = this.list;
    for (let i = 0; i < list.length; i++) if (unchecked(list[i]).contextId == id) return unchecked(list[i]);
    return null;
  }

  add(root: RootContext): void {
    this.delete(root.contextId);
    this.list.push(root);
  }

  delete(id: u32): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      if (unchecked(list[i]).contextId == id) {
        list.splice(i, 1);
        return;
      }
    }
  }
}

/** Live contexts by id. Entries are removed in proxy_on_delete, so the tables stay bounded. */
export const roots = new RootTable();
export const streams = new StreamTable();

export function createContext(contextId: u32, parentContextId: u32): void {
  if (parentContextId == 0) {
    roots.add(rootFactory(contextId));
    return;
  }
  const parent = roots.get(parentContextId);
  if (parent !== null) streams.set(contextId, parent.newHttpContext(contextId));
}
