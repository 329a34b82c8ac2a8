// The upstream argument of proxy_grpc_stream. Envoy's wasm context (source/extensions/common/wasm/
// context.cc, Context::grpcStream) first parses it as a serialized envoy.config.core.v3.GrpcService
// and, only when that fails, takes it as a bare cluster name; with a bare name Envoy's gRPC client
// sends the cluster name as :authority. In Istio that name is "outbound|<port>||<fqdn>", and
// servers reject '|' in :authority (istio/istio#27918), so when an authority is configured the
// filter sends the serialized form, which names both:
//   GrpcService { EnvoyGrpc envoy_grpc = 1; }          (envoy/config/core/v3/grpc_service.proto)
//   EnvoyGrpc   { string cluster_name = 1; string authority = 2; }
import { utf8 } from "../core/bytes";
import { PbWriter } from "../wire/pb";

export const GRPC_SERVICE_ENVOY_GRPC: i32 = 1;
export const ENVOY_GRPC_CLUSTER_NAME: i32 = 1;
export const ENVOY_GRPC_AUTHORITY: i32 = 2;

/** The bytes to pass as proxy_grpc_stream's upstream: the bare cluster name when authority is
 *  "", else GrpcService{envoy_grpc{cluster_name, authority}}. */
export function grpcUpstream(cluster: string, authority: string): ArrayBuffer {
  if (authority.length == 0) return utf8(cluster);
  const w = new PbWriter(16 + cluster.length * 3 + authority.length * 3);
  const mark = w.begin(GRPC_SERVICE_ENVOY_GRPC);
  w.string(ENVOY_GRPC_CLUSTER_NAME, cluster);
  w.string(ENVOY_GRPC_AUTHORITY, authority);
  w.end(mark);
  return w.finish();
}
