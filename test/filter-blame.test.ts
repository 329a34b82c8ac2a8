// Whom the filter blames for a stream that ended badly, against the real build/filter.wasm in the
// project's host: the upstream only for what the upstream did (as Envoy's outlier detection). A
// client that left or went silent before the upstream answered, and a local pool overflow, are
// not failures of the cluster; resets, connection failures and timeouts of the upstream are.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { HeaderMap, responseFlagsMask, type PluginTester, type PropertyValue } from "../filter/host/index.js";
import { BASE_CONFIG, FakeControlPlane, startFilter } from "./filter-support.js";

let t: PluginTester;
let cp: FakeControlPlane;

before(async () => {
  ({ t, cp } = await startFilter());
  // A control plane that answers keeps the stream (and so the reports of each window) flowing.
  cp.push({ version: 1, clusters: [{ cluster: "llm-a", weight: 50 }, { cluster: "llm-b", weight: 50 }] });
});
after(() => t.close());

const REQUEST: Array<[string, string]> = [
  [":method", "POST"],
  [":path", "/v1/chat"],
  [":authority", "test"],
  [":scheme", "http"],
  ["x-autoglm-target", "llm-a"],
];

/** One stream, driven step by step as a proxy would (the tester's request() always completes both ways). */
interface Drive {
  /** The client sent its whole request (false: it stopped mid-body). */
  requestDone: boolean;
  /** response.flags as a bit vector or as Envoy's short codes in text. */
  flags?: PropertyValue;
  /** response.code_details. */
  details?: string;
  /** Response headers and body as the filter sees them (null: none came). */
  response: { status: number; headers?: Array<[string, string]>; complete: boolean } | null;
}

function drive(d: Drive): void {
  const s = t.plugin.createHttpStream();
  s.sendRequestHeaders(HeaderMap.from(REQUEST), false);
  s.sendRequestBody(new TextEncoder().encode("{\"prompt\":"), d.requestDone);
  if (d.flags !== undefined) s.setProperty("response.flags", d.flags);
  if (d.details !== undefined) s.setProperty("response.code_details", d.details);
  if (d.response !== null) {
    s.sendResponseHeaders(HeaderMap.from([[":status", String(d.response.status)], ...(d.response.headers ?? [])]), false);
    s.sendResponseBody(new TextEncoder().encode("body"), d.response.complete);
  }
  s.complete();
}

interface Counted {
  requests: number;
  errors5xx: number;
  timeouts: number;
  resets: number;
  localRejects: number;
  /** Failed requests, each once (the counts above overlap: Envoy's timeouts and resets before
   *  headers are local 5xx). */
  failed: number;
}

const NOTHING: Counted = { requests: 0, errors5xx: 0, timeouts: 0, resets: 0, localRejects: 0, failed: 0 };
const flags = (...names: string[]): number => responseFlagsMask(names);

const cases: Array<{ name: string; drive: Drive; counted: Counted; clientEnded?: number }> = [
  {
    name: "a client that left before any response (DC, no response headers) adds nothing to the cluster's report",
    drive: { requestDone: true, flags: flags("DC"), response: null },
    counted: NOTHING,
    clientEnded: 1,
  },
  {
    name: "a client that left mid-body (DC, no response headers) adds nothing to the cluster's report",
    drive: { requestDone: false, flags: flags("DC"), response: null },
    counted: NOTHING,
    clientEnded: 1,
  },
  {
    name: "a client that reset its stream before any response (DR) adds nothing to the cluster's report",
    drive: { requestDone: true, flags: flags("DR"), response: null },
    counted: NOTHING,
    clientEnded: 1,
  },
  {
    name: "a client silent mid-body answered by the stream idle timeout's local 408 (SI) adds nothing",
    drive: { requestDone: false, flags: flags("SI"), response: { status: 408, complete: true } },
    counted: NOTHING,
    clientEnded: 1,
  },
  {
    name: "DC given as text flags adds nothing to the cluster's report",
    drive: { requestDone: true, flags: "DC", response: null },
    counted: NOTHING,
    clientEnded: 1,
  },
  {
    name: "a full pool's local 503 with UO and x-envoy-overloaded counts as a local reject, not a reset",
    drive: {
      requestDone: true,
      flags: flags("UO"),
      details: "upstream_reset_before_response_started{overflow}",
      response: { status: 503, headers: [["x-envoy-overloaded", "true"]], complete: true },
    },
    counted: { ...NOTHING, localRejects: 1 },
  },
  {
    name: "UO given as text flags counts as a local reject",
    drive: { requestDone: true, flags: "UO", response: { status: 503, headers: [["x-envoy-overloaded", "true"]], complete: true } },
    counted: { ...NOTHING, localRejects: 1 },
  },
  {
    name: "the upstream's own 503 passed on when a retry overflowed (UO, via_upstream) counts as the upstream's 5xx",
    drive: { requestDone: true, flags: flags("UO"), details: "via_upstream", response: { status: 503, complete: true } },
    counted: { ...NOTHING, requests: 1, errors5xx: 1, failed: 1 },
  },
  {
    name: "an upstream reset before the response (UR, local 503) counts as a reset",
    drive: { requestDone: true, flags: flags("UR"), response: { status: 503, complete: true } },
    counted: { ...NOTHING, requests: 1, errors5xx: 1, resets: 1, failed: 1 },
  },
  {
    name: "an upstream connection failure (UF, local 503) counts as a reset",
    drive: { requestDone: true, flags: flags("UF"), response: { status: 503, complete: true } },
    counted: { ...NOTHING, requests: 1, errors5xx: 1, resets: 1, failed: 1 },
  },
  {
    name: "an upstream reset mid-response after a 200 (UR) counts as a reset",
    drive: { requestDone: true, flags: flags("UR"), response: { status: 200, complete: false } },
    counted: { ...NOTHING, requests: 1, resets: 1, failed: 1 },
  },
  {
    name: "an upstream reset when a retry overflowed too (UR and UO) counts as a reset",
    drive: { requestDone: true, flags: flags("UR", "UO"), response: { status: 503, complete: true } },
    counted: { ...NOTHING, requests: 1, errors5xx: 1, resets: 1, failed: 1 },
  },
  {
    name: "a stream that ended without response headers or flags still counts as a reset",
    drive: { requestDone: true, response: null },
    counted: { ...NOTHING, requests: 1, resets: 1, failed: 1 },
  },
  {
    name: "an upstream timeout the client also left (UT and DC) counts as a timeout",
    drive: { requestDone: true, flags: flags("UT", "DC"), response: { status: 504, complete: true } },
    counted: { ...NOTHING, requests: 1, errors5xx: 1, timeouts: 1, failed: 1 },
  },
  {
    name: "the upstream's 503 the client left during (DC after the response headers) counts as the upstream's 5xx",
    drive: { requestDone: true, flags: flags("DC"), response: { status: 503, complete: false } },
    counted: { ...NOTHING, requests: 1, errors5xx: 1, failed: 1 },
  },
  {
    name: "the upstream's 200 the client left during (DC after the response headers) counts as answered",
    drive: { requestDone: true, flags: flags("DC"), response: { status: 200, complete: false } },
    counted: { ...NOTHING, requests: 1, failed: 0 },
  },
  {
    name: "the stream idle timeout after the whole request was sent (SI, the upstream silent) counts as a timeout",
    drive: { requestDone: true, flags: flags("SI"), response: { status: 408, complete: true } },
    counted: { ...NOTHING, requests: 1, timeouts: 1, failed: 1 },
  },
];

