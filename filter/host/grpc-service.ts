// proxy_grpc_call / proxy_grpc_stream's upstream argument, read the way Envoy reads it
// (source/extensions/common/wasm/context.cc, Context::grpcCall and Context::grpcStream): first as a
// serialized envoy.config.core.v3.GrpcService (ParseFromArray); only when that fails, as a bare
// cluster name, whose :authority is then the cluster name itself. From GrpcService the host takes
// envoy_grpc (field 1) { cluster_name = 1, authority = 2 } (envoy/config/core/v3/grpc_service.proto).
// Like protobuf's parser, any well-formed wire data parses (unknown fields included), so a bare name
// whose bytes happen to be valid protobuf is read as a GrpcService, as Envoy would.
import { decodeUtf8 } from "./memory.js";

export interface GrpcUpstream {
  cluster: string;
  /** The :authority Envoy would send; for a bare cluster name, the name. */
  authority: string;
  /** Which form the bytes had. */
  form: "grpc_service" | "cluster_name";
  /** The argument as the module passed it. */
  bytes: Uint8Array;
}

/** Fields of one message: field number → LEN payloads (others only validated). */
type Fields = Map<number, Uint8Array[]>;

function readVarint(b: Uint8Array, pos: number): [number, number] | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.length) return null;
    const byte = b[pos++]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return [value, pos];
  }
  return null;
}

/** Parses well-formed wire data (groups included), or null; `lenFields` lists the field numbers
 *  that must be length-delimited when present. */
function parseMessage(b: Uint8Array, lenFields: readonly number[]): Fields | null {
  const out: Fields = new Map();
  const groups: number[] = [];
  let pos = 0;
  while (pos < b.length) {
    const tag = readVarint(b, pos);
    if (tag === null) return null;
    pos = tag[1];
    const field = Math.floor(tag[0] / 8);
    const wire = tag[0] % 8;
    if (field === 0) return null;
    if (groups.length === 0 && lenFields.includes(field) && wire !== 2) return null;
    switch (wire) {
      case 0: {
        const v = readVarint(b, pos);
        if (v === null) return null;
        pos = v[1];
        break;
      }
      case 1:
        pos += 8;
        break;
      case 2: {
        const len = readVarint(b, pos);
        if (len === null || len[1] + len[0] > b.length) return null;
        if (groups.length === 0) {
          const list = out.get(field) ?? [];
          list.push(b.subarray(len[1], len[1] + len[0]));
          out.set(field, list);
        }
        pos = len[1] + len[0];
        break;
      }
      case 3:
        groups.push(field);
        break;
      case 4:
        if (groups.pop() !== field) return null;
        break;
      case 5:
        pos += 4;
        break;
      default:
        return null;
    }
    if (pos > b.length) return null;
  }
  return groups.length === 0 ? out : null;
}

function utf8Strict(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** The upstream the bytes name, as Envoy would read them. */
export function parseGrpcUpstream(bytes: Uint8Array): GrpcUpstream {
  const service = parseMessage(bytes, [1, 2]);
  if (service !== null) {
    // The last occurrence of a singular message field wins (protobuf merges; enough here).
    const envoyGrpc = service.get(1)?.at(-1);
    const fields = envoyGrpc === undefined ? new Map() as Fields : parseMessage(envoyGrpc, [1, 2]);
    if (fields !== null) {
      const cluster = utf8Strict(fields.get(1)?.at(-1) ?? new Uint8Array(0));
      const authority = utf8Strict(fields.get(2)?.at(-1) ?? new Uint8Array(0));
      if (cluster !== null && authority !== null) {
        // EnvoyGrpc without an authority: Envoy's gRPC client uses the cluster name.
        return { cluster, authority: authority === "" ? cluster : authority, form: "grpc_service", bytes };
      }
    }
  }
  const name = decodeUtf8(bytes);
  return { cluster: name, authority: name, form: "cluster_name", bytes };
}
