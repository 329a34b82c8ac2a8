// The few parts of the WebAssembly JS API the host uses, typed here because the project's
// TypeScript setup (lib ES2023 + @types/node) declares no WebAssembly global.

/** A compiled module (WebAssembly.Module). */
export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}

export interface WasmMemoryObject {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export interface ModuleExportDescriptor {
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
}

export interface ModuleImportDescriptor {
  module: string;
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
}

export type WasmImports = Record<string, Record<string, unknown>>;

interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Module: {
    new (bytes: Uint8Array): WasmModule;
    exports(module: WasmModule): ModuleExportDescriptor[];
    imports(module: WasmModule): ModuleImportDescriptor[];
  };
  Instance: new (module: WasmModule, imports: WasmImports) => WasmInstance;
}

const api = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

export const compileWasm = (bytes: Uint8Array): Promise<WasmModule> => api.compile(bytes);
export const instantiateWasm = (module: WasmModule, imports: WasmImports): WasmInstance => new api.Instance(module, imports);
export const wasmExports = (module: WasmModule): ModuleExportDescriptor[] => api.Module.exports(module);
export const wasmImports = (module: WasmModule): ModuleImportDescriptor[] => api.Module.imports(module);
export const isWasmModule = (value: unknown): value is WasmModule => value instanceof api.Module;
