// The host's building blocks against the proxy-wasm ABI 0.2.1 spec and Envoy's behaviour.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  deserializePairs,
  HeaderMap,
  ManualClock,
  MetricsStore,
  MetricType,
  ModuleLoadError,
  loadProxyWasmModule,
  serializePairs,
  SharedData,
  Status,
  toPrometheusText,
  ENV_FUNCTIONS,
  WASI_FUNCTIONS,
  SharedStore,
  LogSink,
  PropertyStore,
  type WasmVm,
} from "../filter/host/index.js";
import { createHostImports } from "../filter/host/hostcalls.js";
import { WasmMemory } from "../filter/host/memory.js";

function createHostImportsForTest(): ReturnType<typeof createHostImports> {
  const settings = { log: new LogSink({ level: "silent" }), store: new SharedStore(), vmId: "", properties: new PropertyStore() };
  return createHostImports({ settings } as unknown as WasmVm);
}

// Tiny modules are assembled by hand (binary format, section by section) so that the tests need no
// WebAssembly toolchain.
interface FuncSpec {
  /** Export name. */
  name: string;
  /** Number of i32 parameters. */
  params: number;
  /** i32 constant returned, or undefined for no result. */
  returns?: number;
}
interface ModuleSpec {
  imports?: Array<{ module: string; name: string; params: number }>;
  funcs: FuncSpec[];
  memory?: boolean;
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}
const str = (s: string) => [...leb(s.length), ...new TextEncoder().encode(s)];
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const I32 = 0x7f;

function assemble(spec: ModuleSpec): Uint8Array {
  const imports = spec.imports ?? [];
  const types = [
    ...imports.map((i) => [0x60, ...vec(Array.from({ length: i.params }, () => [I32])), 0]),
    ...spec.funcs.map((f) => [0x60, ...vec(Array.from({ length: f.params }, () => [I32])), ...(f.returns === undefined ? [0] : [1, I32])]),
  ];
  const bytes = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  bytes.push(...section(1, vec(types)));
  if (imports.length > 0) bytes.push(...section(2, vec(imports.map((i, k) => [...str(i.module), ...str(i.name), 0x00, ...leb(k)]))));
  bytes.push(...section(3, vec(spec.funcs.map((_, k) => leb(imports.length + k)))));
  if (spec.memory !== false) bytes.push(...section(5, vec([[0x00, 1]])));
  const exports = spec.funcs.map((f, k) => [...str(f.name), 0x00, ...leb(imports.length + k)]);
  if (spec.memory !== false) exports.push([...str("memory"), 0x02, 0]);
  bytes.push(...section(7, vec(exports)));
  const bodies = spec.funcs.map((f) => {
    const code = [0x00, ...(f.returns === undefined ? [] : [0x41, ...leb(f.returns)]), 0x0b];
    return [...leb(code.length), ...code];
  });
  bytes.push(...section(10, vec(bodies)));
  return Uint8Array.from(bytes);
}

const ABI = { name: "proxy_abi_version_0_2_1", params: 0 };
const MALLOC = { name: "malloc", params: 1, returns: 1024 };

test("header maps use the spec's pairs encoding ({a: 1, b: 22} example)", () => {
  const bytes = serializePairs([["a", "1"], ["b", "22"]]);
  assert.deepEqual(
    [...bytes],
    [2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0x61, 0, 0x31, 0, 0x62, 0, 0x32, 0x32, 0],
  );
  assert.deepEqual(deserializePairs(bytes, 0, bytes.length), ["a", "1", "b", "22"]);
});

test("an empty map decodes from zero bytes or a single zero byte", () => {
  assert.deepEqual(deserializePairs(new Uint8Array(0), 0, 0), []);
  assert.deepEqual(deserializePairs(Uint8Array.of(0), 0, 1), []);
});

test("a truncated map is refused with a message", () => {
  const bytes = serializePairs([["key", "value"]]);
  assert.throws(() => deserializePairs(bytes, 0, bytes.length - 3), /runs past the end/);
});

