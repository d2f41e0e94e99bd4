// Turns the records of a scale run into its figures and verdicts: throughput, CPU per
// GiB (whole run, first chunk, later chunks), the memory bound, RSS flatness, the split
// into per-byte and per-part cost (from pairs of short runs), and the 5 TiB model.
import type { DoneReport, RunRecord } from './scale-run';
import { FIVE_TIB, type MeasuredCosts, modelUpload, type ScaleModel } from './scale-model';
import {
  cpuPerByte,
  type Flatness,
  heapPerPart,
  memoryBound,
  rssFlatness,
  type Sample,
  splitPartCost,
  type SplitCost,
} from './scale-stats';
import { type Summary, summarize } from './stats';

const GiB = 2 ** 30;

/** Uplink rates the model is worked out for, in bits per second. */
export const MODEL_RATES = [100e6, 500e6, 1e9];

export interface RunFigures {
  readonly label: string;
  readonly report: DoneReport;
  readonly chunkSizeBytes: number;
  readonly throughputBytesPerSecond: number;
  readonly partsPerSecond: number;
  readonly cpuPerGiB: number;
  /** Slopes of CPU against bytes once the part pool is warm: within the first chunk, and after it. */
  readonly cpuPerGiBFirstChunk: number | undefined;
  readonly cpuPerGiBLaterChunks: number | undefined;
  /** Start-up, and the first touch of the part pool: CPU not explained by the bytes. */
  readonly fixedCpuSeconds: number;
  readonly boundBytes: number;
  readonly heapPerPartBytes: number | undefined;
}

const cpuAtBytes = (samples: readonly Sample[], bytes: number) => samples.find((sample) => sample.bytes >= bytes);

export function runFigures(record: RunRecord): RunFigures {
  const { report, samples, spec } = record;
  const pool = report.concurrency * report.partSizeBytes;
  // The sink has these bytes once the pool's buffers were filled (first touched) at least once
  // each, as far as the run needs them all; a chunk's end reaches it up to a pool later than
  // the uploader read it.
  const warm = pool;
  const firstChunk = cpuPerByte(samples, warm, spec.chunkSizeBytes - pool);
  const laterChunks = cpuPerByte(samples, Math.max(warm, spec.chunkSizeBytes + pool));
  const rate = firstChunk?.slope ?? laterChunks?.slope;
  const warmSample = cpuAtBytes(samples, warm);
  const fixedCpuSeconds =
    rate === undefined || warmSample === undefined
      ? report.startCpuSeconds
      : Math.max(report.startCpuSeconds, warmSample.cpuSeconds - rate * warmSample.bytes);
  return {
    label: spec.label,
    report,
    chunkSizeBytes: spec.chunkSizeBytes,
    throughputBytesPerSecond: report.totalBytes / report.uploadSeconds,
    partsPerSecond: report.partCount / report.uploadSeconds,
    cpuPerGiB: (report.cpuSeconds / report.totalBytes) * GiB,
    cpuPerGiBFirstChunk: firstChunk === undefined ? undefined : firstChunk.slope * GiB,
    cpuPerGiBLaterChunks: laterChunks === undefined ? undefined : laterChunks.slope * GiB,
    fixedCpuSeconds,
    boundBytes: memoryBound(report.concurrency, report.partSizeBytes),
    heapPerPartBytes: heapPerPart(report.heap),
  };
}

/** The steady rate of a run: later chunks (what almost all of 5 TiB is), else the first. */
const steadyPerByte = (figures: RunFigures) => (figures.cpuPerGiBLaterChunks ?? figures.cpuPerGiBFirstChunk ?? figures.cpuPerGiB) / GiB;

/** Two short runs back to back, the main run's part size and a small one: one estimate of the per-part cost. */
export interface PairFigures {
  readonly big: RunFigures;
  readonly small: RunFigures;
  readonly split: SplitCost | undefined;
}

