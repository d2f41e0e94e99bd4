/**
 * Pulls `items` as fast as it yields into a queue that several consumers take from.
 * Used with the disk spool, whose byte budget is what paces the producer; without a
 * spool the uploader pulls the producer directly so memory stays bounded.
 */
export class ReadAhead<T> {
  private readonly queue: T[] = [];
  private readonly waiters: Array<{ resolve: (result: IteratorResult<T, undefined>) => void; reject: (reason: unknown) => void }> = [];
  private ended = false;
  private failed: { error: unknown } | undefined;
  /** Settles when the producer is exhausted or failed; never rejects. */
  readonly drained: Promise<void>;

  /** `onError` hears of a producer failure at once, not when a consumer next asks. */
  constructor(
    items: AsyncIterator<T, unknown>,
    private readonly onError: (error: unknown) => void,
  ) {
    this.drained = this.pump(items);
  }

  next(): Promise<IteratorResult<T, undefined>> {
    // A failed producer wins over queued items: uploading them would only delay the abort.
    if (this.failed !== undefined) return Promise.reject(this.failed.error);
    const value = this.queue.shift();
    if (value !== undefined) return Promise.resolve({ done: false, value });
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Items pulled but never taken; the caller frees what they hold after a failure. */
  takeRemaining(): T[] {
    return this.queue.splice(0);
  }

  private async pump(items: AsyncIterator<T, unknown>): Promise<void> {
    try {
      for (let result = await items.next(); result.done !== true; result = await items.next()) {
        const waiter = this.waiters.shift();
        if (waiter === undefined) this.queue.push(result.value);
        else waiter.resolve({ done: false, value: result.value });
      }
      this.ended = true;
      for (const waiter of this.waiters.splice(0)) waiter.resolve({ done: true, value: undefined });
    } catch (error) {
      this.failed = { error };
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
      this.onError(error);
    }
  }
}