test("header maps lower-case keys, replace the first entry and drop the rest", () => {
  const map = HeaderMap.from([["X-A", "1"], ["x-a", "2"], ["b", "3"]]);
  map.replace("x-a", "9");
  assert.deepEqual(map.toPairs(), [["x-a", "9"], ["b", "3"]]);
  map.add("B", "4");
  assert.deepEqual(map.getAll("b"), ["3", "4"]);
  map.remove("b");
  assert.equal(map.size, 1);
  assert.equal(map.get("X-A"), "9");
});

test("shared data follows Envoy's CAS rules", () => {
  const data = new SharedData();
  const v = (s: string) => new TextEncoder().encode(s);
  assert.equal(data.set("", "k", v("1"), 12345), Status.Ok, "a CAS for a missing key is ignored");
  const first = data.get("", "k")!;
  assert.notEqual(first.cas, 0);
  assert.equal(data.set("", "k", v("2"), first.cas + 1), Status.CasMismatch);
  assert.equal(data.set("", "k", v("2"), first.cas), Status.Ok);
  const second = data.get("", "k")!;
  assert.notEqual(second.cas, first.cas);
  assert.equal(data.set("", "k", v("3"), first.cas), Status.CasMismatch, "a stale CAS fails");
  assert.equal(data.set("", "k", v("3"), 0), Status.Ok, "CAS 0 always overwrites");
  assert.equal(new TextDecoder().decode(data.get("", "k")!.value), "3");
  assert.equal(data.get("other-vm", "k"), undefined, "keys are per VM id");
});

