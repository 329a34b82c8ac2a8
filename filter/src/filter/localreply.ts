// The local reply the filter answers with when no cluster can take a request or the mesh is
// halted (503), or a shed decision refuses the request (429): JSON body {"error": "...", "cluster": "...", "retry_after_s": N}, `retry-after: N`,
// `x-autoglm-local-reply: <why>`, content-type application/json.
import { LOCAL_REPLY_GARBAGE, noteGarbage } from "../abi/gc";
import { sendLocalResponse, serializePairs } from "../abi/hostcalls";
import { quoteJsonString } from "../json/json";
import { dec } from "../core/numbertext";

/** Why a request was answered locally (the x-autoglm-local-reply value and the error text). */
export const WHY_HALTED = "halted";
export const WHY_CLUSTER_OPEN = "cluster_open";
export const WHY_CLUSTER_HALF_OPEN = "cluster_half_open";
export const WHY_NO_CLUSTER = "no_cluster_available";
export const WHY_UNCONFIGURED = "filter_unconfigured";
export const WHY_SHED = "shed";

export function localReplyBody(error: string, cluster: string, retryAfterS: u32): string {
  return "{\"error\":" + quoteJsonString(error) + ",\"cluster\":" + quoteJsonString(cluster) +
    ",\"retry_after_s\":" + dec(retryAfterS) + "}";
}

export function sendLocal503(why: string, message: string, cluster: string, retryAfterS: u32): void {
  sendLocalReply(503, why, message, cluster, retryAfterS);
}

/** A local reply of `status` (503, or 429 for a request shed) with the body and headers above. */
export function sendLocalReply(status: i32, why: string, message: string, cluster: string, retryAfterS: u32): void {
  const headers = serializePairs(
    ["content-type", "retry-after", "x-autoglm-local-reply"],
    ["application/json", dec(retryAfterS), why]);
  sendLocalResponse(status, "autoglm_" + why, localReplyBody(message, cluster, retryAfterS), headers);
  noteGarbage(LOCAL_REPLY_GARBAGE);
}
