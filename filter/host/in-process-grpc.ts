// gRPC without sockets: the embedder supplies a function that accepts a stream (given cluster,
// service, method and metadata) and exchanges raw message bytes with it. This is how tests and the
// scenario runner connect a filter to the control plane in the same process, e.g.
//
//   new InProcessGrpcTransport((req, toSidecar) =>
//     req.cluster === "autoglm-control-plane"
//       ? service.openInProcessStream(Object.fromEntries(req.metadata), toSidecar)
//       : null);
import type { GrpcEvents, GrpcRequest, GrpcStreamHandle, GrpcTransport } from "./grpc-transport.js";
import type { HeaderPairs } from "./header-map.js";

/** The sidecar's side as the in-process server sees it. */
export interface InProcessPeer {
  onMessage(message: Uint8Array): void;
  /** Ends the stream with a gRPC status code (0 = OK) and details. */
  onClose(code: number, details: string): void;
  onInitialMetadata(metadata: HeaderPairs): void;
  onTrailingMetadata(metadata: HeaderPairs): void;
}

/** The server's side of one stream, as the accepting function returns it. */
export interface InProcessServerStream {
  /** A message from the sidecar. */
  send(message: Uint8Array): void;
  /** The sidecar half-closed or cancelled the stream. */
  close(): void;
}

/** Accepts a stream, or returns null when nothing serves `request.cluster`. */
export type InProcessAcceptor = (request: GrpcRequest, toSidecar: InProcessPeer) => InProcessServerStream | null;

/** A record of one stream opened through the transport (for tests). */
export interface RecordedGrpcStream {
  request: GrpcRequest;
  /** Messages the module sent, in order. */
  sent: Uint8Array[];
  /** Messages the server sent to the module, in order. */
  received: Uint8Array[];
  halfClosed: boolean;
  cancelled: boolean;
  /** Set when the server closed the stream. */
  closed: { code: number; details: string } | null;
}

export interface InProcessGrpcOptions {
  /** Keep every stream and its messages in `streams` (for tests; off by default: it grows). */
  record?: boolean;
  /** At most this many streams are kept when recording (oldest dropped first). Default 1000. */
  recordLimit?: number;
}

export class InProcessGrpcTransport implements GrpcTransport {
  /** Streams opened so far, when recording. */
  readonly streams: RecordedGrpcStream[] = [];
  private readonly record: boolean;
  private readonly recordLimit: number;

  constructor(
    private readonly accept: InProcessAcceptor,
    options: InProcessGrpcOptions = {},
  ) {
    this.record = options.record ?? false;
    this.recordLimit = options.recordLimit ?? 1000;
  }

  open(request: GrpcRequest, events: GrpcEvents): GrpcStreamHandle | null {
    const record: RecordedGrpcStream = {
      request,
      sent: [],
      received: [],
      halfClosed: false,
      cancelled: false,
      closed: null,
    };
    let ended = false;
    const peer: InProcessPeer = {
      onMessage: (message) => {
        if (ended) return;
        if (this.record) record.received.push(message);
        events.onMessage(message);
      },
      onClose: (code, details) => {
        if (ended) return;
        ended = true;
        record.closed = { code, details };
        events.onClose(code, details);
      },
      onInitialMetadata: (metadata) => {
        if (!ended) events.onInitialMetadata(metadata);
      },
      onTrailingMetadata: (metadata) => {
        if (!ended) events.onTrailingMetadata(metadata);
      },
    };
    const server = this.accept(request, peer);
    if (server === null) return null;
    if (this.record) {
      if (this.streams.length >= this.recordLimit) this.streams.shift();
      this.streams.push(record);
    }
    return {
      send: (message) => {
        if (ended) return;
        if (this.record) record.sent.push(message);
        server.send(message);
      },
      halfClose: () => {
        if (ended || record.halfClosed) return;
        record.halfClosed = true;
        server.close();
      },
      cancel: () => {
        if (ended) return;
        ended = true;
        record.cancelled = true;
        server.close();
      },
    };
  }
}
