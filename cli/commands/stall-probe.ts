// How late a process's timers run: what a virtual machine's stalls (its cores taken away for
// hundreds of milliseconds) do to any wall-clock latency measured in that process.
//
// trackTimerLateness() measures in the calling process. Run as a child process (`node --import tsx
// stall-probe.ts`), this file is the idle reference of `autoglm bench control-plane`: it only
// measures, and when its stdin ends it writes its StallFigures as JSON to stdout and exits.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

/** Epoch milliseconds on the high-resolution clock (the clock the bench's latency points carry). */
const hrNow = (): number => performance.timeOrigin + performance.now();

/** Timer lateness figures, ms; perSecond: [middle of the second (epoch ms), worst lateness in it]. */
export interface StallFigures {
  p99Ms: number;
  maxMs: number;
  perSecond: Array<[atMs: number, worstMs: number]>;
}

/** Starts measuring (a 10 ms timer); stop() ends it and returns the figures. */
export function trackTimerLateness(): { stop(): StallFigures } {
  const PERIOD_MS = 10;
  const histogram = monitorEventLoopDelay({ resolution: PERIOD_MS });
  histogram.enable();
  const perSecond: Array<[number, number]> = [];
  let second = Math.floor(hrNow() / 1000);
  let worst = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = Math.max(0, now - last - PERIOD_MS);
    last = now;
    const s = Math.floor(hrNow() / 1000);
    if (s !== second) {
      perSecond.push([second * 1000 + 500, worst]);
      second = s;
      worst = 0;
    }
    if (late > worst) worst = late;
  }, PERIOD_MS);
  return {
    stop: () => {
      clearInterval(timer);
      histogram.disable();
      perSecond.push([second * 1000 + 500, worst]); // the last, partial second
      return { p99Ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6, perSecond };
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const tracking = trackTimerLateness();
  process.stdin.resume();
  process.stdin.on("end", () => {
    process.stdout.write(JSON.stringify(tracking.stop()));
    process.exit(0);
  });
}
