// xDS (Aggregated Discovery Service, state of the world, v3) for plain Envoys and proxyless gRPC.
export { createXdsServer, ADS_SERVICE, type XdsServer, type XdsServerOptions } from "./server.js";
export { parseXdsServices, XdsConfigError } from "./config.js";
export { routeWeights, type RouteWeights } from "./weights.js";
export { buildSnapshots, type ResourceTransform, type Snapshot, type SnapshotSet, type TypeSnapshot } from "./snapshot.js";
export { AdsStreamState, type DiscoveryRequestView, type DiscoveryResponseView, type StreamEvent } from "./stream-state.js";
export { TYPE_URL, decodeMessage } from "./protos.js";
export type * from "./types.js";
export { LRS_SERVICE, endpointLoads, loadStatsResponse, type EndpointLoad } from "./lrs.js";
export { HostHealth, endpointKey, type EndpointHealthEvent } from "./host-health.js";
