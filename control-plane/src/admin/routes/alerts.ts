// POST /v1/alerts/test (admin token): sends a test alert of the given severity through every
// channel that severity is routed to (or the channels named), one attempt each, and answers with
// each channel's outcome. A channel that fails is an outcome, not an error of the request.
import type { FastifyInstance } from "fastify";
import { SEVERITIES, UnknownChannelError, type Severity } from "../../alerts/index.js";
import { actorOf } from "../auth.js";
import type { AdminDeps } from "../deps.js";
import { AdminError, errorBodySchema } from "../errors.js";
import { emptyQuery } from "../schemas.js";

interface TestBody {
  severity: Severity;
  channels?: string[];
}

const testBody = {
  type: "object",
  required: ["severity"],
  additionalProperties: false,
  properties: {
    severity: { type: "string", enum: [...SEVERITIES] },
    /** Absent: the channels `severity` is routed to. */
    channels: { type: "array", minItems: 1, maxItems: 50, uniqueItems: true, items: { type: "string", minLength: 1, maxLength: 63 } },
  },
} as const;

const testAnswer = {
  type: "object",
  required: ["id", "kind", "severity", "summary", "deliveries"],
  properties: {
    id: { type: "string" },
    kind: { type: "string" },
    severity: { type: "string" },
    summary: { type: "string" },
    sent: { type: "integer" },
    failed: { type: "integer" },
    deliveries: {
      type: "array",
      items: {
        type: "object",
        required: ["channel", "type", "outcome", "detail"],
        properties: {
          channel: { type: "string" },
          type: { type: "string" },
          outcome: { type: "string", enum: ["sent", "failed"] },
          detail: { type: "string" },
        },
      },
    },
  },
} as const;

export function registerAlertRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.post<{ Body: TestBody }>(
    "/v1/alerts/test",
    {
      schema: {
        summary: "Send a test alert of a severity through its routed channels (or those named), one attempt each, answering each channel's outcome",
        tags: ["alerts"],
        querystring: emptyQuery,
        body: testBody,
        response: { 200: testAnswer, 400: errorBodySchema, 422: errorBodySchema, 503: errorBodySchema },
      },
    },
    async (request) => {
      if (deps.alerts === undefined) throw new AdminError("AUTOGLM_ERR_ALERTS_UNAVAILABLE", "this control plane has no alert pipeline");
      const { severity, channels } = request.body;
      let result: Awaited<ReturnType<NonNullable<AdminDeps["alerts"]>["sendTest"]>>;
      try {
        result = await deps.alerts.sendTest(severity, actorOf(request), channels);
      } catch (error) {
        if (error instanceof UnknownChannelError) throw new AdminError("AUTOGLM_ERR_BAD_REQUEST", `channels: ${error.message}`);
        throw error;
      }
      if (result.deliveries.length === 0) {
        throw new AdminError("AUTOGLM_ERR_ALERT_NOT_ROUTED", `no channel receives ${severity} alerts (alerts.channels, alerts.routes)`);
      }
      const sent = result.deliveries.filter((d) => d.outcome === "sent").length;
      request.log.info({ severity, id: result.message.id, sent, failed: result.deliveries.length - sent }, "test alert sent");
      const { alert } = result.message;
      return { id: result.message.id, kind: alert.kind, severity: alert.severity, summary: alert.summary, sent, failed: result.deliveries.length - sent, deliveries: result.deliveries };
    },
  );
}
