// The dashboard: GET / (one self-contained page, no external resources), its icon at
// /favicon.svg and /favicon.ico, and GET /v1/events,
// a server-sent-event stream: `history` once on connect (samples and transitions of the last
// minutes), then `snapshot` every tick and `transition` as breakers change.
import type { FastifyInstance, FastifyReply } from "fastify";
import type { AdminDeps } from "../admin/deps.js";
import { ACCESS_TOKEN_PARAM, EVENTS_ROUTE } from "../admin/auth.js";
import { decisionsView } from "../admin/views.js";
import type { DecisionSet, Transition } from "../core/types.js";
import { Ring, sampleOf, transitionView, type Sample, type TransitionView } from "./history.js";
import { FAVICON_ROUTES, FAVICON_SVG } from "./favicon.js";
import { DASHBOARD_HTML } from "./page.js";
import { dashboardSnapshot, SOURCES_PANEL_ROWS, SOURCES_PANEL_SPAN_MS } from "./snapshot.js";

/** One sample per tick; 300 ticks of 1 s = the last five minutes. */
export const TICK_MS = 1000;
const HISTORY_SAMPLES = 300;
const HISTORY_TRANSITIONS = 50;

export function registerDashboard(app: FastifyInstance, deps: AdminDeps): void {
  const cp = deps.controlPlane;
  const samples = new Ring<Sample>(HISTORY_SAMPLES);
  const transitions = new Ring<TransitionView>(HISTORY_TRANSITIONS);
  const clients = new Set<FastifyReply>();

  const send = (reply: FastifyReply, event: string, data: unknown): void => {
    reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const broadcast = (event: string, data: unknown): void => {
    for (const client of clients) send(client, event, data);
  };
  const snapshot = (statuses = cp.clusterStatuses()) =>
    dashboardSnapshot({
      nowMs: deps.now(),
      statuses,
      decisions: cp.currentDecisions(),
      sidecars: cp.sidecarStatuses(),
      gone: cp.goneSidecars(),
      model: deps.model.status().mode,
      ...(deps.errorBudgets === undefined ? {} : { budgets: deps.errorBudgets.statuses() }),
      ...(cp.sourcesView === undefined ? {} : { sources: cp.sourcesView(SOURCES_PANEL_SPAN_MS, SOURCES_PANEL_ROWS), sourceLimits: cp.sourceLimits?.() ?? [] }),
    });

  const tick = (): void => {
    try {
      const statuses = cp.clusterStatuses();
      const sample = sampleOf(statuses, deps.now());
      samples.push(sample);
      if (clients.size > 0) broadcast("snapshot", { ...snapshot(statuses), sample });
    } catch (error) {
      deps.logger.warn({ err: error }, "dashboard tick failed");
    }
  };
  const onTransition = (t: Transition): void => {
    // The recorder (snapshots/recorder.ts) subscribed first: its snapshot of this moment exists.
    const view = transitionView(t, deps.snapshots?.forTransition(t.cluster, t.atMs));
    transitions.push(view);
    broadcast("transition", view);
  };
  const onDecisions = (set: DecisionSet): void => {
    if (clients.size > 0) broadcast("decisions", decisionsView(set));
  };

  let timer: NodeJS.Timeout | undefined;
  app.addHook("onReady", async () => {
    cp.on("transition", onTransition);
    cp.on("decisions", onDecisions);
    timer = setInterval(tick, TICK_MS);
    timer.unref();
  });
  app.addHook("preClose", async () => {
    if (timer !== undefined) clearInterval(timer);
    cp.off("transition", onTransition);
    cp.off("decisions", onDecisions);
    for (const client of clients) client.raw.end();
    clients.clear();
  });

  const page = {
    summary: "The dashboard page (self-contained HTML; its data comes from /v1/events)",
    tags: ["dashboard"],
    produces: ["text/html"],
    response: { 200: { description: "The dashboard's HTML.", type: "string" } },
  };
  app.get("/", { schema: page }, async (_request, reply) =>
    reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(DASHBOARD_HTML),
  );

  const icon = {
    summary: "The dashboard's icon (SVG)",
    tags: ["dashboard"],
    produces: ["image/svg+xml"],
    response: { 200: { description: "An SVG image.", type: "string" } },
  };
  for (const route of FAVICON_ROUTES) {
    app.get(route, { schema: icon }, async (_request, reply) =>
      reply.type("image/svg+xml").header("cache-control", "public, max-age=86400").send(FAVICON_SVG),
    );
  }

  const events = {
    summary: "Server-sent events of the dashboard: history on connect, then a snapshot every tick and transitions",
    tags: ["dashboard"],
    produces: ["text/event-stream"],
    querystring: {
      type: "object",
      properties: {
        /** The read or admin token: a browser's EventSource cannot send an Authorization header. */
        [ACCESS_TOKEN_PARAM]: { type: "string", description: "The read or admin token, for clients that cannot send headers." },
      },
    },
    response: { 200: { description: "text/event-stream: events history, snapshot, transition, decisions.", type: "string" } },
  };
  app.get(EVENTS_ROUTE, { schema: events }, async (request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-request-id": request.id,
    });
    reply.raw.write(`retry: 2000\n\n`);
    send(reply, "history", { samples: samples.toArray(), transitions: transitions.toArray(), tick_ms: TICK_MS });
    send(reply, "snapshot", snapshot());
    clients.add(reply);
    request.raw.on("close", () => clients.delete(reply));
  });
}
