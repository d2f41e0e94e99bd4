import { linearFit, median, ratio, summarize } from './stats';

describe('median', () => {
  it('is the middle value of an odd count, whatever the order', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([3])).toBe(3);
  });

  it('is the mean of the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('leaves its input alone', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('refuses no values', () => {
    expect(() => median([])).toThrow(/no values/);
  });
});

describe('summarize', () => {
  it('gives count, median, min and max', () => {
    expect(summarize([12.5, 10, 11])).toEqual({ n: 3, median: 11, min: 10, max: 12.5 });
  });
});

describe('ratio', () => {
  it('is ours over the peer', () => {
    expect(ratio(9, 10)).toBeCloseTo(0.9, 10);
  });

  it.each([
    [1, 0],
    [undefined, 1],
    [1, undefined],
    [Number.NaN, 1],
  ])('has none for %p / %p', (ours, peer) => {
    expect(ratio(ours, peer)).toBeUndefined();
  });
});

describe('linearFit', () => {
  it('finds an exact line', () => {
    const fit = linearFit([
      { x: 0.5, y: 3 },
      { x: 1, y: 5 },
      { x: 2, y: 9 },
    ]);
    expect(fit?.intercept).toBeCloseTo(1, 10);
    expect(fit?.slope).toBeCloseTo(4, 10);
    expect(fit?.r2).toBeCloseTo(1, 10);
  });

  it('reports a worse fit for points off the line', () => {
    const fit = linearFit([
      { x: 1, y: 1 },
      { x: 2, y: 5 },
      { x: 3, y: 2 },
    ]);
    expect(fit?.r2).toBeLessThan(0.5);
  });

  it('has none without two distinct x values', () => {
    expect(linearFit([{ x: 1, y: 1 }])).toBeUndefined();
    expect(
      linearFit([
        { x: 1, y: 1 },
        { x: 1, y: 2 },
      ]),
    ).toBeUndefined();
  });
});
