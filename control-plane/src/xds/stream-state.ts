// The state-of-the-world ADS protocol for one client stream, without sockets: requests and
// snapshots in, responses to send and ACK/NACK events out. Pure; the nonce source is injected.
//
// Rules (xDS protocol, "state of the world"):
// - Per resource type the stream remembers what it last sent (version, nonce, subscription).
// - A request whose response_nonce is not the nonce last sent for its type is stale: it answers
//   an older response, so it is ignored whole (ACK/NACK and names). The client repeats its full
//   subscription with the ACK/NACK of the newest response, so nothing is lost.
// - A request with the newest nonce is an ACK, or a NACK when it carries error_detail. A NACK
//   keeps the last accepted version on record and is not answered: the rejected config is not
//   sent again until a new version exists (or the subscription changes, which needs an answer).
// - A response is sent when the type's version differs from the one last sent, or the
//   subscription differs from the one last answered. Each response carries every subscribed
//   resource that exists (all of them for a wildcard subscription).
// - Listeners and clusters accept wildcard subscriptions: an empty first request, or "*".
import type { PackedAny } from "./protos.js";
import { RESOURCE_KINDS, TYPE_URL_OF_KIND, kindOfTypeUrl, type Snapshot } from "./snapshot.js";
import type { XdsResourceKind } from "./types.js";

/** The fields of a DiscoveryRequest the protocol looks at. */
export interface DiscoveryRequestView {
  typeUrl: string;
  /** The version the client has accepted last for this type ("" if none). */
  versionInfo: string;
  /** The nonce of the response this request answers ("" if none yet). */
  responseNonce: string;
  resourceNames: string[];
  /** Set on a NACK: google.rpc.Status code and message. */
  errorDetail?: { code: number; message: string } | undefined;
}

export interface DiscoveryResponseView {
  kind: XdsResourceKind;
  typeUrl: string;
  version: string;
  nonce: string;
  resources: PackedAny[];
  /** The names of `resources`, in the same order. */
  names: string[];
}

export type StreamEvent =
  | { type: "ack"; kind: XdsResourceKind; version: string; nonce: string }
  | { type: "nack"; kind: XdsResourceKind; rejectedVersion: string; keptVersion: string; nonce: string; code: number; detail: string }
  | { type: "stale"; kind: XdsResourceKind; nonce: string; expectedNonce: string }
  | { type: "unknown_type"; typeUrl: string };

interface KindState {
  wildcard: boolean;
  /** Subscribed names, in the order the client listed them. */
  names: string[];
  sent: { version: string; nonce: string; subscription: string } | undefined;
  ackedVersion: string;
  rejected: { version: string; detail: string } | undefined;
}

export interface KindStatus {
  wildcard: boolean;
  subscribed: string[];
  sentVersion: string;
  sentNonce: string;
  ackedVersion: string;
  rejectedVersion: string;
  rejectDetail: string;
}

const WILDCARD_KINDS: ReadonlySet<XdsResourceKind> = new Set(["listener", "cluster"]);

function isNack(detail: DiscoveryRequestView["errorDetail"]): detail is { code: number; message: string } {
  return detail !== undefined && (detail.code !== 0 || detail.message !== "");
}

export class AdsStreamState {
  private readonly kinds = new Map<XdsResourceKind, KindState>();

  /** @param nextNonce returns a nonce not used before on this stream. */
  constructor(private readonly nextNonce: () => string) {}

  /** Handles one DiscoveryRequest against the current snapshot. */
  onRequest(request: DiscoveryRequestView, snapshot: Snapshot): { events: StreamEvent[]; responses: DiscoveryResponseView[] } {
    const kind = kindOfTypeUrl(request.typeUrl);
    if (kind === undefined) return { events: [{ type: "unknown_type", typeUrl: request.typeUrl }], responses: [] };
    const events: StreamEvent[] = [];
    let state = this.kinds.get(kind);
    if (state === undefined) {
      state = { wildcard: false, names: [], sent: undefined, ackedVersion: "", rejected: undefined };
      this.kinds.set(kind, state);
      state.wildcard = WILDCARD_KINDS.has(kind) && (request.resourceNames.length === 0 || request.resourceNames.includes("*"));
    } else {
      if (state.sent !== undefined && request.responseNonce !== state.sent.nonce) {
        return { events: [{ type: "stale", kind, nonce: request.responseNonce, expectedNonce: state.sent.nonce }], responses: [] };
      }
      if (state.sent !== undefined) {
        if (isNack(request.errorDetail)) {
          state.rejected = { version: state.sent.version, detail: request.errorDetail.message };
          events.push({
            type: "nack",
            kind,
            rejectedVersion: state.sent.version,
            keptVersion: request.versionInfo,
            nonce: request.responseNonce,
            code: request.errorDetail.code,
            detail: request.errorDetail.message,
          });
        } else {
          state.ackedVersion = state.sent.version;
          state.rejected = undefined;
          events.push({ type: "ack", kind, version: state.sent.version, nonce: request.responseNonce });
        }
      }
      if (WILDCARD_KINDS.has(kind)) {
        state.wildcard = request.resourceNames.includes("*") || (request.resourceNames.length === 0 && state.wildcard);
      }
    }
    state.names = request.resourceNames.filter((name) => name !== "*");
    const response = this.respond(kind, state, snapshot);
    return { events, responses: response === undefined ? [] : [response] };
  }

  /** A new snapshot: the responses every type the client asked for now needs. */
  onSnapshot(snapshot: Snapshot): DiscoveryResponseView[] {
    const responses: DiscoveryResponseView[] = [];
    for (const kind of RESOURCE_KINDS) {
      const state = this.kinds.get(kind);
      if (state === undefined) continue;
      const response = this.respond(kind, state, snapshot);
      if (response !== undefined) responses.push(response);
    }
    return responses;
  }

  status(): Partial<Record<XdsResourceKind, KindStatus>> {
    const result: Partial<Record<XdsResourceKind, KindStatus>> = {};
    for (const [kind, state] of this.kinds) {
      result[kind] = {
        wildcard: state.wildcard,
        subscribed: state.wildcard ? ["*", ...state.names] : [...state.names],
        sentVersion: state.sent?.version ?? "",
        sentNonce: state.sent?.nonce ?? "",
        ackedVersion: state.ackedVersion,
        rejectedVersion: state.rejected?.version ?? "",
        rejectDetail: state.rejected?.detail ?? "",
      };
    }
    return result;
  }

  private respond(kind: XdsResourceKind, state: KindState, snapshot: Snapshot): DiscoveryResponseView | undefined {
    const current = snapshot[kind];
    const subscription = `${state.wildcard ? "*" : ""}|${[...state.names].sort().join("\u0000")}`;
    if (state.sent !== undefined && state.sent.version === current.version && state.sent.subscription === subscription) {
      return undefined;
    }
    const names = state.wildcard
      ? [...new Set([...current.resources.keys(), ...state.names])]
      : [...new Set(state.names)];
    const present = names.filter((name) => current.resources.has(name));
    const nonce = this.nextNonce();
    state.sent = { version: current.version, nonce, subscription };
    return {
      kind,
      typeUrl: TYPE_URL_OF_KIND[kind],
      version: current.version,
      nonce,
      resources: present.map((name) => current.resources.get(name) as PackedAny),
      names: present,
    };
  }
}
