// The demo's local mailbox: an SMTP server on loopback (smtp-server, the same project as the
// nodemailer the e-mail alert channel sends with) that the demo's control plane delivers its
// alerts to, so `npm start` shows real alert e-mails without any outside service. Each message
// is kept (subject, recipients, when) and, when a directory is given, saved there as
// `NNN.eml` (RFC 5322 text: any mail program opens it). No TLS, no login: loopback only.
import { mkdir, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";

/** Who the demo's alerts are addressed to, and from. */
export const DEMO_MAIL_TO = "oncall@demo.localhost";
export const DEMO_MAIL_FROM = "autoglm-demo@demo.localhost";

export interface DeliveredMail {
  subject: string;
  recipients: string[];
  /** When it arrived, epoch ms. */
  atMs: number;
  /** Where it was saved (with a directory). */
  file?: string;
  raw: string;
}

export interface Mailbox {
  host: string;
  port: number;
  /** Every message received, in order. */
  readonly mails: readonly DeliveredMail[];
  /** Called with each message once kept (and saved). */
  onMail(listener: (mail: DeliveredMail) => void): void;
  close(): Promise<void>;
}

/** A header of a raw message, unfolded and with RFC 2047 encoded words decoded; undefined when absent. */
export function headerOf(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, " ");
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line === undefined ? undefined : decodeWords(line.slice(name.length + 1).trim());
}

/** RFC 2047 encoded words (=?charset?Q|B?text?=) as text; adjacent words join without the space between. */
export function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, encoding: string, text: string) => {
      if (encoding.toUpperCase() === "B") return Buffer.from(text, "base64").toString("utf8");
      const bytes = text.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (_h, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      return Buffer.from(bytes, "latin1").toString("utf8");
    });
}

/** Starts the mailbox on 127.0.0.1 (a free port); `dir`: where each message is saved. */
export async function startMailbox(options: { dir?: string } = {}): Promise<Mailbox> {
  const mails: DeliveredMail[] = [];
  const listeners: ((mail: DeliveredMail) => void)[] = [];
  if (options.dir !== undefined) await mkdir(options.dir, { recursive: true });
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ["STARTTLS", "AUTH"],
    authOptional: true,
    onData(stream, session, callback) {
      let raw = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => (raw += chunk));
      stream.on("end", () => {
        const mail: DeliveredMail = { subject: headerOf(raw, "subject") ?? "(no subject)", recipients: session.envelope.rcptTo.map((r) => r.address), atMs: Date.now(), raw };
        const file = options.dir === undefined ? undefined : join(options.dir, `${String(mails.length + 1).padStart(3, "0")}.eml`);
        mails.push(mail);
        const kept = file === undefined ? Promise.resolve() : writeFile(file, raw).then(() => void (mail.file = file));
        kept.then(
          () => {
            for (const l of listeners) l(mail);
            callback();
          },
          // The message is refused (the channel retries it) when it cannot be saved.
          (error: unknown) => callback(Object.assign(new Error(`cannot save the message: ${(error as Error).message}`), { responseCode: 451 })),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    host: "127.0.0.1",
    port,
    mails,
    onMail: (listener) => void listeners.push(listener),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The control plane's `alerts` section that e-mails every alert to the mailbox. */
export function mailboxAlerts(mailbox: Pick<Mailbox, "host" | "port">): Record<string, unknown> {
  return {
    channels: {
      "demo-mail": {
        type: "email",
        smtp: { host: mailbox.host, port: mailbox.port, require_tls: false },
        from: DEMO_MAIL_FROM,
        to: [DEMO_MAIL_TO],
        subject_prefix: "[autoglm demo]",
      },
    },
  };
}
