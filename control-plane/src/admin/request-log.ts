// The admin API's "incoming request" log line, as fastify writes it but with the value of the
// `access_token` query parameter (the dashboard's event stream may carry its token there, see
// ./auth.ts) replaced by "[redacted]", so no token reaches the logs.
import { LogController, type FastifyReply, type FastifyRequest } from "fastify";
import { ACCESS_TOKEN_PARAM } from "./auth.js";

const TOKEN_IN_QUERY = new RegExp(`([?&]${ACCESS_TOKEN_PARAM}=)[^&#]*`, "gi");

/** `url` with every access_token value redacted. */
export function redactUrl(url: string): string {
  return url.replace(TOKEN_IN_QUERY, "$1[redacted]");
}

export class RedactingLogController extends LogController {
  override incomingRequest(request: FastifyRequest, _reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    // Shaped like a request for fastify's `req` serializer (method, url, host, ip, socket).
    const req = { method: request.method, url: redactUrl(request.url), host: request.host, ip: request.ip, socket: request.socket };
    request.log.info({ req }, "incoming request");
  }
}
