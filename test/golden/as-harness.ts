// Compiles the AssemblyScript test harness (filter/src/wire/test/harness.ts: the wire codec,
// histogram and JSON parser behind canonical-JSON entry points) with asc and instantiates it with
// the raw bindings asc generates. Used by test/wire-*.test.ts. The build is cached in the OS temp
// dir under a hash of the AssemblyScript sources, so test files share one compile.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** The harness's exports (as the raw bindings lift them). */
export interface WireHarness {
  lastError(): string;
  decodeControl(buf: ArrayBuffer): string;
  decodeSidecar(buf: ArrayBuffer): string;
  encodeSidecarFromJson(json: string): ArrayBuffer;
  encodeControlFromJson(json: string): ArrayBuffer;
  fuzzControl(buf: ArrayBuffer): number;
  fuzzSidecar(buf: ArrayBuffer): number;
  histogramBucketOf(us: bigint): number;
  histogramLowerBound(b: number): bigint;
  histogramRecord(values: BigUint64Array): string;
  jsonRoundTrip(text: string): string;
  orcaParse(text: string): string;
  decimalParse(text: string, wide: boolean): number;
  sseTail(text: string): string;
  sketchRun(stream: string, k: number): string;
  denyScan(words: string, chunks: string): number;
}

/** The global WebAssembly API (its types are not in this project's TypeScript lib). */
const wasmApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<object> } }).WebAssembly;

const SOURCES = ["filter/src/wire", "filter/src/json", "filter/src/core"];
const ENTRY = "filter/src/wire/test/harness.ts";
const CONFIG = "filter/src/wire/test/asconfig.json";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? sourceFiles(path) : [path];
    });
}

function sourceHash(): string {
  const hash = createHash("sha256");
  const asc = JSON.parse(readFileSync(join("node_modules", "assemblyscript", "package.json"), "utf8")) as { version: string };
  hash.update(asc.version);
  for (const file of SOURCES.flatMap(sourceFiles)) hash.update(file).update(readFileSync(file));
  return hash.digest("hex").slice(0, 16);
}

/** Builds the harness (or reuses the cached build) and returns the directory holding it. */
function buildHarness(): string {
  const cached = join(tmpdir(), `autoglm-wire-harness-${sourceHash()}`);
  if (existsSync(join(cached, "harness.js"))) return cached;
  const work = mkdtempSync(join(tmpdir(), "autoglm-wire-harness-build-"));
  execFileSync(join(process.cwd(), "node_modules", ".bin", "asc"), [ENTRY, "--config", CONFIG, "-o", join(work, "harness.wasm")], {
    stdio: "pipe",
  });
  try {
    renameSync(work, cached); // atomic: a concurrent build of the same sources may win, both are equal
  } catch {
    rmSync(work, { recursive: true, force: true });
  }
  return cached;
}

/** Compiles (or reuses) and instantiates the harness. */
export async function loadWireHarness(): Promise<WireHarness> {
  const dir = buildHarness();
  const glue = (await import(pathToFileURL(join(dir, "harness.js")).href)) as {
    instantiate(module: object, imports: object): Promise<WireHarness>;
  };
  const module = await wasmApi.compile(readFileSync(join(dir, "harness.wasm")));
  return await glue.instantiate(module, {});
}

/** A copy of the bytes as a standalone ArrayBuffer (what the bindings lower into wasm memory). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  // Not bytes.slice(): on a Node Buffer that is a view of the shared pool, not a copy.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}
