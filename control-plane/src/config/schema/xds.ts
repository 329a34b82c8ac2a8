// The `xds` section: the ADS server for plain Envoys and proxyless gRPC clients.
import { allowNonLoopbackSchema, hostSchema, objectSchema, portSchema } from "./common.js";
import { DEFAULTS } from "../defaults.js";

export const XDS_SCHEMA = objectSchema("The xDS (ADS) server for plain Envoys and proxyless gRPC clients; needs `--xds-services <file>`.", {
  enabled: { type: "boolean", default: false, description: "Run the xDS server (it needs the services, `--xds-services <file>`)." },
  host: hostSchema("the xDS server", DEFAULTS.host),
  port: portSchema("the xDS server", DEFAULTS.xdsPort),
  allow_unauthenticated_non_loopback: allowNonLoopbackSchema("the xDS server has no authentication of its own (any host could read the routes)"),
});
