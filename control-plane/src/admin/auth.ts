// Bearer-token check of the mutating admin routes: 401 without a token (or when none is
// configured), 403 with a wrong one. Compared in constant time.
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { AdminError } from "./errors.js";

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Returns a preHandler that admits only `Authorization: Bearer <token>`. */
export function requireToken(token: string): (request: FastifyRequest) => Promise<void> {
  const expected = digest(token);
  return async (request) => {
    if (token === "") {
      throw new AdminError("AUTOGLM_ERR_UNAUTHORIZED", "mutating routes are disabled: no admin token is configured (admin.token)");
    }
    const header = request.headers.authorization;
    if (header === undefined || header === "") {
      throw new AdminError("AUTOGLM_ERR_UNAUTHORIZED", "missing bearer token: send Authorization: Bearer <admin token>");
    }
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match === null) {
      throw new AdminError("AUTOGLM_ERR_UNAUTHORIZED", "authorization header is not a bearer token");
    }
    if (!timingSafeEqual(digest(match[1]!.trim()), expected)) {
      throw new AdminError("AUTOGLM_ERR_FORBIDDEN", "bearer token is not valid for this control plane");
    }
  };
}

/** Who made a mutating call, for the audit log: the bearer is one identity, so the peer. */
export function actorOf(request: FastifyRequest): string {
  return `admin@${request.ip}`;
}
