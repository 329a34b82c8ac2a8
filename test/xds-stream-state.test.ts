// The state-of-the-world ADS protocol of one stream, without sockets: versions, nonces, ACK/NACK,
// subscription changes, wildcards.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AdsStreamState, type DiscoveryRequestView } from "../control-plane/src/xds/stream-state.js";
import { TYPE_URL_OF_KIND, type Snapshot, type TypeSnapshot } from "../control-plane/src/xds/snapshot.js";
import type { XdsResourceKind } from "../control-plane/src/xds/types.js";

/** A snapshot of fake resources: the protocol never looks inside them. */
function typeSnapshot(kind: XdsResourceKind, version: string, names: string[]): TypeSnapshot {
  return {
    version,
    resources: new Map(names.map((name) => [name, { type_url: TYPE_URL_OF_KIND[kind], value: new TextEncoder().encode(`${name}@${version}`) }])),
  };
}

function snapshot(versions: Partial<Record<XdsResourceKind, [string, string[]]>>): Snapshot {
  const of = (kind: XdsResourceKind): TypeSnapshot => typeSnapshot(kind, versions[kind]?.[0] ?? "v0", versions[kind]?.[1] ?? []);
  return { listener: of("listener"), route: of("route"), cluster: of("cluster"), endpoint: of("endpoint") };
}

function request(kind: XdsResourceKind, names: string[], nonce = "", version = "", error?: string): DiscoveryRequestView {
  return {
    typeUrl: TYPE_URL_OF_KIND[kind],
    versionInfo: version,
    responseNonce: nonce,
    resourceNames: names,
    errorDetail: error === undefined ? undefined : { code: 14, message: error },
  };
}

function newStream(): AdsStreamState {
  let n = 0;
  return new AdsStreamState(() => `n${++n}`);
}

const SNAP = snapshot({ listener: ["L1", ["svc", "other"]], route: ["R1", ["svc", "other"]], cluster: ["C1", ["a", "b", "c"]], endpoint: ["E1", ["a", "b", "c"]] });

test("the first request of a type is answered with the subscribed resources, the type's version and a fresh nonce", () => {
  const stream = newStream();
  const { events, responses } = stream.onRequest(request("route", ["svc"]), SNAP);
  assert.deepEqual(events, []);
  assert.equal(responses.length, 1);
  assert.equal(responses[0]?.version, "R1");
  assert.equal(responses[0]?.nonce, "n1");
  assert.equal(responses[0]?.typeUrl, TYPE_URL_OF_KIND.route);
  assert.deepEqual(responses[0]?.names, ["svc"]);
  assert.equal(responses[0]?.resources.length, 1);
});

test("an ACK of the newest nonce is reported and not answered", () => {
  const stream = newStream();
  stream.onRequest(request("cluster", ["a"]), SNAP);
  const { events, responses } = stream.onRequest(request("cluster", ["a"], "n1", "C1"), SNAP);
  assert.deepEqual(events, [{ type: "ack", kind: "cluster", version: "C1", nonce: "n1" }]);
  assert.deepEqual(responses, []);
  assert.equal(stream.status().cluster?.ackedVersion, "C1");
});

test("a client that widens its subscription with its ACK gets every subscribed resource at the same version", () => {
  const stream = newStream();
  stream.onRequest(request("cluster", ["a"]), SNAP);
  const { events, responses } = stream.onRequest(request("cluster", ["a", "b"], "n1", "C1"), SNAP);
  assert.equal(events[0]?.type, "ack");
  assert.equal(responses.length, 1);
  assert.equal(responses[0]?.version, "C1");
  assert.equal(responses[0]?.nonce, "n2");
  assert.deepEqual(responses[0]?.names, ["a", "b"]);
});

test("a request answering an older nonce is ignored whole, subscription included", () => {
  const stream = newStream();
  stream.onRequest(request("cluster", ["a"]), SNAP);
  // The client widened before it saw n1: its request still carries the empty nonce.
  const stale = stream.onRequest(request("cluster", ["a", "b"], ""), SNAP);
  assert.deepEqual(stale.events, [{ type: "stale", kind: "cluster", nonce: "", expectedNonce: "n1" }]);
  assert.deepEqual(stale.responses, []);
  assert.deepEqual(stream.status().cluster?.subscribed, ["a"]);
  // Its ACK of n1 repeats the full subscription, which is then answered.
  const ack = stream.onRequest(request("cluster", ["a", "b"], "n1", "C1"), SNAP);
  assert.deepEqual(ack.responses[0]?.names, ["a", "b"]);
});

test("a NACK keeps the last accepted version and the rejected config is not sent again until a new version exists", () => {
  const stream = newStream();
  stream.onRequest(request("route", ["svc"]), SNAP);
  stream.onRequest(request("route", ["svc"], "n1", "R1"), SNAP);
  const bad = snapshot({ route: ["R2", ["svc"]] });
  const pushed = stream.onSnapshot(bad);
  assert.equal(pushed.length, 1);
  assert.equal(pushed[0]?.version, "R2");
  const nack = stream.onRequest(request("route", ["svc"], "n2", "R1", "sum of weights is 0"), bad);
  assert.deepEqual(nack.events, [
    { type: "nack", kind: "route", rejectedVersion: "R2", keptVersion: "R1", nonce: "n2", code: 14, detail: "sum of weights is 0" },
  ]);
  assert.deepEqual(nack.responses, [], "a NACK is not answered with the same config");
  assert.equal(stream.status().route?.ackedVersion, "R1");
  assert.equal(stream.status().route?.rejectedVersion, "R2");
  assert.equal(stream.status().route?.rejectDetail, "sum of weights is 0");
  assert.deepEqual(stream.onSnapshot(bad), [], "the same snapshot again sends nothing");
  const fixed = stream.onSnapshot(snapshot({ route: ["R3", ["svc"]] }));
  assert.equal(fixed[0]?.version, "R3");
  const ack = stream.onRequest(request("route", ["svc"], "n3", "R3"), snapshot({ route: ["R3", ["svc"]] }));
  assert.equal(ack.events[0]?.type, "ack");
  assert.equal(stream.status().route?.rejectedVersion, "");
});

