// Configuration and observable events of the xDS (Aggregated Discovery Service) server.
// Pure data: no I/O here.

/** One upstream address. EDS carries IP literals only: hostnames are rejected at configuration. */
export interface XdsEndpointConfig {
  /** IPv4 or IPv6 literal, e.g. "10.0.0.7" or "::1". */
  address: string;
  /** TCP port, 1..65535. */
  port: number;
}

/** An upstream cluster of a service. Its name is the control plane's cluster name (ClusterDecision.cluster). */
export interface XdsClusterConfig {
  name: string;
  endpoints: XdsEndpointConfig[];
  /** Weight used before any decision arrives, for clusters the decisions do not name, and when all are open. Default 1. */
  baseWeight?: number;
  /** Envoy only: speak HTTP/2 to the upstream (gRPC backends). Proxyless gRPC clients always do. Default false. */
  http2?: boolean;
}

/** A service clients address as `xds:///<name>`: the listener and the route configuration are named after it. */
export interface XdsServiceConfig {
  name: string;
  clusters: XdsClusterConfig[];
  /** Envoy only: where an Envoy fetching this listener over LDS accepts traffic. Without it Envoys get no listener for the service. */
  envoyListener?: { address: string; port: number };
}

/** The four resource types, as short names used in logs, metrics and stats. */
export type XdsResourceKind = "listener" | "route" | "cluster" | "endpoint";

/**
 * What kind of client a stream serves, from its Node: Envoys (user_agent_name "envoy") get
 * socket listeners with a filter chain; everyone else (proxyless gRPC) gets API listeners.
 */
export type XdsClientFlavor = "envoy" | "proxyless";

/** Identifies a client stream in events: the Node's id and a per-server stream number. */
export interface XdsStreamRef {
  streamId: number;
  nodeId: string;
  flavor: XdsClientFlavor;
}

export interface XdsAckEvent extends XdsStreamRef {
  kind: XdsResourceKind;
  /** The version the client now runs. */
  version: string;
  nonce: string;
}

export interface XdsNackEvent extends XdsStreamRef {
  kind: XdsResourceKind;
  /** The version the client rejected. */
  rejectedVersion: string;
  /** The version the client says it keeps (DiscoveryRequest.version_info; "" if none yet). */
  keptVersion: string;
  nonce: string;
  /** google.rpc.Status code and message the client sent in error_detail. */
  code: number;
  detail: string;
}

export interface XdsResponseEvent extends XdsStreamRef {
  kind: XdsResourceKind;
  version: string;
  nonce: string;
  /** Names of the resources in the response. */
  resources: string[];
}

/**
 * Metrics hooks: called synchronously on the event; exceptions thrown by a hook are logged and
 * swallowed. All optional. The same figures are also kept as counters, see XdsStats.
 */
export interface XdsHooks {
  onConnect?(stream: XdsStreamRef): void;
  onDisconnect?(stream: XdsStreamRef): void;
  onAck?(event: XdsAckEvent): void;
  onNack?(event: XdsNackEvent): void;
  onResponse?(event: XdsResponseEvent): void;
}

/** Counters and state of the server, e.g. for a Prometheus collect callback. */
export interface XdsStats {
  /** Streams open now. */
  connectedClients: number;
  /** Totals since start, by resource kind. */
  responsesTotal: Record<XdsResourceKind, number>;
  acksTotal: Record<XdsResourceKind, number>;
  nacksTotal: Record<XdsResourceKind, number>;
  /** The newest NACK received, if any. */
  lastNack: XdsNackEvent | undefined;
  /** Current snapshot version per kind (proxyless listeners; Envoy listeners differ). */
  versions: Record<XdsResourceKind, string>;
  /** DecisionSet.version of the decisions the snapshot follows (undefined before the first update). */
  decisionVersion: number | undefined;
  /** The mesh-wide halt is in force: every route aborts requests (503 / UNAVAILABLE). */
  halted: boolean;
  /** Effective RDS weights per service and cluster, as served. */
  weights: Record<string, Record<string, number>>;
  /** Per open stream and kind: what was sent, acknowledged and rejected. */
  clients: XdsClientStatus[];
  /** Endpoints served as UNHEALTHY (mesh-wide host outlier detection), by cluster: "address:port". */
  unhealthyEndpoints: Record<string, string[]>;
  /** Load reports taken (LRS streams), since start. */
  loadReportsTotal: number;
}

export interface XdsClientStatus extends XdsStreamRef {
  kinds: Partial<Record<XdsResourceKind, { subscribed: string[]; sentVersion: string; ackedVersion: string; rejectedVersion: string; rejectDetail: string }>>;
}
