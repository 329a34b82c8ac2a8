// The ADS server on @grpc/grpc-js: one bidirectional stream per client, each driven by an
// AdsStreamState, all following one snapshot set rebuilt on every update(decisions).
import * as grpc from "@grpc/grpc-js";
import type { DecisionSet } from "../core/types.js";
import { createLogger, type Logger } from "../../../lib/log.js";
import { parseXdsServices } from "./config.js";
import { TO_OBJECT, envoyRoot } from "./protos.js";
import { RESOURCE_KINDS, buildSnapshots, type ResourceTransform, type SnapshotSet } from "./snapshot.js";
import { AdsStreamState, type DiscoveryRequestView, type DiscoveryResponseView, type StreamEvent } from "./stream-state.js";
import type { XdsClientFlavor, XdsHooks, XdsNackEvent, XdsResourceKind, XdsServiceConfig, XdsStats, XdsStreamRef } from "./types.js";
import { lrsHandlers, lrsServiceDefinition, type EndpointLoad } from "./lrs.js";

export const ADS_SERVICE = "envoy.service.discovery.v3.AggregatedDiscoveryService";

export interface XdsServerOptions {
  /** Services, their clusters and endpoints; checked with parseXdsServices (throws XdsConfigError). */
  services: readonly XdsServiceConfig[];
  /** Structured logger; default createLogger("xds"). */
  logger?: Logger;
  /** Metrics hooks (acks, nacks with detail, connects, responses). */
  hooks?: XdsHooks;
  /** Decisions to start from; without them routes use the clusters' base weights. */
  initialDecisions?: DecisionSet;
  /** DiscoveryResponse.control_plane.identifier. Default "autoglm-control-plane". */
  controlPlaneId?: string;
  /**
   * Serve Envoy's Load Reporting Service beside ADS: clients report per-endpoint load every
   * `intervalMs`, handed to `onLoads` (for host-health.ts). Without it, LRS is not served.
   */
  loadReports?: { intervalMs: number; onLoads(nodeId: string, loads: EndpointLoad[]): void };
}

export interface XdsServer {
  /** Follows a new decision set: rebuilds the snapshot and pushes every changed type to every stream. Older versions than the last one are ignored. */
  update(decisions: DecisionSet): void;
  /** Adds the ADS service to a server the caller owns (and starts and stops). */
  bind(server: grpc.Server): void;
  /** Starts an own server on `address` (e.g. "127.0.0.1:0", plaintext); resolves to the bound port. */
  listen(address: string, credentials?: grpc.ServerCredentials): Promise<number>;
  /** Ends every stream and stops the own server, if listen() started one. */
  close(): Promise<void>;
  /** Counters and per-client state, for metrics and the admin API. */
  stats(): XdsStats;
  /**
   * Tests and drills only: transform every resource before it is encoded (to craft a config a
   * client rejects), or undefined to stop. Rebuilds and pushes the snapshot at once.
   */
  setResourceTransform(transform: ResourceTransform | undefined): void;
  /**
   * Serves these endpoints ("address:port" by cluster name) as UNHEALTHY over EDS and every other
   * one as HEALTHY; rebuilds and pushes only when the set changed.
   */
  setUnhealthyEndpoints(unhealthy: ReadonlyMap<string, ReadonlySet<string>>): void;
}

interface DecodedRequest {
  version_info: string;
  node: { id: string; user_agent_name: string } | null;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail: { code: number; message: string } | null;
}

interface OpenStream {
  ref: XdsStreamRef;
  connected: boolean;
  state: AdsStreamState;
  call: grpc.ServerDuplexStream<DecodedRequest, Record<string, unknown>>;
}

function zeroByKind(): Record<XdsResourceKind, number> {
  return { listener: 0, route: 0, cluster: 0, endpoint: 0 };
}

function adsServiceDefinition(): grpc.ServiceDefinition {
  const root = envoyRoot();
  const request = root.lookupType("envoy.service.discovery.v3.DiscoveryRequest");
  const response = root.lookupType("envoy.service.discovery.v3.DiscoveryResponse");
  const method = (name: string): grpc.MethodDefinition<DecodedRequest, Record<string, unknown>> => ({
    path: `/${ADS_SERVICE}/${name}`,
    requestStream: true,
    responseStream: true,
    requestSerialize: (value) => Buffer.from(request.encode(request.fromObject(value as object)).finish()),
    requestDeserialize: (bytes) => request.toObject(request.decode(bytes), TO_OBJECT) as DecodedRequest,
    responseSerialize: (value) => Buffer.from(response.encode(response.fromObject(value)).finish()),
    responseDeserialize: (bytes) => response.toObject(response.decode(bytes), TO_OBJECT),
  });
  return { StreamAggregatedResources: method("StreamAggregatedResources"), DeltaAggregatedResources: method("DeltaAggregatedResources") };
}

