// Validation of the xDS service configuration: every problem is reported with the path of the
// offending field, so that an operator can fix the file without reading code.
import { isIP } from "node:net";
import type { XdsClusterConfig, XdsEndpointConfig, XdsServiceConfig } from "./types.js";

export class XdsConfigError extends Error {
  override readonly name = "XdsConfigError";
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Resource names travel in URLs (xds:///name) and in Envoy stat prefixes. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function name(value: unknown, path: string): string {
  if (typeof value !== "string" || !NAME.test(value)) {
    throw new XdsConfigError(`${path}: expected a name of letters, digits, ".", "_" or "-" (1-128 characters), got ${JSON.stringify(value)}`);
  }
  return value;
}

function port(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new XdsConfigError(`${path}: expected a TCP port 1..65535, got ${JSON.stringify(value)}`);
  }
  return value;
}

function ipAddress(value: unknown, path: string): string {
  if (typeof value !== "string" || isIP(value) === 0) {
    throw new XdsConfigError(`${path}: expected an IPv4 or IPv6 literal (EDS carries no hostnames), got ${JSON.stringify(value)}`);
  }
  return value;
}

function onlyKeys(value: Json, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new XdsConfigError(`${path}.${key}: unknown field; expected one of ${allowed.join(", ")}`);
  }
}

function endpoint(value: unknown, path: string): XdsEndpointConfig {
  if (!isObject(value)) throw new XdsConfigError(`${path}: expected an object {address, port}`);
  onlyKeys(value, ["address", "port"], path);
  return { address: ipAddress(value.address, `${path}.address`), port: port(value.port, `${path}.port`) };
}

function cluster(value: unknown, path: string): XdsClusterConfig {
  if (!isObject(value)) throw new XdsConfigError(`${path}: expected an object {name, endpoints}`);
  onlyKeys(value, ["name", "endpoints", "baseWeight", "http2"], path);
  const result: XdsClusterConfig = { name: name(value.name, `${path}.name`), endpoints: [] };
  if (!Array.isArray(value.endpoints) || value.endpoints.length === 0) {
    throw new XdsConfigError(`${path}.endpoints: expected a non-empty list of {address, port}`);
  }
  const seen = new Set<string>();
  value.endpoints.forEach((item, index) => {
    const parsed = endpoint(item, `${path}.endpoints[${index}]`);
    const key = `${parsed.address}|${parsed.port}`;
    if (seen.has(key)) throw new XdsConfigError(`${path}.endpoints[${index}]: duplicate of an earlier endpoint ${parsed.address}:${parsed.port}`);
    seen.add(key);
    result.endpoints.push(parsed);
  });
  if (value.baseWeight !== undefined) {
    const weight = value.baseWeight;
    if (typeof weight !== "number" || !Number.isInteger(weight) || weight < 1 || weight > 1_000_000) {
      throw new XdsConfigError(`${path}.baseWeight: expected an integer 1..1000000, got ${JSON.stringify(weight)}`);
    }
    result.baseWeight = weight;
  }
  if (value.http2 !== undefined) {
    if (typeof value.http2 !== "boolean") throw new XdsConfigError(`${path}.http2: expected true or false, got ${JSON.stringify(value.http2)}`);
    result.http2 = value.http2;
  }
  return result;
}

function service(value: unknown, path: string): XdsServiceConfig {
  if (!isObject(value)) throw new XdsConfigError(`${path}: expected an object {name, clusters}`);
  onlyKeys(value, ["name", "clusters", "envoyListener"], path);
  const result: XdsServiceConfig = { name: name(value.name, `${path}.name`), clusters: [] };
  if (!Array.isArray(value.clusters) || value.clusters.length === 0) {
    throw new XdsConfigError(`${path}.clusters: expected a non-empty list of clusters`);
  }
  value.clusters.forEach((item, index) => result.clusters.push(cluster(item, `${path}.clusters[${index}]`)));
  if (value.envoyListener !== undefined) {
    const listener = value.envoyListener;
    const where = `${path}.envoyListener`;
    if (!isObject(listener)) throw new XdsConfigError(`${where}: expected an object {address, port}`);
    onlyKeys(listener, ["address", "port"], where);
    result.envoyListener = { address: ipAddress(listener.address, `${where}.address`), port: port(listener.port, `${where}.port`) };
  }
  return result;
}

/**
 * Checks an xDS services configuration (parsed JSON/YAML or a literal) and returns it typed.
 * Throws XdsConfigError naming the field, e.g. `services[0].clusters[1].endpoints[0].address: ...`.
 * Names must be unique: services among services, clusters across all services.
 */
export function parseXdsServices(value: unknown, path = "services"): XdsServiceConfig[] {
  if (!Array.isArray(value) || value.length === 0) throw new XdsConfigError(`${path}: expected a non-empty list of services`);
  const services = value.map((item, index) => service(item, `${path}[${index}]`));
  const serviceNames = new Set<string>();
  const clusterOwners = new Map<string, string>();
  services.forEach((svc, index) => {
    if (serviceNames.has(svc.name)) throw new XdsConfigError(`${path}[${index}].name: duplicate service name "${svc.name}"`);
    serviceNames.add(svc.name);
    svc.clusters.forEach((c, ci) => {
      const owner = clusterOwners.get(c.name);
      if (owner !== undefined) {
        throw new XdsConfigError(`${path}[${index}].clusters[${ci}].name: cluster "${c.name}" is already defined by service "${owner}"`);
      }
      clusterOwners.set(c.name, svc.name);
    });
  });
  return services;
}
