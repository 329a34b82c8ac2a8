// Who sends the traffic, in the filter: the client identity (source.address without its port,
// x-forwarded-for's first hop, or a hashed header), the per-window top sources in the telemetry
// report (with errors and 429s), and the source limits of the decisions (deny, an admitted
// fraction) as a local 429. Real build/filter.wasm in the project's host, virtual time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { PluginTester } from "../filter/host/index.js";
import { BASE_CONFIG, FILTER_WASM, startFilter, type DecisionInit } from "./filter-support.js";
import type { SourceCount } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";

const CLUSTERS: DecisionInit["clusters"] = [{ cluster: "llm-a", weight: 50 }, { cluster: "llm-b", weight: 50 }];

/** 64-bit FNV-1a of the UTF-8 bytes, as 16 lower-case hex digits (the filter's hashed identity). */
function fnv1a64Hex(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, "utf8")) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

/** The last report's sources by identity, and its total. */
function lastSources(sent: { sources: SourceCount[]; sourcesTotal: bigint }[]): { by: Map<string, SourceCount>; total: bigint } {
  const report = sent.at(-1)!;
  return { by: new Map(report.sources.map((s) => [s.source, s])), total: report.sourcesTotal };
}

test("the identity is the client address without its port, x-forwarded-for's first hop, or a header's hash", async () => {
  const cases: { name: string; header: string | undefined; request: { headers?: Record<string, string>; properties?: Record<string, string> }; identity: string }[] = [
    { name: "an IPv4 address", header: undefined, request: { properties: { "source.address": "10.1.2.3:45678" } }, identity: "10.1.2.3" },
    { name: "an IPv6 address", header: undefined, request: { properties: { "source.address": "[2001:db8::7]:443" } }, identity: "[2001:db8::7]" },
    { name: "no address", header: undefined, request: {}, identity: "" },
    { name: "x-forwarded-for's first hop", header: "x-forwarded-for", request: { headers: { "x-forwarded-for": "203.0.113.9, 10.0.0.1" } }, identity: "203.0.113.9" },
    { name: "an API key, hashed", header: "x-api-key", request: { headers: { "x-api-key": "sk-secret-123" } }, identity: fnv1a64Hex("sk-secret-123") },
    { name: "a tenant header, hashed", header: "x-tenant", request: { headers: { "x-tenant": "acme" } }, identity: fnv1a64Hex("acme") },
  ];
  for (const c of cases) {
    const sources = c.header === undefined ? { top_k: 4 } : { header: c.header, top_k: 4 };
    const { t, cp } = await startFilter({ ...BASE_CONFIG, sources });
    try {
      for (let i = 0; i < 3; i++) t.request({ headers: { ":path": "/v1/chat", ...c.request.headers }, properties: c.request.properties ?? {} });
      t.advance(1000);
      const { by, total } = lastSources(cp.sent("report"));
      assert.deepEqual([...by.keys()], [c.identity], c.name);
      assert.equal(by.get(c.identity)!.requests, 3, c.name);
      assert.equal(total, 3n, c.name);
      if (c.header === "x-api-key") assert.ok(!JSON.stringify(cp.streams[0]!.fromFilter, (_k, v: unknown) => typeof v === "bigint" ? v.toString() : v).includes("sk-secret"), "the key never leaves in clear");
    } finally {
      t.close();
    }
  }
});

test("the report keeps at most top_k sources, the heavy ones exact, and counts errors per source", async () => {
  const { t, cp } = await startFilter({ ...BASE_CONFIG, sources: { top_k: 3 } });
  try {
    const send = (address: string, status: number) =>
      t.request({ headers: { ":path": "/v1/chat" }, properties: { "source.address": `${address}:1000` }, response: { status } });
    // Two heavy sources first (exact: they never leave the sketch), then 20 one-off sources.
    for (let i = 0; i < 50; i++) send("10.0.0.1", i % 5 === 0 ? 503 : 200);
    for (let i = 0; i < 30; i++) send("10.0.0.2", 200);
    for (let i = 0; i < 20; i++) send(`192.168.0.${i}`, 200);
    t.advance(1000);
    const { by, total } = lastSources(cp.sent("report"));
    assert.equal(total, 100n);
    assert.equal(by.size, 3, "K = 3 slots");
    assert.deepEqual([by.get("10.0.0.1")!.requests, by.get("10.0.0.1")!.overestimate, by.get("10.0.0.1")!.errors], [50, 0, 10]);
    assert.deepEqual([by.get("10.0.0.2")!.requests, by.get("10.0.0.2")!.overestimate, by.get("10.0.0.2")!.errors], [30, 0, 0]);
    const third = [...by.values()].find((s) => s.source.startsWith("192.168.0."))!;
    assert.equal(third.source, "192.168.0.19", "the last one-off source holds the rotating slot");
    assert.equal(third.requests - third.overestimate, 1, "counted once since it entered");
    assert.ok(third.requests <= Number(total) / 3 + 1, "space-saving's bound: at most N / K + 1");
    // The next window starts empty.
    t.advance(1000);
    assert.equal(cp.sent("report").at(-1)!.sources.length, 0);
  } finally {
    t.close();
  }
});

