// Sidecar workers connected to other replicas, as the confirmations of this one count them
// (replicas: every replica publishes its own workers in etcd, replicas/sidecar-presence.ts). A
// confirmation (confirmation.ts) needs of a worker only who it is, what it can enforce, and when
// it first reached each version being watched: a replica publishes exactly that, for the
// versions it watches (the halt in force, open incidents not yet confirmed: watchedVersions()),
// plus, while one is watched, the newest version each worker reached (another replica may watch
// a later version of the same halt: one that started while it was in force).
// Also: the stream a follower forwards its merged telemetry on (replicas/telemetry-forwarder.ts)
// is no sidecar; it confirms nothing and counts in no confirmation. Pure.

/** The node id prefix of a follower replica's forwarding stream (`replica/<replica id>`). */
export const REPLICA_NODE_PREFIX = "replica/";

/** Whether a stream's hello is a follower replica's forwarding stream, not a sidecar worker. */
export function isReplicaStream(nodeId: string): boolean {
  return nodeId.startsWith(REPLICA_NODE_PREFIX);
}

/** One worker's arrival at a watched version: when it first acknowledged or enforced `version`
 *  or a later one, epoch ms. */
export interface Arrival {
  version: number;
  atMs: number;
}

/** A sidecar worker as a replica publishes it. */
export interface PublishedWorker {
  /** The stream id on its replica (sN). */
  streamId: string;
  nodeId: string;
  workerId: number;
  capabilities: string[];
  /** Its arrivals at the versions its replica watched, oldest version first. */
  reached: Arrival[];
}

/** A worker of another replica: `streamId` is made unique in the mesh (replica and instance). */
export type RemoteWorker = PublishedWorker;

/** When a worker first reached `version` or above, from its published arrivals (undefined: not
 *  known to have). Exact for a watched version; for another, the earliest arrival at a watched
 *  version at or above it. */
export function remoteReachedAt(reached: readonly Arrival[], version: number): number | undefined {
  let at: number | undefined;
  for (const a of reached) if (a.version >= version && (at === undefined || a.atMs < at)) at = a.atMs;
  return at;
}
