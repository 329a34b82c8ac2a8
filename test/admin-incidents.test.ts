// The admin API's halt confirmation and incidents over a real control plane (virtual clock, no
// sockets, in-process sidecar streams): POST /v1/halt with mode and wait_s answers with the
// workers that confirmed and those that did not; GET /v1/halt; GET /v1/incidents and an
// incident's downtime report as JSON and Markdown.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ControlMessageSchema, SidecarMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { ControlPlane, type InProcessStream } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";
import { ADMIN_AUTH as auth, adminAppOver, twoLlmClusters } from "./support/admin-app.js";

const NOW = 1_800_000_000_000;
const logger = createLogger("admin-test", "silent");

const send = (stream: InProcessStream, kind: Parameters<typeof create<typeof SidecarMessageSchema>>[1]) => stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, kind)));

async function setup() {
  let now = NOW;
  const cp = new ControlPlane({
    ...twoLlmClusters(),
    now: () => now,
    logger,
    haltConfirmWaitMs: 60_000,
  });
  /** A sidecar that acknowledges every decision set it receives (or, `silent`, none). */
  const sidecar = (nodeId: string, silent: boolean, capabilities: string[] = ["shed"]): InProcessStream => {
    const stream: InProcessStream = cp.openInProcessStream({}, {
      onMessage: (bytes) => {
        const m = fromBinary(ControlMessageSchema, bytes);
        if (silent || m.kind.case !== "decisions") return;
        const version = m.kind.value.version;
        queueMicrotask(() => send(stream, { kind: { case: "ack", value: { version } } }));
      },
      onClose: () => {},
    });
    send(stream, { kind: { case: "hello", value: { nodeId, workerId: 0, clusters: ["llm-a", "llm-b"], capabilities } } });
    return stream;
  };
  return { cp, app: await adminAppOver(cp, () => now, logger), sidecar, advance: (ms: number) => (now += ms) };
}

interface HaltAnswer {
  halted: boolean;
  halt_mode: string | null;
  version: number;
  halt: { halted: boolean; mode: string; version: number; confirmation: { state: string; confirmed: { node_id: string }[]; unconfirmed: { node_id: string }[]; waiting: { node_id: string }[]; cannot: { node_id: string; missing_capability: string }[] } };
}

test("POST /v1/halt with wait_s names the sidecars that confirmed and the one that did not; GET /v1/halt shows the same within the configured wait", async () => {
  const { app, sidecar } = await setup();
  sidecar("acking", false);
  const silent = sidecar("silent", true);
  await new Promise((resolve) => setImmediate(resolve));
  const res = await app.inject({ method: "POST", url: "/v1/halt", headers: auth, payload: { reason: "drill", wait_s: 0.05 } });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json() as HaltAnswer;
  assert.equal(body.halted, true);
  assert.equal(body.halt_mode, "drain");
  assert.equal(body.halt.version, body.version);
  assert.equal(body.halt.confirmation.state, "unconfirmed");
  assert.deepEqual(body.halt.confirmation.confirmed.map((w) => w.node_id), ["acking"]);
  assert.deepEqual(body.halt.confirmation.unconfirmed.map((w) => w.node_id), ["silent"]);

  const status = (await app.inject({ method: "GET", url: "/v1/halt", headers: auth })).json() as HaltAnswer["halt"];
  assert.equal(status.confirmation.state, "waiting", "within halt.confirm_wait_s on the control plane's clock");
  assert.deepEqual(status.confirmation.waiting.map((w) => w.node_id), ["silent"]);
  const lateRes = await app.inject({ method: "GET", url: "/v1/halt?wait_s=0", headers: auth });
  assert.equal(lateRes.statusCode, 200, lateRes.body);
  const late = lateRes.json() as HaltAnswer["halt"];
  assert.equal(late.confirmation.state, "unconfirmed");
  const bad = await app.inject({ method: "GET", url: "/v1/halt?wait_s=soon", headers: auth });
  assert.equal(bad.statusCode, 400);
  assert.match((bad.json() as { message: string }).message, /wait_s/);

  silent.close();
  const second = await app.inject({ method: "POST", url: "/v1/halt", headers: auth, payload: { reason: "drill", wait_s: 300 } });
  assert.equal(second.statusCode, 200, second.body);
  const again = second.json() as HaltAnswer;
  assert.equal(again.halt.confirmation.state, "confirmed", "answers at once when every connected sidecar confirmed");
  await app.close();
});

