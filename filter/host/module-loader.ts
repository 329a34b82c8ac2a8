// Compiling and checking a proxy-wasm module before any VM runs it: it must be WebAssembly, export
// the ABI 0.2.1 marker, a memory and an allocator, and import nothing the host does not provide.
import { readFile } from "node:fs/promises";
import { ABI_VERSION_EXPORT } from "./abi.js";
import { isProvidedImport } from "./import-names.js";
import { compileWasm, isWasmModule, wasmExports, wasmImports, type WasmModule } from "./wasm-api.js";

export type ModuleLoadErrorCode =
  | "unreadable"
  | "not_wasm"
  | "missing_abi_export"
  | "unsupported_abi_version"
  | "missing_memory"
  | "missing_allocator"
  | "unknown_import";

/** Why a module was refused; `code` is stable, the message names the module and what is wrong. */
export class ModuleLoadError extends Error {
  override name = "ModuleLoadError";
  constructor(
    readonly code: ModuleLoadErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A compiled, checked module, ready for any number of VM instances. */
export interface ProxyWasmModule {
  module: WasmModule;
  /** Where it came from (a path or "<bytes>"), for messages. */
  label: string;
  /** The allocator export the host uses. */
  allocator: "malloc" | "proxy_on_memory_allocate";
  /** Names of its exports. */
  exports: ReadonlySet<string>;
}

export type ModuleSource = string | Uint8Array | WasmModule | ProxyWasmModule;

function isProxyWasmModule(source: ModuleSource): source is ProxyWasmModule {
  return typeof source === "object" && !(source instanceof Uint8Array) && !isWasmModule(source);
}

/** Reads (when given a path), compiles and checks a module. */
export async function loadProxyWasmModule(source: ModuleSource, label?: string): Promise<ProxyWasmModule> {
  if (isProxyWasmModule(source)) return source;
  if (isWasmModule(source)) return checkModule(source, label ?? "<module>");
  let bytes: Uint8Array;
  const name = label ?? (typeof source === "string" ? source : "<bytes>");
  if (typeof source === "string") {
    try {
      bytes = await readFile(source);
    } catch (e) {
      throw new ModuleLoadError("unreadable", `cannot read proxy-wasm module ${source}: ${(e as Error).message}`);
    }
  } else {
    bytes = source;
  }
  let module: WasmModule;
  try {
    module = await compileWasm(bytes);
  } catch (e) {
    throw new ModuleLoadError("not_wasm", `${name} is not a valid WebAssembly module: ${(e as Error).message}`);
  }
  return checkModule(module, name);
}

/** Checks exports and imports of a compiled module. */
export function checkModule(module: WasmModule, label: string): ProxyWasmModule {
  const exportList = wasmExports(module);
  const exports = new Set(exportList.map((e) => e.name));
  if (!exports.has(ABI_VERSION_EXPORT)) {
    const other = exportList.map((e) => e.name).filter((n) => n.startsWith("proxy_abi_version_"));
    if (other.length > 0) {
      throw new ModuleLoadError(
        "unsupported_abi_version",
        `${label} exports ${other.join(", ")} but not ${ABI_VERSION_EXPORT}; this host implements proxy-wasm ABI 0.2.1 only`,
      );
    }
    throw new ModuleLoadError(
      "missing_abi_export",
      `${label} does not export ${ABI_VERSION_EXPORT}, so it is not a proxy-wasm ABI 0.2.1 module`,
    );
  }
  if (!exportList.some((e) => e.name === "memory" && e.kind === "memory")) {
    throw new ModuleLoadError("missing_memory", `${label} does not export its linear memory as "memory"`);
  }
  // The reference host looks for malloc first, then proxy_on_memory_allocate.
  const allocator = exports.has("malloc") ? "malloc" : exports.has("proxy_on_memory_allocate") ? "proxy_on_memory_allocate" : null;
  if (allocator === null) {
    throw new ModuleLoadError(
      "missing_allocator",
      `${label} exports neither proxy_on_memory_allocate nor malloc, so the host cannot return values to it`,
    );
  }
  const unknown = wasmImports(module).filter((i) => i.kind !== "function" || !isProvidedImport(i.module, i.name));
  if (unknown.length > 0) {
    const names = unknown.map((i) => `${i.module}.${i.name} (${i.kind})`).join(", ");
    throw new ModuleLoadError(
      "unknown_import",
      `${label} imports ${names}, which ${unknown.length === 1 ? "is" : "are"} not provided by this proxy-wasm ABI 0.2.1 host`,
    );
  }
  return { module, label, allocator, exports };
}
