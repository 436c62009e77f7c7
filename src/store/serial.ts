// Read-modify-write of shared records must not interleave: work given for one key runs after the
// work given before it for that key. Keys left idle are forgotten, so the map does not grow.
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(work);
    // The chain goes on after a failure; the caller still sees its own error.
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Resolves once the work given so far for `key` has ended. */
  async idle(key: string): Promise<void> {
    await this.tails.get(key);
  }
}