test("an immediate halt lists the sidecars whose filter cannot enforce it; a bad mode or wait is refused naming the field", async () => {
  const { app, sidecar } = await setup();
  sidecar("new-filter", false, ["shed", "halt_immediate"]);
  sidecar("old-filter", false, []);
  await new Promise((resolve) => setImmediate(resolve));
  const body = (await app.inject({ method: "POST", url: "/v1/halt", headers: auth, payload: { reason: "cut", mode: "immediate", wait_s: 1 } })).json() as HaltAnswer;
  assert.equal(body.halt_mode, "immediate");
  assert.equal(body.halt.confirmation.state, "confirmed_partly");
  assert.deepEqual(body.halt.confirmation.confirmed.map((w) => w.node_id), ["new-filter"]);
  assert.deepEqual(body.halt.confirmation.cannot.map((w) => [w.node_id, w.missing_capability]), [["old-filter", "halt_immediate"]]);
  for (const [payload, field] of [[{ reason: "x", mode: "sideways" }, "mode"], [{ reason: "x", wait_s: -1 }, "wait_s"], [{ reason: "x", wait_s: 301 }, "wait_s"]] as const) {
    const res = await app.inject({ method: "POST", url: "/v1/halt", headers: auth, payload });
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    assert.match((res.json() as { message: string }).message, new RegExp(field));
  }
  await app.close();
});

test("GET /v1/incidents lists the halt as an incident until the resume ends it, and its report comes as JSON and Markdown", async () => {
  const { app, sidecar, advance } = await setup();
  sidecar("acking", false);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual((await app.inject({ method: "GET", url: "/v1/incidents", headers: auth })).json(), { incidents: [] });
  await app.inject({ method: "POST", url: "/v1/halt", headers: auth, payload: { reason: "runaway generation", wait_s: 1 } });
  advance(90_000);
  const open = (await app.inject({ method: "GET", url: "/v1/incidents?state=open", headers: auth })).json() as { incidents: Record<string, unknown>[] };
  assert.equal(open.incidents.length, 1);
  assert.equal(open.incidents[0]!.running, true);
  assert.equal(open.incidents[0]!.duration_ms, 90_000);
  assert.equal(open.incidents[0]!.confirmed_at_ms, NOW);
  await app.inject({ method: "POST", url: "/v1/resume", headers: auth, payload: { reason: "fixed" } });
  assert.deepEqual((await app.inject({ method: "GET", url: "/v1/incidents?state=open", headers: auth })).json(), { incidents: [] });
  const id = String(open.incidents[0]!.id);

  const json = await app.inject({ method: "GET", url: `/v1/incidents/${id}/report`, headers: auth });
  assert.equal(json.statusCode, 200);
  const report = json.json() as Record<string, unknown>;
  assert.deepEqual([report.kind, report.started_by, report.reason, report.ended_by, report.duration_ms, report.running], ["halt", "admin@127.0.0.1", "runaway generation", "admin@127.0.0.1", 90_000, false]);
  for (const request of [{ url: `/v1/incidents/${id}/report?format=markdown`, headers: auth }, { url: `/v1/incidents/${id}/report`, headers: { ...auth, accept: "text/markdown" } }]) {
    const md = await app.inject({ method: "GET", ...request });
    assert.equal(md.statusCode, 200);
    assert.match(String(md.headers["content-type"]), /^text\/markdown/);
    assert.match(md.body, new RegExp(`^# Incident ${id}\\n`));
    assert.match(md.body, /- \*\*Duration:\*\* 90\.0 s\n/);
  }
  const missing = await app.inject({ method: "GET", url: "/v1/incidents/inc-1/report", headers: auth });
  assert.equal(missing.statusCode, 404);
  assert.equal((missing.json() as { code: string }).code, "AUTOGLM_ERR_INCIDENT_UNKNOWN");
  await app.close();
});
