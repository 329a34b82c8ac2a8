// Banned output and the immediate halt through the real build/filter.wasm in the project's
// proxy-wasm host: response bodies scanned against the configured deny-list (banned_output),
// streamed or not; a match replaces the chunk (a final SSE error event for an event stream,
// nothing otherwise) and ends the stream as ABI 0.2.1 allows (proxy_close_stream); compressed
// bodies pass unscanned and counted; no deny-list, no body work; a halt in mode immediate cuts a
// stream in flight at its next chunk. Counts arrive in the window report's BodyScan.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { HeaderMap, StreamType, type PluginTester } from "../filter/host/index.js";
import type { ClusterWindow } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { BASE_CONFIG, FakeControlPlane, startFilter } from "./filter-support.js";

const REQUEST: Array<[string, string]> = [
  [":method", "POST"], [":path", "/v1/chat/completions"], [":authority", "test"], [":scheme", "http"], ["x-autoglm-target", "llm-a"],
];
const SSE = "text/event-stream";
const enc = new TextEncoder();
const dec = new TextDecoder();
/** The final events the filter writes (filter/src/filter/bodycut.ts). */
const BANNED_EVENT = 'event: error\ndata: {"error":{"type":"banned_output","message":"cut by the mesh"}}\n\n';
const HALTED_EVENT = 'event: error\ndata: {"error":{"type":"mesh_halted","message":"cut by the mesh"}}\n\n';
const token = (text: string): string => `data: {"choices":[{"delta":{"content":"${text}"}}]}\n\n`;

interface Outcome {
  /** What each chunk became on its way to the client. */
  forwarded: string[];
  /** proxy_close_stream calls, as the index of the chunk whose callback made them. */
  closedAt: number[];
  /** llm-a's windows after the stream. */
  windows: ClusterWindow[];
}

/** One response through the filter, chunk by chunk (the last chunk ends the stream). */
function respond(t: PluginTester, cp: FakeControlPlane, headers: Array<[string, string]>, chunks: string[], between?: (i: number) => void): Outcome {
  t.advance(1000);
  const before = cp.sent("report").length;
  const h = t.plugin.createHttpStream();
  const closedAt: number[] = [];
  let current = -1;
  h.onClose = (type) => {
    assert.equal(type, StreamType.HttpResponse);
    closedAt.push(current);
  };
  h.sendRequestHeaders(HeaderMap.from(REQUEST), true);
  h.sendResponseHeaders(HeaderMap.from([[":status", "200"], ...headers]), false);
  const forwarded: string[] = [];
  chunks.forEach((chunk, i) => {
    between?.(i);
    current = i;
    assert.equal(h.sendResponseBody(enc.encode(chunk), i === chunks.length - 1), 0, "every body callback continues");
    forwarded.push(dec.decode(h.forwardedBody));
  });
  h.complete();
  t.advance(1000);
  const windows = cp.sent("report").slice(before).flatMap((r) => r.clusters).filter((w) => w.cluster === "llm-a");
  return { forwarded, closedAt, windows };
}

const scanOf = (windows: ClusterWindow[]): [number, number, number] | null => {
  const b = windows[0]?.bodyScan;
  return b === undefined ? null : [b.scanned, b.matched, b.compressed];
};

describe("with a deny-list", () => {
  let t: PluginTester;
  let cp: FakeControlPlane;
  before(async () => {
    ({ t, cp } = await startFilter({ ...BASE_CONFIG, banned_output: ["BEGIN RSA PRIVATE KEY", "ignore previous instructions"] }));
    cp.push({ version: 1, clusters: [{ cluster: "llm-a", weight: 50 }, { cluster: "llm-b", weight: 50 }] });
  });
  after(() => t.close());

  const CASES: Array<{ name: string; headers: Array<[string, string]>; chunks: string[]; forwarded: string[]; closedAt: number[]; scan: [number, number, number]; cut?: number }> = [
    {
      name: "an event stream with a banned literal: the chunk becomes the final error event, the next chunk is dropped and the stream reset",
      headers: [["content-type", SSE]],
      chunks: [token("hello"), token("-----begin rsa private key-----"), token("MIIEow"), "data: [DONE]\n\n"],
      forwarded: [token("hello"), BANNED_EVENT, "", ""],
      closedAt: [2],
      scan: [1, 1, 0],
      cut: 0,
    },
    {
      name: "a banned literal split across two chunks is caught in the second (the first part has gone to the client)",
      headers: [["content-type", SSE]],
      chunks: ['data: {"content":"please Ignore Prev', 'ious Instructions"}\n\n', token("more")],
      forwarded: ['data: {"content":"please Ignore Prev', BANNED_EVENT, ""],
      closedAt: [],
      scan: [1, 1, 0],
    },
    {
      name: "a banned literal in the last chunk: the error event ends the stream, nothing to reset",
      headers: [["content-type", SSE]],
      chunks: [token("a"), token("BEGIN RSA PRIVATE KEY") + "data: [DONE]\n\n"],
      forwarded: [token("a"), BANNED_EVENT],
      closedAt: [],
      scan: [1, 1, 0],
    },
    {
      name: "a body that is not an event stream: the chunk is emptied and the stream reset at once",
      headers: [["content-type", "application/json"]],
      chunks: ['{"choices":[{"message":{"content":"', "begin rsa private key", '"}}]}'],
      forwarded: ['{"choices":[{"message":{"content":"', "", ""],
      closedAt: [1],
      scan: [1, 1, 0],
    },
    {
      name: "a clean body passes untouched and is counted as scanned",
      headers: [["content-type", SSE]],
      chunks: [token("begin rsa public key"), "data: [DONE]\n\n"],
      forwarded: [token("begin rsa public key"), "data: [DONE]\n\n"],
      closedAt: [],
      scan: [1, 0, 0],
      cut: 0,
    },
    {
      name: "a compressed body (gzip) passes unscanned and is counted as compressed",
      headers: [["content-type", "application/json"], ["content-encoding", "gzip"]],
      chunks: ["BEGIN RSA PRIVATE KEY"],
      forwarded: ["BEGIN RSA PRIVATE KEY"],
      closedAt: [],
      scan: [0, 0, 1],
    },
    {
      name: "content-encoding identity is no compression: scanned",
      headers: [["content-type", "text/plain"], ["content-encoding", "identity"]],
      chunks: ["x BEGIN RSA PRIVATE KEY"],
      forwarded: [""],
      closedAt: [0],
      scan: [1, 1, 0],
    },
  ];

  for (const c of CASES) {
    test(c.name, () => {
      const out = respond(t, cp, c.headers, c.chunks);
      assert.deepEqual(out.forwarded, c.forwarded);
      assert.deepEqual(out.closedAt, c.closedAt);
      assert.deepEqual(scanOf(out.windows), c.scan);
      assert.equal(out.windows[0]!.requests, 1, "the request is reported once");
      assert.equal(out.windows[0]!.errors5xx + out.windows[0]!.resets, 0, "a cut by the filter is not the upstream's failure");
      if (c.cut !== undefined) assert.equal(out.windows[0]!.streams?.cut, c.cut, "a stream the filter cut is not counted as cut by the upstream");
    });
  }

  test("a body is read once per chunk for the scan (besides the stream meter's read of an event stream)", () => {
    const vm = t.plugin.vms[0]!;
    const before = vm.bodyReads;
    respond(t, cp, [["content-type", "application/json"]], ["a", "b", "c"]);
    assert.equal(vm.bodyReads - before, 3);
  });
});