test("metrics: counters only grow, gauges move, histograms fill Envoy's buckets", () => {
  const m = new MetricsStore();
  const c = m.define(MetricType.Counter, "requests_total");
  const g = m.define(MetricType.Gauge, "in.flight");
  const h = m.define(MetricType.Histogram, "latency_ms");
  assert.equal(m.define(MetricType.Counter, "requests_total"), c, "same name, same id");
  assert.ok(m.define(MetricType.Gauge, "requests_total") < 0, "same name, other kind refused");
  assert.ok(m.define(7, "x") < 0);
  assert.equal(m.increment(c, 3), Status.Ok);
  assert.equal(m.increment(c, -1), Status.BadArgument);
  assert.equal(m.increment(g, -2), Status.Ok);
  assert.equal(m.record(h, 7), Status.Ok);
  assert.equal(m.record(h, 70), Status.Ok);
  assert.equal(m.increment(h, 1), Status.BadArgument);
  assert.equal(m.increment(999, 1), Status.NotFound);
  assert.equal(m.value("requests_total"), 3);
  assert.equal(m.value("in.flight"), -2);
  assert.equal(m.histogram("latency_ms")!.count, 2);
  const text = toPrometheusText(m.snapshot());
  assert.match(text, /# TYPE requests_total counter\nrequests_total 3\n/);
  assert.match(text, /# TYPE in_flight gauge\nin_flight -2\n/);
  assert.match(text, /latency_ms_bucket\{le="10"\} 1\n/);
  assert.match(text, /latency_ms_bucket\{le="100"\} 2\n/);
  assert.match(text, /latency_ms_bucket\{le="\+Inf"\} 2\nlatency_ms_sum 77\nlatency_ms_count 2\n/);
});

test("the manual clock fires due timers in order and only when advanced", () => {
  const clock = new ManualClock(1000);
  const fired: string[] = [];
  clock.every(100, () => fired.push(`a@${clock.now()}`));
  clock.after(150, () => fired.push(`b@${clock.now()}`));
  clock.every(100, () => fired.push(`c@${clock.now()}`));
  assert.deepEqual(fired, []);
  clock.advance(250);
  assert.deepEqual(fired, ["a@1100", "c@1100", "b@1150", "a@1200", "c@1200"]);
  assert.equal(clock.now(), 1250);
});

test("the host provides every env.proxy_* function of ABI 0.2.1 and the spec's WASI functions", () => {
  const imports = createHostImportsForTest();
  assert.deepEqual(Object.keys(imports.env as object).sort(), [...ENV_FUNCTIONS].sort());
  assert.deepEqual(Object.keys(imports.wasi_snapshot_preview1 as object).sort(), [...WASI_FUNCTIONS].sort());
  for (const name of ["proxy_grpc_call", "proxy_grpc_stream", "proxy_send_local_response", "proxy_get_property", "proxy_get_status"]) {
    assert.ok(ENV_FUNCTIONS.includes(name as (typeof ENV_FUNCTIONS)[number]), name);
  }
  assert.equal((imports.env as Record<string, () => number>).proxy_http_call!(), Status.Unimplemented);
});

const refusals: Array<{ name: string; bytes: () => Uint8Array; code: string; message: RegExp }> = [
  {
    name: "bytes that are not WebAssembly",
    bytes: () => new TextEncoder().encode("not wasm at all"),
    code: "not_wasm",
    message: /<bytes> is not a valid WebAssembly module/,
  },
  {
    name: "a module without the ABI 0.2.1 export",
    bytes: () => assemble({ funcs: [MALLOC] }),
    code: "missing_abi_export",
    message: /does not export proxy_abi_version_0_2_1/,
  },
  {
    name: "a module for another ABI version",
    bytes: () => assemble({ funcs: [{ name: "proxy_abi_version_0_1_0", params: 0 }, MALLOC] }),
    code: "unsupported_abi_version",
    message: /exports proxy_abi_version_0_1_0 but not proxy_abi_version_0_2_1/,
  },
  {
    name: "a module importing env.abort",
    bytes: () =>
      assemble({
        imports: [{ module: "env", name: "proxy_log", params: 3 }, { module: "env", name: "abort", params: 4 }],
        funcs: [ABI, { name: "proxy_on_memory_allocate", params: 1, returns: 1024 }],
      }),
    code: "unknown_import",
    message: /imports env\.abort \(function\), which is not provided/,
  },
  {
    name: "a module without an allocator",
    bytes: () => assemble({ funcs: [ABI] }),
    code: "missing_allocator",
    message: /neither proxy_on_memory_allocate nor malloc/,
  },
];

for (const r of refusals) {
  test(`the host refuses ${r.name}, saying why`, async () => {
    await assert.rejects(loadProxyWasmModule(r.bytes()), (e: unknown) => {
      assert.ok(e instanceof ModuleLoadError);
      assert.equal(e.code, r.code);
      assert.match(e.message, r.message);
      return true;
    });
  });
}

test("a missing file is refused naming the path", async () => {
  await assert.rejects(loadProxyWasmModule("build/does-not-exist.wasm"), /cannot read proxy-wasm module build\/does-not-exist\.wasm/);
});

test("a minimal hand-written module with only the ABI marker and an allocator loads and serves", async () => {
  const { ProxyWasmPlugin, Action, ManualClock: Clock } = await import("../filter/host/index.js");
  const bytes = assemble({ funcs: [ABI, MALLOC] });
  const plugin = await ProxyWasmPlugin.start({ wasm: bytes, clock: new Clock(), logLevel: "silent" });
  const stream = plugin.createHttpStream();
  assert.equal(stream.sendRequestHeaders({ ":path": "/" }, true), Action.Continue);
  stream.complete();
  assert.equal(plugin.module.allocator, "malloc");
  plugin.close();
});

test("the host writes clock time as u64 nanoseconds exactly (no float rounding)", async () => {
  const { clockNanos } = await import("../filter/host/index.js");
  const { WasmMemory } = await import("../filter/host/memory.js");
  const memory = { buffer: new ArrayBuffer(64), grow: () => 0 };
  const m = new WasmMemory(memory, () => 0);
  for (const ms of [0, 1, 1735689600000, 1735689600123.456789, 4102444800000.5]) {
    assert.ok(m.writeNanosFromMs(8, ms));
    assert.equal(new DataView(memory.buffer).getBigUint64(8, true), clockNanos(ms), `at ${ms} ms`);
  }
});

test("strings are written into module memory as UTF-8 and read back unchanged (short, long, non-ASCII)", async () => {
  const { decodeString, utf8Length, writeString } = await import("../filter/host/memory.js");
  const u8 = new Uint8Array(512);
  const samples = ["", "200", "application/json", "x".repeat(23), "y".repeat(24),
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "caf\u00e9", "\u00e9".repeat(40), "\u{1f680} launch ".repeat(6)];
  for (const s of samples) {
    u8.fill(0xaa);
    const len = utf8Length(s);
    writeString(u8, 7, s, len);
    assert.deepEqual(u8.subarray(7, 7 + len), new Uint8Array(Buffer.from(s, "utf8")), JSON.stringify(s));
    assert.equal(u8[7 + len], 0xaa, "nothing written past the string");
    assert.equal(u8[6], 0xaa, "nothing written before it");
    assert.equal(decodeString(u8, 7, len), s);
  }
});

test("strings returned to the module (returnString) come back as their exact UTF-8, short or long", async () => {
  const { WasmMemory } = await import("../filter/host/memory.js");
  const memory = { buffer: new ArrayBuffer(4096), grow: () => 0 };
  let next = 64;
  const sizes: number[] = [];
  const m = new WasmMemory(memory, (size) => {
    sizes.push(size);
    const ptr = next;
    next += size + 8;
    return ptr;
  });
  const u8 = new Uint8Array(memory.buffer);
  const view = new DataView(memory.buffer);
  const samples = ["", "200", "application/json", "caf\u00e9", "\u00e9\u00e9", "\u{1f680}", "a\ud800b",
    "x".repeat(23), "\u00e9".repeat(23), "y".repeat(24), "\u00e9".repeat(30)];
  for (const s of samples) {
    assert.ok(m.returnString(s, 0, 4), JSON.stringify(s));
    const ptr = view.getUint32(0, true);
    const len = view.getUint32(4, true);
    assert.deepEqual(u8.slice(ptr, ptr + len), new Uint8Array(Buffer.from(s, "utf8")), JSON.stringify(s));
    if (s === "") assert.equal(ptr, 0, "an empty string is returned as (0, 0)");
    else assert.ok(sizes[sizes.length - 1]! >= len, "the block holds the bytes");
  }
  assert.equal(m.returnString("200", 4094, 4), false, "a return slot out of bounds is refused");
});

test("header names and values cached by address are re-read when the bytes there change", () => {
  // A memory object of one 64 KiB page that never grows is all the header calls touch.
  const memObj = { buffer: new ArrayBuffer(65536), grow: (): number => -1 };
  const memory = new WasmMemory(memObj, () => 40_000);
  const stream = { requestHeaders: new HeaderMap() };
  const settings = { log: new LogSink({ level: "silent" }), store: new SharedStore(), vmId: "", properties: new PropertyStore() };
  const env = createHostImports({ settings, memory, effectiveStream: stream } as unknown as WasmVm).env as Record<string, (...args: number[]) => number>;
  const u8 = new Uint8Array(memObj.buffer);
  const put = (ptr: number, s: string): number => {
    u8.set(new TextEncoder().encode(s), ptr);
    return s.length;
  };
  const replace = (key: string, value: string, valuePtr = 2000): void => {
    assert.equal(env.proxy_replace_header_map_value!(0, 1000, put(1000, key), valuePtr, put(valuePtr, value)), Status.Ok);
  };
  // The same addresses hold a different name and value each time; 20 rounds run past the point
  // where the value cache stops following an address whose bytes keep changing.
  for (let round = 0; round < 20; round++) {
    replace(`X-Name-${round % 3}`, `value-${round}`);
    assert.equal(stream.requestHeaders.get(`x-name-${round % 3}`), `value-${round}`, `round ${round}`);
  }
  // Same length, one byte different, at an address the value cache still follows (a fresh one):
  // not taken for the cached one.
  replace("x-name-a", "AAAA", 3000);
  replace("x-name-b", "AAAB", 3000);
  assert.equal(stream.requestHeaders.get("x-name-a"), "AAAA");
  assert.equal(stream.requestHeaders.get("x-name-b"), "AAAB");
  assert.deepEqual(stream.requestHeaders.getAll("x-name-0"), ["value-18"]);
});
