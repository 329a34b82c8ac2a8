// Environment variables that override single fields of the configuration file. Each variable
// names one field; its text is converted to the field's kind, and a value that does not convert
// is left as text so validation names both the field and the variable.
import { isObject, type Obj } from "./fields.js";

type Kind = "string" | "number" | "boolean" | "list";

/** AUTOGLM_* variable -> dotted path of the field it sets, and the field's kind. */
export const ENV_VARIABLES: Readonly<Record<string, { path: string; kind: Kind }>> = {
  AUTOGLM_GRPC_HOST: { path: "grpc.host", kind: "string" },
  AUTOGLM_GRPC_PORT: { path: "grpc.port", kind: "number" },
  AUTOGLM_GRPC_TOKEN: { path: "grpc.token", kind: "string" },
  AUTOGLM_GRPC_TLS_CERT_FILE: { path: "grpc.tls.cert_file", kind: "string" },
  AUTOGLM_GRPC_TLS_KEY_FILE: { path: "grpc.tls.key_file", kind: "string" },
  AUTOGLM_GRPC_TLS_CA_FILE: { path: "grpc.tls.ca_file", kind: "string" },
  AUTOGLM_GRPC_ALLOW_UNAUTHENTICATED_NON_LOOPBACK: { path: "grpc.allow_unauthenticated_non_loopback", kind: "boolean" },
  AUTOGLM_ADMIN_HOST: { path: "admin.host", kind: "string" },
  AUTOGLM_ADMIN_PORT: { path: "admin.port", kind: "number" },
  AUTOGLM_ADMIN_TOKEN: { path: "admin.token", kind: "string" },
  AUTOGLM_ADMIN_READ_TOKEN: { path: "admin.read_token", kind: "string" },
  AUTOGLM_ADMIN_TLS_CERT_FILE: { path: "admin.tls.cert_file", kind: "string" },
  AUTOGLM_ADMIN_TLS_KEY_FILE: { path: "admin.tls.key_file", kind: "string" },
  AUTOGLM_ADMIN_ALLOW_UNAUTHENTICATED_NON_LOOPBACK: { path: "admin.allow_unauthenticated_non_loopback", kind: "boolean" },
  AUTOGLM_XDS_ENABLED: { path: "xds.enabled", kind: "boolean" },
  AUTOGLM_XDS_HOST: { path: "xds.host", kind: "string" },
  AUTOGLM_XDS_PORT: { path: "xds.port", kind: "number" },
  AUTOGLM_XDS_ALLOW_UNAUTHENTICATED_NON_LOOPBACK: { path: "xds.allow_unauthenticated_non_loopback", kind: "boolean" },
  AUTOGLM_XDS_HOST_EJECTION: { path: "xds.host_ejection", kind: "boolean" },
  AUTOGLM_SLO_LATENCY_MS: { path: "slo.latency_ms", kind: "number" },
  AUTOGLM_SLO_SUCCESS_RATE: { path: "slo.success_rate", kind: "number" },
  AUTOGLM_SLO_TTFT_MS: { path: "slo.ttft_ms", kind: "number" },
  AUTOGLM_SLO_TPOT_MS: { path: "slo.tpot_ms", kind: "number" },
  AUTOGLM_MODEL_PATH: { path: "model.path", kind: "string" },
  AUTOGLM_AUDIT_DIR: { path: "audit.dir", kind: "string" },
  AUTOGLM_AUDIT_ROTATE_BYTES: { path: "audit.rotate_bytes", kind: "number" },
  /** Comma-separated webhook URLs; replaces the file's list. */
  AUTOGLM_ALERTS_WEBHOOKS: { path: "alerts.webhooks", kind: "list" },
  AUTOGLM_ALERTS_COOLDOWN_S: { path: "alerts.cooldown_s", kind: "number" },
  AUTOGLM_ALERTS_RETRIES: { path: "alerts.retries", kind: "number" },
  /** Comma-separated etcd client URLs; replaces the file's list. */
  AUTOGLM_ETCD_ENDPOINTS: { path: "etcd.endpoints", kind: "list" },
  AUTOGLM_ETCD_REPLICA_ID: { path: "etcd.replica_id", kind: "string" },
  AUTOGLM_ETCD_ADVERTISE_ADDRESS: { path: "etcd.advertise_address", kind: "string" },
  AUTOGLM_ETCD_TLS_CA_FILE: { path: "etcd.tls.ca_file", kind: "string" },
  AUTOGLM_ETCD_TLS_CERT_FILE: { path: "etcd.tls.cert_file", kind: "string" },
  AUTOGLM_ETCD_TLS_KEY_FILE: { path: "etcd.tls.key_file", kind: "string" },
};

function convert(text: string, kind: Kind): unknown {
  switch (kind) {
    case "string":
      return text;
    case "number": {
      const trimmed = text.trim();
      const value = Number(trimmed);
      return trimmed !== "" && Number.isFinite(value) ? value : text;
    }
    case "boolean": {
      const lower = text.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(lower)) return true;
      if (["0", "false", "no", "off"].includes(lower)) return false;
      return text;
    }
    case "list":
      return text
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "");
  }
}

/**
 * Returns a copy of `doc` with the fields named by set AUTOGLM_* variables replaced, and the
 * map from each replaced path to its variable (for error messages).
 */
export function applyEnv(doc: unknown, env: NodeJS.ProcessEnv): { doc: unknown; labels: Map<string, string> } {
  const labels = new Map<string, string>();
  if (doc !== undefined && doc !== null && !isObject(doc)) return { doc, labels };
  const out: Obj = structuredClone(doc ?? {}) as Obj;
  for (const [name, { path, kind }] of Object.entries(ENV_VARIABLES)) {
    const text = env[name];
    if (text === undefined) continue;
    const keys = path.split(".");
    let node: Obj = out;
    for (const key of keys.slice(0, -1)) {
      const child = node[key];
      if (!isObject(child)) node[key] = {};
      node = node[key] as Obj;
    }
    node[keys[keys.length - 1]!] = convert(text, kind);
    labels.set(path, name);
  }
  return { doc: out, labels };
}
