// The `admin` section: the admin API with the dashboard, the probes and /metrics.
import { allowNonLoopbackSchema, hostSchema, objectSchema, portSchema, tlsSchema } from "./common.js";
import { DEFAULTS } from "../defaults.js";

export const ADMIN_SCHEMA = objectSchema("The admin API: dashboard (/), /healthz, /readyz, /metrics, state, overrides, halt, audit export.", {
  host: hostSchema("the admin API", DEFAULTS.host),
  port: portSchema("the admin API", DEFAULTS.adminPort),
  token: { type: "string", default: "", description: 'Admin bearer token: every route. "" disables the mutating routes (they answer 401).' },
  read_token: {
    type: "string",
    default: "",
    description:
      'Read-only bearer token: GET routes only. Once either token is set, every GET route but /healthz, /readyz, /metrics and the dashboard page needs one of them. Must differ from `token`; "": none.',
  },
  tls: tlsSchema("TLS of the admin API; absent: plain HTTP, present: HTTPS only.", false),
  allow_unauthenticated_non_loopback: allowNonLoopbackSchema("neither token is set (anyone who reaches the port may read the state and the audit log)"),
});
