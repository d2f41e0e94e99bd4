import { mapBounded } from './bounded';

/** A promise and the function that settles it, for work the test finishes by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('mapBounded', () => {
  it('keeps at most `limit` items running and returns the results in item order', async () => {
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    const mapping = mapBounded([0, 1, 2, 3, 4], 2, async (item) => {
      started.push(item);
      await gates[item]?.promise;
      return item * 10;
    });
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    gates[1]?.open();
    await gates[1]?.promise;
    await new Promise(setImmediate);
    expect(started).toEqual([0, 1, 2]);
    for (const each of gates) each.open();
    await expect(mapping).resolves.toEqual([0, 10, 20, 30, 40]);
  });

  it('rejects with the first failure, starting nothing after it', async () => {
    const started: number[] = [];
    const failing = mapBounded([0, 1, 2, 3], 1, async (item) => {
      started.push(item);
      if (item === 1) throw new Error('item 1 failed');
      return item;
    });
    await expect(failing).rejects.toThrow('item 1 failed');
    expect(started).toEqual([0, 1]);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %p instead of returning nothing', async (limit) => {
    await expect(mapBounded([1], limit, async (item) => item)).rejects.toThrow(RangeError);
  });
});
