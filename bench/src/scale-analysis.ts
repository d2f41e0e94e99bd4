// Turns the records of a scale run into its figures and verdicts: throughput, CPU per
// GiB (whole run, first chunk, later chunks), the memory bound, RSS flatness, the split
// into per-byte and per-part cost, and the 5 TiB model built from them.
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

export interface Analysis {
  readonly main: RunFigures;
  readonly overhead: RunFigures | undefined;
  readonly flatness: Flatness | undefined;
  readonly split: SplitCost | undefined;
  readonly model: ScaleModel | undefined;
  /** Failed checks; empty when the run passes. */
  readonly problems: readonly string[];
  /** How a figure was arrived at, where it is not the obvious way. */
  readonly notes: readonly string[];
}

const cpuAtBytes = (samples: readonly Sample[], bytes: number) => samples.find((sample) => sample.bytes >= bytes);

export function runFigures(record: RunRecord): RunFigures {
  const { report, samples, spec } = record;
  const pool = report.concurrency * report.partSizeBytes;
  // The sink has these bytes once every pool buffer was filled (and first touched) at least once;
  // a chunk's end reaches it up to a pool later than the uploader read it.
  const warm = 2 * pool;
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

/**
 * Figures and verdicts. The verdicts are the main run's, which uploads with the settings
 * under test; the per-part run's small parts only serve to split the CPU cost, so its
 * peak against its own bound is a note, not a verdict.
 */
export function analyse(main: RunRecord, overhead: RunRecord | undefined, warmupSeconds: number): Analysis {
  const mainFigures = runFigures(main);
  const overheadFigures = overhead === undefined ? undefined : runFigures(overhead);
  const flatness = rssFlatness(main.samples, warmupSeconds);
  const problems: string[] = [];
  const notes: string[] = [];
  if (flatness?.flat === false)
    problems.push(`RSS is not flat after the warm-up: ${(flatness.spread * 100).toFixed(1)}% from its lowest to its highest (limit 10%)`);
  const overBound = (figures: RunFigures) =>
    `${figures.label}: peak RSS ${mib(figures.report.peakRssBytes)} MiB exceeds concurrency x part size + 100 MiB = ${mib(figures.boundBytes)} MiB`;
  if (mainFigures.report.peakRssBytes > mainFigures.boundBytes) problems.push(overBound(mainFigures));
  if (overheadFigures !== undefined && overheadFigures.report.peakRssBytes > overheadFigures.boundBytes)
    notes.push(overBound(overheadFigures));
  const split =
    overheadFigures === undefined
      ? undefined
      : splitPartCost(
          { cpuPerByte: steadyPerByte(mainFigures), partSizeBytes: main.report.partSizeBytes },
          { cpuPerByte: steadyPerByte(overheadFigures), partSizeBytes: overheadFigures.report.partSizeBytes },
        );
  let model: ScaleModel | undefined;
  if (split !== undefined) {
    // Noise larger than the per-part cost can make it come out below zero; the model then
    // charges every byte the main run's rate, which holds its parts' cost already.
    const perPartMeasured = split.perPart >= 0;
    if (!perPartMeasured) notes.push('the per-part cost came out below zero (noise); the model uses the main run rate per byte');
    // Heap per part from the run with more parts per chunk, where the slope is steepest against the noise.
    const heapPerPartBytes = Math.max(0, overheadFigures?.heapPerPartBytes ?? mainFigures.heapPerPartBytes ?? 0);
    const costs: MeasuredCosts = {
      perByte: perPartMeasured ? split.perByte : steadyPerByte(mainFigures),
      perPart: perPartMeasured ? split.perPart : 0,
      fixedCpuSeconds: mainFigures.fixedCpuSeconds,
      peakRssBytes: main.report.peakRssBytes,
      partsMeasured: main.report.partCount,
      heapPerPartBytes,
    };
    model = modelUpload(FIVE_TIB, costs, MODEL_RATES);
  }
  return { main: mainFigures, overhead: overheadFigures, flatness, split, model, problems, notes };
}

export const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
