// Envoy's Load Reporting Service (LRS, envoy.service.load_stats.v3): each Envoy opens one stream
// to the management server named in its bootstrap (cluster_manager.load_stats_config) and, after
// the server's first LoadStatsResponse, reports its upstream load every load_reporting_interval.
// With report_endpoint_granularity it reports every endpoint's requests: successful, in error
// (5xx answers; load_report.proto, UpstreamEndpointStats) and sent (issued) since its last
// report (source/common/upstream/load_stats_reporter.cc latches
// the host counters per report), and the requests in flight to it at the report
// (total_requests_in_progress: the host's rq_active gauge, read, not latched), from which the
// control plane judges a host's latency by Little's law. An endpoint with nothing to report is
// left out of a report (all its counters 0). This is
// how the control plane learns per host what each sidecar saw, without any per-request work in
// the filter: the counts feed the mesh-wide host outlier detection (host-health.ts).
//
// The server asks for all clusters (send_all_clusters; Envoy advertises the client feature
// envoy.lrs.supports_send_all_clusters), at the configured interval, with endpoint granularity.
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "../../../lib/log.js";
import { TO_OBJECT, envoyRoot } from "./protos.js";

export const LRS_SERVICE = "envoy.service.load_stats.v3.LoadReportingService";

/** What one sidecar reported for one endpoint over one reporting interval. */
export interface EndpointLoad {
  /** ClusterStats.cluster_name: the cluster as the sidecar names it. */
  cluster: string;
  /** The endpoint's socket address (IP literal) and port. */
  address: string;
  port: number;
  /** Requests answered without a 5xx. */
  successful: number;
  /** Requests answered with a 5xx (Envoy's rq_error). */
  errors: number;
  /** Requests sent to it since the last report (Envoy's rq_total). */
  issued: number;
  /** Requests under way to it when the report was made (Envoy's rq_active). */
  inProgress: number;
}

/** A LoadStatsRequest as decoded with TO_OBJECT (snake_case; uint64 as decimal strings). */
export interface DecodedLoadStatsRequest {
  node: { id: string } | null;
  cluster_stats: Array<{
    cluster_name: string;
    upstream_locality_stats: Array<{
      upstream_endpoint_stats: Array<{
        address: { socket_address?: { address: string; port_value: number } | null } | null;
        total_successful_requests: string;
        total_error_requests: string;
        total_requests_in_progress: string;
        total_issued_requests: string;
      }>;
    }>;
  }>;
}

/**
 * The per-endpoint loads of one report. Endpoints given as anything but a socket address (a pipe,
 * an internal address) cannot be matched to EDS endpoints and are left out; counts that are not
 * non-negative integers are an error naming the field.
 */
export function endpointLoads(request: DecodedLoadStatsRequest): EndpointLoad[] {
  const loads: EndpointLoad[] = [];
  request.cluster_stats.forEach((cluster, c) => {
    cluster.upstream_locality_stats.forEach((locality, l) => {
      locality.upstream_endpoint_stats.forEach((endpoint, e) => {
        const socket = endpoint.address?.socket_address;
        if (socket === undefined || socket === null) return;
        const where = `cluster_stats[${c}].upstream_locality_stats[${l}].upstream_endpoint_stats[${e}]`;
        loads.push({
          cluster: cluster.cluster_name,
          address: socket.address,
          port: socket.port_value,
          successful: count(endpoint.total_successful_requests, `${where}.total_successful_requests`),
          errors: count(endpoint.total_error_requests, `${where}.total_error_requests`),
          issued: count(endpoint.total_issued_requests, `${where}.total_issued_requests`),
          inProgress: count(endpoint.total_requests_in_progress, `${where}.total_requests_in_progress`),
        });
      });
    });
  });
  return loads;
}

function count(value: string, where: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`lrs: ${where}: expected a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

/** The server's answer that starts reporting: every cluster, every endpoint, every intervalMs. */
export function loadStatsResponse(intervalMs: number): Record<string, unknown> {
  return {
    clusters: [],
    send_all_clusters: true,
    load_reporting_interval: { seconds: Math.floor(intervalMs / 1000), nanos: (intervalMs % 1000) * 1e6 },
    report_endpoint_granularity: true,
  };
}

export function lrsServiceDefinition(): grpc.ServiceDefinition {
  const root = envoyRoot();
  const request = root.lookupType("envoy.service.load_stats.v3.LoadStatsRequest");
  const response = root.lookupType("envoy.service.load_stats.v3.LoadStatsResponse");
  return {
    StreamLoadStats: {
      path: `/${LRS_SERVICE}/StreamLoadStats`,
      requestStream: true,
      responseStream: true,
      requestSerialize: (value: object) => Buffer.from(request.encode(request.fromObject(value)).finish()),
      requestDeserialize: (bytes: Buffer) => request.toObject(request.decode(bytes), TO_OBJECT) as DecodedLoadStatsRequest,
      responseSerialize: (value: object) => Buffer.from(response.encode(response.fromObject(value)).finish()),
      responseDeserialize: (bytes: Buffer) => response.toObject(response.decode(bytes), TO_OBJECT),
    },
  };
}

export interface LrsHandlerOptions {
  /** load_reporting_interval asked of every client, milliseconds (at least 1). */
  intervalMs: number;
  /** Called with each readable report's endpoint loads (empty when no endpoint had anything to
   *  report: the report still counts, for the mean of the requests in flight over a sidecar's
   *  reports); not called for a message without cluster stats (Envoy's first). */
  onLoads(nodeId: string, loads: EndpointLoad[]): void;
  logger: Logger;
}

/** The StreamLoadStats handler: answers the first request once, then takes every report. */
export function lrsHandlers(options: LrsHandlerOptions): grpc.UntypedServiceImplementation {
  if (!(Number.isInteger(options.intervalMs) && options.intervalMs >= 1)) throw new Error(`lrs: intervalMs must be a positive integer, got ${options.intervalMs}`);
  return {
    StreamLoadStats(call: grpc.ServerDuplexStream<DecodedLoadStatsRequest, Record<string, unknown>>): void {
      let nodeId: string | undefined;
      call.on("data", (request: DecodedLoadStatsRequest) => {
        if (nodeId === undefined) {
          nodeId = request.node?.id ?? "";
          options.logger.info({ nodeId }, "lrs client connected");
          call.write(loadStatsResponse(options.intervalMs));
        }
        let loads: EndpointLoad[];
        try {
          loads = endpointLoads(request);
        } catch (error) {
          // One bad report is dropped, the stream stays: the next report may be fine.
          options.logger.warn({ nodeId, err: error }, "lrs report dropped");
          return;
        }
        // Envoy's first message carries only its node: not a report. A report whose endpoints all
        // had nothing to say (Envoy leaves them out) still counts as one.
        if (request.cluster_stats.length > 0) options.onLoads(nodeId, loads);
      });
      call.on("end", () => call.end());
      call.on("error", (error: Error) => options.logger.debug({ nodeId, err: error }, "lrs stream error"));
    },
  };
}
