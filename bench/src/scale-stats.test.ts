import { cpuPerByte, evenlySpaced, heapPerPart, memoryBound, rssFlatness, type Sample, sparkline, splitPartCost } from './scale-stats';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

function samples(rssMiB: readonly number[], cpuPerGiB = 4, bytesPerSecond = 100 * MiB): Sample[] {
  return rssMiB.map((rss, index) => ({
    t: index + 1,
    rssBytes: rss * MiB,
    peakRssBytes: Math.max(...rssMiB.slice(0, index + 1)) * MiB,
    cpuSeconds: 0.3 + ((index + 1) * bytesPerSecond * cpuPerGiB) / GiB,
    bytes: (index + 1) * bytesPerSecond,
    parts: Math.floor(((index + 1) * bytesPerSecond) / (128 * MiB)),
  }));
}

describe('rssFlatness', () => {
  it('judges only the samples after the warm-up', () => {
    const flat = rssFlatness(samples([100, 300, 560, 570, 565, 575, 568]), 3);
    expect(flat).toMatchObject({ fromSeconds: 3, samples: 5, min: 560 * MiB, median: 568 * MiB, max: 575 * MiB, flat: true });
    expect(flat?.spread).toBeCloseTo(15 / 560);
  });

  it('fails a rise of more than 10% from the lowest value', () => {
    expect(rssFlatness(samples([500, 500, 500, 500, 551]), 0)?.flat).toBe(false);
    expect(rssFlatness(samples([500, 500, 500, 500, 550]), 0)?.flat).toBe(true);
  });

  it('does not judge fewer than 5 samples, and has nothing to say without any', () => {
    expect(rssFlatness(samples([500, 900, 500, 900]), 0)?.flat).toBeUndefined();
    expect(rssFlatness(samples([500]), 60)).toBeUndefined();
  });
});

describe('memoryBound', () => {
  it('is one part per worker plus 100 MiB', () => {
    expect(memoryBound(4, 128 * MiB)).toBe(612 * MiB);
  });
});

describe('cpuPerByte', () => {
  it('is the slope of CPU against bytes within the window, whatever the fixed cost', () => {
    const fit = cpuPerByte(samples(Array(20).fill(500), 4.5), 5 * 100 * MiB);
    expect((fit?.slope ?? 0) * GiB).toBeCloseTo(4.5);
  });

  it('needs three samples in the window', () => {
    expect(cpuPerByte(samples([1, 1, 1, 1]), 0, 250 * MiB)).toBeUndefined();
  });
});

describe('splitPartCost', () => {
  it('recovers the per-byte and per-part costs from two part sizes', () => {
    const perByte = 4 / GiB;
    const perPart = 0.02;
    const rate = (partSizeBytes: number) => ({ cpuPerByte: perByte + perPart / partSizeBytes, partSizeBytes });
    const split = splitPartCost(rate(128 * MiB), rate(16 * MiB));
    expect((split?.perByte ?? 0) * GiB).toBeCloseTo(4);
    expect(split?.perPart).toBeCloseTo(0.02);
  });

  it('cannot split two runs of the same part size', () => {
    expect(splitPartCost({ cpuPerByte: 1, partSizeBytes: MiB }, { cpuPerByte: 2, partSizeBytes: MiB })).toBeUndefined();
  });
});

describe('heapPerPart', () => {
  it('is the slope of the heap against parts over the second half of the run', () => {
    const settling = [8, 16, 24].map((parts) => ({ parts, heapBytes: 11e6 + 50_000 * parts }));
    const steady = [32, 40, 48, 56, 64].map((parts) => ({ parts, heapBytes: 12.2e6 + 400 * parts }));
    expect(heapPerPart([...settling, ...steady])).toBeCloseTo(400);
    expect(heapPerPart(steady.slice(0, 1))).toBeUndefined();
  });
});

describe('sparkline', () => {
  it('draws one bar per value, from zero to the largest', () => {
    expect(sparkline([0, 4, 8])).toBe('▁▅█');
  });

  it('takes the largest of each group when there are more values than columns', () => {
    expect(sparkline([8, 0, 0, 0, 0, 8], 3)).toBe('█▁█');
  });
});

describe('evenlySpaced', () => {
  it('keeps the first and the last and spreads the rest', () => {
    expect(evenlySpaced([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3)).toEqual([0, 5, 10]);
    expect(evenlySpaced([1, 2], 5)).toEqual([1, 2]);
  });
});