describe("without a deny-list", () => {
  let t: PluginTester;
  let cp: FakeControlPlane;
  before(async () => {
    ({ t, cp } = await startFilter());
    cp.push({ version: 1, clusters: [{ cluster: "llm-a", weight: 50 }, { cluster: "llm-b", weight: 50 }] });
  });
  after(() => t.close());

  test("bodies are not read at all (no body work), pass untouched and no BodyScan is reported", () => {
    const vm = t.plugin.vms[0]!;
    const before = vm.bodyReads;
    const out = respond(t, cp, [["content-type", "application/json"]], ["BEGIN RSA PRIVATE KEY", "more"]);
    assert.equal(vm.bodyReads - before, 0);
    assert.deepEqual(out.forwarded, ["BEGIN RSA PRIVATE KEY", "more"]);
    assert.deepEqual(out.closedAt, []);
    assert.equal(scanOf(out.windows), null);
  });
});

describe("an immediate halt", () => {
  let t: PluginTester;
  let cp: FakeControlPlane;
  before(async () => {
    ({ t, cp } = await startFilter());
  });
  after(() => t.close());

  const CLUSTERS = [{ cluster: "llm-a", weight: 50 }, { cluster: "llm-b", weight: 50 }];
  const CASES: Array<{ name: string; headers: Array<[string, string]>; haltMode: number; forwarded: string[]; closedAt: number[] }> = [
    {
      name: "cuts an event stream in flight at its next chunk: the final error event, then a reset at the chunk after",
      headers: [["content-type", SSE]], haltMode: 2,
      forwarded: [token("t0"), HALTED_EVENT, "", ""], closedAt: [2],
    },
    {
      name: "cuts another response in flight at its next chunk: emptied and reset",
      headers: [["content-type", "application/json"]], haltMode: 2,
      forwarded: ['{"a":', "", "", ""], closedAt: [1, 2],
    },
    {
      name: "a halt as a drain lets the stream in flight finish",
      headers: [["content-type", SSE]], haltMode: 1,
      forwarded: [token("t0"), token("t1"), token("t2"), "data: [DONE]\n\n"], closedAt: [],
    },
  ];

  let version = 1;
  for (const c of CASES) {
    test(c.name, () => {
      cp.push({ version: version++, clusters: CLUSTERS });
      const chunks = c.headers[0]![1] === SSE ? [token("t0"), token("t1"), token("t2"), "data: [DONE]\n\n"] : ['{"a":', "1,", '"b":', "2}"];
      // The halt arrives while the response streams, between its first and second chunk.
      const out = respond(t, cp, c.headers, chunks, (i) => {
        if (i === 1) cp.push({ version: version++, halted: true, haltReason: "runaway", haltMode: c.haltMode, clusters: CLUSTERS });
      });
      assert.deepEqual(out.forwarded, c.forwarded);
      assert.deepEqual(out.closedAt, c.closedAt);
      // New requests get the halt's local 503 either way.
      const x = t.request({ headers: { ":path": "/v1/chat" } });
      assert.equal(x.localReply?.status, 503);
    });
  }

  test("after a resume, streams flow again", () => {
    cp.push({ version: version++, clusters: CLUSTERS });
    const out = respond(t, cp, [["content-type", SSE]], [token("a"), "data: [DONE]\n\n"]);
    assert.deepEqual(out.forwarded, [token("a"), "data: [DONE]\n\n"]);
  });
});
