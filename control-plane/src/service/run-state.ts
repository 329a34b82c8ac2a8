// Whether this control plane leads (runs decision rounds and issues versions) and whether it has
// stopped. Every part of the service reads it (RunStatus); only the replica role writes
// `leading` (lead, stepDown) and only the facade writes `stopped` (ControlPlane.stop).

/** What the parts of the service read. */
export interface RunStatus {
  /** Runs rounds and issues versions (always, unless one of several replicas that follows). */
  readonly leading: boolean;
  /** stop() was called: no new streams, no more shared changes applied. */
  readonly stopped: boolean;
}

export class RunState implements RunStatus {
  stopped = false;

  constructor(public leading: boolean) {}
}
