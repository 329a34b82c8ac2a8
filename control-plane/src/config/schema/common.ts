// Pieces several section schemas share: listen addresses, TLS files, the non-loopback opt-in.
// Each schema states its defaults (`default`) and meaning (`description`): the same objects
// check a file and document it (docs/configuration.md is generated from them).
import type { JsonSchema } from "../schema-problems.js";

/** An object section: only the listed fields, each optional unless `required`. */
export function objectSchema(description: string, properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  return { type: "object", description, additionalProperties: false, properties, ...(required.length === 0 ? {} : { required }) };
}

export const PORT_MAX = 65535;

export function hostSchema(what: string, fallback: string): JsonSchema {
  return { type: "string", minLength: 1, default: fallback, description: `Address ${what} listens on (an IP address or a host name).` };
}

export function portSchema(what: string, fallback: number): JsonSchema {
  return { type: "integer", minimum: 0, maximum: PORT_MAX, default: fallback, description: `TCP port ${what} listens on; 0 asks the OS for a free one.` };
}

export function allowNonLoopbackSchema(risk: string): JsonSchema {
  return {
    type: "boolean",
    default: false,
    description: `Start even though the host is not a loopback address and ${risk}. False: such a configuration is refused at start-up.`,
  };
}

/** A `tls` object of PEM file paths; `ca_file` only where client certificates can be asked for. */
export function tlsSchema(description: string, withCa: boolean): JsonSchema {
  const file = (what: string): JsonSchema => ({ type: "string", minLength: 1, description: `Path of the ${what} (PEM).` });
  return objectSchema(
    description,
    {
      cert_file: file("certificate chain"),
      key_file: file("private key"),
      ...(withCa ? { ca_file: { ...file("CA bundle of client certificates"), description: "Path of the CA bundle (PEM); with it, clients must present a certificate it signed." } } : {}),
    },
    ["cert_file", "key_file"],
  );
}
