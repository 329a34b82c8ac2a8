// GET /v1/audit?since=&until=&cluster=&format=ndjson|csv: a streamed, chunked export of the
// audit log, pulled from the audit reader as the client reads it.
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { AdminDeps, AuditQuery } from "../deps.js";
import { AdminError, errorBodySchema } from "../errors.js";
import { auditQuery } from "../schemas.js";
import { CSV_COLUMNS, exportChunks, parseTime } from "../audit-export.js";

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
    const body = Readable.from(exportChunks(deps.audit.read(query), format, cluster), { objectMode: false, highWaterMark: 1 });
    body.on("error", (error) => request.log.error({ err: error }, "audit export failed midway"));
    request.log.info({ since_ms: since, until_ms: until, cluster, format }, "audit export started");
    return reply
      .type(format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8")
      .header("content-disposition", `inline; filename="autoglm-audit.${format === "csv" ? "csv" : "ndjson"}"`)
      .send(body);
  });
}