test("without `sources` the filter reports no sources and its hello names neither capability", async () => {
  const { t, cp } = await startFilter();
  try {
    t.request({ properties: { "source.address": "10.0.0.1:1" } });
    t.advance(1000);
    assert.deepEqual(cp.sent("report").map((r) => r.sources.length), [0]);
    assert.equal(cp.sent("report")[0]!.sourcesTotal, 0n);
    const caps = cp.sent("hello")[0]!.capabilities;
    assert.ok(!caps.includes("sources") && !caps.includes("source_limits"));
  } finally {
    t.close();
  }
  const on = await startFilter({ ...BASE_CONFIG, sources: {} });
  try {
    assert.deepEqual(on.cp.sent("hello")[0]!.capabilities.slice(-2), ["sources", "source_limits"]);
  } finally {
    on.t.close();
  }
});

test("a denied source gets a local 429 with retry-after, other sources pass, and the report counts the 429s", async () => {
  const { t, cp } = await startFilter({ ...BASE_CONFIG, sources: { header: "x-tenant" } });
  try {
    const bad = fnv1a64Hex("mallory");
    cp.push({ version: 3, clusters: CLUSTERS, sourceLimits: [{ source: bad, deny: true, admitFraction: 0, retryAfterS: 30, reason: "operator ops: scraping" }] });
    assert.deepEqual(cp.sent("ack").map((a) => a.version), [3n]);
    const denied = t.request({ headers: { "x-tenant": "mallory" } });
    assert.equal(denied.localReply?.status, 429);
    assert.equal(denied.localReply?.headers.get("retry-after"), "5", "the filter's retry_after_s (it reads no retry-after of a limit)");
    assert.equal(denied.localReply?.headers.get("x-autoglm-local-reply"), "source_limited");
    assert.equal((JSON.parse(denied.localReplyBody) as { error: string }).error, "source_limited");
    assert.equal(t.request({ headers: { "x-tenant": "alice" } }).localReply, null);
    t.request({ headers: { "x-tenant": "mallory" } });
    t.advance(1000);
    const { by } = lastSources(cp.sent("report"));
    assert.deepEqual([by.get(bad)!.requests, by.get(bad)!.limited], [2, 2]);
    assert.equal(by.get(fnv1a64Hex("alice"))!.limited, 0);
  } finally {
    t.close();
  }
});

test("a rate cap's admitted fraction is spread evenly over the source's requests", async () => {
  const { t, cp } = await startFilter({ ...BASE_CONFIG, sources: {} });
  try {
    cp.push({ version: 4, clusters: CLUSTERS, sourceLimits: [{ source: "10.9.9.9", admitFraction: 0.25, capPerS: 5 }] });
    const outcomes = Array.from({ length: 8 }, () =>
      t.request({ properties: { "source.address": "10.9.9.9:5555" } }).localReply?.status ?? 200);
    assert.deepEqual(outcomes, [429, 429, 429, 200, 429, 429, 429, 200]);
    const refused = t.request({ properties: { "source.address": "10.9.9.9:1" } });
    assert.equal(refused.localReply?.headers.get("retry-after"), "5", "the configured retry_after_s");
    assert.equal(t.request({ properties: { "source.address": "10.9.9.8:1" } }).localReply, null, "another source is not limited");
  } finally {
    t.close();
  }
});

test("source limits are refused naming the field when a fraction is outside [0, 1], and the last good plan stays", async () => {
  const { t, cp } = await startFilter({ ...BASE_CONFIG, sources: {} });
  try {
    cp.push({ version: 1, clusters: CLUSTERS });
    for (const [version, admitFraction, got] of [[2, 1.5, "1.5"], [3, -0.25, "-0.25"], [4, Number.NaN, "NaN"]] as const) {
      cp.push({ version, clusters: CLUSTERS, sourceLimits: [{ source: "a" }, { source: "10.0.0.1", admitFraction }] });
      const nack = cp.sent("nack").at(-1)!;
      assert.equal(nack.version, BigInt(version));
      assert.equal(nack.reason, `source_limits[1].admit_fraction: expected [0, 1], got ${got}`);
      assert.equal(nack.enforcedVersion, 1n);
    }
  } finally {
    t.close();
  }
});

test("the sources configuration is checked: top_k within [1, 64], a lower-case header, no unknown fields", async () => {
  const cases: [object, string][] = [
    [{ top_k: 0 }, "sources.top_k: expected an integer 1..64, got 0"],
    [{ top_k: 65 }, "sources.top_k: expected an integer 1..64, got 65"],
    [{ header: "X-Api-Key" }, "sources.header: expected a lower-case header name"],
    [{ by: "address" }, "sources.by: unknown field (known: header, top_k)"],
  ];
  for (const [sources, problem] of cases) {
    const message = await PluginTester.start({ wasm: FILTER_WASM, configuration: { ...BASE_CONFIG, sources }, logLevel: "critical" })
      .then((t) => { t.close(); return "accepted"; }, (e: unknown) => (e as Error).message);
    assert.ok(message.includes(`invalid plugin configuration: ${problem}`), `${JSON.stringify(sources)}: ${message}`);
  }
});
