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
const perPart = record({ partSizeBytes: 16 * MiB, sizeBytes: 20 * GiB, chunkSizeBytes: 4 * GiB, firstRate: 3.5, laterRate: 4 + 0.02 * 64 });

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
  it('passes a flat run within the bound, splits per-part cost and models 5 TiB', () => {
    const analysis = analyse(main, perPart, 60);
    expect(analysis.problems).toEqual([]);
    expect((analysis.split?.perByte ?? 0) * GiB).toBeCloseTo(4);
    expect(analysis.split?.perPart).toBeCloseTo(0.02);
    expect(analysis.model?.parts).toBe(40960);
    expect(analysis.model?.memory.measuredPeak).toBe(main.report.peakRssBytes);
  });

  it('fails RSS that rises more than 10% after the warm-up, but not before it', () => {
    const rising = record({ ...main.spec, firstRate: 4, laterRate: 4, rssMiB: (t) => (t < 70 ? 500 : 560) });
    expect(analyse(rising, undefined, 60).problems).toEqual([
      'RSS is not flat after the warm-up: 12.0% from its lowest to its highest (limit 10%)',
    ]);
    expect(analyse(rising, undefined, 70).problems).toEqual([]);
  });

  it("fails the main run over its bound; the per-part run's small parts only earn a note", () => {
    const heavy = record({ ...main.spec, firstRate: 4, laterRate: 4, peakRssBytes: 613 * MiB });
    const smallHeavy = record({ ...perPart.spec, firstRate: 4, laterRate: 5, peakRssBytes: 200 * MiB });
    const analysis = analyse(heavy, smallHeavy, 60);
    expect(analysis.problems).toEqual(['main run: peak RSS 613 MiB exceeds concurrency x part size + 100 MiB = 612 MiB']);
    expect(analysis.notes).toEqual(['per-part run: peak RSS 200 MiB exceeds concurrency x part size + 100 MiB = 164 MiB']);
  });

  it('models with the main run rate when noise makes the per-part cost negative', () => {
    const noisy = record({ ...perPart.spec, firstRate: 3.5, laterRate: 4 });
    const analysis = analyse(main, noisy, 60);
    expect(analysis.split?.perPart).toBeLessThan(0);
    expect(analysis.model?.cpu.parts).toBe(0);
    expect(analysis.model?.cpu.bytes).toBeCloseTo(4.16 * 5120);
    expect(analysis.notes).toContain('the per-part cost came out below zero (noise); the model uses the main run rate per byte');
  });
});

describe('renderReport', () => {
  it('gives both runs, the RSS table, the split, the model and the verdict', () => {
    const text = renderReport(analyse(main, perPart, 60), { command: 'pnpm bench:scale', machine: 'test', mainSamples: main.samples });
    expect(text).toContain('| part size, chunk size, concurrency | 128 MiB, 20 GiB, 4 | 16 MiB, 4 GiB, 4 |');
    expect(text).toContain('4.00 s per GiB plus 20.0 ms per part');
    expect(text).toContain('flat within 10%');
    expect(text).toContain('| 100 Mbit/s | 5.09 days | uplink | 5.09 days |');
    expect(text.trimEnd().endsWith('Verdict: PASS')).toBe(true);
  });
});