/** Creates the ADS server (state of the world, v3) serving LDS, RDS, CDS and EDS for `services`. */
export function createXdsServer(options: XdsServerOptions): XdsServer {
  const services = parseXdsServices(options.services);
  const log = options.logger ?? createLogger("xds");
  const hooks = options.hooks ?? {};
  const controlPlaneId = options.controlPlaneId ?? "autoglm-control-plane";
  let decisions = options.initialDecisions;
  let transform: ResourceTransform | undefined;
  let unhealthy: ReadonlyMap<string, ReadonlySet<string>> = new Map();
  let loadReportsTotal = 0;
  let snapshots: SnapshotSet = buildSnapshots(services, decisions);
  const streams = new Map<number, OpenStream>();
  let lastStreamId = 0;
  let ownServer: grpc.Server | undefined;
  const responsesTotal = zeroByKind();
  const acksTotal = zeroByKind();
  const nacksTotal = zeroByKind();
  let lastNack: XdsNackEvent | undefined;

  function callHook<E>(name: keyof XdsHooks, hook: ((event: E) => void) | undefined, event: E): void {
    if (hook === undefined) return;
    try {
      hook(event);
    } catch (error) {
      log.error({ hook: name, err: error }, "xds metrics hook threw; ignored");
    }
  }

  function send(stream: OpenStream, response: DiscoveryResponseView): void {
    responsesTotal[response.kind] += 1;
    stream.call.write({
      version_info: response.version,
      resources: response.resources.map((r) => ({ type_url: r.type_url, value: Buffer.from(r.value) })),
      type_url: response.typeUrl,
      nonce: response.nonce,
      control_plane: { identifier: controlPlaneId },
    });
    log.debug({ ...stream.ref, kind: response.kind, version: response.version, nonce: response.nonce, resources: response.names }, "xds response sent");
    callHook("onResponse", hooks.onResponse, { ...stream.ref, kind: response.kind, version: response.version, nonce: response.nonce, resources: response.names });
  }

  function report(stream: OpenStream, event: StreamEvent): void {
    switch (event.type) {
      case "ack":
        acksTotal[event.kind] += 1;
        log.debug({ ...stream.ref, kind: event.kind, version: event.version, nonce: event.nonce }, "xds ack");
        callHook("onAck", hooks.onAck, { ...stream.ref, kind: event.kind, version: event.version, nonce: event.nonce });
        break;
      case "nack": {
        nacksTotal[event.kind] += 1;
        const nack: XdsNackEvent = {
          ...stream.ref,
          kind: event.kind,
          rejectedVersion: event.rejectedVersion,
          keptVersion: event.keptVersion,
          nonce: event.nonce,
          code: event.code,
          detail: event.detail,
        };
        lastNack = nack;
        log.warn(nack, "xds nack: the client rejected the config and keeps its last accepted version");
        callHook("onNack", hooks.onNack, nack);
        break;
      }
      case "stale":
        log.debug({ ...stream.ref, kind: event.kind, nonce: event.nonce, expectedNonce: event.expectedNonce }, "xds request with a stale nonce ignored");
        break;
      case "unknown_type":
        log.warn({ ...stream.ref, typeUrl: event.typeUrl }, "xds request for a resource type this server does not serve; ignored");
        break;
    }
  }

  function flavorOf(node: DecodedRequest["node"]): XdsClientFlavor {
    return node?.user_agent_name === "envoy" ? "envoy" : "proxyless";
  }

  function handleStream(call: grpc.ServerDuplexStream<DecodedRequest, Record<string, unknown>>): void {
    const streamId = ++lastStreamId;
    let nonces = 0;
    const stream: OpenStream = {
      ref: { streamId, nodeId: "", flavor: "proxyless" },
      connected: false,
      state: new AdsStreamState(() => `${streamId}.${++nonces}`),
      call,
    };
    streams.set(streamId, stream);
    let closed = false;
    const finish = (why: string): void => {
      if (closed) return;
      closed = true;
      streams.delete(streamId);
      if (stream.connected) {
        log.info({ ...stream.ref, why }, "xds client disconnected");
        callHook("onDisconnect", hooks.onDisconnect, stream.ref);
      }
    };
    call.on("data", (raw: DecodedRequest) => {
      if (!stream.connected) {
        stream.ref = { streamId, nodeId: raw.node?.id ?? "", flavor: flavorOf(raw.node) };
        stream.connected = true;
        log.info({ ...stream.ref, userAgent: raw.node?.user_agent_name ?? "" }, "xds client connected");
        callHook("onConnect", hooks.onConnect, stream.ref);
      }
      const request: DiscoveryRequestView = {
        typeUrl: raw.type_url,
        versionInfo: raw.version_info,
        responseNonce: raw.response_nonce,
        resourceNames: raw.resource_names,
        errorDetail: raw.error_detail === null ? undefined : { code: raw.error_detail.code, message: raw.error_detail.message },
      };
      const { events, responses } = stream.state.onRequest(request, snapshots.byFlavor[stream.ref.flavor]);
      for (const event of events) report(stream, event);
      for (const response of responses) send(stream, response);
    });
    call.on("end", () => {
      finish("client ended the stream");
      call.end();
    });
    call.on("cancelled", () => finish("cancelled"));
    call.on("error", (error: Error) => finish(`error: ${error.message}`));
    call.on("close", () => finish("closed"));
  }

  function pushAll(): void {
    for (const stream of streams.values()) {
      if (!stream.connected) continue;
      for (const response of stream.state.onSnapshot(snapshots.byFlavor[stream.ref.flavor])) send(stream, response);
    }
  }

  function rebuild(why: string): void {
    const before = snapshots.byFlavor.proxyless;
    snapshots = buildSnapshots(services, decisions, transform, unhealthy);
    const after = snapshots.byFlavor.proxyless;
    const changed = RESOURCE_KINDS.filter((kind) => before[kind].version !== after[kind].version);
    const weights = Object.fromEntries([...snapshots.weights].map(([service, w]) => [service, { ...Object.fromEntries(w.weights), source: w.source }]));
    log.info({ why, decisionVersion: snapshots.decisionVersion, halted: snapshots.halted, changed, weights }, "xds snapshot rebuilt");
    pushAll();
  }

  return {
    update(next: DecisionSet): void {
      if (decisions !== undefined && next.version < decisions.version) {
        log.warn({ version: next.version, current: decisions.version }, "xds update with an older decision version ignored");
        return;
      }
      decisions = next;
      rebuild(`decisions ${next.version}`);
    },

    bind(server: grpc.Server): void {
      server.addService(adsServiceDefinition(), {
        StreamAggregatedResources: handleStream,
        DeltaAggregatedResources: (call: grpc.ServerDuplexStream<DecodedRequest, Record<string, unknown>>) => {
          call.emit("error", { code: grpc.status.UNIMPLEMENTED, details: "incremental (delta) xDS is not served; use state-of-the-world ADS" });
        },
      });
      const loadReports = options.loadReports;
      if (loadReports !== undefined) {
        server.addService(lrsServiceDefinition(), lrsHandlers({
          intervalMs: loadReports.intervalMs,
          logger: log,
          onLoads: (nodeId, loads) => {
            loadReportsTotal += 1;
            try {
              loadReports.onLoads(nodeId, loads);
            } catch (error) {
              log.error({ nodeId, err: error }, "lrs load handler threw; report ignored");
            }
          },
        }));
      }
    },

    async listen(address: string, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
      if (ownServer !== undefined) throw new Error("xds: listen() was already called");
      const server = new grpc.Server();
      this.bind(server);
      const port = await new Promise<number>((resolve, reject) => {
        server.bindAsync(address, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
      });
      ownServer = server;
      log.info({ address, port }, "xds server listening");
      return port;
    },

    async close(): Promise<void> {
      for (const stream of [...streams.values()]) stream.call.end();
      const server = ownServer;
      ownServer = undefined;
      if (server === undefined) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },

    stats(): XdsStats {
      const current = snapshots.byFlavor.proxyless;
      return {
        connectedClients: [...streams.values()].filter((s) => s.connected).length,
        responsesTotal: { ...responsesTotal },
        acksTotal: { ...acksTotal },
        nacksTotal: { ...nacksTotal },
        lastNack,
        versions: { listener: current.listener.version, route: current.route.version, cluster: current.cluster.version, endpoint: current.endpoint.version },
        decisionVersion: snapshots.decisionVersion,
        halted: snapshots.halted,
        weights: Object.fromEntries([...snapshots.weights].map(([service, w]) => [service, Object.fromEntries(w.weights)])),
        clients: [...streams.values()]
          .filter((s) => s.connected)
          .map((s) => {
            const status = s.state.status();
            const kinds: XdsStats["clients"][number]["kinds"] = {};
            for (const kind of RESOURCE_KINDS) {
              const k = status[kind];
              if (k !== undefined) {
                kinds[kind] = { subscribed: k.subscribed, sentVersion: k.sentVersion, ackedVersion: k.ackedVersion, rejectedVersion: k.rejectedVersion, rejectDetail: k.rejectDetail };
              }
            }
            return { ...s.ref, kinds };
          }),
        unhealthyEndpoints: Object.fromEntries([...unhealthy].filter(([, s]) => s.size > 0).map(([c, s]) => [c, [...s].sort()])),
        loadReportsTotal,
      };
    },

    setUnhealthyEndpoints(next: ReadonlyMap<string, ReadonlySet<string>>): void {
      const key = (m: ReadonlyMap<string, ReadonlySet<string>>): string =>
        JSON.stringify([...m].map(([c, s]) => [c, [...s].sort()]).filter(([, s]) => s.length > 0).sort());
      if (key(next) === key(unhealthy)) return;
      unhealthy = new Map([...next].map(([c, s]) => [c, new Set(s)]));
      rebuild("endpoint health changed");
    },

    setResourceTransform(next: ResourceTransform | undefined): void {
      transform = next;
      rebuild(next === undefined ? "resource transform removed" : "resource transform set (test hook)");
    },
  };
}
