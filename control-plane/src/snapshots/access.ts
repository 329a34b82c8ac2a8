// The admin API's view of fault snapshots (admin/deps.ts SnapshotAccess): the store lists and
// reads, the recorder takes them and knows which one a transition links to.
import type { SnapshotAccess } from "../admin/deps.js";
import type { SnapshotRecorder } from "./recorder.js";
import type { SnapshotStore } from "./store.js";

export function snapshotAccess(store: SnapshotStore, recorder: SnapshotRecorder): SnapshotAccess {
  return {
    list: () => store.list(),
    read: (id) => store.read(id),
    capture: (reason, actor, cluster) => recorder.capture({ kind: "on_demand", cluster, reason, actor, trigger: "" }),
    forTransition: (cluster, atMs) => recorder.forTransition(cluster, atMs),
  };
}