for (const c of cases) {
  test(c.name, () => {
    t.advance(1000); // close the window that holds earlier traffic
    const before = cp.sent("report").length;
    const metric = (cls: string): number => t.metric(`autoglm.requests.llm-a.${cls}`) ?? 0;
    const resetsBefore = metric("reset");
    const rejectsBefore = metric("local_reject");
    const endedBefore = metric("client_ended");
    drive(c.drive);
    t.advance(1000);
    const a = cp.sent("report").slice(before).flatMap((r) => r.clusters).filter((w) => w.cluster === "llm-a");
    const sum = (f: (w: (typeof a)[number]) => number): number => a.reduce((s, w) => s + f(w), 0);
    assert.deepEqual(
      {
        requests: sum((w) => w.requests),
        errors5xx: sum((w) => w.errors5xx),
        timeouts: sum((w) => w.timeouts),
        resets: sum((w) => w.resets),
        localRejects: sum((w) => w.localRejects),
        failed: sum((w) => w.failed ?? 0),
      },
      c.counted,
    );
    const latencies = sum((w) => w.totalLatency?.counts.reduce((x, y) => x + y, 0) ?? 0);
    assert.equal(latencies, c.counted.requests, "one total latency per counted request, none for the others");
    assert.equal(metric("reset") - resetsBefore, c.counted.resets, "the reset counter");
    assert.equal(metric("local_reject") - rejectsBefore, c.counted.localRejects, "the local_reject counter");
    assert.equal(metric("client_ended") - endedBefore, c.clientEnded ?? 0, "the client_ended counter");
  });
}

const breakerCases: Array<{ name: string; drive: Drive }> = [
  { name: "clients that leave before any response (DC)", drive: { requestDone: true, flags: flags("DC"), response: null } },
  {
    name: "a full pool's local 503s (UO)",
    drive: { requestDone: true, flags: flags("UO"), response: { status: 503, headers: [["x-envoy-overloaded", "true"]], complete: true } },
  },
];

for (const c of breakerCases) {
  test(`${c.name} do not open the cluster's local fallback breaker`, async () => {
    // Without decisions from the control plane the local fallback breakers rule (default: a
    // window of 20 outcomes, opening at a 50 % failure rate).
    const { t: own } = await startFilter(BASE_CONFIG);
    const saved = t;
    t = own;
    try {
      for (let i = 0; i < 40; i++) drive(c.drive);
      const x = own.request({ headers: { "x-autoglm-target": "llm-a" } });
      assert.equal(x.localReply, null, "llm-a still gets the request that names it");
      assert.equal(x.requestHeaders["x-autoglm-cluster"], "llm-a");
    } finally {
      t = saved;
      own.close();
    }
  });
}

test("a genuine upstream reset still opens the local fallback breaker", async () => {
  const { t: own } = await startFilter(BASE_CONFIG);
  const saved = t;
  t = own;
  try {
    for (let i = 0; i < 40; i++) drive({ requestDone: true, flags: flags("UF"), response: { status: 503, complete: true } });
    const x = own.request({ headers: { "x-autoglm-target": "llm-a" } });
    assert.notEqual(x.localReply, null, "a request naming the open cluster gets a local reply");
  } finally {
    t = saved;
    own.close();
  }
});
