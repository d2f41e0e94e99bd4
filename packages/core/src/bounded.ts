/**
 * Runs `work` on every item with at most `limit` at once, results in item order. After
 * the first failure no further item is started; the running ones are awaited (so
 * nothing is left in flight) and the first failure is rethrown.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`mapBounded needs a positive integer limit, got ${limit}`);
  const results = new Array<R>(items.length);
  // One iterator shared by the workers: each takes the next item when it is free.
  const queue = items.entries();
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (const [index, item] of queue) {
      if (failure !== undefined) return;
      try {
        results[index] = await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}
