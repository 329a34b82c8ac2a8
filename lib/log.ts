// Structured JSON logs with levels (trace, debug, info, warn, error), one line per event, on
// stderr so that commands can print results on stdout, or in a file once sendLogsTo() names one
// (the demo, whose terminal shows its own summary lines). The level comes from AUTOGLM_LOG_LEVEL
// (default "info"; "silent" turns logs off, as tests do).
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function levelFromEnv(): LogLevel {
  const raw = process.env.AUTOGLM_LOG_LEVEL ?? "info";
  if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as LogLevel;
  process.stderr.write(
    `AUTOGLM_LOG_LEVEL: "${raw}" is not a level; expected one of ${LOG_LEVELS.join(", ")}; using info\n`,
  );
  return "info";
}

let root: Logger | undefined;
/** Where every logger writes now: stderr, or the file of sendLogsTo(). */
let destination: DestinationStream = pino.destination({ fd: 2, sync: true });
/** Hands each line to the current destination, so loggers made before a switch follow it. */
const switchable: DestinationStream = { write: (line: string) => destination.write(line) };

/**
 * From now on, every log line of the process (loggers made before included) is appended to
 * `path` instead of stderr; missing folders are created. Throws when the file cannot be opened.
 */
export function sendLogsTo(path: string): void {
  destination = pino.destination({ dest: path, sync: true, append: true, mkdir: true });
}

/** The process-wide logger; `component` names the part of the system that logs. */
export function createLogger(component: string, level?: LogLevel): Logger {
  root ??= pino(
    { level: levelFromEnv(), base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
    switchable,
  );
  const child = root.child({ component });
  if (level !== undefined) child.level = level;
  return child;
}
