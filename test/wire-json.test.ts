import { test, before } from "node:test";
import assert from "node:assert/strict";
import { loadWireHarness, type WireHarness } from "./golden/as-harness.js";

let harness: WireHarness;
before(async () => {
  harness = await loadWireHarness();
});

/** Parses with the AssemblyScript parser: the value (via its re-serialization) or the error. */
function parse(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const out = harness.jsonRoundTrip(text);
  if (out.startsWith("ok:")) return { ok: true, value: JSON.parse(out.slice(3)) as unknown };
  assert.ok(out.startsWith("error:"), out);
  return { ok: false, error: out.slice(6) };
}

const FILTER_CONFIG = `{
  "node_id": "sidecar-1", "zone": "zone-a",
  "control_plane": { "cluster": "autoglm-control-plane", "timeout_ms": 5000, "token": "" },
  "window_ms": 1000,
  "clusters": [ { "name": "llm-a", "weight": 50 }, { "name": "llm-b", "weight": 50 } ],
  "headers": { "cluster": "x-autoglm-cluster", "explicit_cluster": "x-autoglm-target" },
  "latency_header": false,
  "fallback": { "failure_rate": 0.5, "min_requests": 20, "slow_call_ms": 0, "slow_call_rate": 0.5,
                "open_ms": 5000, "probe_requests": 10 },
  "fail_open": true
}`;

test("valid JSON texts parse to the same values as JSON.parse", () => {
  const texts = [
    FILTER_CONFIG,
    "null",
    "true",
    " false ",
    "0",
    "-0.5",
    "1e3",
    "1E-7",
    "-12.5e+2",
    "123456789012345",
    "1.7976931348623157e308",
    "5e-324",
    '""',
    '"plain"',
    '"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t"',
    '"\\u0041\\u00e9\\u4e2d\\ud83d\\udea6"',
    '"raw ✓ 🚦 ä"',
    "[]",
    "{}",
    "[1, [2, [3, {}]], {\"a\": [null]}]",
    '{"a": 1, "b": {"c": [true, false, null, "x"]}}',
    "\t\r\n [ 1 ,\n 2 ] \n",
  ];
  for (const text of texts) {
    const r = parse(text);
    assert.ok(r.ok, `${text}: ${r.ok ? "" : r.error}`);
    assert.deepEqual(r.value, JSON.parse(text), text);
  }
});

test("a repeated object key keeps the last value, as JSON.parse does", () => {
  const r = parse('{"a": 1, "a": 2}');
  assert.ok(r.ok);
  // The tree keeps both members; the getters (and this re-serialization read by JSON.parse) see the last.
  assert.deepEqual(r.value, { a: 2 });
});

test("invalid JSON texts give an error naming the problem and its line, column and offset", () => {
  const cases: Array<[string, string]> = [
    ["", "expected a value, found end of input at line 1, column 1 (offset 0)"],
    ["   ", "expected a value, found end of input at line 1, column 4 (offset 3)"],
    ["{", "expected a string key, found end of input at line 1, column 2 (offset 1)"],
    ['{"a" 1}', "expected ':' after an object key, found '1' at line 1, column 6 (offset 5)"],
    ['{"a": 1,}', "expected a string key, found '}' at line 1, column 9 (offset 8)"],
    ["[1, 2", "expected ',' or ']' in an array, found end of input"],
    ["[1 2]", "expected ',' or ']' in an array, found '2' at line 1, column 4 (offset 3)"],
    ['{"a": 1 "b": 2}', "expected ',' or '}' in an object, found '\"'"],
    ["[1,]", "expected a value, found ']'"],
    ["01", "leading zero in a number"],
    ["-", "expected a digit, found end of input"],
    ["1.", "expected a digit after '.', found end of input"],
    ["1e", "expected a digit in the exponent"],
    [".5", "expected a value, found '.'"],
    ["NaN", "expected a value, found 'N'"],
    ["tru", "expected a value, found 't'"],
    ['"abc', "unterminated string"],
    ['"a\nb"', "control character U+000a in a string (escape it)"],
    ['"\\x"', "invalid escape \\x in a string"],
    ['"\\u12"', "\\u must be followed by 4 hex digits"],
    ['"\\u12G4"', "\\u must be followed by 4 hex digits"],
    ["1 2", "unexpected '2' after the value at line 1, column 3 (offset 2)"],
    ["{} x", "unexpected 'x' after the value"],
    ["// comment\n1", "expected a value, found '/'"],
    ["{\n  \"a\": [1,\n    2,,\n  ]\n}", "expected a value, found ',' at line 3, column 7 (offset 19)"],
    ["\u0001", "expected a value, found character U+0001"],
  ];
  for (const [text, expected] of cases) {
    const r = parse(text);
    assert.equal(r.ok, false, `${JSON.stringify(text)} parsed`);
    if (!r.ok) assert.ok(r.error.includes(expected), `${JSON.stringify(text)}: got "${r.error}", expected "${expected}"`);
  }
});

test("nesting deeper than 64 levels is an error, not a stack overflow", () => {
  assert.ok(parse("[".repeat(64) + "]".repeat(64)).ok);
  const deep = parse("[".repeat(65) + "]".repeat(65));
  assert.ok(!deep.ok && deep.error.startsWith("nesting deeper than 64 levels"));
  const huge = parse('{"a":'.repeat(100_000));
  assert.ok(!huge.ok && huge.error.startsWith("nesting deeper than 64 levels"));
});

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

test("fuzzed texts never trap and are accepted exactly when JSON.parse accepts them, with the same value", () => {
  const random = rng(2024);
  const alphabet = '{}[]:,"\\ \n\t0123456789-+.eEtrufalsn\u00e9\u4e2dabcxu';
  const seeds = [FILTER_CONFIG, '{"a": [1, -2.5e3, "x\\u00e9\\n", true, null], "b": {}}', '[[[]], {"k": "v"}, 0]'];
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < 4000; i++) {
    let text: string;
    if (random() < 0.3) {
      text = Array.from({ length: Math.floor(random() * 24) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
    } else {
      text = seeds[Math.floor(random() * seeds.length)];
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * (text.length + 1));
        const kind = random();
        const ch = alphabet[Math.floor(random() * alphabet.length)];
        if (kind < 0.4) text = text.slice(0, at) + ch + text.slice(at + 1);
        else if (kind < 0.7) text = text.slice(0, at) + ch + text.slice(at);
        else if (kind < 0.85) text = text.slice(0, at) + text.slice(at + 1);
        else text = text.slice(0, at); // truncation
      }
    }
    let expected: unknown;
    let jsAccepts = true;
    try {
      expected = JSON.parse(text);
    } catch {
      jsAccepts = false;
    }
    const r = parse(text);
    assert.equal(r.ok, jsAccepts, `${JSON.stringify(text)}: ${r.ok ? "accepted" : r.error}`);
    if (r.ok) {
      assert.deepEqual(r.value, expected, JSON.stringify(text));
      accepted++;
    } else rejected++;
  }
  assert.ok(accepted > 200 && rejected > 200, `accepted ${accepted}, rejected ${rejected}`);
});
