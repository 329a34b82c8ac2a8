// How Envoy's /stats/prometheus names the filter's metrics, emulated by the project's host
// (filter/host/prometheus.ts): custom namespace "wasmcustom", stats_config.stats_tags, no "envoy_"
// prefix. The shipped bootstrap and the local sidecar must use the same tag regexes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { MetricsStore, MetricType, WASM_CUSTOM_NAMESPACE, compileTags, extractTags, toPrometheusText } from "../filter/host/index.js";
import { FILTER_STATS_TAGS } from "../sidecar/sidecar-metrics.js";

const tags = compileTags(FILTER_STATS_TAGS);

test("the Envoy bootstrap ships the same stats tags as the local sidecar", () => {
  const envoy = parseYaml(readFileSync(join("deploy", "envoy", "envoy.yaml"), "utf8")) as { stats_config?: { stats_tags?: { tag_name: string; regex: string }[] } };
  assert.deepEqual(
    envoy.stats_config?.stats_tags?.map((t) => ({ tagName: t.tag_name, regex: t.regex })),
    FILTER_STATS_TAGS.map((t) => ({ ...t })),
  );
});

const cases: [string, string, [string, string][]][] = [
  ["wasmcustom.autoglm.requests.llm-a.5xx", "wasmcustom.autoglm.requests", [["cluster", "llm-a"], ["class", "5xx"]]],
  ["wasmcustom.autoglm.requests.llm-a.local_reject", "wasmcustom.autoglm.requests", [["cluster", "llm-a"], ["class", "local_reject"]]],
  ["wasmcustom.autoglm.requests.llm.eu.2xx", "wasmcustom.autoglm.requests", [["cluster", "llm.eu"], ["class", "2xx"]]],
  ["wasmcustom.autoglm.latency_us.llm-b", "wasmcustom.autoglm.latency_us", [["cluster", "llm-b"]]],
  ["wasmcustom.autoglm.latency_us.llm.eu", "wasmcustom.autoglm.latency_us", [["cluster", "llm.eu"]]],
  ["wasmcustom.autoglm.breaker_state.llm-c", "wasmcustom.autoglm.breaker_state", [["cluster", "llm-c"]]],
  ["wasmcustom.autoglm.weight.llm-a", "wasmcustom.autoglm.weight", [["cluster", "llm-a"]]],
  ["wasmcustom.autoglm.fast_trips.llm.eu", "wasmcustom.autoglm.fast_trips", [["cluster", "llm.eu"]]],
  ["wasmcustom.autoglm.shed.llm.eu", "wasmcustom.autoglm.shed", [["cluster", "llm.eu"]]],
  ["wasmcustom.autoglm.decisions.applied", "wasmcustom.autoglm.decisions.applied", []],
  ["wasmcustom.autoglm.fallback", "wasmcustom.autoglm.fallback", []],
  ["wasmcustom.autoglm.cp.reconnects", "wasmcustom.autoglm.cp.reconnects", []],
];
for (const [full, name, labels] of cases) {
  test(`Envoy's tag extraction turns ${full} into ${name} with ${JSON.stringify(labels)}`, () => {
    assert.deepEqual(extractTags(full, tags), { name, labels });
  });
}

test("tag extraction follows Envoy's documented example: each regex on the original name, removals at the end", () => {
  // envoy/config/metrics/v3/stats.proto, TagSpecifier.regex, example 2.
  const documented = compileTags([
    { tagName: "envoy.http_user_agent", regex: "^http(?=\\.).*?\\.user_agent\\.((.+?)\\.)\\w+?$" },
    { tagName: "envoy.http_conn_manager_prefix", regex: "^http\\.((.*?)\\.)" },
  ]);
  assert.deepEqual(extractTags("http.connection_manager_1.user_agent.ios.downstream_cx_total", documented), {
    name: "http.user_agent.downstream_cx_total",
    labels: [["envoy_http_user_agent", "ios"], ["envoy_http_conn_manager_prefix", "connection_manager_1"]],
  });
});

test("a tag regex that does not compile or has no group is refused with its name", () => {
  assert.throws(() => compileTags([{ tagName: "bad", regex: "(" }]), /stats tag "bad": invalid regex/);
  assert.throws(() => compileTags([{ tagName: "flat", regex: "^x\\." }]), /stats tag "flat": the regex needs a capture group/);
});

/** The sample lines of the "expected scrape" block of deploy/envoy/README.md. */
function readmeScrape(): string[] {
  const readme = readFileSync(join("deploy", "envoy", "README.md"), "utf8");
  const block = /<!-- expected-scrape -->\n```text\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, "deploy/envoy/README.md has the expected-scrape block");
  return block[1]!.split("\n").filter((l) => l !== "" && !l.startsWith("#") && !l.startsWith("..."));
}

test("the expected Envoy scrape in deploy/envoy/README.md is what the tag regexes give", () => {
  const store = new MetricsStore();
  const counter = (name: string, v: number) => store.increment(store.define(MetricType.Counter, name), v);
  const gauge = (name: string, v: number) => store.record(store.define(MetricType.Gauge, name), v);
  counter("autoglm.requests.llm-a.2xx", 1234);
  counter("autoglm.requests.llm-a.5xx", 17);
  counter("autoglm.requests.llm-b.2xx", 980);
  const h = store.define(MetricType.Histogram, "autoglm.latency_us.llm-a");
  for (const us of [180_000, 420_000, 2_600_000]) store.record(h, us);
  gauge("autoglm.breaker_state.llm-a", 1);
  gauge("autoglm.breaker_state.llm-b", 2);
  gauge("autoglm.weight.llm-a", 100);
  gauge("autoglm.weight.llm-b", 0);
  counter("autoglm.decisions.applied", 42);
  gauge("autoglm.decision_version", 42);
  gauge("autoglm.fallback", 0);
  counter("autoglm.cp.reconnects", 3);
  const envoyText = toPrometheusText(store.snapshot(), { namespace: WASM_CUSTOM_NAMESPACE, tags: FILTER_STATS_TAGS });
  const lines = new Set(envoyText.split("\n"));
  const expected = readmeScrape();
  assert.ok(expected.length >= 10, `the block has ${expected.length} sample lines`);
  for (const line of expected) assert.ok(lines.has(line), `README line ${JSON.stringify(line)} is in the emulated scrape:\n${envoyText}`);
});
