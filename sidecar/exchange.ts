// The state of one request/response exchange through the sidecar, and whose fault its end is.
// Three clocks can end an exchange early, and each blames someone different:
//   - the upstream timeout (504, flag UT, the upstream's fault) starts only once the whole request
//     has been received from the client and handed to the upstream, as Envoy's route `timeout`
//     spans "between the point at which the entire downstream request (i.e. end-of-stream) has
//     been processed and when the upstream response has been completely processed" (Envoy's
//     route_components.proto; this sidecar stops it at the response headers so streams can run);
//   - the request idle timeout (408, flag SI, the client's fault) runs while the proxy waits for
//     the client's next piece of request body, and is paused while the upstream holds the body
//     back (backpressure is not the client's silence: the upstream timeout runs then instead);
//   - a client that closes its connection before the whole response was sent (flag DC, the
//     client's fault): the upstream request is abandoned and no upstream failure is counted.
import type http from "node:http";
import type { HttpStream } from "../filter/host/index.js";
import type { ProxyContext } from "./proxy.js";
import { FLAG_DC } from "./responses.js";

export class Exchange {
  stream: HttpStream | null = null;
  private upstream: http.ClientRequest | null = null;
  /** Gives the request's place in its cluster's pool back (idempotent). */
  private releasePlace: () => void = () => undefined;
  /** A response (the upstream's, or one the proxy or the filter made) has been chosen; later events are ignored. */
  answered = false;
  /** The client closed its connection before the whole response had been sent. */
  clientGone = false;
  /** The proxy itself cut the client's connection (e.g. the upstream reset mid-response). */
  private cutByProxy = false;
  /** Response flags set so far (Envoy's bits), OR-ed together. */
  private flags = 0;
  private upstreamTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** What to do when the client is silent too long mid-body (set by the proxy). */
  onRequestIdle: () => void = () => undefined;

  constructor(
    readonly ctx: ProxyContext,
    readonly req: http.IncomingMessage,
    readonly res: http.ServerResponse,
  ) {}

  /** The upstream request, and how to give its place in the pool back when it ends. */
  setUpstream(upstream: http.ClientRequest, release: () => void): void {
    this.upstream = upstream;
    this.releasePlace = release;
  }

  /**
   * Abandons the upstream request (it no longer matters, or took too long). Its place in the pool
   * is given back at once: a request still waiting for a connection holds none.
   */
  abandonUpstream(): void {
    if (this.upstream !== null && !this.upstream.destroyed) this.upstream.destroy();
    this.releasePlace();
  }

  /** Adds response flags (bits of `response.flags`) and, unless "", the response code details. */
  setOutcome(bits: number, details: string): void {
    this.flags |= bits;
    this.stream?.setProperty("response.flags", this.flags);
    if (details !== "") this.stream?.setProperty("response.code_details", details);
  }

  /** Takes the right to answer the client: false when a response was already chosen or the client left. */
  claim(): boolean {
    if (this.answered || this.clientGone) return false;
    this.answered = true;
    this.clearTimers();
    return true;
  }

  /** Cuts the client's connection on the proxy's initiative (not counted as a client disconnect). */
  cutClient(): void {
    this.cutByProxy = true;
    this.res.destroy();
  }

  /**
   * Starts the upstream timeout: once the whole request has been handed to the upstream, and
   * while an upstream that has not answered holds the request body back (it does not read it).
   */
  startUpstreamTimeout(onTimeout: () => void): void {
    const ms = this.ctx.config.upstreamTimeoutMs;
    this.stopUpstreamTimeout();
    if (ms === 0 || this.answered || this.clientGone) return;
    this.upstreamTimer = setTimeout(onTimeout, ms);
  }

  stopUpstreamTimeout(): void {
    if (this.upstreamTimer !== null) clearTimeout(this.upstreamTimer);
    this.upstreamTimer = null;
  }

  /** (Re)starts the wait for the client's next piece of request body. */
  awaitClient(): void {
    const ms = this.ctx.config.requestIdleTimeoutMs;
    this.stopAwaitingClient();
    if (ms === 0 || this.answered || this.clientGone) return;
    this.idleTimer = setTimeout(() => this.onRequestIdle(), ms);
  }

  /** Stops the request idle timeout (the body is complete, or the upstream is holding it back). */
  stopAwaitingClient(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private clearTimers(): void {
    this.stopUpstreamTimeout();
    this.stopAwaitingClient();
  }

  /**
   * The client's connection closed. Called before the filter's stream completes, so that a client
   * that left early shows as DC (Envoy's downstream connection termination) in proxy_on_log, and
   * the upstream request it no longer waits for is abandoned without blaming the upstream.
   */
  closed(): void {
    this.clearTimers();
    if (this.res.writableFinished || this.cutByProxy) return;
    this.clientGone = true;
    this.ctx.metrics.downstreamDisconnect();
    this.ctx.log.debug({ answered: this.answered }, "client closed its connection before the whole response was sent");
    this.setOutcome(FLAG_DC, this.answered ? "" : "downstream_remote_disconnect");
    this.abandonUpstream();
  }
}