test("going back to the accepted version after a NACK is a new send", () => {
  const stream = newStream();
  stream.onRequest(request("route", ["svc"]), SNAP);
  stream.onRequest(request("route", ["svc"], "n1", "R1"), SNAP);
  const bad = snapshot({ route: ["R2", ["svc"]] });
  stream.onSnapshot(bad);
  stream.onRequest(request("route", ["svc"], "n2", "R1", "bad"), bad);
  const back = stream.onSnapshot(SNAP);
  assert.equal(back[0]?.version, "R1");
});

test("every response carries every subscribed resource, not only the changed ones", () => {
  const stream = newStream();
  stream.onRequest(request("endpoint", ["a", "b"]), SNAP);
  stream.onRequest(request("endpoint", ["a", "b"], "n1", "E1"), SNAP);
  const next = stream.onSnapshot(snapshot({ endpoint: ["E2", ["a", "b", "c"]] }));
  assert.deepEqual(next[0]?.names, ["a", "b"]);
});

test("a new snapshot is pushed even before the previous response is acknowledged, and the late ACK is stale", () => {
  const stream = newStream();
  stream.onRequest(request("route", ["svc"]), SNAP);
  const pushed = stream.onSnapshot(snapshot({ route: ["R2", ["svc"]] }));
  assert.equal(pushed[0]?.nonce, "n2");
  const late = stream.onRequest(request("route", ["svc"], "n1", "R1"), snapshot({ route: ["R2", ["svc"]] }));
  assert.equal(late.events[0]?.type, "stale");
  assert.equal(stream.status().route?.ackedVersion, "");
});

test("listeners and clusters accept wildcard subscriptions; routes and endpoints do not", () => {
  const table: Array<{ kind: XdsResourceKind; names: string[]; expect: string[] }> = [
    { kind: "listener", names: [], expect: ["other", "svc"] },
    { kind: "listener", names: ["*"], expect: ["other", "svc"] },
    { kind: "cluster", names: [], expect: ["a", "b", "c"] },
    { kind: "route", names: [], expect: [] },
    { kind: "endpoint", names: [], expect: [] },
  ];
  for (const row of table) {
    const { responses } = newStream().onRequest(request(row.kind, row.names), SNAP);
    assert.deepEqual([...(responses[0]?.names ?? [])].sort(), row.expect, `${row.kind} ${JSON.stringify(row.names)}`);
  }
});

test("a wildcard subscriber gets resources that appear later; an empty ACK keeps the wildcard", () => {
  const stream = newStream();
  stream.onRequest(request("cluster", []), SNAP);
  stream.onRequest(request("cluster", [], "n1", "C1"), SNAP);
  assert.equal(stream.status().cluster?.wildcard, true);
  const grown = stream.onSnapshot(snapshot({ cluster: ["C2", ["a", "b", "c", "d"]] }));
  assert.deepEqual([...(grown[0]?.names ?? [])].sort(), ["a", "b", "c", "d"]);
});

test("names that do not exist are left out and sent once they appear", () => {
  const stream = newStream();
  const first = stream.onRequest(request("route", ["svc", "missing"]), SNAP);
  assert.deepEqual(first.responses[0]?.names, ["svc"]);
  stream.onRequest(request("route", ["svc", "missing"], "n1", "R1"), SNAP);
  const later = stream.onSnapshot(snapshot({ route: ["R2", ["svc", "missing"]] }));
  assert.deepEqual(later[0]?.names, ["svc", "missing"]);
});

test("types are independent: each has its own nonce sequence position and version", () => {
  const stream = newStream();
  const l = stream.onRequest(request("listener", ["svc"]), SNAP);
  const r = stream.onRequest(request("route", ["svc"]), SNAP);
  assert.notEqual(l.responses[0]?.nonce, r.responses[0]?.nonce);
  // An ACK of the listener nonce does not touch routes.
  stream.onRequest(request("listener", ["svc"], l.responses[0]?.nonce ?? "", "L1"), SNAP);
  assert.equal(stream.status().listener?.ackedVersion, "L1");
  assert.equal(stream.status().route?.ackedVersion, "");
  const pushed = stream.onSnapshot(snapshot({ listener: ["L1", ["svc", "other"]], route: ["R9", ["svc"]] }));
  assert.deepEqual(pushed.map((p) => `${p.kind}@${p.version}`), ["route@R9"]);
});

test("a request for a type the server does not serve is reported and not answered", () => {
  const { events, responses } = newStream().onRequest(
    { typeUrl: "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", versionInfo: "", responseNonce: "", resourceNames: [] },
    SNAP,
  );
  assert.deepEqual(events, [{ type: "unknown_type", typeUrl: "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret" }]);
  assert.deepEqual(responses, []);
});

test("an unsubscribe is answered so the client's state of the world matches", () => {
  const stream = newStream();
  stream.onRequest(request("cluster", ["a", "b"]), SNAP);
  const { responses } = stream.onRequest(request("cluster", ["a"], "n1", "C1"), SNAP);
  assert.deepEqual(responses[0]?.names, ["a"]);
});
