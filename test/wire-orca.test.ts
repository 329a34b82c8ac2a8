// The filter's ORCA load-report parser (filter/src/core/orca.ts), run as compiled AssemblyScript
// through the wire harness: the forms Envoy's source/common/orca/orca_parser.cc reads, and the
// values that make a header unreadable.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { loadWireHarness, type WireHarness } from "./golden/as-harness.js";

let harness: WireHarness;
before(async () => {
  harness = await loadWireHarness();
});

/** [cpu, mem, application, rps_fractional, queue] with null where absent, or "unparsed". */
type Parsed = (number | null)[] | "unparsed";

const CASES: [string, string, Parsed][] = [
  ["the TEXT form with key=value pairs and a named queue metric", "TEXT cpu_utilization=0.3, application_utilization=0.5, named_metrics.num_requests_waiting=4", [0.3, null, 0.5, null, 4]],
  ["the TEXT form with key:value pairs and keys it does not keep", "TEXT cpu_utilization:0.7,application_utilization:0.8,mem_utilization:0.9,rps_fractional:1000,eps:2,named_metrics.foo:123", [0.7, 0.9, 0.8, 1000, null]],
  ["the TEXT form with tabs, empty parts and an exponent", "TEXT \tcpu_utilization = 9.5e-1 ,, mem_utilization=1,", [0.95, 1, null, null, null]],
  ["the TEXT form with nothing in it", "TEXT ", [null, null, null, null, null]],
  ["the JSON form in snake_case", "JSON {\"cpu_utilization\": 0.3, \"named_metrics\": {\"num_requests_waiting\": 4, \"kv_cache_usage_perc\": 0.5}}", [0.3, null, null, null, 4]],
  ["the JSON form in lowerCamelCase", "JSON {\"cpuUtilization\":0.25,\"rpsFractional\":12.5,\"applicationUtilization\":1.5,\"memUtilization\":0}", [0.25, 0, 1.5, 12.5, null]],
  ["numbers with an exponent, a bare fraction, a trailing point and 17 digits, each exactly rounded", "TEXT cpu_utilization=1e-05, mem_utilization=.5, application_utilization=2., rps_fractional=0.12345678901234567", [1e-5, 0.5, 2, 0.12345678901234567, null]],
  ["decimals read in place exactly rounded", "TEXT cpu_utilization=0.1, mem_utilization=0.7, rps_fractional=123456.789012345", [0.1, 0.7, null, 123456.789012345, null]],
  ["a negative value (Envoy accepts it too)", "TEXT named_metrics.num_requests_waiting=-1", [null, null, null, null, -1]],
  ["the BIN form (not decoded)", "BIN CghkAAAAAAAA", "unparsed"],
  ["a value without a format prefix", "cpu_utilization=0.3", "unparsed"],
  ["a lower-case prefix", "text cpu_utilization=0.3", "unparsed"],
  ["a repeated key", "TEXT cpu_utilization=0.3, cpu_utilization=0.4", "unparsed"],
  ["a value that is not a number", "TEXT cpu_utilization=\"0.7\"", "unparsed"],
  ["NaN", "TEXT cpu_utilization=NaN", "unparsed"],
  ["an infinite value", "TEXT cpu_utilization=1e400", "unparsed"],
  ["a pair without a key", "TEXT =0.3", "unparsed"],
  ["a pair without a separator", "TEXT cpu_utilization", "unparsed"],
  ["a value with trailing text", "TEXT cpu_utilization=0.3x", "unparsed"],
  ["a value that is only a sign or a point", "TEXT cpu_utilization=-, mem_utilization=.", "unparsed"],
  ["a value with two points", "TEXT cpu_utilization=0.3.1", "unparsed"],
  ["a prefix without its space", "TEXTcpu_utilization=0.3", "unparsed"],
  ["a JSON form that is not an object", "JSON [0.3]", "unparsed"],
  ["a JSON metric that is a string", "JSON {\"cpu_utilization\":\"0.3\"}", "unparsed"],
  ["JSON named metrics that are not an object", "JSON {\"named_metrics\":[4]}", "unparsed"],
  ["malformed JSON", "JSON {\"cpu_utilization\":0.3", "unparsed"],
];

for (const [what, header, expected] of CASES) {
  test(`the ORCA parser reads ${what} as ${expected === "unparsed" ? "unparsed" : JSON.stringify(expected)}`, () => {
    const out = harness.orcaParse(header);
    assert.deepEqual(out === "unparsed" ? out : (JSON.parse(out) as Parsed), expected);
  });
}
