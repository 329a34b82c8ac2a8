// A throw-away certificate authority for TLS tests, made with the `openssl` command (.ci/run
// installs it when missing; none is committed): a CA, a server certificate for 127.0.0.1 and
// localhost, and a client certificate, each signed by the CA, valid one day, EC P-256 keys.
// A missing openssl is an error naming what to install, never a skip.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  remove(): Promise<void>;
}

function openssl(args: string[]): void {
  const made = spawnSync("openssl", args, { encoding: "utf8" });
  assert.equal(made.error, undefined, `the openssl command is needed to make test certificates (apt-get install openssl): ${String(made.error)}`);
  assert.equal(made.status, 0, `openssl ${args[0]} failed: ${made.stderr}`);
}

export async function makeTestCa(): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-ca-"));
  const path = (name: string) => join(dir, name);
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(["req", "-x509", ...key, "-subj", "/CN=autoglm-test-ca", "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "1"]);
  const sign = async (name: string, cn: string, extensions: string): Promise<void> => {
    openssl(["req", ...key, "-subj", `/CN=${cn}`, "-keyout", path(`${name}.key`), "-out", path(`${name}.csr`)]);
    await writeFile(path(`${name}.ext`), extensions);
    openssl(["x509", "-req", "-in", path(`${name}.csr`), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial", "-out", path(`${name}.pem`), "-days", "1", "-extfile", path(`${name}.ext`)]);
  };
  // etcd (Go) checks the subject alternative names; its members also dial each other as clients.
  await sign("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
  await sign("client", "autoglm-replica", "extendedKeyUsage=clientAuth\n");
  return {
    dir,
    caFile: path("ca.pem"),
    serverCertFile: path("server.pem"),
    serverKeyFile: path("server.key"),
    clientCertFile: path("client.pem"),
    clientKeyFile: path("client.key"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
