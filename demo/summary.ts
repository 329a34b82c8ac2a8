// The demo's closing line: how many requests, how many succeeded, and for each cluster whose
// breaker opened, whether it closed again before the end (the recovery the default scenario
// is there to show). Pure: transitions and times in, text out.
import type { BreakerKind, Transition } from "../control-plane/src/core/types.js";
import type { SourceStat } from "../control-plane/src/core/sources/index.js";

/** What happened to one cluster's breaker during the run. */
export interface BreakerStory {
  cluster: string;
  /** Scenario seconds of its first opening. */
  openedAtS: number;
  /** Scenario seconds of the last transition to closed after it opened; undefined: not closed again. */
  closedAgainAtS?: number;
  /** Its state at the end of the run. */
  finalState: BreakerKind;
}

/**
 * The breaker story of every cluster that opened, in order of first opening. `startedAtMs` is
 * scenario second 0 (epoch ms); `finalStates` the breaker states at the end. A cluster counts as
 * closed again only if it ends closed and a transition to closed follows its first opening.
 */
export function breakerStories(transitions: readonly Transition[], startedAtMs: number, finalStates: ReadonlyMap<string, BreakerKind>): BreakerStory[] {
  const seconds = (atMs: number): number => Math.max(0, Math.round((atMs - startedAtMs) / 1000));
  const stories = new Map<string, BreakerStory>();
  for (const t of [...transitions].sort((a, b) => a.atMs - b.atMs)) {
    const story = stories.get(t.cluster);
    if (story === undefined) {
      if (t.to === "open") stories.set(t.cluster, { cluster: t.cluster, openedAtS: seconds(t.atMs), finalState: finalStates.get(t.cluster) ?? t.to });
      continue;
    }
    if (t.to === "closed") story.closedAgainAtS = seconds(t.atMs);
  }
  for (const story of stories.values()) {
    if (story.finalState !== "closed") delete story.closedAgainAtS;
  }
  return [...stories.values()];
}

/** "llm-a opened at t=18s and closed again at t=70s", or "... and is still open at the end". */
export function describeStory(story: BreakerStory): string {
  const opened = `${story.cluster} opened at t=${story.openedAtS}s`;
  return story.closedAgainAtS === undefined
    ? `${opened} and is still ${story.finalState.replace("_", "-")} at the end`
    : `${opened} and closed again at t=${story.closedAgainAtS}s`;
}

/** The demo's last line. */
export function summaryLine(requests: number, successRate: number, stories: readonly BreakerStory[], transitions: number): string {
  const breakers = stories.length === 0 ? "no breaker opened" : stories.map(describeStory).join("; ");
  return `done: ${requests} requests, ${(100 * successRate).toFixed(1)}% ok; ${breakers} (${transitions} breaker transitions)`;
}

/**
 * "top sources (last minute): 203.0.113.10 51% 25.1 qps 0.4% errors | …", most requests first, or
 * that none was counted yet.
 */
export function topSourcesLine(sources: readonly SourceStat[]): string {
  if (sources.length === 0) return "top sources (last minute): none counted";
  const part = (s: SourceStat) =>
    `${s.source} ${(100 * s.share).toFixed(0)}% ${s.qps.toFixed(1)} qps${s.errorRate === undefined ? "" : ` ${(100 * s.errorRate).toFixed(1)}% errors`}`;
  return `top sources (last minute): ${sources.map(part).join(" | ")}`;
}
