import { createHash, type Hash } from 'node:crypto';
import { ResumeMismatchError } from './errors';

/** A completed chunk's slice of the source, as the interrupted run recorded it. */
export interface RecordedSlice {
  readonly plainSize: number;
  readonly plainSha256: string;
}

/** Filled in as the source is read: the whole source's size and hash, the skipped prefix included. */
export interface SourceTally {
  bytes: number;
  readonly hash: Hash;
}

/**
 * The source of a resumed upload: the slices of the chunks already in the bucket are
 * read, hashed and compared with the record, then dropped; the rest flows on. Every
 * byte also goes into `tally`, so the manifest's stream hash covers the whole stream.
 * A slice that differs (or a source that ends inside one) throws ResumeMismatchError
 * before any later byte is passed on, so nothing is uploaded after bytes that were not proven.
 */
export async function* skipProvenPrefix(
  source: AsyncIterable<unknown>,
  slices: readonly RecordedSlice[],
  tally: SourceTally,
): AsyncGenerator<Buffer, void, undefined> {
  let index = 0;
  let sliceHash = createHash('sha256');
  let sliceBytes = 0;
  for await (const value of source) {
    let data = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
    tally.hash.update(data);
    tally.bytes += data.length;
    while (index < slices.length && data.length > 0) {
      const slice = slices[index] as RecordedSlice;
      const piece = data.subarray(0, slice.plainSize - sliceBytes);
      sliceHash.update(piece);
      sliceBytes += piece.length;
      data = data.subarray(piece.length);
      if (sliceBytes === slice.plainSize) {
        const sha256 = sliceHash.digest('hex');
        if (sha256 !== slice.plainSha256)
          throw new ResumeMismatchError(`chunk ${index}'s slice of the send stream differs from the one the interrupted run uploaded`);
        index += 1;
        sliceHash = createHash('sha256');
        sliceBytes = 0;
      }
    }
    if (data.length > 0) yield data;
  }
  if (index < slices.length)
    throw new ResumeMismatchError(`the send stream ended inside chunk ${index}, which the interrupted run uploaded whole`);
}
