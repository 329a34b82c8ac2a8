// The decision sets one lifetime of the control plane issues: the set in force and the clock its
// versions come from (decision-version.ts). A set gets a new version only when its content
// changed (contentKey); a restored set keeps its version when this lifetime would issue the same
// content. The sets themselves are built by the caller (decision-set-builder.ts).
import { contentKey } from "./decision-set-builder.js";
import { isValidVersion, startingGeneration, VersionClock } from "./decision-version.js";
import type { DecisionSet } from "./types.js";

export class IssuedDecisions {
  /** The set in force (undefined before first()). */
  private inForce: DecisionSet | undefined;
  /** Issues this lifetime's versions; made with the first set (it needs the clock). */
  private versions: VersionClock | undefined;

  /** The set in force, undefined before the first. */
  get current(): DecisionSet | undefined {
    return this.inForce;
  }

  /**
   * The set in force; before any, the first of this lifetime at nowMs: `restored` when
   * `build(restored.version)` has the same content and its version is of the scheme, else the
   * built set as the first version of this lifetime's generation. `build(version)` is the set
   * the caller would issue now with that version.
   */
  first(nowMs: number, restored: DecisionSet | undefined, build: (version: number) => DecisionSet): DecisionSet {
    if (this.inForce !== undefined) return this.inForce;
    this.versions = new VersionClock(startingGeneration(restored?.version ?? 0, nowMs));
    if (restored !== undefined) {
      // Same content, same version: sidecars see no flap. Cluster list changed (or a version
      // outside the scheme was restored): a new version of this lifetime's generation.
      const fresh = build(restored.version);
      const same = isValidVersion(restored.version) && contentKey(fresh) === contentKey(restored);
      this.inForce = same ? restored : { ...fresh, version: this.versions.next(restored.version) };
      return this.inForce;
    }
    this.inForce = build(this.versions.next(0));
    return this.inForce;
  }

  /**
   * A new leader term of a replicated control plane: from now on versions are issued in
   * `generation`, which the shared store handed out above every earlier one (and above the
   * generation of `inForce`). The set in force becomes `inForce`, the last set any replica
   * published (kept as is: the first round issues the next version only if the content changes),
   * or, when none was ever published, the built set as this generation's first version.
   */
  beginTerm(generation: number, inForce: DecisionSet | undefined, build: (version: number) => DecisionSet): DecisionSet {
    this.versions = new VersionClock(generation);
    this.inForce = inForce ?? build(this.versions.next(0));
    return this.inForce;
  }

  /**
   * Moves to `generation` when it is above the one in use (a replica registered a version there,
   * so the leader continues above it): the set in force is re-issued as that generation's first
   * version and returned; undefined when `generation` is not above.
   */
  advance(generation: number, nowMs: number): DecisionSet | undefined {
    if (generation <= this.versions!.generation) return undefined;
    this.versions = new VersionClock(generation);
    this.inForce = { ...this.inForce!, issuedAtMs: nowMs, version: this.versions.next(this.inForce!.version) };
    return this.inForce;
  }

  /** The generation this lifetime issues versions in (after first()). */
  generation(): number {
    return this.versions!.generation;
  }

  /**
   * A sidecar enforces version `held` (after first()). When it is newer than the set in force, the
   * same content is re-issued in a new generation above it (VersionClock.follow).
   */
  follow(held: number, nowMs: number): { outcome: "below" | "followed" | "implausible"; decisions?: DecisionSet } {
    const previous = this.inForce!;
    const outcome = this.versions!.follow(held, previous.version, nowMs);
    if (outcome !== "followed") return { outcome };
    this.inForce = { ...previous, issuedAtMs: nowMs, version: this.versions!.next(previous.version) };
    return { outcome, decisions: this.inForce };
  }

  /**
   * Puts the set of a round in force: `next` (built with `previous.version`) in the version after
   * `previous` when its content differs from `previous`, else `previous` itself. `previous` is the
   * set in force when the round began (a sidecar may have been followed since).
   */
  issue(next: DecisionSet, previous: DecisionSet): DecisionSet {
    const changed = contentKey(next) !== contentKey(previous);
    this.inForce = changed ? { ...next, version: this.versions!.next(previous.version) } : previous;
    return this.inForce;
  }
}
