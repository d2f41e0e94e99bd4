// What a scale run's samples say: whether RSS stayed flat, the CPU cost per byte and per
// part, and what the run keeps in memory per part.
import { type LinearFit, linearFit, median } from './stats';

/** One sample of the uploader, taken every second. */
export interface Sample {
  /** Seconds since the uploader was started. */
  readonly t: number;
  readonly rssBytes: number;
  readonly peakRssBytes: number;
  readonly cpuSeconds: number;
  /** Part bytes the sink had received by then, and parts it had accepted. */
  readonly bytes: number;
  readonly parts: number;
}

export interface Flatness {
  readonly fromSeconds: number;
  readonly samples: number;
  readonly min: number;
  readonly median: number;
  readonly max: number;
  /** (max - min) / min. */
  readonly spread: number;
  /** Undefined: too few samples after the warm-up to judge (a quick check shorter than the warm-up). */
  readonly flat: boolean | undefined;
}

export const FLAT_WITHIN = 0.1;
const MIN_FLAT_SAMPLES = 5;

/** RSS after the warm-up: flat when its largest value is within 10% above its smallest. */
export function rssFlatness(samples: readonly Sample[], fromSeconds: number, within = FLAT_WITHIN): Flatness | undefined {
  const values = samples.filter((sample) => sample.t >= fromSeconds).map((sample) => sample.rssBytes);
  if (values.length === 0) return undefined;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const spread = (max - min) / min;
  const flat = values.length < MIN_FLAT_SAMPLES ? undefined : spread <= within;
  return { fromSeconds, samples: values.length, min, median: median(values), max, spread, flat };
}

/** The bound of issue 19: one pool buffer per part in flight, plus 100 MiB for everything else. */
export function memoryBound(concurrency: number, partSizeBytes: number): number {
  return concurrency * partSizeBytes + 100 * 2 ** 20;
}

/** CPU seconds per byte over the samples whose byte count lies in [fromBytes, toBytes): the slope of CPU against bytes. */
export function cpuPerByte(samples: readonly Sample[], fromBytes: number, toBytes = Infinity): LinearFit | undefined {
  const window = samples.filter((sample) => sample.bytes >= fromBytes && sample.bytes < toBytes);
  if (window.length < 3) return undefined;
  return linearFit(window.map((sample) => ({ x: sample.bytes, y: sample.cpuSeconds })));
}

export interface PartRate {
  /** CPU seconds per byte at this part size. */
  readonly cpuPerByte: number;
  readonly partSizeBytes: number;
}

export interface SplitCost {
  /** CPU seconds per byte with no per-part cost in it. */
  readonly perByte: number;
  /** CPU seconds per part beyond its bytes' cost. */
  readonly perPart: number;
}

/**
 * Splits two runs' CPU per byte into a per-byte and a per-part cost: a run with parts of
 * size s costs perByte + perPart / s per byte, and two part sizes give two equations.
 */
export function splitPartCost(a: PartRate, b: PartRate): SplitCost | undefined {
  const partsPerByteA = 1 / a.partSizeBytes;
  const partsPerByteB = 1 / b.partSizeBytes;
  if (partsPerByteA === partsPerByteB) return undefined;
  const perPart = (a.cpuPerByte - b.cpuPerByte) / (partsPerByteA - partsPerByteB);
  return { perByte: a.cpuPerByte - perPart * partsPerByteA, perPart };
}

/**
 * Heap bytes the run keeps per acknowledged part: the slope of the heap, after a full
 * collection, against parts, over the second half of the run. The first half is left
 * out because the heap settles there (start-up leftovers, V8's caches filling: seen
 * 11.6 MB after 8 parts, 12.3 MB after 24, then flat), which a short run would
 * otherwise count as kept per part.
 */
export function heapPerPart(points: ReadonlyArray<{ readonly parts: number; readonly heapBytes: number }>): number | undefined {
  const half = (points.at(-1)?.parts ?? 0) / 2;
  return linearFit(points.filter((point) => point.parts >= half).map((point) => ({ x: point.parts, y: point.heapBytes })))?.slope;
}

const BARS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled from 0 to the largest (so a flat line near the top reads as flat). */
export function sparkline(values: readonly number[], width = 60): string {
  if (values.length === 0) return '';
  const buckets = Math.min(width, values.length);
  const max = Math.max(...values);
  return Array.from({ length: buckets }, (_, index) => {
    const slice = values.slice(Math.floor((index * values.length) / buckets), Math.floor(((index + 1) * values.length) / buckets));
    const value = Math.max(...slice);
    return BARS[max === 0 ? 0 : Math.min(BARS.length - 1, Math.round((value / max) * (BARS.length - 1)))];
  }).join('');
}

/** About `rows` samples spread evenly over the run, always with the first and the last. */
export function evenlySpaced<T>(items: readonly T[], rows: number): T[] {
  if (items.length <= rows) return [...items];
  const picked = new Set<number>();
  for (let row = 0; row < rows; row += 1) picked.add(Math.round((row * (items.length - 1)) / (rows - 1)));
  return [...picked]
    .sort((a, b) => a - b)
    .flatMap((index) => {
      const item = items[index];
      return item === undefined ? [] : [item];
    });
}
