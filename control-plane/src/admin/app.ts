// The admin HTTP API as a fastify app, built apart from listening so tests use app.inject.
// Every request gets an id (the caller's x-request-id or a new one), logged with each line
// about it and returned in the x-request-id header. Access control (./auth.ts) runs in an
// onRequest hook, before the body is read. With `https`, the app serves HTTPS only. The routes'
// schemas also make the OpenAPI document at GET /v1/openapi.json (./openapi.ts).
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type onRouteHookHandler } from "fastify";
import { adminAuthHook } from "./auth.js";
import type { AdminDeps } from "./deps.js";
import { AdminError, type ErrorBody } from "./errors.js";
import { RedactingLogController } from "./request-log.js";
import { describeSchemaError, type SchemaError } from "./validation.js";
import { registerHealthRoutes } from "./routes/health.js";
import { registerStateRoutes } from "./routes/state.js";
import { registerControlRoutes } from "./routes/control.js";
import { registerTriggerRoutes } from "./routes/triggers.js";
import { registerRollbackRoutes } from "./routes/rollback.js";
import { registerIncidentRoutes } from "./routes/incidents.js";
import { registerAuditRoutes } from "./routes/audit.js";
import { registerAlertRoutes } from "./routes/alerts.js";
import { registerErrorBudgetRoutes } from "./routes/error-budgets.js";
import { registerSnapshotRoutes } from "./routes/snapshots.js";
import { registerSourceRoutes } from "./routes/sources.js";
import { registerDashboard } from "../dashboard/routes.js";
import { registerOpenApi, registerOpenApiRoute } from "./openapi.js";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** PEM server certificate (chain) and private key of the admin API's HTTPS listener. */
export interface AdminHttpsOptions {
  cert: Buffer;
  key: Buffer;
}

export interface AdminAppOptions {
  /** Serve HTTPS with this certificate; absent: plain HTTP. */
  https?: AdminHttpsOptions;
  /** Called for every route as it is registered, fastify's own HEAD routes included (tests use it
   *  to check that the OpenAPI document lists every route). */
  onRoute?: onRouteHookHandler;
}

export async function buildAdminApp(deps: AdminDeps, options: AdminAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.https === undefined ? {} : { https: { cert: options.https.cert, key: options.https.key } }),
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new RedactingLogController({ requestIdLogLabel: "request_id", disableRequestLogging: false }),
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, verbose: true } },
    schemaErrorFormatter: (errors, dataVar) =>
      new AdminError("AUTOGLM_ERR_BAD_REQUEST", describeSchemaError(errors[0] as unknown as SchemaError, dataVar)),
    return503OnClosing: true,
  });

  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  // Before fastify reads the body: a caller without the right token never gets 400/413/415.
  app.addHook("onRequest", adminAuthHook({ write: deps.token, read: deps.readToken ?? "" }));

  app.setErrorHandler((error: FastifyError | AdminError, request, reply) => {
    let failure: AdminError;
    if (error instanceof AdminError) failure = error;
    else if (error.validation !== undefined) failure = new AdminError("AUTOGLM_ERR_BAD_REQUEST", error.message);
    else if (typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500) {
      // Fastify's own client errors (malformed JSON, wrong content type, body too large).
      failure = new AdminError("AUTOGLM_ERR_BAD_REQUEST", error.message);
      failure = Object.assign(failure, { statusCode: error.statusCode === 413 || error.statusCode === 415 ? error.statusCode : 400 });
    } else {
      request.log.error({ err: error }, "admin route failed");
      failure = new AdminError("AUTOGLM_ERR_INTERNAL", "see the control plane's log");
    }
    if (failure.statusCode >= 500) request.log.warn({ code: failure.code }, failure.message);
    else request.log.info({ code: failure.code }, failure.message);
    const body: ErrorBody = { code: failure.code, message: failure.message, request_id: request.id };
    return reply.code(failure.statusCode).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      code: "AUTOGLM_ERR_NOT_FOUND",
      message: new AdminError("AUTOGLM_ERR_NOT_FOUND", `${request.method} ${request.url.split("?")[0]}`).message,
      request_id: request.id,
    };
    return reply.code(404).send(body);
  });

  if (options.onRoute !== undefined) app.addHook("onRoute", options.onRoute);
  // Before the routes: the plugin collects them as they are registered.
  await registerOpenApi(app);
  registerHealthRoutes(app, deps);
  registerStateRoutes(app, deps);
  registerControlRoutes(app, deps);
  registerTriggerRoutes(app, deps);
  registerRollbackRoutes(app, deps);
  registerIncidentRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerAlertRoutes(app, deps);
  registerErrorBudgetRoutes(app, deps);
  registerSnapshotRoutes(app, deps);
  registerSourceRoutes(app, deps);
  registerDashboard(app, deps);
  registerOpenApiRoute(app);
  await app.ready();
  return app;
}
