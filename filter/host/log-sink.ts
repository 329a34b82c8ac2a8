// Where proxy_log (and the host's own notes about a VM: traps, restarts) go: the process logger
// (lib/log.ts), and optionally an in-memory list for tests.
import { LOG_LEVEL_NAMES, type LogLevelName } from "./abi.js";
import { createLogger, type Logger } from "../../lib/log.js";

export interface CapturedLog {
  level: LogLevelName;
  message: string;
  /** Index of the VM instance (worker) that logged; -1 for the host itself. */
  vm: number;
  /** The effective context when the module logged (0 when the host logged). */
  contextId: number;
}

export interface LogSinkOptions {
  /** Lowest level passed on and captured (default: the logger's level, or "info"). */
  level?: LogLevelName | "silent";
  /** Keep log lines in `logs` (for tests). Default false. */
  capture?: boolean;
  /** At most this many captured lines are kept (oldest dropped). Default 10000. */
  captureLimit?: number;
  logger?: Logger;
}

const PINO_LEVEL: Record<LogLevelName, "trace" | "debug" | "info" | "warn" | "error" | "fatal"> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warn",
  error: "error",
  critical: "fatal",
};

function levelNumber(name: string): number {
  const i = (LOG_LEVEL_NAMES as readonly string[]).indexOf(name === "fatal" ? "critical" : name);
  return i < 0 ? LOG_LEVEL_NAMES.length : i; // "silent" and unknown: above every level
}

export class LogSink {
  readonly logs: CapturedLog[] = [];
  /** The ABI level (0 trace … 5 critical) below which messages are dropped; 6 = silent. */
  readonly threshold: number;
  private readonly capture: boolean;
  private readonly captureLimit: number;
  private readonly logger: Logger;

  constructor(options: LogSinkOptions = {}) {
    this.logger = options.logger ?? createLogger("wasm");
    this.threshold = levelNumber(options.level ?? this.logger.level);
    this.capture = options.capture ?? false;
    this.captureLimit = options.captureLimit ?? 10000;
  }

  /** True when a message at ABI `level` would be kept (lets the host skip decoding). */
  enabled(level: number): boolean {
    return level >= this.threshold;
  }

  write(level: number, message: string, vm: number, contextId: number): void {
    if (level < this.threshold) return;
    const name = LOG_LEVEL_NAMES[level] ?? "critical";
    if (this.capture) {
      if (this.logs.length >= this.captureLimit) this.logs.shift();
      this.logs.push({ level: name, message, vm, contextId });
    }
    this.logger[PINO_LEVEL[name]]({ vm, context: contextId }, message);
  }

  /** A message from the host about the module (trap, restart). */
  host(level: LogLevelName, message: string, vm: number): void {
    this.write(LOG_LEVEL_NAMES.indexOf(level), message, vm, 0);
  }
}
