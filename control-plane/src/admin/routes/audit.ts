// GET /v1/audit?since=&until=&cluster=&format=ndjson|csv: a streamed, chunked export of the
// audit log, pulled from the audit reader as the client reads it.
import { Readable } from "node:stream";
import { setTimeout as sleepMs } from "node:timers/promises";
import type { FastifyInstance } from "fastify";
import type { AdminDeps, AuditQuery } from "../deps.js";
import { AdminError, errorBodySchema } from "../errors.js";
import { auditQuery } from "../schemas.js";
import { CSV_COLUMNS, exportChunks, parseTime } from "../audit-export.js";
import { throttledChunks } from "../throttled-export.js";

interface AuditQuerystring {
  since?: string;
  until?: string;
  cluster?: string;
  format: "ndjson" | "csv";
}

function timeFilter(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const parsed = parseTime(text);
  if ("error" in parsed) throw new AdminError("AUTOGLM_ERR_BAD_REQUEST", `querystring.${name}: ${parsed.error}`);
  return parsed.ms;
}

export function registerAuditRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const schema = {
    summary: "Export the audit log (streamed NDJSON or CSV), filtered by time range and cluster",
    description:
      "since (inclusive) and until (exclusive) are epoch milliseconds or ISO 8601 times; cluster must be one the control plane knows. " +
      "NDJSON lines are the records as the audit files spell them (snake_case, kind, at_ms), files of earlier versions included; " +
      `CSV has the columns ${CSV_COLUMNS.join(", ")} (one row per cluster of a decision set).`,
    tags: ["audit"],
    produces: ["application/x-ndjson", "text/csv"],
    querystring: auditQuery,
    response: {
      200: { description: "One audit record a line (NDJSON) or a CSV row.", type: "string" },
      400: errorBodySchema,
      429: { ...errorBodySchema, description: "Too many exports running (admin.export.max_concurrent, or max_concurrent_per_client for this client); Retry-After says when to try again." },
      503: errorBodySchema,
    },
  };
  app.get<{ Querystring: AuditQuerystring }>("/v1/audit", { schema }, async (request, reply) => {
    const since = timeFilter("since", request.query.since);
    const until = timeFilter("until", request.query.until);
    if (since !== undefined && until !== undefined && until < since) {
      throw new AdminError("AUTOGLM_ERR_BAD_REQUEST", "querystring.until: must not be before since");
    }
    const cluster = request.query.cluster;
    if (cluster !== undefined) {
      const known = deps.controlPlane.clusterStatuses().map((s) => s.cluster);
      if (!known.includes(cluster)) {
        throw new AdminError("AUTOGLM_ERR_BAD_REQUEST", `querystring.cluster: unknown cluster ${JSON.stringify(cluster)}; known: ${known.join(", ")}`);
      }
    }
    if (deps.audit === undefined) throw new AdminError("AUTOGLM_ERR_AUDIT_UNAVAILABLE", "no audit directory is configured (audit.dir)");
    const query: AuditQuery = {
      ...(since === undefined ? {} : { sinceMs: since }),
      ...(until === undefined ? {} : { untilMs: until }),
      ...(cluster === undefined ? {} : { cluster }),
    };
    const format = request.query.format;
    let chunks: AsyncIterable<string> = exportChunks(deps.audit.read(query), format, cluster);
    const limits = deps.exportLimits;
    if (limits !== undefined) {
      // Limits (admin.export): refused with 429 naming the limit, or paced per client address.
      const admission = limits.limiter.admit(request.ip, deps.now());
      if (!admission.ok) {
        limits.metrics?.refused.inc({ limit: admission.limit });
        reply.header("retry-after", String(admission.retryAfterS));
        throw new AdminError("AUTOGLM_ERR_EXPORT_LIMITED", `admin.export.${admission.limit}: ${admission.detail}; retry after ${admission.retryAfterS} s`);
      }
      const m = limits.metrics;
      const lease = admission.lease;
      const startedMs = deps.now();
      let sent = 0;
      let ended = false;
      const end = (outcome: "done" | "failed" | "aborted"): void => {
        if (ended) return;
        ended = true;
        lease.release();
        m?.active.dec();
        const durationMs = deps.now() - startedMs;
        m?.duration.observe({ outcome }, durationMs / 1000);
        request.log.info({ outcome, duration_ms: durationMs, bytes: sent, client: lease.client }, "audit export ended");
      };
      m?.active.inc();
      // A response closed before the first chunk was pulled never runs the generator's finally.
      reply.raw.once("close", () => end("aborted"));
      chunks = throttledChunks(chunks, lease, {
        now: deps.now,
        sleep: limits.sleep ?? ((ms) => sleepMs(ms)),
        onChunk: (bytes) => {
          sent += bytes;
          m?.bytes.inc(bytes);
        },
        onEnd: (outcome) => end(outcome),
      });
    }
    const body = Readable.from(chunks, { objectMode: false, highWaterMark: 1 });
    body.on("error", (error) => request.log.error({ err: error }, "audit export failed midway"));
    request.log.info({ since_ms: since, until_ms: until, cluster, format }, "audit export started");
    return reply
      .type(format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8")
      .header("content-disposition", `inline; filename="autoglm-audit.${format === "csv" ? "csv" : "ndjson"}"`)
      .send(body);
  });
}
