// A plugin: one module with one configuration, running in N VM instances (Envoy: one per worker
// thread) that share a SharedStore. Streams are spread over the instances round-robin.
//
// Traps: a trap fails the VM instance (as Envoy marks a VM failed). The stream it happened in ends
// with a local reply (fail-closed: `trapStatus`, default 500, details "wasm_fail_stream") or goes on
// without the filter (fail-open). Unlike a stock Envoy, which keeps a failed VM failed until the
// configuration is reloaded, the host then replaces the instance with a fresh one (module state is
// lost, shared data stays) — what Envoy's FAIL_RELOAD failure policy does — so later requests are
// filtered again.
import { encodeUtf8 } from "./memory.js";
import { LOG_LEVEL_NAMES, type LogLevelName } from "./abi.js";
import type { Clock } from "./clock.js";
import type { GrpcTransport } from "./grpc-transport.js";
import type { HttpStream } from "./http-stream.js";
import { LogSink, type CapturedLog } from "./log-sink.js";
import { loadProxyWasmModule, type ModuleSource, type ProxyWasmModule } from "./module-loader.js";
import { PropertyStore, type PropertyPath, type PropertyValue } from "./properties.js";
import { RealClock } from "./real-clock.js";
import { SharedStore } from "./shared-store.js";
import { VmStartError, WasmVm, type VmSettings } from "./vm.js";
import type { ForeignFunction } from "./foreign-functions.js";
import type { Logger } from "../../lib/log.js";

export interface PluginOptions {
  /** The module: a path to a .wasm file, its bytes, or an already loaded module. */
  wasm: ModuleSource;
  /** Plugin configuration (proxy_on_configure); objects are sent as JSON. */
  configuration?: string | Uint8Array | object;
  /** VM configuration (proxy_on_vm_start). */
  vmConfiguration?: string | Uint8Array;
  /** Envoy's vm_config.vm_id (shared data and queues are keyed by it). Default "". */
  vmId?: string;
  /** Envoy's plugin root_id. Default "". */
  rootId?: string;
  /** Envoy's plugin name. Default "autoglm". */
  name?: string;
  /** Number of VM instances (workers). Default 1. */
  workers?: number;
  /** Shared data, queues and metrics; pass one store to several plugins/hosts to share them. */
  store?: SharedStore;
  /** Time source for ticks, timeouts and proxy_get_current_time_nanoseconds. Default: wall clock. */
  clock?: Clock;
  /** Where proxy_grpc_call / proxy_grpc_stream go. Default: none (every cluster is unknown). */
  grpc?: GrpcTransport;
  /** Plugin-wide properties, e.g. { "node.id": "sidecar-1", "node.metadata.ZONE": "zone-a" }. */
  properties?: Record<string, PropertyValue>;
  /** After a trap: pass the request on without the filter (true) or answer `trapStatus` (false, default). */
  failOpen?: boolean;
  /** HTTP status of the local reply after a trap when failing closed. Default 500. */
  trapStatus?: number;
  /** Local replies pass through the module's response callbacks, as in Envoy. Default true. */
  localReplyThroughFilter?: boolean;
  /** Lowest level of module logs kept. Default: the logger's level. */
  logLevel?: LogLevelName | "silent";
  /** Keep module logs in `plugin.logs` (tests). Default false. */
  captureLogs?: boolean;
  logger?: Logger;
  /** Foreign functions by name (e.g. { clear_route_cache: clearRouteCache }); others answer NOT_FOUND. */
  foreignFunctions?: Record<string, ForeignFunction>;
  /** Run proxy_on_vm_start and proxy_on_configure first in a throw-away VM, as Envoy's configuration
   *  canary does (proxy-wasm-cpp-host src/wasm.cc, createWasm), then start the workers. Default true. */
  configurationCanary?: boolean;
  /** Random numbers in [0, 1) for WASI random_get. Default Math.random. */
  random?: () => number;
}

/** The plugin could not start: `cause` is a ModuleLoadError or VmStartError with a clear message. */
export type PluginStartError = VmStartError;

function toBytes(value: string | Uint8Array | object | undefined): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  if (typeof value === "string") return encodeUtf8(value);
  if (value instanceof Uint8Array) return value;
  return encodeUtf8(JSON.stringify(value));
}

export class ProxyWasmPlugin {
  /** The VM instances, one per worker; an entry is replaced when its VM fails and restarts. */
  readonly vms: WasmVm[] = [];
  readonly store: SharedStore;
  readonly clock: Clock;
  readonly log: LogSink;
  readonly properties: PropertyStore;
  /** How many times a failed VM instance was replaced. */
  restarts = 0;
  private next = 0;
  private closed = false;

