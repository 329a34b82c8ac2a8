// Access control of the admin API. Every request is checked in an onRequest hook, which fastify
// runs before it reads or parses the body: an unauthenticated caller gets 401 (a wrong token
// 403) whatever it sent, never 400/413/415, and its body is never parsed.
//
// Three levels, from the route:
// - open:  GET /healthz, /readyz, /metrics (probes and the Prometheus scraper usually carry no
//          credentials; bind the admin API to a trusted network or protect /metrics upstream)
//          and GET / (the dashboard page: static HTML that holds no data; the data comes from
//          /v1/events, a read) with its icon (/favicon.svg, /favicon.ico: browsers fetch it
//          without credentials).
// - read:  every other GET (cluster and sidecar state, decisions, the dashboard's events, the
//          audit export, the OpenAPI document). Open when no token is configured; otherwise the read token
//          (admin.read_token) or the admin token (admin.token).
// - write: every other method (overrides, halt/resume, model reload): the admin token only; with
//          no admin token configured they are disabled (401).
// Tokens are compared in constant time (../auth/bearer.ts).
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import { bearerToken, secretDigest, secretMatches } from "../auth/bearer.js";
import { AdminError } from "./errors.js";

export type Access = "open" | "read" | "write";

/** "METHOD /route" pairs anyone who reaches the port may call (HEAD counts as GET). */
export const OPEN_ROUTES: ReadonlySet<string> = new Set([
  "GET /healthz",
  "GET /readyz",
  "GET /metrics",
  "GET /",
  "GET /favicon.svg",
  "GET /favicon.ico",
]);

/**
 * The route of the dashboard's server-sent events. A browser's EventSource cannot send headers,
 * so here (only) the token may also come as the `access_token` query parameter (RFC 6750 §2.3);
 * the request log redacts it (./request-log.ts).
 */
export const EVENTS_ROUTE = "/v1/events";
export const ACCESS_TOKEN_PARAM = "access_token";

/** The access a request needs; `route` is the matched route's pattern (undefined: no route). */
export function accessOf(method: string, route: string | undefined): Access {
  const verb = method === "HEAD" ? "GET" : method;
  // No route: the 404 answer carries no data (and the routes are documented anyway).
  if (route === undefined || OPEN_ROUTES.has(`${verb} ${route}`)) return "open";
  return verb === "GET" ? "read" : "write";
}

export interface AdminTokens {
  /** admin.token: reads and writes; "" none (writes disabled). */
  write: string;
  /** admin.read_token: reads only; "" none. */
  read: string;
}

/** Sent with every 401 (RFC 6750 §3). */
const CHALLENGE = 'Bearer realm="autoglm-admin"';

/** The onRequest hook that admits a request to its route, or throws a 401/403 AdminError. */
export function adminAuthHook(tokens: AdminTokens): onRequestAsyncHookHandler {
  const write = tokens.write === "" ? undefined : secretDigest(tokens.write);
  const read = tokens.read === "" ? undefined : secretDigest(tokens.read);
  const unauthorized = (reply: FastifyReply, message: string): AdminError => {
    reply.header("www-authenticate", CHALLENGE);
    return new AdminError("AUTOGLM_ERR_UNAUTHORIZED", message);
  };

  return async (request, reply) => {
    const access = accessOf(request.method, request.routeOptions.url);
    if (access === "open") return;
    if (access === "read" && write === undefined && read === undefined) return;
    if (access === "write" && write === undefined) {
      throw unauthorized(reply, "mutating routes are disabled: no admin token is configured (admin.token)");
    }
    const given = presentedToken(request);
    if (given === undefined) {
      const which = access === "write" ? "admin token" : "admin or read token";
      throw unauthorized(reply, `missing bearer token: send Authorization: Bearer <${which}>`);
    }
    if (given === "") throw unauthorized(reply, "authorization header is not a bearer token");
    // Both comparisons always run, so the time taken does not say which token was close.
    const isWrite = write !== undefined && secretMatches(given, write);
    const isRead = read !== undefined && secretMatches(given, read);
    if (isWrite) return;
    if (isRead && access === "read") return;
    if (isRead) {
      throw new AdminError("AUTOGLM_ERR_FORBIDDEN", "the read token (admin.read_token) cannot call mutating routes; use the admin token");
    }
    throw new AdminError("AUTOGLM_ERR_FORBIDDEN", "bearer token is not valid for this control plane");
  };
}

/** The caller's token: undefined when none was sent, "" when the header is not a bearer token. */
function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined && header !== "") return bearerToken(header) ?? "";
  if (request.routeOptions.url === EVENTS_ROUTE) {
    const query = request.query as Record<string, unknown> | undefined;
    const param = query?.[ACCESS_TOKEN_PARAM];
    if (typeof param === "string" && param !== "") return param;
  }
  return undefined;
}

/**
 * Kept for routes that still declare it as a preHandler: the onRequest hook has already
 * admitted the request with the admin token, so this checks the same thing again.
 */
export function requireToken(token: string): (request: FastifyRequest) => Promise<void> {
  const expected = token === "" ? undefined : secretDigest(token);
  return async (request) => {
    if (expected === undefined) {
      throw new AdminError("AUTOGLM_ERR_UNAUTHORIZED", "mutating routes are disabled: no admin token is configured (admin.token)");
    }
    const given = bearerToken(request.headers.authorization);
    if (given === undefined) throw new AdminError("AUTOGLM_ERR_UNAUTHORIZED", "missing bearer token: send Authorization: Bearer <admin token>");
    if (!secretMatches(given, expected)) throw new AdminError("AUTOGLM_ERR_FORBIDDEN", "bearer token is not valid for this control plane");
  };
}

/** Who made a mutating call, for the audit log: the bearer is one identity, so the peer. */
export function actorOf(request: FastifyRequest): string {
  return `admin@${request.ip}`;
}
