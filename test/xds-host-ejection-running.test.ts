// Host ejection wired in the running control plane (startControlPlane with xds.enabled and
// xds.host_ejection, real sockets, real time): load reports of an Envoy over LRS, judged on the
// control plane's own timer, reach EDS as an UNHEALTHY endpoint; by default LRS is not served.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { validateConfig } from "../control-plane/src/config/index.js";
import { startControlPlane } from "../control-plane/src/server.js";
import { ADS_SERVICE, LRS_SERVICE, TYPE_URL, decodeMessage, parseXdsServices } from "../control-plane/src/xds/index.js";
import { TO_OBJECT, envoyRoot } from "../control-plane/src/xds/protos.js";
import { createLogger } from "../lib/log.js";
import { promtool } from "./promtool.js";

const TOKEN = "host-ejection-admin-token-0123456789";
const SERVICES = parseXdsServices([{
  name: "llm",
  clusters: [
    { name: "llm-a", endpoints: [1, 2, 3, 4].map((i) => ({ address: `10.0.0.${i}`, port: 8000 })) },
    { name: "llm-b", endpoints: [{ address: "10.0.1.1", port: 8000 }] },
  ],
}]);

function lrsStream(client: grpc.Client): grpc.ClientDuplexStream<Record<string, unknown>, Record<string, unknown>> {
  const root = envoyRoot();
  const req = root.lookupType("envoy.service.load_stats.v3.LoadStatsRequest");
  const res = root.lookupType("envoy.service.load_stats.v3.LoadStatsResponse");
  return client.makeBidiStreamRequest(
    `/${LRS_SERVICE}/StreamLoadStats`,
    (v: Record<string, unknown>) => Buffer.from(req.encode(req.fromObject(v)).finish()),
    (b: Buffer) => res.toObject(res.decode(b), TO_OBJECT) as Record<string, unknown>,
  );
}

function report(errorsOnThird: number): Record<string, unknown> {
  return {
    node: { id: "envoy-1", user_agent_name: "envoy" },
    cluster_stats: [{
      cluster_name: "llm-a",
      upstream_locality_stats: [{
        upstream_endpoint_stats: [1, 2, 3, 4].map((i) => ({
          address: { socket_address: { address: `10.0.0.${i}`, port_value: 8000 } },
          total_successful_requests: i === 3 ? 200 - errorsOnThird : 200,
          total_error_requests: i === 3 ? errorsOnThird : 0,
        })),
      }],
    }],
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function healthOf(client: grpc.Client): Promise<string[]> {
  const root = envoyRoot();
  const req = root.lookupType("envoy.service.discovery.v3.DiscoveryRequest");
  const res = root.lookupType("envoy.service.discovery.v3.DiscoveryResponse");
  const ads = client.makeBidiStreamRequest(
    `/${ADS_SERVICE}/StreamAggregatedResources`,
    (v: Record<string, unknown>) => Buffer.from(req.encode(req.fromObject(v)).finish()),
    (b: Buffer) => res.toObject(res.decode(b), TO_OBJECT) as { resources: Array<{ value: Uint8Array }> },
  );
  const got: Array<{ resources: Array<{ value: Uint8Array }> }> = [];
  ads.on("data", (m: { resources: Array<{ value: Uint8Array }> }) => got.push(m));
  ads.on("error", () => {});
  ads.write({ node: { id: "envoy-1", user_agent_name: "envoy" }, type_url: TYPE_URL.endpoint, resource_names: ["llm-a"] });
  await until("EDS", () => got.length > 0);
  ads.end();
  const cla = decodeMessage(TYPE_URL.endpoint, got[0]!.resources[0]!.value) as { endpoints: Array<{ lb_endpoints: Array<{ health_status: string }> }> };
  return cla.endpoints[0]!.lb_endpoints.map((e) => e.health_status);
}

test("an Envoy's load reports showing one host failing a quarter of its requests take it out of EDS, and /metrics says so", async () => {
  // Real time: the control plane judges the hosts on a timer of its own, every decision interval.
  const config = validateConfig({ grpc: { port: 0 }, admin: { port: 0, token: TOKEN }, clusters: [{ name: "llm-a" }, { name: "llm-b" }], xds: { enabled: true, port: 0, host_ejection: true } });
  const running = await startControlPlane(config, { logger: createLogger("host-ejection-test", "silent"), xdsServices: SERVICES });
  const client = new grpc.Client(`127.0.0.1:${running.xdsPort}`, grpc.credentials.createInsecure());
  try {
    const lrs = lrsStream(client);
    const answers: Array<Record<string, unknown>> = [];
    lrs.on("data", (m: Record<string, unknown>) => answers.push(m));
    lrs.on("error", () => {});
    lrs.write({ node: { id: "envoy-1", user_agent_name: "envoy" } });
    await until("the LoadStatsResponse", () => answers.length === 1);
    assert.equal(answers[0]!.report_endpoint_granularity, true);
    assert.deepEqual(await healthOf(client), ["HEALTHY", "HEALTHY", "HEALTHY", "HEALTHY"]);
    // The third host fails 50 of its 200 requests in every report; two judgements in a row with
    // reports take it out (however the reports and the judgements interleave on a loaded machine).
    let health: string[] = [];
    const deadline = Date.now() + 60_000;
    while (health[2] !== "UNHEALTHY" && Date.now() < deadline) {
      lrs.write(report(50));
      await new Promise((resolve) => setTimeout(resolve, 200));
      health = await healthOf(client);
    }
    assert.deepEqual(health, ["HEALTHY", "HEALTHY", "UNHEALTHY", "HEALTHY"]);
    // The admin API's /metrics says so, and passes promtool's checks.
    const metrics = await (await fetch(`${running.adminUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    assert.match(metrics, /^autoglm_hosts_ejected\{cluster="llm-a"\} 1$/m);
    assert.match(metrics, /^autoglm_hosts_ejected\{cluster="llm-b"\} 0$/m);
    assert.match(metrics, /^autoglm_host_ejection_changes_total\{cluster="llm-a",kind="eject"\} 1$/m);
    assert.match(metrics, /^autoglm_host_ejections_total\{cluster="llm-a",reason="errors"\} 1$/m);
    assert.match(metrics, /^autoglm_lrs_reports_total [1-9]/m);
    const checked = promtool(["check", "metrics"], metrics);
    assert.equal(checked.status, 0, checked.output);
    lrs.end();
  } finally {
    client.close();
    await running.close();
  }
});

test("without xds.host_ejection (its default) the control plane serves no load reporting service", async () => {
  const config = validateConfig({ grpc: { port: 0 }, admin: { port: 0, token: TOKEN }, clusters: [{ name: "llm-a" }, { name: "llm-b" }], xds: { enabled: true, port: 0 } });
  const running = await startControlPlane(config, { logger: createLogger("host-ejection-test", "silent"), xdsServices: SERVICES });
  const client = new grpc.Client(`127.0.0.1:${running.xdsPort}`, grpc.credentials.createInsecure());
  try {
    const lrs = lrsStream(client);
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      lrs.on("status", resolve);
      lrs.on("error", () => {});
      lrs.on("data", () => {});
      lrs.write({ node: { id: "envoy-1" } });
    });
    assert.equal(status.code, grpc.status.UNIMPLEMENTED);
  } finally {
    client.close();
    await running.close();
  }
});
