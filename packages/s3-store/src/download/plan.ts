import type { StoredChunk } from '@org/btrfs-s3-core';
import { DownloadPlanError } from './errors';

/** One manifest part, fetched in slices of at most `rangeSizeBytes` (SliceWindow). */
export interface PartRange {
  readonly key: string;
  readonly partNumber: number;
  /** Byte offset of the part within its chunk object (the sum of the sizes before it). */
  readonly offset: number;
  readonly size: number;
  readonly sha256: string;
  /** The chunk object's size and hash, checked against Content-Range and, at its last part, the chunk's bytes. */
  readonly chunkSize: number;
  readonly chunkSha256: string;
  readonly lastOfChunk: boolean;
}

/**
 * The parts of `chunks` in stream order, with their offsets. A manifest is validated
 * when parsed; this re-checks what the download relies on, so a hand-made or damaged
 * chunk list fails before any request instead of mid-stream.
 */
export function planDownload(chunks: readonly StoredChunk[]): PartRange[] {
  const plan: PartRange[] = [];
  for (const chunk of chunks) {
    if (chunk.parts.length === 0) throw new DownloadPlanError(`chunk ${chunk.key} lists no parts`);
    let offset = 0;
    chunk.parts.forEach((part, index) => {
      if (part.number !== index + 1) throw new DownloadPlanError(`chunk ${chunk.key} lists part ${part.number} in position ${index + 1}`);
      plan.push({
        key: chunk.key,
        partNumber: part.number,
        offset,
        size: part.size,
        sha256: part.sha256,
        chunkSize: chunk.size,
        chunkSha256: chunk.sha256,
        lastOfChunk: index === chunk.parts.length - 1,
      });
      offset += part.size;
    });
    if (offset !== chunk.size)
      throw new DownloadPlanError(`the parts of chunk ${chunk.key} add up to ${offset} bytes, the chunk has ${chunk.size}`);
  }
  return plan;
}