export interface Analysis {
  readonly main: RunFigures;
  readonly pairs: readonly PairFigures[];
  readonly flatness: Flatness | undefined;
  /** CPU seconds per part: the median of the pairs' estimates, with their range. */
  readonly perPart: Summary | undefined;
  /** What the model is built from. */
  readonly costs: MeasuredCosts | undefined;
  readonly model: ScaleModel | undefined;
  /** Failed checks; empty when the run passes. */
  readonly problems: readonly string[];
  /** How a figure was arrived at, where it is not the obvious way, and findings that are not verdicts. */
  readonly notes: readonly string[];
}

function pairFigures([big, small]: readonly [RunRecord, RunRecord]): PairFigures {
  const bigFigures = runFigures(big);
  const smallFigures = runFigures(small);
  const split = splitPartCost(
    { cpuPerByte: steadyPerByte(bigFigures), partSizeBytes: big.report.partSizeBytes },
    { cpuPerByte: steadyPerByte(smallFigures), partSizeBytes: small.report.partSizeBytes },
  );
  return { big: bigFigures, small: smallFigures, split };
}

const overBound = (figures: RunFigures) =>
  `${figures.label}: peak RSS ${mib(figures.report.peakRssBytes)} MiB exceeds concurrency x part size + 100 MiB = ${mib(figures.boundBytes)} MiB`;

/**
 * Figures and verdicts. The verdicts are the main run's, which uploads with the settings
 * under test. The pairs only serve to split the CPU cost: run back to back, so the load
 * of a shared machine changes less between the two halves of an estimate than it would
 * between the long run and one short run. Their peaks against their own bounds are notes.
 */
export function analyse(main: RunRecord, pairs: ReadonlyArray<readonly [RunRecord, RunRecord]>, warmupSeconds: number): Analysis {
  const mainFigures = runFigures(main);
  const pairFigureList = pairs.map(pairFigures);
  const flatness = rssFlatness(main.samples, warmupSeconds);
  const problems: string[] = [];
  const notes: string[] = [];
  if (flatness?.flat === false)
    problems.push(`RSS is not flat after the warm-up: ${(flatness.spread * 100).toFixed(1)}% from its lowest to its highest (limit 10%)`);
  if (mainFigures.report.peakRssBytes > mainFigures.boundBytes) problems.push(overBound(mainFigures));
  for (const pair of pairFigureList) {
    for (const figures of [pair.big, pair.small]) if (figures.report.peakRssBytes > figures.boundBytes) notes.push(overBound(figures));
  }
  const estimates = pairFigureList.flatMap((pair) => (pair.split === undefined ? [] : [pair.split.perPart]));
  const perPart = estimates.length === 0 ? undefined : summarize(estimates);
  let costs: MeasuredCosts | undefined;
  if (perPart !== undefined) {
    // Noise larger than the per-part cost can make it come out below zero; the model then
    // charges every byte the main run's rate, which holds its parts' cost already.
    const measured = perPart.median >= 0;
    if (!measured) notes.push('the per-part cost came out below zero (noise); the model uses the main run rate per byte');
    if (mainFigures.heapPerPartBytes === undefined)
      notes.push('too few chunks in the main run to weigh the heap per part; the model counts none');
    costs = {
      perByte: steadyPerByte(mainFigures) - (measured ? perPart.median / main.report.partSizeBytes : 0),
      perPart: measured ? perPart.median : 0,
      fixedCpuSeconds: mainFigures.fixedCpuSeconds,
      peakRssBytes: main.report.peakRssBytes,
      partsMeasured: main.report.partCount,
      heapPerPartBytes: Math.max(0, mainFigures.heapPerPartBytes ?? 0),
    };
  }
  const model = costs === undefined ? undefined : modelUpload(FIVE_TIB, costs, MODEL_RATES);
  return { main: mainFigures, pairs: pairFigureList, flatness, perPart, costs, model, problems, notes };
}

export const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
