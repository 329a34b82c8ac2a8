// What every VM instance of a process shares (Envoy: per process, while each worker thread has its
// own VM): shared data, shared queues, metrics, and the event dispatcher.
import { Dispatcher } from "./dispatcher.js";
import { MetricsStore } from "./metrics.js";
import { toPrometheusText } from "./prometheus.js";
import { SharedData } from "./shared-data.js";
import { SharedQueues } from "./shared-queues.js";

export class SharedStore {
  readonly dispatcher = new Dispatcher();
  readonly data = new SharedData();
  readonly queues = new SharedQueues(this.dispatcher);
  readonly metrics = new MetricsStore();

  /** The metrics as Prometheus text. */
  prometheus(prefix = ""): string {
    return toPrometheusText(this.metrics.snapshot(), prefix);
  }
}
