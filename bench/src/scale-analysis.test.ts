import { analyse, runFigures } from './scale-analysis';
import type { RunRecord } from './scale-run';
import { renderReport } from './scale-report';
import type { Sample } from './scale-stats';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

interface Shape {
  readonly partSizeBytes: number;
  readonly sizeBytes: number;
  readonly chunkSizeBytes: number;
  /** CPU seconds per GiB within the first chunk and after it. */
  readonly firstRate: number;
  readonly laterRate: number;
  readonly rssMiB?: (t: number) => number;
  readonly peakRssBytes?: number;
}

/** A run at 1 GiB/s whose CPU is 0.3 s at start, 2 s more for the pool's first touch, then the given rates. */
function record({ partSizeBytes, sizeBytes, chunkSizeBytes, firstRate, laterRate, rssMiB = () => 560, peakRssBytes }: Shape): RunRecord {
  const samples: Sample[] = [];
  const seconds = sizeBytes / GiB;
  const cpuAt = (bytes: number) =>
    2.3 + (Math.min(bytes, chunkSizeBytes) * firstRate) / GiB + (Math.max(0, bytes - chunkSizeBytes) * laterRate) / GiB;
  for (let t = 1; t <= seconds; t += 1) {
    const bytes = t * GiB;
    samples.push({ t, rssBytes: rssMiB(t) * MiB, peakRssBytes: 600 * MiB, cpuSeconds: cpuAt(bytes), bytes, parts: bytes / partSizeBytes });
  }
  const partCount = sizeBytes / partSizeBytes;
  return {
    spec: { label: partSizeBytes === 128 * MiB ? 'main run' : 'per-part run', sizeBytes, chunkSizeBytes, partSizeBytes },
    samples,
    report: {
      kind: 'done',
      totalBytes: sizeBytes,
      partCount,
      chunkCount: sizeBytes / chunkSizeBytes,
      partSizeBytes,
      concurrency: 4,
      retries: 0,
      uploadSeconds: seconds,
      startCpuSeconds: 0.3,
      cpuSeconds: cpuAt(sizeBytes),
      peakRssBytes: peakRssBytes ?? 4 * partSizeBytes + 50 * MiB,
      heap: [1, 2, 3].map((chunk) => ({ parts: (chunk * partCount) / 3, heapBytes: 12e6 + 300 * ((chunk * partCount) / 3) })),
    },
    sink: {
      uploadsCreated: 5,
      bytesReceived: sizeBytes,
      partsAccepted: partCount,
      bytesAccepted: sizeBytes,
      uploadsCompleted: 5,
      uploadsAborted: 0,
      rejected: {},
    },
  };
}

const main = record({ partSizeBytes: 128 * MiB, sizeBytes: 100 * GiB, chunkSizeBytes: 20 * GiB, firstRate: 3.5, laterRate: 4 + 0.02 * 8 });
const shortSpec = { sizeBytes: 10 * GiB, chunkSizeBytes: 2 * GiB, firstRate: 3.5 };
/** A pair whose runs cost 4 s/GiB plus `perPart` seconds per part after the first chunk. */
const pair = (perPart: number, peakSmall?: number) =>
  [
    record({ ...shortSpec, partSizeBytes: 128 * MiB, laterRate: 4 + perPart * 8 }),
    record({
      ...shortSpec,
      partSizeBytes: 8 * MiB,
      laterRate: 4 + perPart * 128,
      ...(peakSmall === undefined ? {} : { peakRssBytes: peakSmall }),
    }),
  ] as const;

describe('runFigures', () => {
  it('measures CPU per GiB within the first chunk and after it, and what bytes do not explain', () => {
    const figures = runFigures(main);
    expect(figures.cpuPerGiBFirstChunk).toBeCloseTo(3.5);
    expect(figures.cpuPerGiBLaterChunks).toBeCloseTo(4.16);
    expect(figures.fixedCpuSeconds).toBeCloseTo(2.3);
    expect(figures.throughputBytesPerSecond).toBe(GiB);
    expect(figures.partsPerSecond).toBe(8);
    expect(figures.heapPerPartBytes).toBeCloseTo(300);
  });
});

describe('analyse', () => {
  it('passes a flat run within the bound, takes the median per-part cost of the pairs and models 5 TiB', () => {
    const analysis = analyse(main, [pair(0.02), pair(0.05), pair(0.01)], 60);
    expect(analysis.problems).toEqual([]);
    expect(analysis.perPart).toMatchObject({ n: 3, min: expect.closeTo(0.01, 6), max: expect.closeTo(0.05, 6) });
    expect(analysis.perPart?.median).toBeCloseTo(0.02);
    // The main run's later-chunk rate, 4.16 s/GiB at 8 parts per GiB, less 8 x 20 ms.
    expect((analysis.costs?.perByte ?? 0) * GiB).toBeCloseTo(4);
    expect(analysis.model?.parts).toBe(40960);
    expect(analysis.model?.memory.measuredPeak).toBe(main.report.peakRssBytes);
  });

  it('fails RSS that rises more than 10% after the warm-up, but not before it', () => {
    const rising = record({ ...main.spec, firstRate: 4, laterRate: 4, rssMiB: (t) => (t < 70 ? 500 : 560) });
    expect(analyse(rising, [], 60).problems).toEqual([
      'RSS is not flat after the warm-up: 12.0% from its lowest to its highest (limit 10%)',
    ]);
    expect(analyse(rising, [], 70).problems).toEqual([]);
  });

  it("fails the main run over its bound; the pairs' small parts only earn a note", () => {
    const heavy = record({ ...main.spec, firstRate: 4, laterRate: 4, peakRssBytes: 613 * MiB });
    const analysis = analyse(heavy, [pair(0.02, 200 * MiB)], 60);
    expect(analysis.problems).toEqual(['main run: peak RSS 613 MiB exceeds concurrency x part size + 100 MiB = 612 MiB']);
    expect(analysis.notes).toEqual(['per-part run: peak RSS 200 MiB exceeds concurrency x part size + 100 MiB = 132 MiB']);
  });

  it('models with the main run rate when noise makes the per-part cost negative', () => {
    const analysis = analyse(main, [pair(-0.01)], 60);
    expect(analysis.perPart?.median).toBeLessThan(0);
    expect(analysis.model?.cpu.parts).toBe(0);
    expect(analysis.model?.cpu.bytes).toBeCloseTo(4.16 * 5120);
    expect(analysis.notes).toContain('the per-part cost came out below zero (noise); the model uses the main run rate per byte');
  });

  it('has no per-part cost and no model without pairs', () => {
    expect(analyse(main, [], 60)).toMatchObject({ perPart: undefined, costs: undefined, model: undefined });
  });
});

describe('renderReport', () => {
  it('gives the main run, the RSS table, the pairs, the model and the verdict', () => {
    const text = renderReport(analyse(main, [pair(0.02)], 60), { command: 'pnpm bench:scale', machine: 'test', mainSamples: main.samples });
    expect(text).toContain('| part size, chunk size, concurrency | 128 MiB, 20 GiB, 4 |');
    expect(text).toContain('| 1 | 4.16 | 6.56 | 20.0 | 562 / 82 |');
    expect(text).toContain('Per part: median 20.0 ms (20.0 to 20.0)');
    expect(text).toContain('flat within 10%');
    expect(text).toContain('| 100 Mbit/s | 5.09 days | uplink | 5.09 days |');
    expect(text.trimEnd().endsWith('Verdict: PASS')).toBe(true);
  });
});
