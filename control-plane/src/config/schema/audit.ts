// The `audit` section: the append-only audit log the control plane restores its state from.
import { objectSchema } from "./common.js";
import { DEFAULTS } from "../defaults.js";

export const AUDIT_SCHEMA = objectSchema("The append-only audit log; the control plane restores its state from it at start.", {
  dir: {
    type: "string",
    minLength: 1,
    description: "Directory of the audit log files, created if missing; it must be writable at start. Absent: no audit log (state is not restored on restart).",
  },
  rotate_bytes: { type: "integer", minimum: 4096, maximum: Number.MAX_SAFE_INTEGER, default: DEFAULTS.auditRotateBytes, description: "A file is rotated once it reaches this size, bytes." },
});
