export * from "./types.js";
export * from "./source-book.js";
export * from "./source-flagger.js";
export * from "./source-limits.js";
export * from "./source-monitor.js";
