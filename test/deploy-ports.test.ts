import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { DEFAULTS } from "../control-plane/src/config/index.js";

// The shipped configurations must reach the control plane where it listens by default: gRPC
// (the sidecars' stream) on DEFAULTS.grpcPort, the admin API and /metrics on DEFAULTS.adminPort.

/** Every file under deploy/, as [path, text]. */
function deployFiles(dir = "deploy"): [string, string][] {
  const out: [string, string][] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...deployFiles(path));
    else out.push([path, readFileSync(path, "utf8")]);
  }
  return out;
}

test("the Envoy bootstrap sends the control-plane stream to the control plane's default gRPC port", () => {
  const envoy = parseYaml(readFileSync(join("deploy", "envoy", "envoy.yaml"), "utf8")) as {
    static_resources: { clusters: { name: string; load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { port_value: number } } } }[] }[] } }[] };
  };
  const cp = envoy.static_resources.clusters.find((c) => c.name === "autoglm-control-plane");
  assert.ok(cp, "the bootstrap has the autoglm-control-plane cluster");
  const ports = cp.load_assignment.endpoints.flatMap((e) => e.lb_endpoints.map((l) => l.endpoint.address.socket_address.port_value));
  assert.deepEqual(ports, [DEFAULTS.grpcPort]);
});

test("the Istio WasmPlugin names the control plane's outbound cluster on the default gRPC port", () => {
  const plugin = parseYaml(readFileSync(join("deploy", "istio", "wasmplugin.yaml"), "utf8")) as { spec: { pluginConfig: { control_plane: { cluster: string } } } };
  const match = /^outbound\|(\d+)\|\|/.exec(plugin.spec.pluginConfig.control_plane.cluster);
  assert.ok(match, `control_plane.cluster ${plugin.spec.pluginConfig.control_plane.cluster} is an Istio outbound cluster`);
  assert.equal(Number(match[1]), DEFAULTS.grpcPort);
});

test("every control-plane address in the Envoy and Istio files uses the default gRPC port", () => {
  // Sidecars only speak gRPC to the control plane: the admin port (DEFAULTS.adminPort) is wrong there.
  let seen = 0;
  for (const [path, text] of [...deployFiles(join("deploy", "envoy")), ...deployFiles(join("deploy", "istio"))]) {
    // "autoglm-control-plane:50051", "port_value: 50051" in its cluster, "outbound|50051||autoglm-control-plane..."
    for (const m of text.matchAll(/autoglm-control-plane[a-z0-9.-]*:(\d+)|outbound\|(\d+)\|\|autoglm-control-plane/g)) {
      seen++;
      assert.equal(Number(m[1] ?? m[2]), DEFAULTS.grpcPort, `${path}: ${m[0]}`);
    }
  }
  assert.ok(seen >= 2, `found ${seen} mentions of the control plane's address`);
});

test("the README of the Envoy bootstrap names the control plane's gRPC port", () => {
  const readme = readFileSync(join("deploy", "envoy", "README.md"), "utf8");
  assert.match(readme, new RegExp(`autoglm-control-plane(-replicas)?:${DEFAULTS.grpcPort}\\b`));
});

test("the example Prometheus configuration scrapes the control plane on its default admin port", () => {
  const config = parseYaml(readFileSync(join("deploy", "prometheus", "prometheus.yml"), "utf8")) as {
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  const job = config.scrape_configs.find((c) => c.job_name === "autoglm-control-plane");
  assert.ok(job, "a job scrapes the control plane");
  for (const target of job.static_configs.flatMap((s) => s.targets)) assert.match(target, new RegExp(`:${DEFAULTS.adminPort}$`));
});

test("the README, the CLI help and the example configuration name the default admin port", () => {
  const example = parseYaml(readFileSync(join("demo", "control-plane.example.yaml"), "utf8")) as { admin: { port: number } };
  assert.equal(example.admin.port, DEFAULTS.adminPort);
  for (const path of ["README.md", join("cli", "commands", "control-plane.ts")]) {
    assert.match(readFileSync(path, "utf8"), new RegExp(`127\\.0\\.0\\.1:${DEFAULTS.adminPort}\\b`), path);
  }
});

test("the default admin port is none of the well-known monitoring defaults it would collide with", () => {
  // Prometheus 9090, Pushgateway 9091, Alertmanager 9093, node_exporter 9100, OpenTelemetry's
  // Prometheus exporter 9464, Envoy admin 9901, Open Policy Agent 8181, Istio 15000-15090.
  const taken = [9090, 9091, 9093, 9100, 9464, 9901, 8181];
  assert.ok(!taken.includes(DEFAULTS.adminPort), `admin port ${DEFAULTS.adminPort}`);
  assert.ok(DEFAULTS.adminPort < 15000 || DEFAULTS.adminPort > 15090, `admin port ${DEFAULTS.adminPort} is not in Istio's range`);
  assert.notEqual(DEFAULTS.adminPort, DEFAULTS.grpcPort);
  assert.notEqual(DEFAULTS.adminPort, DEFAULTS.xdsPort);
});
