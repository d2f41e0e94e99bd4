import { GetObjectCommand } from '@aws-sdk/client-s3';
import { addAbortSignal, Readable } from 'node:stream';
import { isS3Error } from '../s3-errors';
import { ChecksumMismatchError } from './errors';
import type { PartRange } from './plan';
import type { ObjectReadClient, RangedGetOutput } from './types';

/** What every part fetch of one download shares. */
export interface FetchContext {
  readonly client: ObjectReadClient;
  readonly bucket: string;
  /** Aborted when the download is destroyed: in-flight GETs and their bodies stop. */
  readonly signal: AbortSignal;
  /** The retry helper for one ranged GET of `part`; names the part in what it throws. */
  retry<T>(part: PartRange, operation: () => Promise<T>): Promise<T>;
}

/** The connection closed before the answer's Content-Length was read: a transient failure, retried like a reset. */
class IncompleteBodyError extends Error {
  override readonly name = 'IncompleteBody';
}

/** One ranged GET of a part: `length` bytes at `start` within it. */
export interface PartSlice {
  readonly part: PartRange;
  readonly start: number;
  readonly length: number;
}

/**
 * Fetches one slice of a part, retried on its own: resolves with exactly its bytes,
 * as the pieces the socket delivered, in order. Each attempt replaces the whole
 * slice. Hashing is the caller's, as the slices come in, in order.
 *
 * The pieces are kept as they arrived rather than copied into one part-sized buffer:
 * the memory held is the same, and a fresh part-sized buffer costs the first touch of
 * every page of it plus the copy (docs/performance.md).
 */
export function fetchSlice(ctx: FetchContext, slice: PartSlice): Promise<Buffer[]> {
  return ctx.retry(slice.part, () => readRange(ctx, slice.part, slice.start, slice.length));
}

/** The object size in a 206 answer's `Content-Range: bytes a-b/size`; undefined when absent or `*`. */
export function objectSizeOf(contentRange: string | undefined): number | undefined {
  const match = contentRange === undefined ? null : /^bytes \d+-\d+\/(\d+)$/.exec(contentRange.trim());
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** One ranged GET of `length` bytes at `startInPart`: the body's pieces, exactly `length` bytes in all. */
async function readRange(ctx: FetchContext, part: PartRange, startInPart: number, length: number): Promise<Buffer[]> {
  const first = part.offset + startInPart;
  const sizeError = (subject: 'part size' | 'object size', actual: string) =>
    new ChecksumMismatchError({
      subject,
      key: part.key,
      partNumber: part.partNumber,
      expected: String(subject === 'part size' ? part.size : part.chunkSize),
      actual,
    });
  let response: RangedGetOutput;
  try {
    response = await ctx.client.send(
      new GetObjectCommand({ Bucket: ctx.bucket, Key: part.key, Range: `bytes=${first}-${first + length - 1}` }),
      { abortSignal: ctx.signal },
    );
  } catch (error) {
    // 416: the object ends before this range starts, so it is shorter than the manifest says.
    if (isS3Error(error, 'InvalidRange')) throw sizeError('object size', `at most ${first}`);
    throw error;
  }
  const body = response.Body;
  if (!(body instanceof Readable)) throw new Error('GetObject answered without a Node stream body');
  const total = objectSizeOf(response.ContentRange);
  if (total !== undefined && total !== part.chunkSize) {
    body.destroy();
    throw sizeError('object size', String(total));
  }
  const pieces = await readPieces(body, length, ctx.signal);
  const filled = pieces.reduce((sum, piece) => sum + piece.length, 0);
  if (filled === length) return pieces;
  if (response.ContentLength !== undefined && filled < response.ContentLength) {
    throw new IncompleteBodyError(`GetObject body ended after ${filled} of ${response.ContentLength} bytes`);
  }
  throw sizeError('part size', String(startInPart + filled));
}

/** The body's pieces, refusing more than `length` bytes in all. */
async function readPieces(body: Readable, length: number, signal: AbortSignal): Promise<Buffer[]> {
  // Destroying the body on abort ends the loop below with an AbortError, as the SDK's handler would.
  const stream: AsyncIterable<unknown> = addAbortSignal(signal, body);
  const pieces: Buffer[] = [];
  let filled = 0;
  for await (const piece of stream) {
    if (!Buffer.isBuffer(piece)) throw new Error('GetObject body yielded something other than bytes');
    if (filled + piece.length > length) {
      throw new Error(`the store answered a ranged GET of ${length} bytes with more (it may not support Range requests)`);
    }
    pieces.push(piece);
    filled += piece.length;
  }
  return pieces;
}