  private constructor(
    readonly module: ProxyWasmModule,
    private readonly settings: Omit<VmSettings, "index" | "onFailed">,
    workers: number,
    canary: boolean,
  ) {
    this.store = settings.store;
    this.clock = settings.clock;
    this.log = settings.log;
    this.properties = settings.properties;
    if (canary) {
      // Envoy's configuration canary: a copy of the VM (index -1) that runs proxy_on_vm_start and
      // proxy_on_configure, is then destroyed, and never ticks nor serves a request.
      const check = new WasmVm({ ...this.settings, index: -1 });
      try {
        check.start();
      } finally {
        check.stop();
      }
    }
    for (let i = 0; i < workers; i++) this.vms.push(this.startVm(i));
  }

  /** Loads the module, starts every VM instance, configures them; throws a clear error if any step fails. */
  static async start(options: PluginOptions): Promise<ProxyWasmPlugin> {
    const module = await loadProxyWasmModule(options.wasm);
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be an integer >= 1, got ${workers}`);
    const vmId = options.vmId ?? "";
    const rootId = options.rootId ?? "";
    const name = options.name ?? "autoglm";
    const properties = new PropertyStore({ plugin_name: name, plugin_root_id: rootId, plugin_vm_id: vmId });
    for (const [path, value] of Object.entries(options.properties ?? {})) properties.set(path, value);
    const logLevel = options.logLevel;
    if (logLevel !== undefined && logLevel !== "silent" && !(LOG_LEVEL_NAMES as readonly string[]).includes(logLevel)) {
      throw new RangeError(`logLevel must be one of ${LOG_LEVEL_NAMES.join(", ")}, silent; got ${String(logLevel)}`);
    }
    const log = new LogSink({
      ...(logLevel !== undefined ? { level: logLevel } : {}),
      capture: options.captureLogs ?? false,
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
    });
    return new ProxyWasmPlugin(
      module,
      {
        module,
        vmId,
        rootId,
        vmConfiguration: toBytes(options.vmConfiguration),
        pluginConfiguration: toBytes(options.configuration),
        store: options.store ?? new SharedStore(),
        clock: options.clock ?? new RealClock(),
        grpc: options.grpc ?? null,
        log,
        properties,
        failOpen: options.failOpen ?? false,
        trapStatus: options.trapStatus ?? 500,
        localReplyThroughFilter: options.localReplyThroughFilter ?? true,
        random: options.random ?? Math.random,
        foreignFunctions: options.foreignFunctions ?? {},
      },
      workers,
      options.configurationCanary ?? true,
    );
  }

  private startVm(index: number): WasmVm {
    const vm = new WasmVm({ ...this.settings, index, onFailed: (failed) => this.restart(failed) });
    vm.start();
    return vm;
  }

  /** Replaces a failed VM instance with a fresh one (runs outside the module, via the dispatcher). */
  private restart(failed: WasmVm): boolean {
    if (this.closed || this.vms[failed.index] !== failed) return this.vms[failed.index]?.failed === false;
    try {
      this.vms[failed.index] = this.startVm(failed.index);
      this.restarts++;
      this.log.host("warn", `wasm VM ${failed.index} restarted after: ${failed.failure}`, failed.index);
      return true;
    } catch (e) {
      this.log.host("error", `wasm VM ${failed.index} could not be restarted: ${(e as Error).message}`, failed.index);
      return false;
    }
  }

  /**
   * A new HTTP stream on the next VM instance (round-robin), or on instance `worker`. A failed
   * instance is restarted first.
   */
  createHttpStream(worker?: number): HttpStream {
    if (this.closed) throw new Error("plugin is closed");
    const index = worker ?? this.next;
    if (worker === undefined) this.next = (this.next + 1) % this.vms.length;
    let vm = this.vms[index];
    if (vm === undefined) throw new RangeError(`worker ${index} does not exist (0..${this.vms.length - 1})`);
    if (vm.failed) {
      this.restart(vm);
      vm = this.vms[index]!;
    }
    return vm.createStream();
  }

  /** Sets a plugin-wide property (every VM sees it). */
  setProperty(path: PropertyPath, value: PropertyValue): void {
    this.properties.set(path, value);
  }

  /** Captured module logs (when captureLogs). */
  get logs(): CapturedLog[] {
    return this.log.logs;
  }

  /** Metrics as Prometheus text. */
  prometheus(prefix = ""): string {
    return this.store.prometheus(prefix);
  }

  /** Stops ticks and gRPC streams of every instance. */
  close(): void {
    this.closed = true;
    for (const vm of this.vms) vm.stop();
  }
}
