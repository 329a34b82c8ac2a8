// The etcd client's options from the `etcd` section: the endpoints, the dial timeout and, with
// etcd.tls, the TLS credentials (etcd's transport security: etcd.io/docs/v3.4/op-guide/security,
// --trusted-ca-file and --client-cert-auth on the members' side). Files are read here, at start-up:
// one that cannot be read, or a certificate and key that do not belong together, is a
// configuration problem naming the field.
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createSecureContext } from "node:tls";
import type { IOptions } from "etcd3";
import type { EtcdConfig } from "../config/etcd.js";
import { ConfigError } from "../config/validate.js";

async function readPem(path: string, field: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ConfigError([`${field}: cannot read ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
}

/** Options for `new Etcd3(...)`. Rejects with ConfigError naming the etcd.tls field at fault. */
export async function etcdClientOptions(config: Pick<EtcdConfig, "endpoints" | "dialTimeoutMs" | "tls">): Promise<IOptions> {
  const options: IOptions = { hosts: config.endpoints, dialTimeout: config.dialTimeoutMs };
  const tls = config.tls;
  if (tls === undefined) return options;
  const rootCertificate = tls.caFile === undefined ? undefined : await readPem(tls.caFile, "etcd.tls.ca_file");
  const certChain = tls.certFile === undefined ? undefined : await readPem(tls.certFile, "etcd.tls.cert_file");
  const privateKey = tls.keyFile === undefined ? undefined : await readPem(tls.keyFile, "etcd.tls.key_file");
  if (certChain !== undefined && privateKey !== undefined) {
    try {
      createSecureContext({ cert: certChain, key: privateKey });
    } catch (error) {
      throw new ConfigError([
        `etcd.tls: cert_file ${JSON.stringify(tls.certFile)} and key_file ${JSON.stringify(tls.keyFile)} are not a PEM certificate and its private key: ${(error as Error).message}`,
      ]);
    }
  }
  if (rootCertificate !== undefined) {
    try {
      // Its first certificate must parse (a context takes a file without any silently).
      new X509Certificate(rootCertificate);
      createSecureContext({ ca: rootCertificate });
    } catch (error) {
      throw new ConfigError([`etcd.tls.ca_file: ${JSON.stringify(tls.caFile)} is not a PEM CA bundle: ${(error as Error).message}`]);
    }
  }
  // grpc-js's createSsl: a null root certificate means the system's roots.
  options.credentials = {
    rootCertificate: rootCertificate as Buffer,
    ...(certChain === undefined ? {} : { certChain }),
    ...(privateKey === undefined ? {} : { privateKey }),
  };
  return options;
}
