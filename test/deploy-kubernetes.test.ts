// The Kubernetes manifests (deploy/kubernetes/) hang together: the control plane's configuration
// in its ConfigMap validates (with the environment its Deployment sets) and names every etcd
// member of etcd.yaml; three replicas with a disruption budget that keeps a majority; probes on
// routes that do not depend on leadership; etcd's raft timing within etcd's own rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { configFromDocument } from "../control-plane/src/config/index.js";

/** The parts of the manifests the tests read. */
interface Doc {
  kind: string;
  metadata: { name: string };
  spec?: unknown;
  data?: Record<string, string>;
}
interface Container {
  args: string[];
  env: { name: string; value?: string }[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string } };
}
interface Workload extends Doc {
  spec: { replicas: number; serviceName?: string; template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } } };
}

function load(file: string): Doc[] {
  return parseAllDocuments(readFileSync(`deploy/kubernetes/${file}`, "utf8")).map((d) => {
    assert.deepEqual(d.errors, [], `${file}: YAML errors`);
    return d.toJSON() as Doc;
  });
}

const cp = load("control-plane.yaml");
const etcd = load("etcd.yaml");
const find = (docs: Doc[], kind: string) => docs.find((d) => d.kind === kind)!;
const deployment = find(cp, "Deployment") as Workload;
const container = deployment.spec.template.spec.containers[0]!;
const statefulSet = find(etcd, "StatefulSet") as Workload;

function configFromText(text: string): unknown {
  const [doc] = parseAllDocuments(text);
  return doc!.toJSON();
}

test("the control plane's configuration validates with the environment its Deployment sets, and has an etcd section", () => {
  const env: NodeJS.ProcessEnv = { AUTOGLM_ETCD_REPLICA_ID: "autoglm-control-plane-7d9f-abcde", AUTOGLM_ETCD_ADVERTISE_ADDRESS: "10.0.0.7:50051", AUTOGLM_GRPC_TOKEN: "t1", AUTOGLM_ADMIN_TOKEN: "t2" };
  for (const name of Object.keys(env)) assert.ok(container.env.some((e) => e.name === name), `${name} is set by the Deployment`);
  const config = configFromDocument(configFromText(find(cp, "ConfigMap").data!["control-plane.yaml"]!), env);
  assert.ok(config.etcd !== undefined);
  assert.ok(config.etcd.leaseTtlS <= 5);
  assert.equal(config.etcd.replicaId, env.AUTOGLM_ETCD_REPLICA_ID);
  assert.equal(config.etcd.advertiseAddress, env.AUTOGLM_ETCD_ADVERTISE_ADDRESS);
  // The advertised port is the gRPC port the pods expose.
  assert.ok(container.ports.some((p) => p.name === "grpc" && p.containerPort === config.grpc.port));
  assert.match(container.env.find((e) => e.name === "AUTOGLM_ETCD_ADVERTISE_ADDRESS")!.value ?? "", new RegExp(`:${config.grpc.port}$`));
});

test("the control plane's etcd endpoints are the members of the etcd StatefulSet", () => {
  const config = configFromDocument(configFromText(find(cp, "ConfigMap").data!["control-plane.yaml"]!), { AUTOGLM_GRPC_TOKEN: "t", AUTOGLM_ADMIN_TOKEN: "a" });
  const service = find(etcd, "Service");
  const members = Array.from({ length: statefulSet.spec.replicas }, (_, i) => `http://${statefulSet.metadata.name}-${i}.${service.metadata.name}:2379`);
  assert.deepEqual(config.etcd!.endpoints, members);
  assert.equal(statefulSet.spec.serviceName, service.metadata.name);
});

test("three control-plane replicas, a disruption budget that keeps two, and a Service and budget that select them", () => {
  assert.equal(deployment.spec.replicas, 3);
  const labels = deployment.spec.template.metadata.labels;
  const pdb = find(cp, "PodDisruptionBudget") as Doc & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } };
  assert.equal(pdb.spec.minAvailable, 2);
  assert.deepEqual(pdb.spec.selector.matchLabels, labels);
  assert.deepEqual((find(cp, "Service").spec as { selector: Record<string, string> }).selector, labels);
});

test("readiness and liveness use the admin routes that do not depend on leadership", () => {
  assert.equal(container.readinessProbe.httpGet.path, "/readyz");
  assert.equal(container.livenessProbe.httpGet.path, "/healthz");
  assert.ok(container.ports.some((p) => p.name === container.readinessProbe.httpGet.port && p.containerPort === 18081));
});

test("etcd's election timeout is at least five heartbeats (etcd refuses less) and outlasts a 1 s stall", () => {
  const args = statefulSet.spec.template.spec.containers[0]!.args;
  const flag = (name: string) => Number(args.find((a) => a.startsWith(`--${name}=`))!.split("=")[1]);
  assert.equal(statefulSet.spec.replicas, 3);
  assert.ok(flag("election-timeout") >= 5 * flag("heartbeat-interval"));
  assert.ok(flag("election-timeout") >= 2000);
});

test("Envoy sidecars reach every replica: a headless Service lists them, the bootstrap's control-plane cluster resolves it and balances round robin with outlier detection", () => {
  const labels = deployment.spec.template.metadata.labels;
  const headless = cp.find((d) => d.kind === "Service" && (d.spec as { clusterIP?: string }).clusterIP === "None") as Doc & {
    spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
  };
  assert.ok(headless !== undefined, "a headless Service (clusterIP: None)");
  assert.deepEqual(headless.spec.selector, labels);
  const grpcPort = headless.spec.ports.find((p) => p.targetPort === "grpc")!;
  assert.equal(grpcPort.port, container.ports.find((p) => p.name === "grpc")!.containerPort);
  const bootstrap = parseAllDocuments(readFileSync("deploy/envoy/envoy.yaml", "utf8"))[0]!.toJSON() as {
    static_resources: { clusters: { name: string; type: string; lb_policy?: string; outlier_detection?: Record<string, unknown>; load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string; port_value: number } } } }[] }[] } }[] };
  };
  const cluster = bootstrap.static_resources.clusters.find((c) => c.name === "autoglm-control-plane")!;
  assert.equal(cluster.type, "STRICT_DNS", "each address DNS returns is a host");
  assert.equal(cluster.lb_policy, "ROUND_ROBIN");
  assert.equal(cluster.outlier_detection?.consecutive_local_origin_failure, 1);
  assert.equal(cluster.outlier_detection?.split_external_local_origin_errors, true);
  const socket = cluster.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address;
  assert.deepEqual([socket.address, socket.port_value], [headless.metadata.name, grpcPort.port]);
});
