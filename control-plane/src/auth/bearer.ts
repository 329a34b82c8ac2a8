// Bearer tokens (RFC 6750) as the admin API and the sidecar gRPC server check them. A token is
// compared in constant time over the SHA-256 digests of both sides, so neither the position of
// the first differing byte nor the expected token's length shows in the time a check takes.
import { createHash, timingSafeEqual } from "node:crypto";

/** SHA-256 of a secret's UTF-8 bytes: 32 bytes whatever its length. */
export function secretDigest(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

/** True when `given` is the secret whose digest is `expected`, compared in constant time. */
export function secretMatches(given: string, expected: Buffer): boolean {
  return timingSafeEqual(secretDigest(given), expected);
}

/**
 * The token of an `Authorization: Bearer <token>` value (scheme case-insensitive, surrounding
 * spaces ignored); undefined when the value is absent, empty or of another scheme.
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match === null ? undefined : match[1];
}

/** True when `header` carries exactly the bearer token whose digest is `expected`. */
export function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const token = bearerToken(header);
  // A missing token is still compared (against an empty one) so both paths take the same time.
  return secretMatches(token ?? "", expected) && token !== undefined;
}
