// A paper model of a very large full backup (issue 19: 5 TiB as 26 chunks of 200 GiB),
// built from a scale run's measured costs: requests, CPU, memory and time at a few
// uplink rates. It is arithmetic on measured rates, not a measurement.

const GiB = 2 ** 30;
const MiB = 2 ** 20;

export interface ModelLayout {
  readonly totalBytes: number;
  readonly chunkSizeBytes: number;
  readonly partSizeBytes: number;
  readonly concurrency: number;
  /** Parts per ListParts page (S3: 1,000). */
  readonly listPageParts: number;
}

/** The defaults at 5 TiB: 25 chunks of 200 GiB and one of 120 GiB, 1,600 parts of 128 MiB in a full chunk. */
export const FIVE_TIB: ModelLayout = {
  totalBytes: 5 * 1024 * GiB,
  chunkSizeBytes: 200 * GiB,
  partSizeBytes: 128 * MiB,
  concurrency: 4,
  listPageParts: 1000,
};

export interface MeasuredCosts {
  /** CPU seconds per byte, without the per-part cost. */
  readonly perByte: number;
  /** CPU seconds per part beyond its bytes. */
  readonly perPart: number;
  /** CPU seconds a run spends whatever its size: start-up and the first touch of the part pool. */
  readonly fixedCpuSeconds: number;
  /** Peak RSS of the measured run, and the parts it uploaded. */
  readonly peakRssBytes: number;
  readonly partsMeasured: number;
  /** Heap kept per acknowledged part (its record for the manifest, and the chunk's bookkeeping). */
  readonly heapPerPartBytes: number;
}

export interface RateCase {
  readonly bitsPerSecond: number;
  /** The uplink alone. */
  readonly linkSeconds: number;
  /** The client's CPU alone, on one core (the uploader hashes and copies on its main thread). */
  readonly cpuSeconds: number;
  readonly seconds: number;
  readonly boundBy: 'uplink' | 'client CPU';
  /** Cores the client keeps busy on average. */
  readonly cores: number;
}

export interface ScaleModel {
  readonly layout: ModelLayout;
  readonly chunks: number;
  readonly parts: number;
  readonly partsPerFullChunk: number;
  readonly requests: {
    readonly createMultipartUpload: number;
    readonly uploadPart: number;
    readonly listParts: number;
    readonly completeMultipartUpload: number;
    readonly headObject: number;
    readonly total: number;
  };
  readonly cpu: { readonly bytes: number; readonly parts: number; readonly fixed: number; readonly total: number };
  /** The measured peak, plus the heap the parts beyond the measured run's keep. */
  readonly memory: {
    readonly pool: number;
    readonly measuredPeak: number;
    readonly moreParts: number;
    readonly peak: number;
    readonly bound: number;
  };
  /** The fastest the client could go with the CPU costs measured, in bytes per second. */
  readonly clientCeilingBytesPerSecond: number;
  readonly rates: readonly RateCase[];
}

export function modelUpload(layout: ModelLayout, costs: MeasuredCosts, bitsPerSecond: readonly number[]): ScaleModel {
  const { totalBytes, chunkSizeBytes, partSizeBytes, concurrency, listPageParts } = layout;
  const chunks = Math.ceil(totalBytes / chunkSizeBytes);
  const partsPerFullChunk = Math.ceil(chunkSizeBytes / partSizeBytes);
  const chunkSizes = Array.from({ length: chunks }, (_, index) => Math.min(chunkSizeBytes, totalBytes - index * chunkSizeBytes));
  const partsPerChunk = chunkSizes.map((size) => Math.ceil(size / partSizeBytes));
  const parts = partsPerChunk.reduce((sum, count) => sum + count, 0);
  // The uploader lists a chunk's parts once before Complete, a page at a time.
  const listParts = partsPerChunk.reduce((sum, count) => sum + Math.ceil(count / listPageParts), 0);
  const requests = {
    createMultipartUpload: chunks,
    uploadPart: parts,
    listParts,
    completeMultipartUpload: chunks,
    headObject: chunks,
    total: 3 * chunks + parts + listParts,
  };
  const cpu = { bytes: costs.perByte * totalBytes, parts: costs.perPart * parts, fixed: costs.fixedCpuSeconds, total: 0 };
  cpu.total = cpu.bytes + cpu.parts + cpu.fixed;
  const pool = concurrency * partSizeBytes;
  // RSS stays flat but for what each part leaves behind, so the run's peak carries over.
  const moreParts = costs.heapPerPartBytes * Math.max(0, parts - costs.partsMeasured);
  const memory = { pool, measuredPeak: costs.peakRssBytes, moreParts, peak: costs.peakRssBytes + moreParts, bound: pool + 100 * MiB };
  const clientCeilingBytesPerSecond = 1 / (costs.perByte + costs.perPart / partSizeBytes);
  const rates = bitsPerSecond.map((rate): RateCase => {
    const linkSeconds = (totalBytes * 8) / rate;
    const seconds = Math.max(linkSeconds, cpu.total);
    return {
      bitsPerSecond: rate,
      linkSeconds,
      cpuSeconds: cpu.total,
      seconds,
      boundBy: linkSeconds >= cpu.total ? 'uplink' : 'client CPU',
      cores: cpu.total / seconds,
    };
  });
  return { layout, chunks, parts, partsPerFullChunk, requests, cpu, memory, clientCeilingBytesPerSecond, rates };
}
