// Serialises the control plane's changes of state: decision rounds, operator changes, and the
// replica role's (lead, stepDown, adopt, applyShared, ...) never run concurrently. Each piece of
// work starts once the previous one settled, whether it resolved or rejected.

export class SerialQueue {
  private chain: Promise<unknown> = Promise.resolve();

  /** Runs `work` after everything queued before it; resolves or rejects as it does. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Resolves once everything queued so far has settled (never rejects). */
  async settled(): Promise<void> {
    await this.chain.catch(() => undefined);
  }
}
