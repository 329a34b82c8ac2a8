// Defaults of the configuration file's fields that several places name (schemas, the reader,
// tests of the deploy examples).
export const DEFAULTS = {
  host: "127.0.0.1",
  grpcPort: 50051,
  adminPort: 18081,
  xdsPort: 18000,
  sloLatencyMs: 2000,
  sloSuccessRate: 0.99,
  auditRotateBytes: 64 * 1024 * 1024,
  snapshotMaxBytes: 64 * 1024 * 1024,
  snapshotMaxFiles: 200,
  snapshotWindowsBefore: 10,
  snapshotWindowsAfter: 5,
} as const;
