// Local receivers the alert tests deliver to, all on loopback with ports the OS picks: an HTTP
// server (webhooks, an SMS provider's API) and an SMTP server (smtp-server, the same project as
// nodemailer). Each records what it received and can be told to refuse.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * An HTTP receiver: answers `statuses` in turn (then 200), or `statusFor(request)` when given;
 * records every request (`requests`) and those answered 2xx (`accepted`).
 */
export async function httpReceiver(options: { statuses?: number[]; statusFor?: (r: ReceivedRequest) => number } = {}) {
  const statuses = [...(options.statuses ?? [])];
  const requests: ReceivedRequest[] = [];
  const accepted: ReceivedRequest[] = [];
  let hold: Promise<void> | undefined;
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const request: ReceivedRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
    requests.push(request);
    if (hold !== undefined) await hold;
    const status = options.statusFor?.(request) ?? statuses.shift() ?? 200;
    if (status >= 200 && status < 300) accepted.push(request);
    res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    accepted,
    /** Requests wait for `p` before being answered. */
    holdUntil(p: Promise<void>) {
      hold = p;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ReceivedMail {
  from: string;
  recipients: string[];
  /** The whole message as received (headers and body, CRLF line ends). */
  raw: string;
  user?: string;
}

/**
 * An SMTP server without TLS that accepts AUTH PLAIN/LOGIN for `credentials` (when given) and
 * answers RCPT TO with `rcptErrors` in turn (SMTP reply codes; then accepts).
 */
export async function smtpReceiver(options: { credentials?: { user: string; password: string }; rcptErrors?: number[] } = {}) {
  const mails: ReceivedMail[] = [];
  const rcptErrors = [...(options.rcptErrors ?? [])];
  const logins: { user: string; ok: boolean }[] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ["STARTTLS"],
    authOptional: options.credentials === undefined,
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      const ok = auth.username === options.credentials?.user && auth.password === options.credentials?.password;
      logins.push({ user: auth.username ?? "", ok });
      if (ok) callback(null, { user: auth.username });
      else callback(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
    },
    onRcptTo(_address, _session, callback) {
      const code = rcptErrors.shift();
      if (code === undefined) callback();
      else callback(Object.assign(new Error(code >= 500 ? "mailbox unavailable" : "try again later"), { responseCode: code }));
    },
    onData(stream, session, callback) {
      let raw = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => (raw += chunk));
      stream.on("end", () => {
        const from = session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address;
        mails.push({ from, recipients: session.envelope.rcptTo.map((r) => r.address), raw, ...(session.user === undefined ? {} : { user: String(session.user) }) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    logins,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A header of a raw message (unfolded), undefined when absent. */
export function mailHeader(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, " ");
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** The body of a single-part text message, quoted-printable decoded when so encoded. */
export function mailText(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, "");
  if (!/quoted-printable/i.test(mailHeader(raw, "content-transfer-encoding") ?? "")) return body.replace(/\r\n/g, "\n");
  const bytes = body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8").replace(/\r\n/g, "\n");
}
