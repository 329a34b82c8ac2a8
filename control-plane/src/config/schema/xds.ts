// The `xds` section: the ADS server for plain Envoys and proxyless gRPC clients.
import { allowNonLoopbackSchema, hostSchema, objectSchema, portSchema } from "./common.js";
import { DEFAULTS } from "../defaults.js";

export const XDS_SCHEMA = objectSchema("The xDS (ADS) server for plain Envoys and proxyless gRPC clients; needs `--xds-services <file>`.", {
  enabled: { type: "boolean", default: false, description: "Run the xDS server (it needs the services, `--xds-services <file>`)." },
  host: hostSchema("the xDS server", DEFAULTS.host),
  port: portSchema("the xDS server", DEFAULTS.xdsPort),
  allow_unauthenticated_non_loopback: allowNonLoopbackSchema("the xDS server has no authentication of its own (any host could read the routes)"),
  host_ejection: {
    type: "boolean",
    default: false,
    description:
      "Serve Envoy's load reporting service (LRS) beside ADS and take out of EDS, as UNHEALTHY, a host that fails clearly more of its requests than the other hosts of its cluster, or is clearly slower than them (from the requests it holds in flight) while clients feel it, summed over every reporting client, while those are healthy (control-plane/src/core/host-outliers.ts). Clients report per-endpoint load only when their bootstrap names this server in `cluster_manager.load_stats_config` (deploy/envoy/host-ejection.yaml). LRS is a write path on a port without authentication: anyone who reaches it can report load and so take up to half of a cluster's hosts out, so keep it on loopback or behind a proxy that authenticates.",
  },
});
